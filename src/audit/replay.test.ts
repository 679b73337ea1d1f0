import { describe, expect, it } from 'vitest';
import { digestOf } from '../domain/digest.js';
import { rowClaim, type RowClaim, type VouchedTable } from '../domain/records.js';
import { createStateReplay, type ReplayEvent, type StoredRow } from './replay.js';

// A small log: a token created (2) then revoked (4), two sign-offs (3, 5), and stage holders
// superseded by each promotion (6, 7).
const token = (revoked: boolean) => ({ id: 't1', revoked });
const holder = (version: string) => ({ stage: 'staging', version });
const EVENTS: ReplayEvent[] = [
  { seq: 1, type: 'PolicyApplied', claims: [rowClaim('policies', '1', { v: 1 })] },
  { seq: 2, type: 'TokenCreated', claims: [rowClaim('api_tokens', 't1', token(false))] },
  { seq: 3, type: 'SignoffRecorded', claims: [rowClaim('signoffs', 's1', { by: 'bob' })] },
  { seq: 4, type: 'TokenRevoked', claims: [rowClaim('api_tokens', 't1', token(true))] },
  { seq: 5, type: 'SignoffRecorded', claims: [rowClaim('signoffs', 's2', { by: 'carol' })] },
  { seq: 6, type: 'ReleasePromoted', claims: [rowClaim('promotions', 'p1', { v: '1' }), rowClaim('stage_holders', 'fd/staging', holder('1'))] },
  { seq: 7, type: 'ReleasePromoted', claims: [rowClaim('promotions', 'p2', { v: '2' }), rowClaim('stage_holders', 'fd/staging', holder('2'))] },
];

/** The rows the log implies: each key at the last event that claims it. */
function rowsOf(events: readonly ReplayEvent[]): Map<VouchedTable, StoredRow[]> {
  const last = new Map<string, { claim: RowClaim; seq: number }>();
  for (const e of events) for (const c of e.claims) last.set(`${c.table}/${c.key}`, { claim: c, seq: e.seq });
  const out = new Map<VouchedTable, StoredRow[]>();
  for (const { claim, seq } of last.values()) out.set(claim.table, [...(out.get(claim.table) ?? []), { key: claim.key, auditSeq: seq, digest: claim.digest }]);
  return out;
}

/** Replays `events` in pages of `size` against `rows`. */
function replay(rows: Map<VouchedTable, StoredRow[]>, size: number, events = EVENTS) {
  const r = createStateReplay();
  for (let i = 0; i < events.length; i += size) {
    const page = events.slice(i, i + size);
    const from = page[0]!.seq;
    const to = page.at(-1)!.seq;
    const inPage = new Map([...rows].map(([t, list]) => [t, list.filter((x) => x.auditSeq !== null && x.auditSeq >= from && x.auditSeq <= to)] as const));
    r.page(page, inPage);
  }
  for (const [t, list] of rows) r.strays(t, list.filter((x) => x.auditSeq === null || x.auditSeq > events.length), events.length);
  return r.finish();
}

const edit = (rows: Map<VouchedTable, StoredRow[]>, table: VouchedTable, key: string, change: Partial<StoredRow> | null) => {
  const copy = new Map([...rows].map(([t, l]) => [t, [...l]]));
  const list = copy.get(table) ?? [];
  const i = list.findIndex((x) => x.key === key);
  if (change === null) list.splice(i, 1);
  else if (i < 0) list.push({ key, auditSeq: null, digest: digestOf('x'), ...change });
  else list[i] = { ...list[i]!, ...change };
  copy.set(table, list);
  return copy;
};

describe('createStateReplay', () => {
  it.each([1, 2, 3, 7])('finds nothing in the state the log implies, superseded rows included (pages of %i)', (size) => {
    expect(replay(rowsOf(EVENTS), size)).toEqual({ findings: [], total: 0 });
  });

  it.each([1, 3, 7])('names an edited, an inserted and a deleted row with their table and key (pages of %i)', (size) => {
    const rows = edit(edit(edit(rowsOf(EVENTS), 'signoffs', 's1', { digest: digestOf('forged') }), 'promotions', 'p9', { auditSeq: 6 }), 'signoffs', 's2', null);
    const { findings } = replay(rows, size);
    expect(findings.map((f) => [f.table, f.key, f.what]).sort()).toEqual([
      ['promotions', 'p9', 'inserted'],
      ['signoffs', 's1', 'edited'],
      ['signoffs', 's2', 'deleted'],
    ]);
    expect(findings.find((f) => f.key === 's1')!.reason).toMatch(/not what audit event 3 \(SignoffRecorded\) recorded/);
    expect(findings.find((f) => f.key === 's2')!.reason).toMatch(/audit event 5 \(SignoffRecorded\) recorded the row/);
  });

  it('names rows that name no event, or one past the end of the log', () => {
    const rows = edit(edit(rowsOf(EVENTS), 'validation_results', 'v1', { auditSeq: null }), 'checklist_completions', 'c1', { auditSeq: 99 });
    const { findings } = replay(rows, 2);
    expect(findings.map((f) => [f.table, f.key, f.what])).toEqual([
      ['validation_results', 'v1', 'inserted'],
      ['checklist_completions', 'c1', 'inserted'],
    ]);
    expect(findings[1]!.reason).toMatch(/past the end of the log \(7 events\)/);
  });

  it('catches a revoked token set back to its state before the revocation', () => {
    const rows = edit(rowsOf(EVENTS), 'api_tokens', 't1', { auditSeq: 2, digest: rowClaim('api_tokens', 't1', token(false)).digest });
    expect(replay(rows, 3).findings.map((f) => [f.table, f.key, f.what])).toEqual([['api_tokens', 't1', 'deleted']]);
  });

  it('catches a row moved to another event that claims something else', () => {
    const rows = edit(rowsOf(EVENTS), 'signoffs', 's1', { auditSeq: 5 });
    expect(replay(rows, 2).findings.map((f) => [f.key, f.what]).sort()).toEqual([
      ['s1', 'deleted'],
      ['s1', 'inserted'],
    ]);
  });

  it('says exactly what is wrong with each row', () => {
    const rows = edit(edit(rowsOf(EVENTS), 'promotions', 'p9', { auditSeq: 6 }), 'validation_results', 'v1', { auditSeq: null });
    const { findings } = replay(edit(rows, 'signoffs', 's1', { digest: digestOf('forged') }), 7);
    expect(findings.map((f) => [f.key, f.reason])).toEqual([
      ['s1', 'its content is not what audit event 3 (SignoffRecorded) recorded: it was changed after it was written'],
      ['p9', 'the row names audit event 6 (ReleasePromoted), which does not record it: it was not written by Tollgate, or its key or event was changed'],
      ['v1', 'no audit event vouches for the row: it was not written by Tollgate'],
    ]);
  });

  it('a row handed with a page whose event is not on it is named as inserted, not a crash', () => {
    const r = createStateReplay();
    r.page(EVENTS.slice(0, 2), new Map([['signoffs', [{ key: 's9', auditSeq: 9, digest: digestOf('x') }]]]));
    expect(r.finish().findings).toEqual([
      { table: 'signoffs', key: 's9', what: 'inserted', reason: 'the row names audit event 9, which does not record it: it was not written by Tollgate, or its key or event was changed' },
      { table: 'policies', key: '1', what: 'deleted', reason: 'audit event 1 (PolicyApplied) recorded the row as it should be now, and no such row is there: it was deleted, or set back to an earlier state' },
      { table: 'api_tokens', key: 't1', what: 'deleted', reason: 'audit event 2 (TokenCreated) recorded the row as it should be now, and no such row is there: it was deleted, or set back to an earlier state' },
    ]);
  });

  it('keeps the first findings up to its limit and counts them all', () => {
    const r = createStateReplay(2);
    r.strays('signoffs', [1, 2, 3, 4].map((n) => ({ key: `s${n}`, auditSeq: null, digest: digestOf(n) })), 0);
    const { findings, total } = r.finish();
    expect(findings.map((f) => f.key)).toEqual(['s1', 's2']);
    expect(total).toBe(4);
  });
});
