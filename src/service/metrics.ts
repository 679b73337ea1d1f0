/**
 * `tollgate metrics` and `GET /api/metrics`: the delivery metrics of domain/metrics.ts over the audit
 * log, read a page at a time in the log's order, so a long log is never held in memory whole (only
 * what later events refer back to is, see createMetricsAccumulator). With a subject, the database
 * narrows the pages to that subject's events (`auditSearch`, as `audit log --subject`).
 *
 * The figures are read from the log as it stands: they are not a decision and read no table the log
 * vouches for. `tollgate audit verify` says whether the log itself is intact.
 */
import { createMetricsAccumulator, type DeliveryMetrics } from '../domain/metrics.js';
import type { StoreReader } from '../store/store.js';
import { requirePolicy, requireStage } from './lookup.js';
import { sinceTime } from './read-audit.js';

export type { DeliveryMetrics };

export interface MetricsQuery {
  readonly subject?: string;
  /** A date, a time with its zone, or a duration back from now, as `audit log --since`. */
  readonly since?: string;
  /** The stage the DORA figures are about; the active policy's last stage when absent. */
  readonly stage?: string;
}

/** Events per page read from the store. */
const PAGE = 1000;

export async function deliveryMetrics(store: StoreReader, query: MetricsQuery, now: Date): Promise<DeliveryMetrics> {
  const active = await requirePolicy(store);
  const stage = query.stage ?? active.policy.stages.at(-1)!.name;
  requireStage(active.policy, stage);
  const since = query.since !== undefined ? sinceTime(query.since, now) : undefined;
  const first = (await store.auditPage(0, 1))[0];
  const to = now.toISOString();
  const from = since ?? first?.at ?? to;
  const acc = createMetricsAccumulator({ stage, from, to, ...(since !== undefined ? { since } : {}), ...(query.subject !== undefined ? { subject: query.subject } : {}) });
  let after = 0;
  for (;;) {
    const page = query.subject !== undefined ? await store.auditSearch({ subject: query.subject }, after, PAGE) : await store.auditPage(after, PAGE);
    for (const e of page) acc.add(e);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  return acc.result();
}
