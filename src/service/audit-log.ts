/**
 * The audit log read back for people: newest first, filtered by type, actor, subject and time, one
 * page at a time. What `tollgate audit log` and the review desk's /audit show.
 */
import type { AuditEvent } from '../audit/events.js';
import type { StoreReader } from '../store/store.js';

export interface AuditLogFilter {
  /** An event type, e.g. `SignoffRecorded`. */
  readonly type?: string;
  /** `user:alice`, or just `alice` (read as `user:alice`). */
  readonly actor?: string;
  /** A subject: events about any release of it, or naming it as `subject`. */
  readonly subject?: string;
  /** ISO 8601 times, inclusive bounds on the event's `at`. */
  readonly since?: string;
  readonly until?: string;
  /** Only events older than this `seq` (the page after the one that ended there). */
  readonly before?: number;
  /** Events per page (default 50, at most 500). */
  readonly limit?: number;
}

export interface AuditLogPage {
  readonly events: AuditEvent[];
  /** `before` for the next (older) page, when there is one. */
  readonly next?: number;
  /** Events in the whole log. */
  readonly size: number;
}

const PAGE = 500;

function subjectOf(e: AuditEvent): string | undefined {
  const d = e.data;
  if (typeof d.subject === 'string') return d.subject;
  if (typeof d.release === 'string') return d.release.slice(0, Math.max(0, d.release.lastIndexOf('@')));
  return undefined;
}

/** One page of the log, newest first, read backwards in pages of the store so a long log is not loaded whole. */
export async function auditLog(store: StoreReader, filter: AuditLogFilter = {}): Promise<AuditLogPage> {
  const limit = Math.min(Math.max(1, filter.limit ?? 50), 500);
  const actor = filter.actor && !filter.actor.includes(':') && filter.actor !== 'system' && filter.actor !== 'anonymous' ? `user:${filter.actor}` : filter.actor;
  const since = filter.since ? Date.parse(filter.since) : undefined;
  const until = filter.until ? Date.parse(filter.until) : undefined;
  const keep = (e: AuditEvent): boolean =>
    (!filter.type || e.type === filter.type) &&
    (!actor || e.actor === actor) &&
    (!filter.subject || subjectOf(e) === filter.subject) &&
    (since === undefined || Number.isNaN(since) || Date.parse(e.at) >= since) &&
    (until === undefined || Number.isNaN(until) || Date.parse(e.at) <= until);
  const { size } = await store.auditHead();
  const out: AuditEvent[] = [];
  let end = Math.min(size, filter.before !== undefined ? filter.before - 1 : size);
  while (end > 0 && out.length <= limit) {
    const start = Math.max(0, end - PAGE);
    const chunk = await store.auditPage(start, end - start);
    for (const e of chunk.reverse()) if (keep(e)) out.push(e);
    end = start;
  }
  const events = out.slice(0, limit);
  return { events, size, ...(out.length > limit ? { next: events[events.length - 1]!.seq } : {}) };
}
