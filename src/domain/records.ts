/**
 * The state as a projection of the audit log (DESIGN.md rule 5; docs/state.md). Every row a decision
 * or an identity check reads is written in the transaction of the audit event that vouches for it:
 * the event lists the row as a claim `{table, key, digest}`, and the row carries the event's `seq`.
 * A row whose content no longer has the digest its event recorded was edited; a row no event claims
 * was inserted by hand; a claim with no row left is a deleted row. Pure: the digests are over the
 * records as the model types them, so whitespace or key order inside a stored JSON column, which a
 * read does not see, changes nothing.
 */
import { digestOf, type Digest } from './digest.js';
import type { EvidenceSet } from './model.js';

/** The tables whose rows are vouched for by the audit log, in the order `audit verify` checks them. */
export const VOUCHED_TABLES = [
  'policies',
  'releases',
  'checklist_completions',
  'signoffs',
  'validation_results',
  'promotions',
  'stage_holders',
  'stage_holds',
  'exception_signoffs',
  'incidents',
  'handoffs',
  'api_tokens',
  'webhooks',
  'passkeys',
] as const;
export type VouchedTable = (typeof VOUCHED_TABLES)[number];

/** One row as the audit event that wrote it vouches for it. */
export interface RowClaim {
  readonly table: VouchedTable;
  /** The row's key as text: its id, or `subject/stage` for a stage holder, the version for a policy. */
  readonly key: string;
  readonly digest: Digest;
}

/**
 * The digest of one row's record: canonical JSON of the table name and the record as a read gives it
 * back (absent optional fields absent). The table name keeps two tables' records apart.
 */
export function recordDigest(table: VouchedTable, record: unknown): Digest {
  return digestOf({ table, record });
}

export function rowClaim(table: VouchedTable, key: string, record: unknown): RowClaim {
  return { table, key, digest: recordDigest(table, record) };
}

/** The claims an audit event's data carries (`data.rows`); none for events that write no row. */
export function claimsOf(data: Readonly<Record<string, unknown>>): RowClaim[] {
  const rows = data.rows;
  if (!Array.isArray(rows)) return [];
  return rows.filter(
    (r): r is RowClaim =>
      typeof r === 'object' &&
      r !== null &&
      typeof (r as RowClaim).table === 'string' &&
      (VOUCHED_TABLES as readonly string[]).includes((r as RowClaim).table) &&
      typeof (r as RowClaim).key === 'string' &&
      typeof (r as RowClaim).digest === 'string',
  );
}

/** The key of a stage holder row. */
export function stageHolderKey(subject: string, stage: string): string {
  return `${subject}/${stage}`;
}

/**
 * The evidence a reviewer saw for a release at a stage: its checklist completions and validation
 * results there, by id in recording order. Rows are immutable and vouched for by the log, so their ids
 * name their content; a new result or completion changes the digest, a sign-off does not.
 */
export function evidenceSetDigest(evidence: EvidenceSet, releaseDigest: Digest, stage: string): Digest {
  const mine = <T extends { releaseDigest: Digest; stage: string; id: string }>(rows: readonly T[]) =>
    rows.filter((r) => r.releaseDigest === releaseDigest && r.stage === stage).map((r) => r.id);
  return digestOf({ release: releaseDigest, stage, checklist: mine(evidence.checklist), validations: mine(evidence.validations) });
}
