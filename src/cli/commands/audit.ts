import path from 'node:path';
import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import type { AuditEvent } from '../../audit/events.js';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX } from '../../service/read-audit.js';
import type { CliContext } from '../context.js';
import { readTextFile } from '../files.js';

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the append-only, hash-linked audit log and its signed checkpoints');
  audit
    .command('verify')
    .description('check every event, the Merkle tree, the signed checkpoint and every row the log vouches for; exit 4 naming the first bad event or each bad row')
    .option('--since <file>', 'a checkpoint kept elsewhere (from `audit checkpoint`): the log must extend it')
    .action(async (opts: { since?: string }) => {
      const since = opts.since !== undefined ? readTextFile(path.resolve(ctx.config().cwd, opts.since)) : undefined;
      const client = await ctx.openClient();
      const result = await client.auditVerify(since !== undefined ? { since } : {});
      ctx.emit(result, () =>
        result.ok
          ? `audit log ok: ${result.events} events, head ${result.head}, root ${result.root}; every row the log vouches for matches it${result.since ? `; extends the saved checkpoint of ${result.since.size} events` : ''}`
          : result.rows
            ? [
                `audit log BROKEN: ${result.badRows} row${result.badRows === 1 ? '' : 's'} the log does not vouch for`,
                ...result.rows.map((r) => `  ${r.table} ${r.key} (${r.what}): ${r.reason}`),
              ]
            : `audit log BROKEN at event ${result.firstBad?.seq}: ${result.firstBad?.reason}`,
      );
      if (!result.ok) ctx.exitCode = 4;
    });
  audit
    .command('checkpoint')
    .description('print the newest checkpoint, signed by the server key (keep it elsewhere for `audit verify --since`)')
    .action(async () => {
      const client = await ctx.openClient();
      const c = await client.auditCheckpoint();
      if (!c) throw tollgateError('TG_AUDIT_BROKEN', 'the audit log has no checkpoint yet');
      ctx.emit(c, () => c.note.replace(/\n$/, ''));
    });
  audit
    .command('log')
    .description('read the audit log, oldest first, a page at a time: filter by type, subject, actor and time; --after SEQ for the next page')
    .option('--type <type>', 'an event type: ReleasePromoted, SignoffRecorded, PolicyApplied, …')
    .option('--subject <subject>', 'events about this subject or one of its releases')
    .option('--actor <actor>', 'a roster user (alice) or a typed actor (validator:drift, system)')
    .option('--since <when>', 'a date (2026-12-01), a time with its zone (2026-12-01T09:00:00Z), or a duration back from now (24h, 7d)')
    .option('--after <seq>', 'only events after this one (the `next` of the previous page)')
    .option('--limit <n>', `at most this many events (1 to ${AUDIT_PAGE_MAX})`, String(AUDIT_PAGE_DEFAULT))
    .action(async (opts: { type?: string; subject?: string; actor?: string; since?: string; after?: string; limit: string }) => {
      const whole = (flag: string, text: string): number => {
        if (!/^[0-9]+$/.test(text)) throw tollgateError('TG_USAGE', `${flag} must be a whole number, not "${text}"`);
        return Number(text);
      };
      const query = {
        ...(opts.type !== undefined ? { type: opts.type } : {}),
        ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
        ...(opts.actor !== undefined ? { actor: opts.actor } : {}),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.after !== undefined ? { after: whole('--after', opts.after) } : {}),
        limit: whole('--limit', opts.limit),
      };
      const client = await ctx.openClient();
      const page = await client.auditLog(query);
      ctx.emit(page, () => [
        ...(page.events.length === 0 ? ['no events match'] : page.events.map(describeEvent)),
        ...(page.next !== null ? [`more may follow: add --after ${page.next}`] : []),
      ]);
    });
}

/** What an event is about, first on its line; other plain fields follow in the order of its data. */
const FIRST = ['release', 'subject', 'stage', 'gate', 'item', 'validation', 'role', 'decision', 'status', 'from', 'to', 'reason', 'name', 'version', 'user', 'url', 'code'];

/**
 * One line per event: number, time, actor, type and its plain fields, what it is about first. Digests,
 * lists and nested records (the row claims, a decision's gates) are left to --json.
 */
function describeEvent(e: AuditEvent): string {
  const plain = Object.entries(e.data).filter(
    ([k, v]) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && !/digest$/i.test(k) && k !== 'digest',
  );
  const rank = (k: string) => (FIRST.includes(k) ? FIRST.indexOf(k) : FIRST.length);
  const text = plain
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return `${String(e.seq).padStart(6)}  ${e.at}  ${e.actor}  ${e.type}${text ? `  ${text.length > 200 ? `${text.slice(0, 199)}…` : text}` : ''}`;
}
