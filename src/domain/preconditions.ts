/**
 * Sign-off preconditions: a rule may ask for the state a sign-off is given in. `after: [gates]`
 * means those gates are satisfied for the release at signing time (a model-risk reviewer signs what
 * the automated checks already passed); `inStage: staging` means the release holds that stage. They
 * are checked when the sign-off is drafted and again when it is recorded; once given, a sign-off
 * keeps counting (unless its rule says `staleOnNewEvidence`). Pure, like `evaluate`.
 */
import type { Digest } from './digest.js';
import { evaluate } from './evaluate.js';
import { releaseName, type Decision, type PasskeyKeys, type EvidenceSet, type Policy, type Promotion, type Release, type SignoffRuleDef } from './model.js';

export interface PreconditionContext {
  readonly policyDigest: Digest;
  readonly policyVersion?: number;
  /** Promotions and rollbacks of the release's subject, oldest first. */
  readonly history: readonly Promotion[];
  /** The passkeys whose sign-offs may count (see EvaluateContext). */
  readonly passkeys?: PasskeyKeys;
}

/** Every unmet precondition of `rule`, in words a reviewer can act on; empty when it may be given. */
export function unmetPreconditions(
  policy: Policy,
  release: Release,
  evidence: EvidenceSet,
  now: Date,
  ctx: PreconditionContext,
  rule: SignoffRuleDef,
): string[] {
  const unmet: string[] = [];
  const name = releaseName(release);
  const decisions = new Map<string, Decision>();
  const decisionFor = (stage: string): Decision => {
    let d = decisions.get(stage);
    if (!d) {
      d = evaluate(policy, release, evidence, now, {
        stage,
        policyDigest: ctx.policyDigest,
        history: ctx.history,
        ...(ctx.passkeys !== undefined ? { passkeys: ctx.passkeys } : {}),
        ...(ctx.policyVersion !== undefined ? { policyVersion: ctx.policyVersion } : {}),
      });
      decisions.set(stage, d);
    }
    return d;
  };
  for (const id of rule.after ?? []) {
    const def = policy.gates.find((g) => g.id === id);
    if (!def) {
      unmet.push(`gate ${id} is not in the policy`);
      continue;
    }
    // A gate whose `when` does not hold for this release asks for nothing, so there is nothing to wait for.
    const gate = decisionFor(def.stage).gates.find((g) => g.id === id);
    if (!gate || gate.outcome === 'satisfied') continue;
    const open = gate.requirements.filter((r) => r.outcome !== 'satisfied').map((r) => `${r.id} ${r.outcome}`);
    unmet.push(`gate ${id} (${def.stage}) is not satisfied yet: ${open.join(', ')}`);
  }
  if (rule.inStage !== undefined) {
    const holder = [...ctx.history].reverse().find((p) => p.stage === rule.inStage);
    if (holder?.releaseDigest !== release.digest) {
      unmet.push(`${name} does not hold ${rule.inStage}${holder ? ` (${release.subject}@${holder.version} does)` : ' (no release does)'}; promote it there first`);
    }
  }
  return unmet;
}
