import { evaluate } from '../domain/evaluate.js';
import { decisionHorizon } from '../domain/horizon.js';
import type { Decision } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { inputKeys, type InputProbe } from './inputs.js';
import { requirePolicy, requireRelease, requireStage } from './lookup.js';

/** The decision for a release entering a stage, from what the store holds now. */
export async function decide(store: StoreReader, ref: string, stage: string, now: Date, promoter?: string, probe?: InputProbe): Promise<Decision> {
  return (await decideWithHorizon(store, ref, stage, now, promoter, probe)).decision;
}

/**
 * The decision, and until when it holds if nothing is recorded meanwhile (`decisionHorizon`: a
 * sign-off expiring, a freeze window opening or closing; Infinity when nothing is due).
 */
export async function decideWithHorizon(
  store: StoreReader,
  ref: string,
  stage: string,
  now: Date,
  promoter?: string,
  probe?: InputProbe,
): Promise<{ decision: Decision; horizon: number }> {
  const active = await requirePolicy(store);
  requireStage(active.policy, stage);
  const release = await requireRelease(store, ref);
  const [evidence, history] = await Promise.all([store.evidence(release.digest), store.promotions({ subject: release.subject })]);
  const decision = evaluate(active.policy, release, evidence, now, {
    stage,
    policyDigest: active.digest,
    policyVersion: active.version,
    history,
    ...(promoter !== undefined ? { promoter } : {}),
    ...(probe ? { currentInputs: await probe(inputKeys(evidence)) } : {}),
  });
  return { decision, horizon: decisionHorizon(active.policy, evidence, stage, now) };
}
