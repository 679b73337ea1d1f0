/**
 * Exceptions to the gates, each signed by a person in a role the policy names for it: a **waiver**
 * accepts one unmet requirement of one gate for one release until an expiry (the gate's `waivers`),
 * and a **break-glass** sign-off lets one promotion into a stage past a freeze or unmet requirements
 * (the stage's `breakGlass.role`). Signed with the signer's Ed25519 key over the canonical JSON of the
 * payload, like a sign-off (signoff.ts): the kind, the release digest, the stage and the reason are
 * part of what is signed, so a row edited afterwards does not verify. Pure.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson, digestOf, type Digest } from './digest.js';
import { signBytes, tryParsePublicKey, verifyBytes } from './keys.js';
import type { ChecklistCompletion, ChecklistItemDef, Decision, ExceptionPayload, FollowUpItem, ExceptionSignoff, Policy, Promotion, Release } from './model.js';
import { rosterEntry } from './model.js';

/** The longest a waiver may run: accepted risk is looked at again, not forgotten. */
export const MAX_WAIVER_MS = 90 * 24 * 3600 * 1000;

/** How long a break-glass sign-off may wait for its promotion: it is given for an emergency now. */
export const BREAK_GLASS_TTL_MS = 24 * 3600 * 1000;

/** Requirements break-glass never goes past: a rollback's hold is cleared (`release clear`), not broken. */
export const UNBREAKABLE: readonly string[] = ['stage/hold', 'stage/holder'];

/** The gate id of a follow-up item's completion: not a gate id a policy can use (":" is not allowed in one). */
export const FOLLOW_UP_GATE = 'break-glass:follow-up';

/** The exact fields a signature covers; anything else on the row is not trusted. */
export function exceptionPayload(e: ExceptionPayload): ExceptionPayload {
  return {
    type: 'tollgate/exception/v1',
    kind: e.kind,
    release: e.release,
    releaseDigest: e.releaseDigest,
    stage: e.stage,
    role: e.role,
    signer: e.signer,
    at: e.at,
    reason: e.reason,
    ...(e.gate !== undefined ? { gate: e.gate } : {}),
    ...(e.gateDigest !== undefined ? { gateDigest: e.gateDigest } : {}),
    ...(e.requirement !== undefined ? { requirement: e.requirement } : {}),
    ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}),
  };
}

export function exceptionMessage(e: ExceptionPayload): string {
  return canonicalJson(exceptionPayload(e));
}

export function signException(payload: ExceptionPayload, privateKey: KeyObject): string {
  return signBytes(privateKey, exceptionMessage(payload));
}

/** True only when the signature verifies against the key the policy's roster holds for the signer. */
export function exceptionSignatureValid(policy: Policy, e: ExceptionSignoff): boolean {
  const entry = rosterEntry(policy, e.signer);
  if (!entry) return false;
  const key = tryParsePublicKey(entry.key);
  return key !== undefined && verifyBytes(key, exceptionMessage(e), e.signature);
}

/**
 * The waivers that count for a gate's requirement now: signed, by someone who holds the waiver's role,
 * a role the gate's `waivers` names, for this release, gate definition and requirement, given and not
 * yet expired, and not by the release owner (accepting one's own risk is no acceptance). Newest last.
 */
export function waiversFor(
  policy: Policy,
  release: Release,
  exceptions: readonly ExceptionSignoff[],
  gate: { id: string; stage: string; waivers?: readonly string[] },
  gateDigest: string,
  requirement: string,
  now: Date,
): ExceptionSignoff[] {
  const roles = gate.waivers ?? [];
  if (roles.length === 0) return [];
  const t = now.toISOString();
  return exceptions.filter(
    (w) =>
      w.kind === 'waiver' &&
      w.releaseDigest === release.digest &&
      w.stage === gate.stage &&
      w.gate === gate.id &&
      w.gateDigest === gateDigest &&
      w.requirement === requirement &&
      roles.includes(w.role) &&
      rosterEntry(policy, w.signer)?.roles.includes(w.role) === true &&
      w.signer !== release.manifest.owner &&
      w.at <= t &&
      w.expiresAt !== undefined &&
      t < w.expiresAt &&
      exceptionSignatureValid(policy, w),
  );
}

/**
 * The break-glass sign-off a promotion into `stage` by `promoter` may rest on, or why there is none:
 * the stage names a break-glass role, the decision's unmet requirements are all breakable, and a
 * signed break-glass sign-off for this release and stage exists, by a holder of the role who is neither
 * the promoter nor the release owner, given at most BREAK_GLASS_TTL_MS before `now` and not already
 * used by an earlier promotion. The same function decides in `promote` and in `tollgate verify`.
 */
export function breakGlassFor(
  policy: Policy,
  release: Release,
  decision: Decision,
  exceptions: readonly ExceptionSignoff[],
  history: readonly Promotion[],
  promoter: string,
  now: Date,
): { ok: true; signoff: ExceptionSignoff; unmet: string[] } | { ok: false; reason: string; role?: string } {
  const stage = policy.stages.find((s) => s.name === decision.stage);
  const role = stage?.breakGlass?.role;
  if (role === undefined) return { ok: false, reason: `the policy names no break-glass role for ${decision.stage} (breakGlass: { role: ROLE } on the stage)` };
  const unmet = decision.gates.flatMap((g) => g.requirements.filter((r) => r.outcome !== 'satisfied' && r.outcome !== 'waived').map((r) => `${g.id}/${r.id} ${r.outcome}`));
  const blocked = unmet.filter((u) => UNBREAKABLE.includes(u.split(' ')[0]!));
  if (blocked.length > 0) return { ok: false, role, reason: `break-glass does not go past ${blocked.join(', ')}: a rollback's hold is lifted with \`tollgate release clear\`` };
  const used = new Set(history.flatMap((p) => (p.breakGlass ? [p.breakGlass.signoff] : [])));
  const t = now.getTime();
  const notes: string[] = [];
  const candidates = exceptions.filter((e) => e.kind === 'break-glass' && e.releaseDigest === release.digest && e.stage === decision.stage);
  for (const e of [...candidates].reverse()) {
    const age = t - Date.parse(e.at);
    if (!exceptionSignatureValid(policy, e)) notes.push(`${e.signer}'s does not verify against the roster key`);
    else if (e.role !== role || rosterEntry(policy, e.signer)?.roles.includes(role) !== true) notes.push(`${e.signer}'s is not by a holder of ${role}`);
    else if (e.signer === promoter) notes.push(`${e.signer}'s is by the person promoting`);
    else if (e.signer === release.manifest.owner) notes.push(`${e.signer}'s is by the release owner`);
    else if (used.has(e.id)) notes.push(`${e.signer}'s of ${e.at} was used by an earlier promotion`);
    else if (age < 0 || age > BREAK_GLASS_TTL_MS) notes.push(`${e.signer}'s of ${e.at} is more than 24h old`);
    else return { ok: true, signoff: e, unmet };
  }
  return {
    ok: false,
    role,
    reason: `break-glass into ${decision.stage} needs a sign-off by the role "${role}" (someone else than the promoter and the release owner): \`tollgate signoff ${decision.release} --to ${decision.stage} --role ${role} --break-glass --reason "…"\`${notes.length > 0 ? ` (not counted: ${notes.join('; ')})` : ''}`,
  };
}

/** What a follow-up item's completion binds to: the stage and the item as the policy defines it. */
export function followUpDigest(stage: string, item: ChecklistItemDef): Digest {
  return digestOf({ gate: FOLLOW_UP_GATE, stage, item });
}

export type FollowUp = FollowUpItem;

/**
 * The follow-up items that the release's break-glass promotions opened (each stage's current
 * `breakGlass.followUp`), each done once someone completed it after that promotion, for the item as
 * it is defined now. One list per promotion: a second break-glass opens the checklist again.
 */
export function followUpsOf(policy: Policy, releaseDigest: string, history: readonly Promotion[], checklist: readonly ChecklistCompletion[]): FollowUp[] {
  const out: FollowUp[] = [];
  for (const p of history) {
    if (p.releaseDigest !== releaseDigest || p.breakGlass === undefined) continue;
    for (const item of policy.stages.find((s) => s.name === p.stage)?.breakGlass?.followUp ?? []) {
      const digest = followUpDigest(p.stage, item);
      const done = checklist
        .filter((c) => c.releaseDigest === releaseDigest && c.gateId === FOLLOW_UP_GATE && c.stage === p.stage && c.itemId === item.id && c.itemDigest === digest && c.at >= p.at)
        .at(-1);
      out.push({
        stage: p.stage,
        promotion: p.id,
        item: item.id,
        ...(item.text !== undefined ? { text: item.text } : {}),
        ...(item.evidence !== undefined ? { evidence: item.evidence } : {}),
        ...(item.roles !== undefined ? { roles: item.roles } : {}),
        ...(done ? { done: { by: done.by, at: done.at, ...(done.evidence ? { evidence: done.evidence } : {}) } } : {}),
      });
    }
  }
  return out;
}
