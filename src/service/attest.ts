import { buildStatement, type PromotionPredicate } from '../audit/attestation.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope } from '../audit/dsse.js';
import { inclusionProof } from '../audit/merkle.js';
import { auditLeafHash } from '../audit/tree.js';
import { evaluate } from '../domain/evaluate.js';
import { tollgateError } from '../domain/errors.js';
import { releaseName } from '../domain/model.js';
import { signoffSignatureValid } from '../domain/signoff.js';
import { serverKeyId } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireRelease, requireStage, requirePolicy } from './lookup.js';

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
  const policy = await store.policyVersion(promotion.policyVersion);
  if (!policy) throw tollgateError('TG_INTERNAL', `policy version ${promotion.policyVersion} is missing from the store`);

  const events = await store.auditEvents();
  const event = events.find((e) => e.type === 'ReleasePromoted' && e.data.id === promotion.id);
  const checkpoint = await store.latestCheckpoint();
  if (!event || !checkpoint || checkpoint.size < event.seq) {
    throw tollgateError('TG_AUDIT_BROKEN', `the audit log has no signed record of the promotion ${promotion.id}`);
  }
  const leaves = events.slice(0, checkpoint.size).map(auditLeafHash);

  // The evidence as it stood when the promotion was decided; a row whose signature never verified
  // never counted, and is left out rather than carried as an unverifiable claim.
  const all = await store.evidence(release.digest);
  const upTo = (at: string) => at <= promotion.at;
  const evidence = {
    checklist: all.checklist.filter((c) => upTo(c.at)),
    signoffs: all.signoffs.filter((s) => upTo(s.at) && signoffSignatureValid(policy.policy, s)),
    validations: all.validations.filter((v) => upTo(v.at)),
  };
  const before = history.slice(0, history.findIndex((p) => p.id === promotion.id));
  const decision = evaluate(policy.policy, release, evidence, new Date(promotion.at), {
    stage,
    policyDigest: policy.digest,
    policyVersion: policy.version,
    history: before,
    promoter: promotion.by,
  });
  const predicate: PromotionPredicate = {
    release: { name: releaseName(release), digest: release.digest, manifest: release.manifest, createdAt: release.createdAt, createdBy: release.createdBy },
    stage,
    policy: { name: policy.name, version: policy.version, digest: policy.digest, source: policy.source },
    decision,
    evidence,
    history: before,
    promotion,
    lineage: release.manifest.lineage ?? [],
    log: {
      event,
      leafIndex: event.seq - 1,
      treeSize: checkpoint.size,
      inclusionProof: inclusionProof(event.seq - 1, leaves).map((h) => h.toString('hex')),
      checkpoint: checkpoint.note,
    },
  };
  const payload = Buffer.from(JSON.stringify(buildStatement(predicate)), 'utf8');
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, deps.serverKey, serverKeyId(deps));
}
