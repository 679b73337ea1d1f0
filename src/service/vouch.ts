/**
 * Decisions refuse tampered state (DESIGN.md rule 5; docs/state.md). Every row a decision or an
 * authorization reads is checked against the audit event that vouches for it before it counts: the
 * row names its event (`audit_seq`), and that event must claim the row's key with the digest of the
 * row as stored. One lookup of the rows by key and one of their events by `seq`; no replay. A row
 * that fails stops the decision with TG_STATE_TAMPERED, naming the table and key.
 */
import { eventHash } from '../audit/log.js';
import type { RowFinding, StoredRow } from '../audit/replay.js';
import { tollgateError } from '../domain/errors.js';
import { digestOfFrozen, passedChecks, sourceText } from '../domain/memo.js';
import { releaseDigest } from '../domain/release-digest.js';
import type { EvidenceSet, PasskeyKeys, PolicyVersion, Promotion, Release, Signoff, StageHold } from '../domain/model.js';
import { policyDigest } from '../domain/policy-digests.js';
import { claimsOf, stageHolderKey, type VouchedTable } from '../domain/records.js';
import type { ApiToken, AuditEvent, StoreReader } from '../store/store.js';
import { storedRowOf } from '../store/vouched-rows.js';

/** A row about to count: its table and key. */
export interface RowRef {
  readonly table: VouchedTable;
  readonly key: string;
  /** The row as the caller read it, when the store kept it (`storedRowOf`): not read again. */
  readonly stored?: StoredRow | undefined;
}

/** The findings for rows that the log does not vouch for; empty when every one is. */
export async function unvouched(store: Pick<StoreReader, 'rowVouchers' | 'auditEventsAt'>, refs: readonly RowRef[]): Promise<RowFinding[]> {
  const byTable = new Map<VouchedTable, string[]>();
  const found = new Map<VouchedTable, Map<string, { auditSeq: number | null; digest: string }>>();
  for (const r of refs) {
    if (r.stored?.key === r.key) {
      if (!found.has(r.table)) found.set(r.table, new Map());
      found.get(r.table)!.set(r.key, r.stored);
    } else byTable.set(r.table, [...(byTable.get(r.table) ?? []), r.key]);
  }
  for (const [table, keys] of byTable) {
    const rows = await store.rowVouchers(table, keys);
    const known = found.get(table);
    found.set(table, known ? new Map([...known, ...rows]) : rows);
  }
  const seqs = [...found.values()].flatMap((m) => [...m.values()].map((r) => r.auditSeq)).filter((s): s is number => s !== null);
  const events = new Map((await store.auditEventsAt(seqs)).map((e) => [e.seq, e]));

  const findings: RowFinding[] = [];
  for (const { table, key } of refs) {
    const row = found.get(table)!.get(key);
    const bad = (what: RowFinding['what'], reason: string) => findings.push({ table, key, what, reason });
    if (!row) {
      bad('deleted', 'the row was read for this decision and is gone');
      continue;
    }
    if (row.auditSeq === null) {
      bad('inserted', 'no audit event vouches for the row: it was not written by Tollgate');
      continue;
    }
    const event = events.get(row.auditSeq);
    if (!event) {
      bad('inserted', `the row names audit event ${row.auditSeq}, which is not in the log`);
      continue;
    }
    // The event's own hash: a claim edited in place is not taken at its word.
    if (!hashMatches(event)) {
      bad('edited', `audit event ${event.seq} (${event.type}), which vouches for the row, was changed`);
      continue;
    }
    const claim = claimsOf(event.data).find((c) => c.table === table && c.key === key);
    if (!claim) bad('inserted', `the row names audit event ${event.seq} (${event.type}), which does not record it: it was not written by Tollgate`);
    else if (claim.digest !== row.digest) bad('edited', `its content is not what audit event ${event.seq} (${event.type}) recorded: it was changed after it was written`);
  }
  return findings;
}

/**
 * Events whose hash was found to match their content, by their stored text: a server checks the
 * events that vouch for the active policy, the caller's token and the release on every request, and
 * the same stored text hashes the same. Text another reader built (no stored text) is hashed each time.
 */
const matchedEvents = passedChecks(4096);
const MEMO_TEXT_LIMIT = 64 * 1024;

function hashMatches(event: AuditEvent): boolean {
  const text = sourceText(event.data);
  const key = text !== undefined && text.length <= MEMO_TEXT_LIMIT ? JSON.stringify([event.seq, event.at, event.actor, event.type, event.prev, event.hash, text]) : undefined;
  if (key !== undefined && matchedEvents.has(key)) return true;
  const ok = eventHash(event) === event.hash;
  if (ok && key !== undefined) matchedEvents.add(key);
  return ok;
}

/** Throws TG_STATE_TAMPERED naming the first row the log does not vouch for. */
export async function requireVouched(store: Pick<StoreReader, 'rowVouchers' | 'auditEventsAt'>, refs: readonly RowRef[]): Promise<void> {
  const findings = await unvouched(store, refs);
  if (findings.length === 0) return;
  const first = findings[0]!;
  throw tollgateError(
    'TG_STATE_TAMPERED',
    `${first.table} ${first.key} is not what the audit log vouches for (${first.what}): ${first.reason}${findings.length > 1 ? `; and ${findings.length - 1} more row${findings.length > 2 ? 's' : ''}` : ''}`,
    { details: { rows: findings } },
  );
}

function tampered(table: VouchedTable, key: string, reason: string) {
  return tollgateError('TG_STATE_TAMPERED', `${table} ${key} is not what the audit log vouches for (edited): ${reason}`, {
    details: { rows: [{ table, key, what: 'edited', reason }] },
  });
}

/**
 * A policy version checked before anything is decided on it: its digest recomputed from the stored
 * policy (a roster key swapped, a member added) and the row as its event recorded it.
 */
export async function vouchPolicy(store: Pick<StoreReader, 'rowVouchers' | 'auditEventsAt'>, policy: PolicyVersion): Promise<PolicyVersion> {
  const key = String(policy.version);
  if (digestOfFrozen(policy.policy, policyDigest) !== policy.digest) {
    throw tampered('policies', key, `the stored policy has digest ${policyDigest(policy.policy)}, not the ${policy.digest} it was applied with`);
  }
  await requireVouched(store, [{ table: 'policies', key, stored: storedRowOf(policy, 'policies') }]);
  return policy;
}

/** A release checked before anything is decided on it: its digest is the digest of its manifest, and its row is vouched for. */
export async function vouchRelease(store: Pick<StoreReader, 'rowVouchers' | 'auditEventsAt'>, release: Release): Promise<Release> {
  if (digestOfFrozen(release.manifest, releaseDigest) !== release.digest) {
    throw tampered('releases', release.digest, `the stored manifest has digest ${releaseDigest(release.manifest)}, not the release's ${release.digest}`);
  }
  await requireVouched(store, [{ table: 'releases', key: release.digest, stored: storedRowOf(release, 'releases') }]);
  return release;
}

/** The rows of evidence, history and rollback holds a decision counts. */
export function decisionRows(evidence: EvidenceSet, history: readonly Promotion[], holds: readonly StageHold[] = []): RowRef[] {
  return [
    ...holds.map((h) => ({ table: 'stage_holds' as const, key: h.id })),
    ...evidence.checklist.map((c) => ({ table: 'checklist_completions' as const, key: c.id })),
    ...evidence.signoffs.map((s) => ({ table: 'signoffs' as const, key: s.id })),
    ...evidence.validations.map((v) => ({ table: 'validation_results' as const, key: v.id })),
    ...(evidence.exceptions ?? []).map((e) => ({ table: 'exception_signoffs' as const, key: e.id })),
    ...history.map((p) => ({ table: 'promotions' as const, key: p.id })),
  ];
}

/**
 * Who holds a stage, checked before a change builds on it (a promotion records the holder it
 * replaces; a rollback goes back to the one before): the holder's row must be vouched for by the log,
 * and must name the latest of the subject's promotions into the stage, `history` (rows the caller has
 * already checked). A holder row deleted, pointed at another promotion, or left behind by a deleted
 * promotion is refused like any other tampered row.
 */
export async function vouchedHolder(
  store: Pick<StoreReader, 'stageHolder' | 'rowVouchers' | 'auditEventsAt'>,
  subject: string,
  stage: string,
  history: readonly Promotion[],
): Promise<Promotion | undefined> {
  const holder = await store.stageHolder(subject, stage);
  const latest = [...history].reverse().find((p) => p.stage === stage);
  if (holder?.id !== latest?.id) {
    const key = stageHolderKey(subject, stage);
    const what: RowFinding['what'] = holder ? 'edited' : 'deleted';
    const reason = `who holds ${stage} does not agree with the promotions on record: the holder row names ${holder ? `the promotion ${holder.id}` : 'no promotion on record'}, the latest promotion into ${stage} is ${latest ? latest.id : 'none'}`;
    throw tollgateError('TG_STATE_TAMPERED', `stage_holders ${key} is not what the audit log vouches for (${what}): ${reason}`, {
      details: { rows: [{ table: 'stage_holders', key, what, reason }] },
    });
  }
  if (holder) await requireVouched(store, [holderRow(subject, stage), { table: 'promotions', key: holder.id }]);
  return holder;
}

/** The row of who holds a stage. */
export function holderRow(subject: string, stage: string): RowRef {
  return { table: 'stage_holders', key: stageHolderKey(subject, stage) };
}

/** An API token checked before it identifies anyone. */
export async function vouchToken(store: Pick<StoreReader, 'rowVouchers' | 'auditEventsAt'>, token: ApiToken): Promise<ApiToken> {
  await requireVouched(store, [{ table: 'api_tokens', key: token.id, stored: storedRowOf(token, 'api_tokens') }]);
  return token;
}

/**
 * The passkeys the passkey sign-offs among `signoffs` were signed with, each row vouched for by the
 * audit log (a public key swapped in the database never verifies a forged assertion), keeping those
 * not revoked at `at`: a revoked passkey's sign-offs stop counting from its revocation on.
 */
export async function evidencePasskeys(store: Pick<StoreReader, 'rowVouchers' | 'auditEventsAt' | 'listPasskeys'>, signoffs: readonly Signoff[], at: string): Promise<PasskeyKeys> {
  const ids = [...new Set(signoffs.flatMap((s) => (s.signatureKind === 'webauthn' && s.webauthn ? [s.webauthn.credentialId] : [])))];
  if (ids.length === 0) return new Map();
  const found = await store.listPasskeys({ ids });
  await requireVouched(store, found.map((p) => ({ table: 'passkeys' as const, key: p.id })));
  return new Map(
    found
      .filter((p) => p.revokedAt === undefined || p.revokedAt > at)
      .map((p) => [p.id, { credentialId: p.id, user: p.user, publicKey: p.publicKey, rpId: p.rpId }]),
  );
}
