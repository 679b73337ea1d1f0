/**
 * The decision: which gates apply to a release entering a stage, and whether each requirement holds.
 * Pure: `evaluate` reads nothing and writes nothing, so the CLI, the server, `promote` (inside its
 * transaction) and an offline verifier all reach the same answer from the same inputs.
 */
import type { Digest } from './digest.js';
import { conditionHolds } from './cel.js';
import { describeDuration, isUtcInstant, parseDuration } from './duration.js';
import { activeFreeze } from './freeze.js';
import { tollgateError } from './errors.js';
import { gateDigest, itemDigest, validationDigest } from './policy-digests.js';
import { DEFAULT_CLEAR_ROLES } from './stage-roles.js';
import { evidenceSetDigest } from './records.js';
import { signoffSignatureValid } from './signoff.js';
import { followUpsOf, waiversFor } from './exception.js';
import {
  releaseName,
  rosterEntry,
  type ChecklistItemDef,
  type Decision,
  type EvidenceSet,
  type FollowUpItem,
  type GateDef,
  type GateResult,
  type PasskeyKeys,
  type Outcome,
  type Policy,
  type Promotion,
  type Release,
  type RequirementResult,
  type Signoff,
  type SignoffRuleDef,
  type StageDef,
  type StageHold,
  type ValidationDef,
} from './model.js';
import { maxOf } from './bounded.js';

export interface EvaluateContext {
  readonly stage: string;
  readonly policyDigest: Digest;
  readonly policyVersion?: number;
  /** Promotions and rollbacks of the release's subject, oldest first. */
  readonly history: readonly Promotion[];
  /** Who would promote: under separation of duties their own sign-offs do not count. */
  readonly promoter?: string;
  /** The passkeys whose sign-offs may count (registered, vouched for, not revoked); none: passkey sign-offs do not count. */
  readonly passkeys?: PasskeyKeys;
  /** Rollback holds on releases of the subject (cleared ones included), oldest first. */
  readonly holds?: readonly StageHold[];
}

/** The id of the pseudo-gate that carries stage-level blocks: order, freeze windows. */
export const STAGE_GATE_ID = 'stage';

// When a gate is not satisfied, the gate shows its most serious requirement outcome.
// A gate whose requirements are all satisfied but for waived ones is `waived`: passable, never `satisfied`.
const SEVERITY: readonly Outcome[] = ['failed', 'errored', 'stale', 'expired', 'missing', 'waived', 'satisfied'];

export function evaluate(policy: Policy, release: Release, evidence: EvidenceSet, now: Date, ctx: EvaluateContext): Decision {
  const stage = policy.stages.find((s) => s.name === ctx.stage);
  if (!stage) {
    throw tollgateError(
      'TG_STAGE_UNKNOWN',
      `unknown stage "${ctx.stage}"; the policy's stages are: ${policy.stages.map((s) => s.name).join(', ')}`,
    );
  }
  const gates: GateResult[] = [];
  const notApplicable: string[] = [];

  const stageRequirements = evaluateStage(policy, release, ctx, stage, now);
  if (stageRequirements.length > 0) gates.push(gateOf(STAGE_GATE_ID, undefined, stageRequirements));

  for (const gate of policy.gates) {
    if (gate.stage !== ctx.stage) continue;
    if (!conditionHolds(gate.when, release.manifest)) {
      notApplicable.push(gate.id);
      continue;
    }
    const digest = gateDigest(gate);
    const requirements: RequirementResult[] = [
      ...(gate.checklist ?? [])
        .filter((item) => applies(item.when, release))
        .map((item) => evaluateChecklist(policy, release, evidence, gate, item)),
      ...evaluateSignoffs(policy, release, evidence, now, ctx, gate, digest),
      ...(gate.validations ?? [])
        .filter((v) => applies(v.when, release))
        .map((v) => evaluateValidation(release, evidence, gate, v)),
    ];
    gates.push(gateOf(gate.id, digest, applyWaivers(policy, release, evidence, now, gate, digest, requirements)));
  }

  return {
    release: releaseName(release),
    releaseDigest: release.digest,
    stage: ctx.stage,
    policy: { name: policy.name, digest: ctx.policyDigest, ...(ctx.policyVersion !== undefined ? { version: ctx.policyVersion } : {}) },
    promotable: gates.every((g) => g.outcome === 'satisfied' || g.outcome === 'waived'),
    evaluatedAt: now.toISOString(),
    gates,
    notApplicable,
    ...followUpsIn(policy, release, evidence, ctx),
  };
}

/** The follow-ups of the release's break-glass promotions into the stage, when there are any. */
function followUpsIn(policy: Policy, release: Release, evidence: EvidenceSet, ctx: EvaluateContext): { followUps?: FollowUpItem[] } {
  // followUpsOf passes over the history once, skipping promotions that are not this release's break-glass.
  const items = followUpsOf(policy, release.digest, ctx.history, evidence.checklist).filter((f) => f.stage === ctx.stage);
  return items.length > 0 ? { followUps: items } : {};
}

function applies(when: string | undefined, release: Release): boolean {
  return conditionHolds(when, release.manifest);
}

function gateOf(id: string, digest: Digest | undefined, requirements: RequirementResult[]): GateResult {
  const outcome = SEVERITY.find((o) => requirements.some((r) => r.outcome === o)) ?? 'satisfied';
  return { id, outcome, ...(digest ? { digest } : {}), requirements };
}

/**
 * Waivers (accepted risk): an unmet requirement of a gate with `waivers` becomes `waived` while a
 * waiver for it counts (exception.ts: signed, by a role the gate names, bound to this release and this
 * gate's definition, not expired). A sign-off rule with a standing rejection is not waived: a person
 * said no, and only they can take it back. Gates without `waivers` read exactly as before.
 */
function applyWaivers(
  policy: Policy,
  release: Release,
  evidence: EvidenceSet,
  now: Date,
  gate: GateDef,
  digest: Digest,
  requirements: RequirementResult[],
): RequirementResult[] {
  // Stryker disable next-line ArrayDeclaration: any other list without waivers in it counts none either (waiversFor keeps only waivers)
  const exceptions = evidence.exceptions ?? [];
  if (!gate.waivers || gate.waivers.length === 0 || exceptions.length === 0) return requirements;
  return requirements.map((r) => {
    if (r.outcome === 'satisfied' || (r.kind === 'signoff' && r.outcome === 'failed')) return r;
    const w = waiversFor(policy, release, exceptions, gate, digest, r.id, now).at(-1);
    if (!w) return r;
    const { canProvide: _unused, ...rest } = r;
    return {
      ...rest,
      outcome: 'waived',
      reason: `waived by ${w.signer} as ${w.role} at ${w.at} until ${w.expiresAt}: "${w.reason}" (without the waiver: ${r.outcome}: ${r.reason})`,
      waiver: { id: w.id, by: w.signer, role: w.role, reason: w.reason, at: w.at, expiresAt: w.expiresAt!, outcome: r.outcome },
    };
  });
}

// ---------------------------------------------------------------- stage: order and freeze

function evaluateStage(policy: Policy, release: Release, ctx: EvaluateContext, stage: StageDef, now: Date): RequirementResult[] {
  const out: RequirementResult[] = [];
  const name = releaseName(release);
  const after = stage.after;
  const freeze = stage.freeze ?? [];
  // Stryker disable next-line ArrayDeclaration: any other list without holds of this release in it is filtered to none
  const holds = (ctx.holds ?? []).filter((h) => h.releaseDigest === release.digest);
  const holder = [...ctx.history].reverse().find((p) => p.stage === ctx.stage);
  if (holder && holder.releaseDigest === release.digest) {
    out.push({
      id: 'holder',
      kind: 'stage',
      outcome: 'failed',
      reason: `${name} already holds ${ctx.stage} (since ${holder.at}); there is nothing to promote`,
    });
  }
  const hold = evaluateHold(policy, name, ctx.stage, holds);
  if (hold) out.push(hold);
  if (after !== undefined) {
    // A promotion that was rolled back is a failed change: it no longer shows the release went through `after`.
    const undone = new Set(holds.map((h) => h.promotionId));
    const arrivals = ctx.history.filter((p) => p.stage === after && p.releaseDigest === release.digest);
    const was = arrivals.find((p) => !undone.has(p.id));
    const pulled = holds.filter((h) => h.stage === after).at(-1);
    out.push(
      was
        ? { id: 'order', kind: 'stage', outcome: 'satisfied', reason: `was promoted to ${after} at ${was.at}` }
        : pulled
          ? {
              id: 'order',
              kind: 'stage',
              outcome: 'failed',
              reason: `${ctx.stage} comes after ${after}, and ${name} was rolled back out of ${after} at ${pulled.at}; a rolled-back promotion does not count, promote it to ${after} again first`,
            }
          : {
              id: 'order',
              kind: 'stage',
              outcome: 'failed',
              reason: `${ctx.stage} comes after ${after}, and ${name} has not been promoted to ${after}; promote it to ${after} first`,
            },
    );
  }
  if (after !== undefined && stage.soak !== undefined) out.push(evaluateSoak(release, ctx, after, stage.soak, holds, now));
  if (freeze.length > 0) {
    const active = activeFreeze(freeze, now);
    out.push(
      active
        ? {
            id: 'freeze',
            kind: 'stage',
            outcome: 'failed',
            reason: `${ctx.stage} is frozen from ${active.start.toISOString()} until ${active.end.toISOString()}${active.source ? ` (${active.source})` : ''}; promote after the freeze ends`,
            allowedAt: active.end.toISOString(),
          }
        : { id: 'freeze', kind: 'stage', outcome: 'satisfied', reason: `no freeze window is open for ${ctx.stage}` },
    );
  }
  return out;
}

/**
 * Soak: the release must have held the `after` stage for `soak` without a break: from a promotion
 * there (not rolled back) until the next release took the stage, or until now while it still holds
 * it. While the clock runs, the requirement is `missing` with the moment it will be met
 * (`allowedAt`); a release that left the stage too early must be promoted there again.
 */
function evaluateSoak(release: Release, ctx: EvaluateContext, after: string, soak: string, holds: readonly StageHold[], now: Date): RequirementResult {
  const name = releaseName(release);
  const need = parseDuration(soak);
  const undone = new Set(holds.map((h) => h.promotionId));
  const mine = stageStays(ctx.history, after, now).filter((s) => s.releaseDigest === release.digest && !undone.has(s.id));
  const base = { id: 'soak', kind: 'stage' as const };
  const long = mine.find((s) => s.end - s.start >= need);
  if (long) {
    return {
      ...base,
      outcome: 'satisfied',
      reason: `held ${after} for ${describeDuration(long.end - long.start)} from ${new Date(long.start).toISOString()}${long.current ? ' (and holds it now)' : ''}; the soak is ${soak}`,
    };
  }
  const current = mine.find((s) => s.current);
  if (current) {
    const allowedAt = new Date(current.start + need).toISOString();
    return {
      ...base,
      outcome: 'missing',
      reason: `${name} has held ${after} for ${describeDuration(Math.max(0, current.end - current.start))} of the ${soak} soak; it may enter ${ctx.stage} from ${allowedAt}`,
      allowedAt,
    };
  }
  return {
    ...base,
    outcome: 'failed',
    reason:
      mine.length > 0
        ? `${name} left ${after} after ${describeDuration(maxOf(mine.map((s) => s.end - s.start)))}, before the ${soak} soak was over; promote it to ${after} again and let it soak`
        : `${ctx.stage} needs ${name} to have held ${after} for ${soak}, and it has not held ${after}`,
  };
}

/** One time a release held a stage: from its promotion there until the next move into the stage, or now. */
export interface StageStay {
  readonly id: string;
  readonly releaseDigest: string;
  readonly start: number;
  readonly end: number;
  /** It still holds the stage. */
  readonly current: boolean;
}

/** Each time a release held `stage`, in the order of the history, in milliseconds since the epoch. */
export function stageStays(history: readonly Promotion[], stage: string, now: Date): StageStay[] {
  const moves = history.filter((p) => p.stage === stage);
  return moves.map((p, i) => {
    const next = moves[i + 1];
    return { id: p.id, releaseDigest: p.releaseDigest, start: Date.parse(p.at), end: next ? Date.parse(next.at) : now.getTime(), current: next === undefined };
  });
}

/**
 * A rollback holds its release out of the stage it was pulled from and out of every stage whose
 * order (`after`, followed back) goes through that stage, until someone clears it. Shown only for a
 * release that was ever rolled back where it matters, so other decisions read as before.
 */
function evaluateHold(policy: Policy, name: string, stage: string, holds: readonly StageHold[]): RequirementResult | undefined {
  const path = new Set(stagePath(policy, stage));
  const relevant = holds.filter((h) => path.has(h.stage));
  if (relevant.length === 0) return undefined;
  const active = relevant.filter((h) => h.cleared === undefined);
  const describe = (h: StageHold) => `rolled back out of ${h.stage} at ${h.at} by ${h.by} ("${h.reason}")`;
  if (active.length > 0) {
    const h = active.at(-1)!;
    const where = h.stage === stage ? stage : `${h.stage}, which ${stage} comes after,`;
    // Stryker disable next-line OptionalChaining: h.stage is on stagePath, which holds only stages of the policy and `after`s they name (parsePolicy refuses an unknown one)
    const roles = policy.stages.find((s) => s.name === h.stage)?.clear ?? DEFAULT_CLEAR_ROLES;
    return {
      id: 'hold',
      kind: 'stage',
      outcome: 'failed',
      reason: `${name} was ${describe(h)}; it is held out of ${where} until cleared: \`tollgate release clear ${name} --stage ${h.stage} --reason "…"\` (roles: ${roles.join(', ')})`,
    };
  }
  const h = relevant.at(-1)!;
  return { id: 'hold', kind: 'stage', outcome: 'satisfied', reason: `${name} was ${describe(h)}; cleared by ${h.cleared!.by} at ${h.cleared!.at} ("${h.cleared!.reason}")` };
}

/** The stage and every stage its order goes through (`after`, followed back), nearest first. */
export function stagePath(policy: Policy, stage: string): string[] {
  const out: string[] = [];
  for (let cur: string | undefined = stage; cur !== undefined && !out.includes(cur); cur = policy.stages.find((s) => s.name === cur)?.after) out.push(cur);
  return out;
}

// ---------------------------------------------------------------- checklist

function evaluateChecklist(policy: Policy, release: Release, evidence: EvidenceSet, gate: GateDef, item: ChecklistItemDef): RequirementResult {
  const base = { id: item.id, kind: 'checklist' as const, ...(item.text !== undefined ? { text: item.text } : {}) };
  const done = evidence.checklist.filter(
    (c) => c.releaseDigest === release.digest && c.gateId === gate.id && c.stage === gate.stage && c.itemId === item.id,
  );
  const latest = done.at(-1);
  const howTo = `complete it with \`tollgate check ${releaseName(release)} ${item.id} --to ${gate.stage}${
    item.evidence === 'required' ? ' --evidence FILE|URL' : ''
  }\``;
  const who = whoMayComplete(policy, item);
  if (!latest) {
    return { ...base, outcome: 'missing', reason: `not completed; ${howTo} (${who.text})`, canProvide: who.users };
  }
  if (latest.itemDigest !== itemDigest(gate, item)) {
    return {
      ...base,
      outcome: 'stale',
      reason: `completed by ${latest.by} at ${latest.at} for an earlier definition of this item; ${howTo}`,
      canProvide: who.users,
    };
  }
  if (item.evidence === 'required' && !latest.evidence) {
    return { ...base, outcome: 'missing', reason: `completed by ${latest.by} without the required evidence; ${howTo}`, canProvide: who.users };
  }
  const att = latest.evidence;
  const withEvidence = att ? ` with evidence ${att.name}${att.digest ? ` (${att.digest})` : ''}` : '';
  return { ...base, outcome: 'satisfied', reason: `completed by ${latest.by} at ${latest.at}${withEvidence}` };
}

function whoMayComplete(policy: Policy, item: ChecklistItemDef): { text: string; users: string[] } {
  if (!item.roles || item.roles.length === 0) return { text: 'any roster member may complete it', users: Object.keys(policy.roster) };
  const users = Object.entries(policy.roster)
    .filter(([, e]) => e.roles.some((r) => item.roles!.includes(r)))
    .map(([u]) => u);
  return { text: `roles ${item.roles.join(', ')} may complete it: ${users.join(', ') || 'nobody in the roster'}`, users };
}

// ---------------------------------------------------------------- validations

/**
 * A validation's latest result for this release and definition. A newer run supersedes it; nothing
 * outside the record makes it stale (DESIGN.md rule 6): the inputs' digests it recorded say what it
 * was run on, wherever that was.
 */
function evaluateValidation(release: Release, evidence: EvidenceSet, gate: GateDef, v: ValidationDef): RequirementResult {
  const base = { id: v.id, kind: 'validation' as const };
  const latest = evidence.validations
    .filter((r) => r.releaseDigest === release.digest && r.gateId === gate.id && r.stage === gate.stage && r.validationId === v.id)
    .at(-1);
  const howTo = `run \`tollgate validate ${releaseName(release)} --to ${gate.stage} --only ${v.id}\``;
  if (!latest) return { ...base, outcome: 'missing', reason: `no ${v.uses} result recorded; ${howTo}` };
  const at = `${latest.validator} at ${latest.at}`;
  if (latest.definitionDigest !== validationDigest(gate, v)) {
    return { ...base, outcome: 'stale', reason: `the result (${at}) was recorded for an earlier definition of this validation; ${howTo}` };
  }
  switch (latest.status) {
    case 'passed':
      return { ...base, outcome: 'satisfied', reason: `passed (${at}): ${latest.summary}` };
    case 'failed':
      return { ...base, outcome: 'failed', reason: `failed (${at}): ${latest.summary}` };
    case 'errored':
      return { ...base, outcome: 'errored', reason: `could not run (${at}): ${latest.summary}; fix the cause and ${howTo}` };
  }
}

// ---------------------------------------------------------------- sign-offs

interface Candidate {
  readonly signer: string;
  readonly signoff: Signoff;
}

/**
 * Sign-off rules of one gate. Each signer's latest sign-off for a role is the one that counts (a later
 * approval supersedes their rejection). A sign-off counts only if its signature verifies against the
 * roster key, the signer holds the role now, it is bound to this release and this gate's definition,
 * and it has not expired. With separation of duties the owners and the promoter do not count, and one
 * person fills at most one place in the whole gate, so the rules are filled by a matching. The owners
 * are the manifest's `owner` and the person who registered the release: `owner` is free text the
 * registrant writes, so without the registrant alice could register a release "owned" by carol and
 * approve it herself.
 */
function evaluateSignoffs(
  policy: Policy,
  release: Release,
  evidence: EvidenceSet,
  now: Date,
  ctx: EvaluateContext,
  gate: GateDef,
  digest: Digest,
): RequirementResult[] {
  const rules = (gate.signoffs ?? []).filter((r) => applies(r.when, release));
  if (rules.length === 0) return [];
  const sod = gate.separationOfDuties === true;
  const ttl = gate.expires !== undefined ? parseDuration(gate.expires) : undefined;
  const ownerRole = (u: string): string | undefined => releaseOwnerRole(release, u);

  interface RuleState {
    rule: SignoffRuleDef;
    fresh: Candidate[];
    rejectedBy: Signoff[];
    stale: string[];
    /** Signed before evidence that the rule says makes a sign-off stale. */
    outdated: string[];
    expired: string[];
    ignored: string[];
  }
  // Computed once, and only for a gate that asks for it.
  let evidenceNow: Digest | undefined;
  const currentEvidence = (): Digest => (evidenceNow ??= evidenceSetDigest(evidence, release.digest, gate.stage));
  const states: RuleState[] = rules.map((rule) => {
    const state: RuleState = { rule, fresh: [], rejectedBy: [], stale: [], outdated: [], expired: [], ignored: [] };
    const mine = evidence.signoffs.filter(
      (s) => s.releaseDigest === release.digest && s.gate === gate.id && s.stage === gate.stage && s.role === rule.role,
    );
    // Verify first: a row whose signature does not verify never supersedes a genuine one.
    const latestBySigner = new Map<string, Signoff>();
    for (const s of mine) {
      if (!signoffSignatureValid(policy, s, ctx.passkeys)) {
        state.ignored.push(
          s.signatureKind === 'webauthn'
            ? `a passkey sign-off as ${s.signer} that does not verify against a registered, unrevoked passkey of theirs`
            : `a sign-off as ${s.signer} whose signature does not verify against the roster key`,
        );
        continue;
      }
      // Recorded before times from outside had to be UTC: its instant would depend on where it is read.
      if (!isUtcInstant(s.at)) {
        state.ignored.push(`a sign-off as ${s.signer} dated ${JSON.stringify(s.at)}, not a time in UTC`);
        continue;
      }
      if (!rosterEntry(policy, s.signer)?.roles.includes(rule.role)) {
        state.ignored.push(`${s.signer} (no longer holds ${rule.role})`);
        continue;
      }
      latestBySigner.set(s.signer, s);
    }
    for (const [signer, s] of latestBySigner) {
      if (s.gateDigest !== digest) {
        state.stale.push(signer);
      } else if (rule.staleOnNewEvidence === true && s.decision === 'approve' && s.evidenceDigest !== currentEvidence()) {
        state.outdated.push(signer);
      } else if (s.decision === 'reject') {
        // A rejection blocks until its signer supersedes it; it does not quietly expire.
        state.rejectedBy.push(s);
      } else if (ttl !== undefined && now.getTime() - Date.parse(s.at) > ttl) {
        state.expired.push(signer);
      } else if (sod && ownerRole(signer) !== undefined) {
        state.ignored.push(`${signer} (${ownerRole(signer)}, under separation of duties)`);
      } else if (sod && signer === ctx.promoter) {
        state.ignored.push(`${signer} (the person promoting, under separation of duties)`);
      } else {
        state.fresh.push({ signer, signoff: s });
      }
    }
    return state;
  });

  const assigned = sod ? matchSigners(states.map((s) => ({ count: s.rule.count, signers: s.fresh.map((c) => c.signer) }))) : null;

  return states.map((state, i) => {
    const { rule } = state;
    const counted = assigned ? assigned[i]! : state.fresh.map((c) => c.signer).slice(0, rule.count);
    const base = { id: `signoff:${rule.role}`, kind: 'signoff' as const, role: rule.role, count: rule.count, signers: counted };
    const holders = Object.entries(policy.roster)
      .filter(([, e]) => e.roles.includes(rule.role))
      .map(([u]) => u);
    const eligible = holders.filter((u) => !counted.includes(u) && !(sod && (ownerRole(u) !== undefined || u === ctx.promoter)));
    const notes: string[] = [];
    if (assigned) {
      const usedElsewhere = state.fresh.map((c) => c.signer).filter((u) => !counted.includes(u));
      if (usedElsewhere.length > 0) notes.push(`${usedElsewhere.join(', ')} already counted for another role of this gate`);
    }
    if (state.stale.length > 0) notes.push(`stale: ${state.stale.join(', ')} signed an earlier definition of gate ${gate.id}`);
    if (state.outdated.length > 0) notes.push(`stale: evidence was recorded for ${gate.stage} after ${state.outdated.join(', ')} signed, and this rule asks for a sign-off on the evidence as it is`);
    if (state.expired.length > 0) notes.push(`expired: ${state.expired.join(', ')} signed more than ${gate.expires} ago`);
    if (state.ignored.length > 0) notes.push(`not counted: ${state.ignored.join('; ')}`);
    const tail = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    const have = `${counted.length} of ${rule.count} sign-off${rule.count === 1 ? '' : 's'} by ${rule.role}`;

    if (state.rejectedBy.length > 0) {
      const r = state.rejectedBy.map((s) => `${s.signer} at ${s.at}${s.comment ? `: "${s.comment}"` : ''}`).join('; ');
      return { ...base, outcome: 'failed', reason: `rejected by ${r}; the rejection stands until its signer signs off again${tail}` };
    }
    if (counted.length >= rule.count) {
      return { ...base, outcome: 'satisfied', reason: `${have}: ${counted.join(', ')}${tail}` };
    }
    const need = rule.count - counted.length;
    const ask = `needs ${need} more from ${eligible.length > 0 ? eligible.join(', ') : `a ${rule.role} not yet counted (nobody eligible in the roster)`}: \`tollgate signoff ${releaseName(release)} --to ${gate.stage} --role ${rule.role}\``;
    const outcome: Outcome = state.stale.length + state.outdated.length > 0 ? 'stale' : state.expired.length > 0 ? 'expired' : 'missing';
    return { ...base, outcome, reason: `${have}${counted.length > 0 ? ` (${counted.join(', ')})` : ''}; ${ask}${tail}`, canProvide: eligible };
  });
}

/**
 * Why `user` counts as an owner of the release under separation of duties, or undefined when they do
 * not: the manifest's `owner`, or the person who registered the release (`createdBy`).
 */
export function releaseOwnerRole(release: Pick<Release, 'manifest' | 'createdBy'>, user: string): string | undefined {
  if (user === release.manifest.owner) return 'the release owner';
  if (user === release.createdBy) return 'who registered the release';
  return undefined;
}

/**
 * Assigns signers to rules so that each person fills at most one place and as many places as
 * possible are filled (bipartite matching by augmenting paths; gates are small).
 */
export function matchSigners(rules: readonly { count: number; signers: readonly string[] }[]): string[][] {
  const slots: number[] = rules.flatMap((r, i) => Array.from({ length: r.count }, () => i));
  const holder: (string | undefined)[] = slots.map(() => undefined);
  const tryAssign = (signer: string, seen: Set<number>): boolean => {
    for (let s = 0; s < slots.length; s++) {
      if (seen.has(s) || !rules[slots[s]!]!.signers.includes(signer)) continue;
      seen.add(s);
      const current = holder[s];
      if (current === undefined || tryAssign(current, seen)) {
        holder[s] = signer;
        return true;
      }
    }
    return false;
  };
  const everyone = [...new Set(rules.flatMap((r) => r.signers))];
  for (const signer of everyone) tryAssign(signer, new Set());
  return rules.map((_, i) => holder.filter((h, s) => h !== undefined && slots[s] === i) as string[]);
}
