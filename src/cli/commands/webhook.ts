import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import type { DeliveryInfo } from '../../service/webhooks.js';
import { ALL_EVENTS, WEBHOOK_EVENTS } from '../../webhooks/events.js';
import { WEBHOOK_FORMATS } from '../../webhooks/formats.js';
import type { CliContext } from '../context.js';

const STATUSES = ['pending', 'delivered', 'failed'] as const;

function deliveryLine(d: DeliveryInfo): string {
  const state =
    d.status === 'delivered'
      ? `delivered ${d.deliveredAt} (try ${d.attempts})`
      : d.status === 'pending'
        ? `pending, ${d.attempts} tr${d.attempts === 1 ? 'y' : 'ies'}${d.lastError ? ` (${d.lastError})` : ''}, next ${d.nextAttemptAt}`
        : `failed after ${d.attempts} tr${d.attempts === 1 ? 'y' : 'ies'}: ${d.lastError ?? ''}`;
  return `${d.id}  ${d.webhookId}  #${d.auditSeq} ${d.event}  ${state}`;
}

/** A chat format named after a webhook; Tollgate's own JSON (the default) goes unsaid. */
function formatted(format: string | undefined): string {
  return format !== undefined && format !== 'json' ? `  as ${format}` : '';
}

/**
 * Webhooks: subscriptions to promotion events, signed with HMAC-SHA256 (see docs/webhooks.md). On the
 * local home, or with `--server URL` through the API as an admin. `tollgate serve` sends them.
 */
export function registerWebhook(program: Command, ctx: CliContext): void {
  const webhook = program.command('webhook').description('webhooks: POST signed JSON to a URL on promotion events (sent by `tollgate serve`)');
  webhook
    .command('add')
    .description(`subscribe URL to events; prints the signing secret once. Events: ${[...WEBHOOK_EVENTS, ALL_EVENTS].join(', ')}`)
    .argument('<url>', 'where to POST: http or https')
    .requiredOption('--events <list>', 'comma-separated event types, or * for all')
    .option('--secret <secret>', 'the HMAC-SHA256 key (16 characters or more; default: a new random one)')
    .option('--format <format>', `how deliveries are written: ${WEBHOOK_FORMATS.join(', ')} (json: Tollgate's payload; slack: Block Kit; teams: an Adaptive Card)`, 'json')
    .action(async (url: string, opts: { events: string; secret?: string; format: string }) => {
      const events = opts.events.split(',').map((e) => e.trim()).filter((e) => e !== '');
      const created = await (await ctx.openWebhookAdmin()).create({ url, events, format: opts.format, ...(opts.secret !== undefined ? { secret: opts.secret } : {}) });
      ctx.emit(created, () => [`webhook ${created.id} → ${created.url} (${created.events.join(', ')})${formatted(created.format)}`, `secret: ${created.secret}`]);
      ctx.note('keep the secret now, it is not shown again; receivers check Tollgate-Signature with it (docs/webhooks.md)');
      if (!ctx.config().server) ctx.note('deliveries are sent by `tollgate serve` on this database');
    });
  webhook
    .command('list')
    .description('every webhook subscription (never its secret)')
    .action(async () => {
      const webhooks = await (await ctx.openWebhookAdmin()).list();
      ctx.emit({ webhooks }, () => (webhooks.length === 0 ? 'no webhooks' : webhooks.map((w) => `${w.id}  ${w.url}  ${w.events.join(',')}${formatted(w.format)}`)));
    });
  webhook
    .command('remove')
    .description('remove a webhook by its id; deliveries not yet sent are dropped')
    .argument('<id>', 'the webhook id, whk_…')
    .action(async (id: string) => {
      const removed = await (await ctx.openWebhookAdmin()).remove(id);
      ctx.emit(removed, () => `removed ${removed.id} (${removed.url}) at ${removed.removedAt}`);
    });
  webhook
    .command('deliveries')
    .description('the delivery log, newest first: every delivery with its tries (of one webhook, or of all)')
    .argument('[id]', 'only this webhook')
    .option('--status <status>', `only ${STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many (1 to 1000)', '100')
    .action(async (id: string | undefined, opts: { status?: string; limit: string }) => {
      if (opts.status !== undefined && !(STATUSES as readonly string[]).includes(opts.status)) {
        throw tollgateError('TG_USAGE', `--status ${opts.status}: expected one of ${STATUSES.join(', ')}`);
      }
      const limit = Number(opts.limit);
      if (!/^\d+$/.test(opts.limit) || limit < 1 || limit > 1000) throw tollgateError('TG_USAGE', `--limit ${opts.limit}: expected a whole number from 1 to 1000`);
      const deliveries = await (await ctx.openWebhookAdmin()).deliveries({
        ...(id !== undefined ? { webhookId: id } : {}),
        ...(opts.status !== undefined ? { status: opts.status as DeliveryInfo['status'] } : {}),
        limit,
      });
      ctx.emit({ deliveries }, () => (deliveries.length === 0 ? 'no deliveries' : deliveries.map(deliveryLine)));
    });
  webhook
    .command('redeliver')
    .description('send a delivery again now: a failed one gets one more try, a delivered one is sent again (same id, so receivers can tell)')
    .argument('<delivery>', 'the delivery id, dlv_… (from `webhook deliveries`)')
    .action(async (id: string) => {
      const d = await (await ctx.openWebhookAdmin()).redeliver(id);
      ctx.emit(d, () => `${d.id} is due again now (${d.event} to ${d.webhookId})`);
      if (!ctx.config().server) ctx.note('deliveries are sent by `tollgate serve` on this database');
    });
}
