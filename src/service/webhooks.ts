/**
 * Webhook subscriptions and their delivery log. Adding and removing a subscription are audited state
 * changes like any other (the secret never goes into the log); deliveries are written by `change` in
 * the transaction of the change they report, and sent by `tollgate serve` (see src/webhooks).
 */
import { randomBytes } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { digestBytes } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import type { DeliveryAttempt, DeliveryStatus, StoreReader, Webhook, WebhookDelivery, WebhookFormat } from '../store/store.js';
import { checkWebhookTarget, WebhookTargetRefused } from '../webhooks/address-guard.js';
import { ALL_EVENTS, WEBHOOK_EVENTS } from '../webhooks/events.js';
import { isWebhookFormat, WEBHOOK_FORMATS } from '../webhooks/formats.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';

/** A subscription as listed: never its secret. */
export interface WebhookInfo {
  readonly id: string;
  readonly url: string;
  readonly events: readonly string[];
  /** How its deliveries are written: `json`, `slack` or `teams`. */
  readonly format: WebhookFormat;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly removedAt: string | null;
}

/** What `webhook add` prints, once: the secret receivers check signatures with. */
export interface CreatedWebhook extends WebhookInfo {
  readonly secret: string;
}

/** A delivery in the log, with every try. */
export interface DeliveryInfo {
  readonly id: string;
  readonly webhookId: string;
  readonly event: string;
  readonly auditSeq: number;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string | null;
  readonly deliveredAt: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly tries: readonly { attempt: number; at: string; durationMs: number; statusCode: number | null; error: string | null }[];
}

export interface NewWebhook {
  readonly url: string;
  readonly events: readonly string[];
  /** At least 16 characters; one is generated when absent. */
  readonly secret?: string;
  /** `json` (the default: Tollgate's payload), `slack` (Block Kit) or `teams` (an Adaptive Card). */
  readonly format?: string;
}

const SECRET_PREFIX = 'whsec_';
const MIN_SECRET = 16;

/** Checks a subscription's URL and events; TG_USAGE names what is wrong. */
function checkWebhook(w: NewWebhook): void {
  let url: URL;
  try {
    url = new URL(w.url);
  } catch {
    throw tollgateError('TG_USAGE', `webhook URL ${JSON.stringify(w.url)} is not a URL; expected e.g. https://chat.example.com/hooks/tollgate`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw tollgateError('TG_USAGE', `a webhook URL must be http or https, not ${url.protocol}`);
  }
  if (w.events.length === 0) throw tollgateError('TG_USAGE', `name at least one event: ${[...WEBHOOK_EVENTS, ALL_EVENTS].join(', ')}`);
  const unknown = w.events.filter((e) => e !== ALL_EVENTS && !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) {
    throw tollgateError('TG_USAGE', `unknown webhook event${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e}"`).join(', ')}; known: ${[...WEBHOOK_EVENTS, ALL_EVENTS].join(', ')}`);
  }
  if (w.format !== undefined && !isWebhookFormat(w.format)) {
    throw tollgateError('TG_WEBHOOK_FORMAT_UNKNOWN', `unknown webhook format ${JSON.stringify(w.format)}; known: ${WEBHOOK_FORMATS.join(', ')}`);
  }
  if (w.secret !== undefined && w.secret.length < MIN_SECRET) {
    throw tollgateError('TG_USAGE', `a webhook secret must have at least ${MIN_SECRET} characters (leave it out to have one generated)`);
  }
}

export async function createWebhook(deps: ServiceDeps, actor: string | undefined, w: NewWebhook): Promise<CreatedWebhook> {
  checkWebhook(w);
  if (!deps.allowPrivateWebhooks) {
    // Checked again at every try (the dispatcher): DNS may change after this.
    try {
      await checkWebhookTarget(w.url);
    } catch (err) {
      if (!(err instanceof WebhookTargetRefused)) throw err;
      throw tollgateError('TG_WEBHOOK_URL_REFUSED', `webhook URL ${new URL(w.url).origin} refused: ${err.message}`);
    }
  }
  const id = `whk_${randomBytes(6).toString('hex')}`;
  const secret = w.secret ?? SECRET_PREFIX + randomBytes(32).toString('base64url');
  const events = [...new Set(w.events)];
  const format = (w.format ?? 'json') as WebhookFormat;
  return change(deps, async ({ tx, at, vouch }) => {
    const hook: Webhook = { id, url: w.url, events, format, secret, createdAt: at, createdBy: actor ?? 'local' };
    await tx.insertWebhook(hook, vouch('WebhookCreated', actorOf(actor), { id, url: auditedUrl(w.url), events, format }));
    return { ...webhookInfo(hook), secret };
  });
}

/** Removes a subscription; its deliveries not yet sent are dropped (logged as failed). */
export async function removeWebhook(deps: ServiceDeps, actor: string | undefined, id: string): Promise<WebhookInfo> {
  return change(deps, async ({ tx, at, vouch }) => {
    const before = (await tx.listWebhooks({ includeRemoved: true })).find((h) => h.id === id);
    // The store appends the event only when it removes: removing a removed webhook records nothing.
    if (!before || !(await tx.removeWebhook(id, at, vouch('WebhookRemoved', actorOf(actor), { id, url: auditedUrl(before.url) })))) {
      throw tollgateError('TG_WEBHOOK_NOT_FOUND', `no webhook has the id "${id}"`);
    }
    return webhookInfo({ ...before, removedAt: before.removedAt ?? at });
  });
}

/**
 * Sends a delivery again: it becomes due now, whatever its state (a `failed` one whose receiver is
 * back, a `delivered` one its receiver lost). A failed delivery gets one more try; the log keeps every try.
 */
export async function redeliverWebhook(deps: ServiceDeps, actor: string | undefined, deliveryId: string): Promise<DeliveryInfo> {
  return change(deps, async ({ tx, at, audit }) => {
    const [before] = await tx.webhookDeliveries({ id: deliveryId });
    if (!before) throw tollgateError('TG_WEBHOOK_NOT_FOUND', `no webhook delivery has the id "${deliveryId}"`);
    const hook = (await tx.listWebhooks({ includeRemoved: true })).find((h) => h.id === before.webhookId);
    if (!hook || hook.removedAt !== undefined) {
      throw tollgateError('TG_WEBHOOK_NOT_FOUND', `the webhook ${before.webhookId} of delivery ${deliveryId} was removed; add it again to receive new events`);
    }
    const after = (await tx.redeliver(deliveryId, at))!;
    await audit('WebhookRedelivered', actorOf(actor), { delivery: deliveryId, webhook: before.webhookId, event: before.event, auditSeq: before.auditSeq });
    return deliveryInfo(after, await tx.deliveryAttempts([deliveryId]));
  });
}

export async function listWebhooks(store: StoreReader): Promise<WebhookInfo[]> {
  return (await store.listWebhooks()).map(webhookInfo);
}

/** The delivery log, newest first: of one webhook (TG_WEBHOOK_NOT_FOUND if it never existed) or of all. */
export async function listDeliveries(
  store: StoreReader,
  filter: { webhookId?: string; status?: DeliveryStatus; limit?: number } = {},
): Promise<DeliveryInfo[]> {
  if (filter.webhookId !== undefined && !(await store.listWebhooks({ includeRemoved: true })).some((h) => h.id === filter.webhookId)) {
    throw tollgateError('TG_WEBHOOK_NOT_FOUND', `no webhook has the id "${filter.webhookId}"`);
  }
  const deliveries = await store.webhookDeliveries(filter);
  const tries = await store.deliveryAttempts(deliveries.map((d) => d.id));
  const byDelivery = new Map<string, DeliveryAttempt[]>();
  for (const t of tries) byDelivery.set(t.deliveryId, [...(byDelivery.get(t.deliveryId) ?? []), t]);
  return deliveries.map((d) => deliveryInfo(d, byDelivery.get(d.id) ?? []));
}

/**
 * A webhook URL as the audit log keeps it: where it points (scheme, host, port) and the digest of the
 * whole URL. Chat and CI webhook URLs often carry their credential in the path or query, and the
 * audit log travels further than the webhook list (auditors, attestations).
 */
function auditedUrl(url: string): { origin: string; digest: string } {
  return { origin: new URL(url).origin, digest: digestBytes(url) };
}

function webhookInfo(h: Webhook): WebhookInfo {
  return { id: h.id, url: h.url, events: h.events, format: h.format ?? 'json', createdAt: h.createdAt, createdBy: h.createdBy, removedAt: h.removedAt ?? null };
}

function deliveryInfo(d: WebhookDelivery, tries: readonly DeliveryAttempt[]): DeliveryInfo {
  return {
    id: d.id,
    webhookId: d.webhookId,
    event: d.event,
    auditSeq: d.auditSeq,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    deliveredAt: d.deliveredAt ?? null,
    lastStatus: d.lastStatus ?? null,
    lastError: d.lastError ?? null,
    tries: tries.map((t) => ({ attempt: t.attempt, at: t.at, durationMs: t.durationMs, statusCode: t.statusCode ?? null, error: t.error ?? null })),
  };
}
