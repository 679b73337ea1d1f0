/**
 * The replay of the log into the state it implies, compared with the tables, streaming (docs/state.md).
 *
 * Every event that writes rows lists them as claims `{table, key, digest}`, and each row carries the
 * `seq` of the event that last wrote it. The log is read page by page in order of `seq`; with each
 * page come the rows whose `audit_seq` falls in it. A row must be claimed by the event it names, with
 * its content's digest (else it was edited, or inserted by hand); a claim whose row is not at its
 * event was either superseded by a later claim for the same key (a revoked token, a stage's next
 * holder) or deleted, which only the rest of the log can tell: it waits, and whatever still waits at
 * the end was deleted. Only those waiting claims are held in memory, never the whole state. Pure.
 */
import type { Digest } from '../domain/digest.js';
import type { RowClaim, VouchedTable } from '../domain/records.js';

/** A row as the store holds it: its key, the event it names, and the digest of its record. */
export interface StoredRow {
  readonly key: string;
  /** The `seq` of the audit event that wrote it; null when the row names none. */
  readonly auditSeq: number | null;
  readonly digest: Digest;
}

/** One row the log does not vouch for. */
export interface RowFinding {
  readonly table: string;
  readonly key: string;
  /** `edited`: not the content its event recorded; `inserted`: no event recorded it; `deleted`: an event recorded it and it is gone (or set back). */
  readonly what: 'edited' | 'inserted' | 'deleted';
  readonly reason: string;
}

/** One event of a page, with the rows it claims. */
export interface ReplayEvent {
  readonly seq: number;
  readonly type: string;
  readonly claims: readonly RowClaim[];
}

export interface StateReplay {
  /**
   * The next page of the log (events in order of `seq`, consecutive), and for each vouched table the
   * rows whose `audit_seq` lies between the page's first and last `seq`.
   */
  page(events: readonly ReplayEvent[], rows: ReadonlyMap<VouchedTable, readonly StoredRow[]>): void;
  /** Rows that name no event of the log: no `audit_seq`, or one past its end (`size` events). */
  strays(table: VouchedTable, rows: readonly StoredRow[], size: number): void;
  /** Every finding, claims still waiting included (deleted rows); at most `limit`, the first ones. */
  finish(): { findings: RowFinding[]; total: number };
}

const keyOf = (table: string, key: string): string => `${table}\u0000${key}`;

export function createStateReplay(limit = 1000): StateReplay {
  const findings: RowFinding[] = [];
  let total = 0;
  const report = (f: RowFinding): void => {
    total++;
    if (findings.length < limit) findings.push(f);
  };
  /** Claims whose row was not at their event: superseded later, or deleted. */
  const waiting = new Map<string, { claim: RowClaim; seq: number; type: string }>();

  return {
    page(events, rows) {
      const bySeq = new Map<number, { type: string; claims: Map<string, RowClaim>; matched: Set<string> }>();
      for (const e of events) {
        bySeq.set(e.seq, { type: e.type, claims: new Map(e.claims.map((c) => [keyOf(c.table, c.key), c])), matched: new Set() });
      }
      for (const [table, list] of rows) {
        for (const row of list) {
          const event = row.auditSeq === null ? undefined : bySeq.get(row.auditSeq);
          const k = keyOf(table, row.key);
          const claim = event?.claims.get(k);
          if (!event || !claim) {
            report({
              table,
              key: row.key,
              what: 'inserted',
              reason: `the row names audit event ${row.auditSeq}${event ? ` (${event.type})` : ''}, which does not record it: it was not written by Tollgate, or its key or event was changed`,
            });
          } else if (claim.digest !== row.digest) {
            event.matched.add(k);
            report({ table, key: row.key, what: 'edited', reason: `its content is not what audit event ${row.auditSeq} (${event.type}) recorded: it was changed after it was written` });
          } else {
            event.matched.add(k);
          }
        }
      }
      for (const e of events) {
        const state = bySeq.get(e.seq)!;
        for (const [k, claim] of state.claims) {
          // A later claim for the same row supersedes an earlier one, matched or not.
          if (state.matched.has(k)) waiting.delete(k);
          else waiting.set(k, { claim, seq: e.seq, type: e.type });
        }
      }
    },
    strays(table, list, size) {
      for (const row of list) {
        report({
          table,
          key: row.key,
          what: 'inserted',
          reason:
            row.auditSeq === null
              ? 'no audit event vouches for the row: it was not written by Tollgate'
              : `the row names audit event ${row.auditSeq}, past the end of the log (${size} events): it was not written by Tollgate`,
        });
      }
    },
    finish() {
      for (const { claim, seq, type } of waiting.values()) {
        report({ table: claim.table, key: claim.key, what: 'deleted', reason: `audit event ${seq} (${type}) recorded the row as it should be now, and no such row is there: it was deleted, or set back to an earlier state` });
      }
      waiting.clear();
      return { findings, total };
    },
  };
}
