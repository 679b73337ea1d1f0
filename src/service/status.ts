import { evaluate } from '../domain/evaluate.js';
import { decisionHorizon } from '../domain/horizon.js';
import type { EvaluateContext } from '../domain/evaluate.js';
import type { Decision, EvidenceSet, Release } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { requirePolicy, requireRelease, requireStage } from './lookup.js';
import { stageHandoffs } from './handoff.js';
import { decisionRows, evidencePasskeys, requireVouched, vouchedHolder } from './vouch.js';

/** The decision for a release entering a stage, from what the store holds now. */
export async function decide(store: StoreReader, ref: string, stage: string, now: Date, promoter?: string): Promise<Decision> {
  return (await decideWithHorizon(store, ref, stage, now, promoter)).decision;
}

/**
 * The decision, and until when it holds if nothing is recorded meanwhile (`decisionHorizon`: a
 * sign-off expiring, a freeze window opening or closing; Infinity when nothing is due). A function of
 * the stored record and the time alone (DESIGN.md rule 6), every row of which the audit log vouches
 * for (rule 5): the policy, the release, the evidence and the subject's promotions.
 */
export async function decideWithHorizon(
  store: StoreReader,
  ref: string,
  stage: string,
  now: Date,
  promoter?: string,
): Promise<{ decision: Decision; horizon: number }> {
  const active = await requirePolicy(store);
  requireStage(active.policy, stage);
  const release = await requireRelease(store, ref);
  const { evidence, record } = await decisionInputs(store, release, now);
  // Who holds the stage must agree with the promotions on record (promote checks it too).
  await vouchedHolder(store, release.subject, stage, record.history);
  const decision = evaluate(active.policy, release, evidence, now, {
    stage,
    policyDigest: active.digest,
    policyVersion: active.version,
    ...record,
    ...(promoter !== undefined ? { promoter } : {}),
  });
  // Not part of the decision: what became of the hand-offs to deployment of its latest promotion here.
  const handoff = await stageHandoffs(store, release.digest, stage, record.history);
  return { decision: handoff.length > 0 ? { ...decision, handoff } : decision, horizon: decisionHorizon(active.policy, evidence, stage, now, { history: record.history, releaseDigest: release.digest }) };
}

/**
 * What a decision about `release` reads besides the policy and the time: its evidence, and the part
 * of the evaluation context that comes from the record (its subject's promotions), every row checked
 * against the audit log. One place, so that `status` and `policy diff` decide on the same record
 * (promote.ts calls it too, inside its transaction, under the stage lock).
 */
export async function decisionInputs(
  store: StoreReader,
  release: Release,
  now: Date,
): Promise<{ evidence: EvidenceSet; record: Pick<EvaluateContext, 'history' | 'passkeys' | 'holds'> }> {
  const [evidence, history, holds] = await Promise.all([
    store.evidence(release.digest),
    store.promotions({ subject: release.subject }),
    store.stageHolds({ subject: release.subject }),
  ]);
  await requireVouched(store, decisionRows(evidence, history, holds));
  const passkeys = await evidencePasskeys(store, evidence.signoffs, now.toISOString());
  return { evidence, record: { history, passkeys, holds } };
}
