/**
 * How long a decision holds with nothing new recorded. A decision changes when the store changes,
 * and also when time alone moves it: a freeze window opens or closes, or a sign-off expires. The
 * horizon is the first such moment after `now`; a cached decision is good until then (and until the
 * store changes).
 */
import { isUtcInstant, parseDuration } from './duration.js';
import { nextFreezeChange } from './freeze.js';
import type { EvidenceSet, Policy, Promotion } from './model.js';

/**
 * Milliseconds since the epoch of the first time-driven change after `now`; Infinity when none is
 * coming. With the subject's `history` and the release's digest, a soak still running counts too.
 */
export function decisionHorizon(
  policy: Policy,
  evidence: EvidenceSet,
  stage: string,
  now: Date,
  soak?: { readonly history: readonly Promotion[]; readonly releaseDigest: string },
): number {
  const t = now.getTime();
  let horizon = Infinity;
  const consider = (at: number): void => {
    if (at > t && at < horizon) horizon = at;
  };
  consider(nextFreezeChange(policy.stages.find((s) => s.name === stage)?.freeze ?? [], now));
  const def = policy.stages.find((s) => s.name === stage);
  if (def?.soak !== undefined && def.after !== undefined && soak) {
    // The soak is met the moment a stay in `after` reaches it; a stay's end is a store change.
    const need = parseDuration(def.soak);
    for (const p of soak.history) if (p.stage === def.after && p.releaseDigest === soak.releaseDigest) consider(Date.parse(p.at) + need);
  }
  for (const gate of policy.gates) {
    if (gate.stage !== stage || gate.expires === undefined) continue;
    const ttl = parseDuration(gate.expires);
    for (const s of evidence.signoffs) {
      // Expired once `now - at > ttl`: the decision may change from the millisecond after at + ttl.
      if (s.stage === stage && s.gate === gate.id && isUtcInstant(s.at)) consider(Date.parse(s.at) + ttl + 1);
    }
  }
  // A waiver stops counting at its expiry.
  for (const w of evidence.exceptions ?? []) if (w.kind === 'waiver' && w.stage === stage && w.expiresAt !== undefined) consider(Date.parse(w.expiresAt));
  return horizon;
}
