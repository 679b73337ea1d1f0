/**
 * The dispatcher: sends the outbox's deliveries. Every `tollgate serve` replica runs one; they share
 * the work through leases (a claimed delivery is theirs until the lease lapses), so a replica killed
 * mid-send leaves its deliveries to be taken over once their lease lapses: at least once, never lost.
 * A failed try (a network error, a timeout, any answer but 2xx) is tried again with exponential
 * backoff and jitter; after `maxAttempts` tries the delivery is `failed`, and the log keeps every try.
 */
import type { Webhook, WebhookDelivery, WebhookOutbox } from '../store/store.js';
import { checkWebhookTarget, WebhookTargetRefused, type CheckedTarget, type LookupAll } from './address-guard.js';
import { renderDelivery } from './formats.js';
import { postPinned } from './pinned-post.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signDelivery } from './signature.js';

export interface DispatcherOptions {
  /** The outbox it claims deliveries from and records tries in: any `Store`. */
  readonly store: WebhookOutbox;
  readonly now?: () => Date;
  /**
   * Sends a try instead of the built-in client (tests). The address check still runs first; the
   * built-in client also connects only to the checked addresses.
   */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Deliver to loopback, private, link-local (cloud metadata) and reserved addresses too: `serve
   * --allow-private-webhooks`. Off: such a delivery is refused without a connection (address-guard.ts).
   */
  readonly allowPrivate?: boolean;
  /**
   * Where browsers reach this server (`serve --public-url`): Slack and Teams messages link the
   * release page there. Without it they carry no link (a guessed address would lead nowhere).
   */
  readonly publicUrl?: string;
  /** Resolves host names for the address check (tests); the system resolver by default. */
  readonly lookup?: LookupAll;
  /** How often to look for due deliveries when the last look found fewer than a batch. */
  readonly pollMs?: number;
  /** How long a claimed delivery stays this dispatcher's: longer than `timeoutMs`. */
  readonly leaseMs?: number;
  /** How long one try waits for the receiver's answer. */
  readonly timeoutMs?: number;
  /** The most deliveries claimed (and sent concurrently) at once. */
  readonly batch?: number;
  /** Tries before a delivery is given up as `failed`. */
  readonly maxAttempts?: number;
  /** Wait before the second try; it doubles with every further try, up to `backoffMaxMs`. */
  readonly backoffMs?: number;
  readonly backoffMaxMs?: number;
  /** Where problems are told (pino's methods); never given a secret. */
  readonly log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Told of each try's outcome: for metrics. */
  readonly onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void;
}

// Defaults, one table:   option         default
//                        pollMs         1 s
//                        leaseMs        60 s
//                        timeoutMs      10 s
//                        batch          20
//                        maxAttempts    15 (about 10 hours of retries with the backoff below)
//                        backoffMs      2 s, doubling …
//                        backoffMaxMs   … up to 1 h
export const DISPATCH_DEFAULTS = {
  pollMs: 1000,
  leaseMs: 60_000,
  timeoutMs: 10_000,
  batch: 20,
  maxAttempts: 15,
  backoffMs: 2000,
  backoffMaxMs: 3_600_000,
} as const;

export interface Dispatcher {
  /** Starts the polling loop (idempotent). */
  start(): void;
  /** Stops the loop and waits for the tries in flight to be recorded. */
  stop(): Promise<void>;
  /** One round: claims what is due, sends it, records the outcomes; returns how many were tried. */
  runOnce(): Promise<number>;
}

/** The wait before try `attempt + 1`, after `attempt` failed ones: base·2^(attempt-1), capped, ±20 % jitter. */
export function backoff(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const plain = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
  return Math.round(plain * (0.8 + 0.4 * random()));
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const o = { ...DISPATCH_DEFAULTS, ...options };
  const now = options.now ?? (() => new Date());
  /** One POST: to the checked addresses only, unless private addresses are allowed (then as fetch does). */
  const post = async (url: string, target: CheckedTarget | undefined, headers: Record<string, string>, body: string): Promise<number> => {
    if (options.fetch || !target) {
      const res = await (options.fetch ?? globalThis.fetch)(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs) });
      // The answer's body is not needed: drop it rather than hold the connection.
      await res.body?.cancel().catch(() => {});
      return res.status;
    }
    return postPinned(target, headers, body, o.timeoutMs);
  };
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function send(hook: Webhook | undefined, d: WebhookDelivery): Promise<void> {
    const attempt = d.attempts + 1;
    const started = now();
    let statusCode: number | undefined;
    let error: string | undefined;
    // A target refused for what it is (not a lookup that failed) will not become acceptable by retrying.
    let refused = false;
    // A webhook removed after the claim: nothing to send, and nothing to retry.
    const gone = !hook || hook.removedAt !== undefined;
    if (gone) {
      error = 'the webhook was removed';
    } else {
      const timestamp = Math.floor(started.getTime() / 1000);
      try {
        // The stored payload in the webhook's format; signed as sent.
        const body = renderDelivery(hook.format ?? 'json', d.payload, o.publicUrl);
        const target = o.allowPrivate ? undefined : await checkWebhookTarget(hook.url, o.lookup);
        const status = await post(
          hook.url,
          target,
          {
            'content-type': 'application/json',
            'user-agent': 'tollgate-webhooks/1',
            [EVENT_HEADER]: d.event,
            [DELIVERY_HEADER]: d.id,
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: signDelivery(hook.secret, timestamp, body),
          },
          body,
        );
        statusCode = status;
        if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
      } catch (err) {
        if (err instanceof WebhookTargetRefused) {
          // Recorded as refused, with no status and no connection error: the log must not probe a network.
          error = `refused: ${err.message}; not sent (serve --allow-private-webhooks allows private addresses)`;
          refused = !err.retryable;
        } else error = describe(err, o.timeoutMs);
      }
    }
    const ended = now();
    const durationMs = Math.max(0, ended.getTime() - started.getTime());
    const delivered = error === undefined;
    const exhausted = !delivered && (gone || refused || attempt >= o.maxAttempts);
    const next = delivered || exhausted ? ended : new Date(ended.getTime() + backoff(attempt, o.backoffMs, o.backoffMaxMs));
    await o.store.transaction((tx) =>
      tx.recordAttempt(
        { deliveryId: d.id, attempt, at: started.toISOString(), durationMs, ...(statusCode !== undefined ? { statusCode } : {}), ...(error !== undefined ? { error } : {}) },
        {
          status: delivered ? 'delivered' : exhausted ? 'failed' : 'pending',
          nextAttemptAt: next.toISOString(),
          ...(delivered ? { deliveredAt: ended.toISOString() } : {}),
          ...(statusCode !== undefined ? { lastStatus: statusCode } : {}),
          ...(error !== undefined ? { lastError: error } : {}),
        },
      ),
    );
    options.onAttempt?.(delivered ? 'delivered' : exhausted ? 'failed' : 'retry');
    if (!delivered) {
      o.log?.warn(
        { delivery: d.id, webhook: d.webhookId, event: d.event, attempt, statusCode, error, ...(exhausted ? {} : { nextAttemptAt: next.toISOString() }) },
        exhausted ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
      );
    }
  }

  async function runOnce(): Promise<number> {
    const at = now();
    const claimed = await o.store.transaction((tx) =>
      tx.claimDeliveries({ now: at.toISOString(), leaseUntil: new Date(at.getTime() + o.leaseMs).toISOString(), limit: o.batch }),
    );
    if (claimed.length === 0) return 0;
    const hooks = new Map((await o.store.listWebhooks({ includeRemoved: true })).map((h) => [h.id, h]));
    await Promise.all(claimed.map((d) => send(hooks.get(d.webhookId), d)));
    return claimed.length;
  }

  async function run(): Promise<void> {
    while (running) {
      let tried = 0;
      try {
        tried = await runOnce();
      } catch (err) {
        // The database may be briefly away (a restart, a failover): log it and look again later.
        o.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook dispatch round failed');
      }
      if (!running) break;
      if (tried < o.batch) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, o.pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = undefined;
    },
    runOnce,
  };
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return (cause ? `${e.message ?? 'network error'} (${cause})` : (e.message ?? String(err))).slice(0, 500);
}
