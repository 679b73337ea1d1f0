/**
 * The rows the audit log vouches for (docs/state.md), as the store writes them: one encoder per table
 * from the model to the row's columns, the row's key, and its digest. The digest is over the row as
 * stored (every column but `audit_seq`, and but a webhook's secret), so the store can check a row it
 * reads without decoding it, and any change to any column, whitespace inside a JSON column included,
 * is a change. An event claims a row with `claimOf`; the row is written with that event's `seq`.
 */
import type { Digest } from '../domain/digest.js';
import { memoByText } from '../domain/memo.js';
import type { ChecklistCompletion, ExceptionSignoff, HandoffRecord, Incident, PolicyVersion, Promotion, Release, Signoff, StageHold, ValidationResult } from '../domain/model.js';
import { recordDigest, stageHolderKey, type RowClaim, type VouchedTable } from '../domain/records.js';
import type { StoredRow } from '../audit/replay.js';
import type { Database } from './schema.js';
import type { ApiToken, Passkey, Vouch, Webhook } from './store.js';

/** A table's row as the store writes it, without `audit_seq` (set from the event that claims it). */
export type VouchedRow<T extends VouchedTable> = Omit<Database[T], 'audit_seq'>;

/**
 * Columns that stay out of a row's digest. A webhook's HMAC secret must never reach the audit log (it
 * travels further than the webhook list), and a changed secret cannot change a decision: receivers
 * would refuse the deliveries.
 */
const UNVOUCHED_COLUMNS: Partial<Record<VouchedTable, readonly string[]>> = { webhooks: ['secret'] };

/**
 * Columns added to a vouched table after its rows were first vouched for, which count only when set:
 * a null one is left out of the digest, so a row written before the column existed keeps the digest
 * its event recorded (migration 0006: an Ed25519 sign-off has neither).
 */
const LATER_COLUMNS: Partial<Record<VouchedTable, readonly string[]>> = {
  signoffs: ['signature_kind', 'webauthn_json'],
  promotions: ['break_glass_json'],
  webhooks: ['format'],
};

/**
 * Digests of rows by their stored text. A server reads the same rows (the active policy, the caller's
 * token, a release) for request after request, and canonicalising and hashing a policy's columns costs
 * more than reading them. Keyed by the JSON of the row as read, taken only when every value is text, a
 * finite number or null (all that SQLite and PostgreSQL hand back here), so that two rows with the same
 * key have the same canonical JSON and the same digest: any change to any column is another key.
 * Rows of larger text are digested afresh each time, so memory stays bounded.
 */
const rowDigests = memoByText(1024, (key: string) => {
  const [table, row] = JSON.parse(key) as [VouchedTable, Record<string, unknown>];
  return digestRow(table, row);
});
const MEMO_TEXT_LIMIT = 64 * 1024;

/** The digest of a row as stored: canonical JSON of its table and its columns (see above). */
export function rowDigest(table: VouchedTable, row: Readonly<Record<string, unknown>>): Digest {
  let length = 0;
  for (const v of Object.values(row)) {
    if (typeof v === 'string') length += v.length;
    else if (v !== null && !(typeof v === 'number' && Number.isFinite(v))) return digestRow(table, row);
  }
  return length > MEMO_TEXT_LIMIT ? digestRow(table, row) : rowDigests(JSON.stringify([table, row]));
}

function digestRow(table: VouchedTable, row: Readonly<Record<string, unknown>>): Digest {
  const columns: Record<string, unknown> = {};
  const skip = UNVOUCHED_COLUMNS[table];
  const later = LATER_COLUMNS[table];
  for (const [k, v] of Object.entries(row)) {
    if (k === 'audit_seq' || skip?.includes(k)) continue;
    if ((v === null || v === undefined) && later?.includes(k)) continue;
    // Both drivers return integers as numbers and text as strings; a blob would be a bug here.
    columns[k] = v;
  }
  return recordDigest(table, columns);
}

/** The key of a row as its claim names it. */
export function rowKey(table: VouchedTable, row: Readonly<Record<string, unknown>>): string {
  switch (table) {
    case 'policies':
      return String(row.version);
    case 'releases':
      return String(row.digest);
    case 'stage_holders':
      return stageHolderKey(String(row.subject), String(row.stage));
    default:
      return String(row.id);
  }
}

/** The claim an audit event makes for a row it writes. */
export function claimOf<T extends VouchedTable>(table: T, row: VouchedRow<T>): RowClaim {
  const r = row as unknown as Record<string, unknown>;
  return { table, key: rowKey(table, r), digest: rowDigest(table, r) };
}

/** The `seq` of the event that vouches for rows about to be written; null without one (tests of the store itself). */
export async function vouched(vouch: Vouch | undefined, claims: readonly RowClaim[]): Promise<number | null> {
  return vouch ? vouch(claims) : null;
}

// ------------------------------------------------------------------------- the model to its rows

export function fromPolicyVersion(p: PolicyVersion): VouchedRow<'policies'> {
  return {
    version: p.version,
    digest: p.digest,
    name: p.name,
    source: p.source,
    policy_json: JSON.stringify(p.policy),
    applied_at: p.appliedAt,
    applied_by: p.appliedBy,
  };
}

export function fromRelease(r: Release): VouchedRow<'releases'> {
  return {
    digest: r.digest,
    subject: r.subject,
    version: r.version,
    manifest_json: JSON.stringify(r.manifest),
    created_at: r.createdAt,
    created_by: r.createdBy,
  };
}

export function fromChecklist(c: ChecklistCompletion): VouchedRow<'checklist_completions'> {
  return {
    id: c.id,
    release_digest: c.releaseDigest,
    stage: c.stage,
    gate_id: c.gateId,
    item_id: c.itemId,
    item_digest: c.itemDigest,
    by_user: c.by,
    at: c.at,
    evidence_json: c.evidence === undefined ? null : JSON.stringify(c.evidence),
    note: c.note ?? null,
  };
}

export function fromSignoff(s: Signoff): VouchedRow<'signoffs'> {
  return {
    id: s.id,
    type: s.type,
    release: s.release,
    release_digest: s.releaseDigest,
    stage: s.stage,
    gate: s.gate,
    gate_digest: s.gateDigest,
    role: s.role,
    decision: s.decision,
    signer: s.signer,
    at: s.at,
    comment: s.comment ?? null,
    signature: s.signature,
    evidence_digest: s.evidenceDigest ?? null,
    signature_kind: s.signatureKind === undefined || s.signatureKind === 'ed25519' ? null : s.signatureKind,
    webauthn_json: s.webauthn === undefined ? null : JSON.stringify(s.webauthn),
  };
}

export function fromPasskey(p: Passkey): VouchedRow<'passkeys'> {
  return {
    id: p.id,
    user_name: p.user,
    public_key: p.publicKey,
    cose_key: p.coseKey,
    algorithm: p.algorithm,
    sign_count: p.signCount,
    transports_json: JSON.stringify(p.transports),
    rp_id: p.rpId,
    origin: p.origin,
    created_at: p.createdAt,
    created_by: p.createdBy,
    revoked_at: p.revokedAt ?? null,
    revoked_by: p.revokedBy ?? null,
  };
}

export function fromValidation(v: ValidationResult): VouchedRow<'validation_results'> {
  return {
    id: v.id,
    release_digest: v.releaseDigest,
    stage: v.stage,
    gate_id: v.gateId,
    validation_id: v.validationId,
    validator: v.validator,
    validator_version: v.validatorVersion,
    definition_digest: v.definitionDigest,
    status: v.status,
    summary: v.summary,
    measurements_json: JSON.stringify(v.measurements),
    thresholds_json: JSON.stringify(v.thresholds),
    inputs_json: JSON.stringify(v.inputs),
    details_json: v.details === undefined ? null : JSON.stringify(v.details),
    duration_ms: Math.round(v.durationMs),
    by_user: v.by,
    at: v.at,
  };
}

/** A promotion's row; `seq` numbers promotions in the order they happened (`nextNumber('promotions')`). */
export function fromPromotion(p: Promotion, seq: number): VouchedRow<'promotions'> {
  return {
    id: p.id,
    seq,
    subject: p.subject,
    stage: p.stage,
    version: p.version,
    release_digest: p.releaseDigest,
    policy_version: p.policyVersion,
    policy_digest: p.policyDigest,
    kind: p.kind,
    by_user: p.by,
    at: p.at,
    previous_version: p.previousVersion ?? null,
    reason: p.reason ?? null,
    break_glass_json: p.breakGlass === undefined ? null : JSON.stringify(p.breakGlass),
  };
}

/** The row saying that the promotion's release holds its stage now. */
export function stageHolderOf(p: Promotion): VouchedRow<'stage_holders'> {
  return { subject: p.subject, stage: p.stage, version: p.version, release_digest: p.releaseDigest, promotion_id: p.id };
}

/** A rollback's hold on a release, cleared or not. */
export function fromStageHold(h: StageHold): VouchedRow<'stage_holds'> {
  return {
    id: h.id,
    subject: h.subject,
    stage: h.stage,
    version: h.version,
    release_digest: h.releaseDigest,
    promotion_id: h.promotionId,
    by_user: h.by,
    at: h.at,
    reason: h.reason,
    cleared_by: h.cleared?.by ?? null,
    cleared_at: h.cleared?.at ?? null,
    clear_reason: h.cleared?.reason ?? null,
  };
}

/** A waiver or break-glass sign-off: every field the signature covers, and the signature. */
export function fromException(e: ExceptionSignoff): VouchedRow<'exception_signoffs'> {
  return {
    id: e.id,
    type: e.type,
    kind: e.kind,
    release: e.release,
    release_digest: e.releaseDigest,
    stage: e.stage,
    role: e.role,
    signer: e.signer,
    at: e.at,
    reason: e.reason,
    gate: e.gate ?? null,
    gate_digest: e.gateDigest ?? null,
    requirement: e.requirement ?? null,
    expires_at: e.expiresAt ?? null,
    signature: e.signature,
  };
}

/** An incident, resolved or not. */
export function fromIncident(i: Incident): VouchedRow<'incidents'> {
  return {
    id: i.id,
    subject: i.subject,
    stage: i.stage,
    version: i.version,
    release_digest: i.releaseDigest,
    promotion_id: i.promotionId,
    opened_by: i.openedBy,
    opened_at: i.openedAt,
    reason: i.reason,
    resolved_by: i.resolved?.by ?? null,
    resolved_at: i.resolved?.at ?? null,
    resolve_note: i.resolved?.note ?? null,
  };
}

/** A hand-off's latest attempt. */
export function fromHandoff(h: HandoffRecord): VouchedRow<'handoffs'> {
  return {
    id: h.id,
    promotion_id: h.promotionId,
    subject: h.subject,
    stage: h.stage,
    version: h.version,
    release_digest: h.releaseDigest,
    idx: h.index,
    kind: h.kind,
    target: h.target,
    definition_digest: h.definitionDigest,
    outcome: h.outcome,
    attempts: h.attempts,
    error: h.error ?? null,
    commit_id: h.commit ?? null,
    by_user: h.by,
    at: h.at,
  };
}

export function fromToken(t: ApiToken): VouchedRow<'api_tokens'> {
  return {
    id: t.id,
    user_name: t.user,
    hash: t.hash,
    created_at: t.createdAt,
    created_by: t.createdBy,
    expires_at: t.expiresAt ?? null,
    revoked_at: t.revokedAt ?? null,
  };
}

export function fromWebhook(w: Webhook): VouchedRow<'webhooks'> {
  return {
    id: w.id,
    url: w.url,
    events_json: JSON.stringify(w.events),
    secret: w.secret,
    created_at: w.createdAt,
    created_by: w.createdBy,
    removed_at: w.removedAt ?? null,
    format: w.format ?? null,
  };
}

/** The row a record was read from, for records read by key that a decision then vouches for. */
const readRows = new WeakMap<object, { readonly table: VouchedTable; readonly row: Record<string, unknown> }>();

/** Records that `record` was mapped from `row` of `table` (neither is changed afterwards). */
export function readFrom<T extends object>(record: T, table: VouchedTable, row: object): T {
  readRows.set(record, { table, row: row as Record<string, unknown> });
  return record;
}

/**
 * The stored row `record` was read from, as `rowVouchers` would give it, when the store recorded it:
 * the caller vouches for the row it actually uses, without reading it a second time.
 */
export function storedRowOf(record: object, table: VouchedTable): StoredRow | undefined {
  const read = readRows.get(record);
  return read && read.table === table ? storedRow(table, read.row) : undefined;
}

/** A row as `audit verify` and decisions check it: its key, the event it names, its digest. */
export function storedRow(table: VouchedTable, row: Record<string, unknown>): StoredRow {
  const seq = row.audit_seq;
  return { key: rowKey(table, row), auditSeq: typeof seq === 'number' ? seq : seq === null || seq === undefined ? null : Number(seq), digest: rowDigest(table, row) };
}
