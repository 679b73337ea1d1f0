import { buildStatement, type AttestedPasskey, type PromotionPredicate } from '../audit/attestation.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope } from '../audit/dsse.js';
import { foldPieces, inclusionProofPlan, verifyInclusion } from '../audit/merkle.js';
import type { AuditCheckpoint, AuditEvent } from '../audit/events.js';
import { auditLeafHash } from '../audit/tree.js';
import { evaluate } from '../domain/evaluate.js';
import { tollgateError } from '../domain/errors.js';
import { releaseName, type EvidenceSet, type Signoff } from '../domain/model.js';
import { digestBytes } from '../domain/digest.js';
import { MAX_INPUT_COPY_BYTES } from './validate.js';
import { signoffSignatureValid } from '../domain/signoff.js';
import { exceptionSignatureValid } from '../domain/exception.js';
import { waiversOf } from '../audit/attestation.js';
import { serverKeyId } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireRelease, requireStage, requirePolicy } from './lookup.js';
import { nodeKey } from '../store/audit-queries.js';
import type { StoreReader } from '../store/store.js';
import { decisionRows, evidencePasskeys, requireVouched, vouchPolicy } from './vouch.js';
import { fromPasskey } from '../store/vouched-rows.js';

/**
 * The attestation of a release's promotion into a stage, signed by the server key: everything the
 * decision rested on, as it stood at the moment of promotion, and the proof that the promotion is in
 * the audit log under a signed checkpoint.
 */
export async function attest(deps: ServiceDeps, ref: string, stage: string): Promise<DsseEnvelope> {
  const store = deps.store;
  requireStage((await requirePolicy(store)).policy, stage);
  const release = await requireRelease(store, ref);
  const history = await store.promotions({ subject: release.subject });
  const promotion = [...history].reverse().find((p) => p.stage === stage && p.releaseDigest === release.digest && p.kind === 'promotion');
  if (!promotion) throw tollgateError('TG_NOT_PROMOTED', `${releaseName(release)} has not been promoted to ${stage}`);
  const stored = await store.policyVersion(promotion.policyVersion);
  if (!stored) throw tollgateError('TG_STATE_TAMPERED', `policy version ${promotion.policyVersion}, which the promotion ${promotion.id} was decided on, is missing from the store`);
  const policy = await vouchPolicy(store, stored);

  // The promotion's event by the `seq` its row names (an index lookup, whatever the log's length),
  // and its proof of inclusion from the stored tree: nothing here reads the whole log.
  const row = (await store.rowVouchers('promotions', [promotion.id])).get(promotion.id);
  const [event] = row?.auditSeq ? await store.auditEventsAt([row.auditSeq]) : [];
  const checkpoint = await store.latestCheckpoint();
  if (!event || event.type !== 'ReleasePromoted' || event.data.id !== promotion.id || !checkpoint || checkpoint.size < event.seq) {
    throw tollgateError('TG_AUDIT_BROKEN', `the audit log has no signed record of the promotion ${promotion.id}`);
  }
  const proof = await storedInclusionProof(store, event, checkpoint);

  // The evidence as it stood when the promotion was decided; a row whose signature never verified
  // never counted, and is left out rather than carried as an unverifiable claim.
  const all = await store.evidence(release.digest);
  const upTo = (at: string) => at <= promotion.at;
  // Passkeys as they stood at the promotion: one revoked since still signed what it signed then.
  const passkeys = await evidencePasskeys(store, all.signoffs, promotion.at);
  // Waivers and break-glass sign-offs as they stood too; carried only when there are any.
  const exceptions = (all.exceptions ?? []).filter((e) => upTo(e.at) && exceptionSignatureValid(policy.policy, e));
  const evidence: EvidenceSet = {
    checklist: all.checklist.filter((c) => upTo(c.at)),
    signoffs: all.signoffs.filter((s) => upTo(s.at) && signoffSignatureValid(policy.policy, s, passkeys)),
    validations: all.validations.filter((v) => upTo(v.at)),
    ...(exceptions.length > 0 ? { exceptions } : {}),
  };
  const before = history.slice(0, history.findIndex((p) => p.id === promotion.id));
  // The holds of rollbacks before the promotion (a hold is named by its rollback); one still active
  // would have refused the promotion, so what is read now is what the decision read.
  const earlier = new Set(before.map((p) => p.id));
  const holds = (await store.stageHolds({ subject: release.subject })).filter((h) => earlier.has(h.id));
  // Everything the attestation carries must be what the audit log vouches for.
  await requireVouched(store, [...decisionRows(evidence, before, holds), { table: 'promotions', key: promotion.id }]);
  const decision = evaluate(policy.policy, release, evidence, new Date(promotion.at), {
    stage,
    policyDigest: policy.digest,
    policyVersion: policy.version,
    history: before,
    holds,
    promoter: promotion.by,
    passkeys,
  });
  const attestedPasskeys = await passkeysOf(store, evidence.signoffs, checkpoint);
  const predicate: PromotionPredicate = {
    release: { name: releaseName(release), digest: release.digest, manifest: release.manifest, createdAt: release.createdAt, createdBy: release.createdBy },
    stage,
    policy: { name: policy.name, version: policy.version, digest: policy.digest, source: policy.source },
    decision,
    evidence,
    history: before,
    ...(holds.length > 0 ? { holds } : {}),
    promotion,
    ...(waiversOf(decision).length > 0 ? { waivers: waiversOf(decision) } : {}),
    ...(promotion.breakGlass ? { breakGlass: promotion.breakGlass } : {}),
    lineage: release.manifest.lineage ?? [],
    files: await filesOf(store, evidence),
    ...(attestedPasskeys.length > 0 ? { passkeys: attestedPasskeys } : {}),
    log: {
      event,
      leafIndex: event.seq - 1,
      treeSize: checkpoint.size,
      inclusionProof: proof.map((h) => h.toString('hex')),
      checkpoint: checkpoint.note,
    },
  };
  const payload = Buffer.from(JSON.stringify(buildStatement(predicate)), 'utf8');
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, deps.serverKey, serverKeyId(deps));
}

/**
 * The inclusion proof of `event` in the tree the checkpoint signs, from the stored subtrees
 * (O(log² n) lookups), checked against the checkpoint's root before it is handed out: stored nodes
 * that were changed would give a proof that does not verify, and an attestation must not carry one.
 */
async function storedInclusionProof(store: StoreReader, event: AuditEvent, checkpoint: AuditCheckpoint): Promise<Buffer[]> {
  const plan = inclusionProofPlan(event.seq - 1, checkpoint.size);
  const nodes = await store.auditNodes([...plan.flat(), { level: 0, index: event.seq - 1 }]);
  const at = (level: number, index: number): Buffer => {
    const node = nodes.get(nodeKey(level, index));
    if (!node) throw tollgateError('TG_STATE_TAMPERED', `audit_nodes ${level}/${index} of the log's Merkle tree is missing`, { details: { rows: [{ table: 'audit_nodes', key: `${level}/${index}`, what: 'deleted' }] } });
    return node;
  };
  const proof = plan.map((pieces) => foldPieces(pieces.map((p) => at(p.level, p.index))));
  const leaf = auditLeafHash(event);
  if (!leaf.equals(at(0, event.seq - 1)) || !verifyInclusion({ index: event.seq - 1, size: checkpoint.size, leafHash: leaf, proof, root: Buffer.from(checkpoint.root, 'hex') })) {
    throw tollgateError('TG_STATE_TAMPERED', `the stored Merkle tree of the audit log does not prove event ${event.seq} under the newest checkpoint: audit_nodes was changed; run \`tollgate audit verify\``, {
      details: { rows: [{ table: 'audit_nodes', key: `0/${event.seq - 1}`, what: 'edited' }] },
    });
  }
  return proof;
}

/** The most bytes of evidence files one attestation carries (each at most MAX_INPUT_COPY_BYTES). */
const MAX_ATTESTED_FILES_BYTES = 8 * 1024 * 1024;

/** The stored bytes of the small files the evidence names, base64 by digest (see PromotionPredicate.files). */
async function filesOf(store: StoreReader, evidence: EvidenceSet): Promise<Record<string, string>> {
  const digests = [
    ...new Set([
      ...evidence.validations.flatMap((v) => Object.values(v.inputs)),
      ...evidence.checklist.flatMap((c) => (c.evidence?.digest && (c.evidence.size ?? 0) <= MAX_INPUT_COPY_BYTES ? [c.evidence.digest] : [])),
    ]),
  ].sort();
  // A checklist evidence file is always kept with its completion (check.ts): one that is gone was
  // deleted, and the attestation must not go out without it. A validation input is kept only when the
  // validate run sent a copy, so a missing one is carried by digest alone.
  const alwaysKept = new Set(evidence.checklist.flatMap((c) => (c.evidence?.digest && (c.evidence.size ?? 0) <= MAX_INPUT_COPY_BYTES ? [c.evidence.digest] : [])));
  const out: Record<string, string> = {};
  let total = 0;
  for (const digest of digests) {
    const bytes = await store.blob(digest);
    if (!bytes && alwaysKept.has(digest)) {
      const reason = 'a checklist evidence file is kept with its completion, and this one is gone: it was deleted';
      throw tollgateError('TG_STATE_TAMPERED', `blobs ${digest} is not what the audit log vouches for (deleted): ${reason}`, {
        details: { rows: [{ table: 'blobs', key: digest, what: 'deleted', reason }] },
      });
    }
    if (!bytes || bytes.byteLength > MAX_INPUT_COPY_BYTES || total + bytes.byteLength > MAX_ATTESTED_FILES_BYTES) continue;
    // The bytes must be what they are kept under: an attestation never carries changed evidence.
    if (digestBytes(bytes) !== digest) {
      throw tollgateError('TG_STATE_TAMPERED', `blobs ${digest} is not what the audit log vouches for (edited): its bytes have digest ${digestBytes(bytes)}`, {
        details: { rows: [{ table: 'blobs', key: digest, what: 'edited' }] },
      });
    }
    out[digest] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    total += bytes.byteLength;
  }
  return out;
}

/**
 * The passkeys the passkey sign-offs were signed with, each as its row is stored and the audit event
 * that vouches for that row now, with the event's inclusion proof under `checkpoint`: what lets
 * `tollgate verify` trust the public key a passkey sign-off is checked with.
 */
async function passkeysOf(store: StoreReader, signoffs: readonly Signoff[], checkpoint: AuditCheckpoint): Promise<AttestedPasskey[]> {
  const ids = [...new Set(signoffs.flatMap((s) => (s.signatureKind === 'webauthn' && s.webauthn ? [s.webauthn.credentialId] : [])))];
  if (ids.length === 0) return [];
  const found = await store.listPasskeys({ ids });
  const vouchers = await store.rowVouchers('passkeys', ids);
  const seqs = found.map((p) => vouchers.get(p.id)?.auditSeq).filter((s): s is number => typeof s === 'number');
  const events = new Map((await store.auditEventsAt(seqs)).map((e) => [e.seq, e]));
  const out: AttestedPasskey[] = [];
  for (const passkey of found) {
    const event = events.get(vouchers.get(passkey.id)?.auditSeq ?? -1);
    // Checked by evidencePasskeys already; a row changed since would fail here rather than be carried.
    if (!event || event.seq > checkpoint.size) throw tollgateError('TG_AUDIT_BROKEN', `the audit log has no signed record of passkey ${passkey.id}`);
    const proof = await storedInclusionProof(store, event, checkpoint);
    out.push({
      row: fromPasskey(passkey),
      log: { event, leafIndex: event.seq - 1, inclusionProof: proof.map((h) => h.toString('hex')) },
    });
  }
  return out;
}
