/**
 * Reading the audit log (`tollgate audit log`, `GET /api/audit/events`): events filtered by type,
 * subject, actor and time, one page at a time, oldest first (in order of `seq`, the log's own order).
 * Oldest first because the cursor then stays valid while events are appended: a reader who pages
 * with `after` sees every matching event exactly once, and `since` starts the read at a time.
 */
import { AUDIT_EVENT_TYPES, isAuditEventType, type AuditEvent } from '../audit/events.js';
import { parseDuration } from '../domain/duration.js';
import { tollgateError } from '../domain/errors.js';
import type { AuditFilter, StoreReader } from '../store/store.js';

/** The page size when none is asked for, and the most one page may hold. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

/** What to read: every field optional; all given must hold. */
export interface AuditLogQuery {
  /** An event type of the vocabulary: `ReleasePromoted`. */
  readonly type?: string;
  readonly subject?: string;
  /** A roster user (`alice`, read as `user:alice`) or a typed actor (`validator:drift`, `system`, `anonymous`). */
  readonly actor?: string;
  /** An ISO 8601 date or time (`2026-12-01`, `2026-12-01T09:00:00Z`), or a duration back from now (`24h`, `7d`). */
  readonly since?: string;
  /** Only events after this `seq`: the `next` of the page before. */
  readonly after?: number;
  /** 1 to 1000; default 100. */
  readonly limit?: number;
}

/** One page of events, and the cursor for the next (null when this page is the last so far). */
export interface AuditLogPage {
  readonly events: readonly AuditEvent[];
  readonly next: number | null;
}

/** One page of the events that match `query`, oldest first. */
export async function readAuditLog(store: StoreReader, query: AuditLogQuery, now: Date): Promise<AuditLogPage> {
  const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
    throw tollgateError('TG_USAGE', `--limit must be a whole number from 1 to ${AUDIT_PAGE_MAX}, not ${query.limit}`);
  }
  const after = query.after ?? 0;
  if (!Number.isInteger(after) || after < 0) throw tollgateError('TG_USAGE', `--after must be an event number (seq) of 0 or more, not ${query.after}`);
  const filter = auditFilter(query, now);
  const events = await store.auditSearch(filter, after, limit);
  return { events, next: events.length === limit ? events[events.length - 1]!.seq : null };
}

/** The query as the store's filter: the type checked, the actor typed, the time in the log's form. */
export function auditFilter(query: AuditLogQuery, now: Date): AuditFilter {
  if (query.type !== undefined && !isAuditEventType(query.type)) {
    throw tollgateError('TG_USAGE', `unknown event type "${query.type}"; the types are: ${AUDIT_EVENT_TYPES.join(', ')}`);
  }
  return {
    ...(query.type !== undefined ? { type: query.type } : {}),
    ...(query.subject !== undefined ? { subject: query.subject } : {}),
    ...(query.actor !== undefined ? { actor: typedActor(query.actor) } : {}),
    ...(query.since !== undefined ? { since: sinceTime(query.since, now) } : {}),
  };
}

/** `alice` is the roster user `user:alice`; a typed actor is taken as written. */
function typedActor(actor: string): string {
  if (actor === '') throw tollgateError('TG_USAGE', '--actor needs a user name or a typed actor (user:alice, validator:drift, system)');
  return actor.includes(':') || actor === 'system' || actor === 'anonymous' ? actor : `user:${actor}`;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `since` as the log writes times (`toISOString`, UTC), so the database compares text: a date is its
 * midnight UTC, a time must name its zone, a duration counts back from now. `tollgate metrics
 * --since` reads the same forms.
 */
export function sinceTime(since: string, now: Date): string {
  if (DATE_ONLY.test(since) || DATE_TIME.test(since)) {
    const t = Date.parse(DATE_ONLY.test(since) ? `${since}T00:00:00Z` : since);
    if (Number.isNaN(t)) throw tollgateError('TG_USAGE', `--since "${since}" is not a real date or time`);
    return new Date(t).toISOString();
  }
  if (/^\d/.test(since) && !/^\d{4}-/.test(since)) return new Date(now.getTime() - parseDuration(since)).toISOString();
  throw tollgateError('TG_USAGE', `--since "${since}" is neither a date (2026-12-01), a time with its zone (2026-12-01T09:00:00Z) nor a duration back from now (24h, 7d)`);
}
