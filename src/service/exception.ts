/**
 * Waivers and break-glass sign-offs (domain/exception.ts), in two steps like a sign-off: the payload
 * is drafted here, signed on the signer's machine with their own key, and recorded after everything
 * the signature vouches for is checked again in the transaction.
 */
import { randomUUID } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { conditionHolds } from '../domain/cel.js';
import { isValidDuration, parseDuration } from '../domain/duration.js';
import { tollgateError } from '../domain/errors.js';
import { exceptionPayload, exceptionSignatureValid, MAX_WAIVER_MS } from '../domain/exception.js';
import { gateDigest } from '../domain/policy-digests.js';
import { releaseName, type ExceptionKind, type ExceptionPayload, type ExceptionSignoff, type GateDef, type Policy, type Release } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';
import { rosterEntry } from '../domain/model.js';

export interface ExceptionRequest {
  readonly release: string;
  readonly stage: string;
  readonly role: string;
  readonly kind: ExceptionKind;
  readonly reason: string;
  /** Waiver: `GATE/REQUIREMENT` (a checklist item's id, `signoff:ROLE`, a validation's id). */
  readonly waive?: string;
  /** Waiver: how long it counts from now (`7d`, `72h`), at most 90 days. */
  readonly expires?: string;
}

export interface ExceptionDraft {
  readonly payload: ExceptionPayload;
  /** The signer's key as the roster holds it, so a client can tell a mismatched local key early. */
  readonly rosterKey: string;
}

/** How far a signer's clock may be from the server's (as for sign-offs). */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The payload the signer is asked to sign: read-only, nothing recorded yet. */
export async function draftException(store: StoreReader, actor: string | undefined, req: ExceptionRequest, now: Date): Promise<ExceptionDraft> {
  if (req.reason.trim() === '') throw tollgateError('TG_USAGE', `a ${req.kind === 'waiver' ? 'waiver' : 'break-glass sign-off'} needs a reason: --reason "…"`);
  const active = await requirePolicy(store);
  const policy = active.policy;
  const signer = requireMember(policy, actor);
  requireStage(policy, req.stage);
  const release = await requireRelease(store, req.release);
  const at = now.toISOString();
  const base = { type: 'tollgate/exception/v1' as const, release: releaseName(release), releaseDigest: release.digest, stage: req.stage, role: req.role, signer, at, reason: req.reason };
  if (req.kind === 'break-glass') {
    if (req.waive !== undefined || req.expires !== undefined) throw tollgateError('TG_USAGE', '--break-glass takes no --waive or --expires: it is for one promotion');
    const payload = exceptionPayload({ ...base, kind: 'break-glass' });
    requireBreakGlassRole(policy, release, payload);
    return { payload, rosterKey: rosterEntry(policy, signer)!.key };
  }
  if (req.waive === undefined) throw tollgateError('TG_USAGE', 'a waiver names the requirement it waives: --waive GATE/REQUIREMENT');
  if (req.expires === undefined) throw tollgateError('TG_USAGE', 'a waiver needs an expiry: --expires DURATION (e.g. 7d, at most 90d)');
  if (!isValidDuration(req.expires)) throw tollgateError('TG_USAGE', `--expires "${req.expires}" is not a duration: write a number and a unit, e.g. 72h, 7d or 30d`);
  const ms = parseDuration(req.expires);
  if (ms <= 0 || ms > MAX_WAIVER_MS) throw tollgateError('TG_USAGE', `a waiver runs for more than nothing and at most 90d, not ${req.expires}`);
  const slash = req.waive.indexOf('/');
  const gateId = slash > 0 ? req.waive.slice(0, slash) : '';
  const requirement = slash > 0 ? req.waive.slice(slash + 1) : '';
  if (gateId === '' || requirement === '') throw tollgateError('TG_USAGE', `--waive "${req.waive}" is not GATE/REQUIREMENT (e.g. approvals/signoff:security, automated/vuln-scan)`);
  const gate = gateOf(policy, release, req.stage, gateId);
  const payload = exceptionPayload({ ...base, kind: 'waiver', gate: gate.id, gateDigest: gateDigest(gate), requirement, expiresAt: new Date(now.getTime() + ms).toISOString() });
  requireWaiverRole(policy, release, gate, payload);
  return { payload, rosterKey: rosterEntry(policy, signer)!.key };
}

/**
 * Records a signed waiver or break-glass sign-off after checking, in the transaction, what the
 * signature vouches for: the signer is the caller and holds the role the policy names for it, the
 * release and gate digests are the current ones, the time is now, the expiry within bounds, and the
 * signature verifies against the roster key. The same signed payload sent again is the one recorded.
 */
export async function recordException(deps: ServiceDeps, actor: string | undefined, signed: ExceptionPayload & { signature: string }): Promise<ExceptionSignoff> {
  return change(deps, async ({ tx, now, vouch }) => {
    const active = await requirePolicy(tx);
    const policy = active.policy;
    const by = requireMember(policy, actor);
    const e: ExceptionSignoff = { ...exceptionPayload(signed), id: randomUUID(), signature: signed.signature };
    if (e.signer !== by) throw tollgateError('TG_NOT_ALLOWED', `${by} cannot record a sign-off in the name of ${e.signer}`);
    if (e.reason.trim() === '') throw tollgateError('TG_USAGE', 'an exception needs a reason');
    requireStage(policy, e.stage);
    const release = await requireRelease(tx, e.release);
    if (release.digest !== e.releaseDigest) throw tollgateError('TG_SIGNATURE_INVALID', `the sign-off names digest ${e.releaseDigest}, but ${e.release} is ${release.digest}`);
    const skew = Math.abs(Date.parse(e.at) - now.getTime());
    if (!Number.isFinite(skew) || skew > MAX_CLOCK_SKEW_MS) {
      throw tollgateError('TG_SIGNATURE_INVALID', `the sign-off is dated ${e.at}, too far from the server's time ${now.toISOString()}; check your clock`);
    }
    if (e.kind === 'break-glass') {
      if (e.gate !== undefined || e.gateDigest !== undefined || e.requirement !== undefined || e.expiresAt !== undefined) throw tollgateError('TG_USAGE', 'a break-glass sign-off names no gate, requirement or expiry');
      requireBreakGlassRole(policy, release, e);
    } else {
      const gate = gateOf(policy, release, e.stage, e.gate ?? '');
      if (gateDigest(gate) !== e.gateDigest) throw tollgateError('TG_SIGNOFF_NOT_REQUIRED', `gate ${gate.id} of ${e.stage} is not what was signed (the policy changed meanwhile); sign again`);
      const runs = Date.parse(e.expiresAt ?? '') - Date.parse(e.at);
      if (!(runs > 0 && runs <= MAX_WAIVER_MS)) throw tollgateError('TG_USAGE', `a waiver runs for more than nothing and at most 90d, not until ${e.expiresAt ?? 'never'}`);
      requireWaiverRole(policy, release, gate, e);
    }
    if (!exceptionSignatureValid(policy, e)) throw tollgateError('TG_SIGNATURE_INVALID', `the signature does not verify against the roster key of ${by}`);
    const already = (await tx.evidence(release.digest)).exceptions?.find((x) => x.signature === e.signature && x.signer === by);
    if (already) return already;
    await tx.insertException(
      e,
      vouch(e.kind === 'waiver' ? 'RequirementWaived' : 'BreakGlassSignedOff', actorOf(by), {
        id: e.id,
        release: e.release,
        releaseDigest: e.releaseDigest,
        stage: e.stage,
        role: e.role,
        reason: e.reason,
        ...(e.kind === 'waiver' ? { gate: e.gate, gateDigest: e.gateDigest, requirement: e.requirement, expiresAt: e.expiresAt } : {}),
        signature: e.signature,
      }),
    );
    return e;
  });
}

function requireRole(policy: Policy, user: string, role: string): void {
  const roles = rosterEntry(policy, user)!.roles;
  if (!roles.includes(role)) throw tollgateError('TG_ROLE_NOT_HELD', `${user} does not hold the role "${role}" (roles: ${roles.join(', ')})`);
}

function holders(policy: Policy, roles: readonly string[]): string[] {
  return Object.entries(policy.roster)
    .filter(([, e]) => e.roles.some((r) => roles.includes(r)))
    .map(([u]) => u)
    .sort();
}

/** Only the stage's break-glass role signs a break-glass, and never the release owner. */
function requireBreakGlassRole(policy: Policy, release: Release, e: ExceptionPayload): void {
  const role = policy.stages.find((s) => s.name === e.stage)?.breakGlass?.role;
  if (role === undefined) {
    throw tollgateError('TG_NOT_ALLOWED', `${e.stage} has no break-glass: the policy names no role for it (breakGlass: { role: ROLE } on the stage)`, {
      hint: 'Promote when the gates are met, or have the policy give the stage a breakGlass role.',
    });
  }
  if (e.role !== role) {
    throw tollgateError('TG_NOT_ALLOWED', `a break-glass into ${e.stage} is signed by the role "${role}" (the stage's breakGlass), not "${e.role}"`, {
      hint: `Ask ${holders(policy, [role]).join(', ') || `someone with ${role}`}.`,
      details: { stage: e.stage, roles: [role] },
    });
  }
  requireRole(policy, e.signer, role);
  if (e.signer === release.manifest.owner) throw tollgateError('TG_NOT_ALLOWED', `${e.signer} owns ${e.release}: a break-glass is signed by someone else than the release owner`);
}

/** Only a role the gate's `waivers` names waives its requirements, and never the release owner. */
function requireWaiverRole(policy: Policy, release: Release, gate: GateDef, e: ExceptionPayload): void {
  const roles = gate.waivers ?? [];
  if (!roles.includes(e.role)) {
    throw tollgateError(
      'TG_NOT_ALLOWED',
      roles.length === 0
        ? `gate ${gate.id} allows no waivers (the policy names no "waivers" roles for it)`
        : `${e.role} may not waive a requirement of gate ${gate.id}: that needs the role ${roles.map((r) => `"${r}"`).join(' or ')} (the gate's "waivers")`,
      { hint: roles.length > 0 ? `Ask ${holders(policy, roles).join(', ')}.` : 'Meet the requirement, or have the policy name who may waive it.', details: { gate: gate.id, roles } },
    );
  }
  requireRole(policy, e.signer, e.role);
  if (e.signer === release.manifest.owner) throw tollgateError('TG_NOT_ALLOWED', `${e.signer} owns ${e.release}: a waiver is accepted by someone else than the release owner`);
  const ids = requirementIds(gate, release);
  if (!ids.includes(e.requirement ?? '')) {
    throw tollgateError('TG_ITEM_UNKNOWN', `gate ${gate.id} has no requirement "${e.requirement}" that applies to ${e.release}; requirements: ${ids.join(', ') || 'none'}`);
  }
}

/** The gate of the stage that applies to the release, by id. */
function gateOf(policy: Policy, release: Release, stage: string, id: string): GateDef {
  const gate = policy.gates.find((g) => g.stage === stage && g.id === id);
  if (!gate || !conditionHolds(gate.when, release.manifest)) {
    const known = policy.gates.filter((g) => g.stage === stage && conditionHolds(g.when, release.manifest)).map((g) => g.id);
    throw tollgateError('TG_ITEM_UNKNOWN', `no gate "${id}" of ${stage} applies to ${releaseName(release)}; gates: ${known.join(', ') || 'none'}`);
  }
  return gate;
}

/** The ids a decision gives the gate's requirements: checklist items, `signoff:ROLE`, validations. */
function requirementIds(gate: GateDef, release: Release): string[] {
  const holds = (w: string | undefined) => conditionHolds(w, release.manifest);
  return [
    ...(gate.checklist ?? []).filter((i) => holds(i.when)).map((i) => i.id),
    ...(gate.signoffs ?? []).filter((r) => holds(r.when)).map((r) => `signoff:${r.role}`),
    ...(gate.validations ?? []).filter((v) => holds(v.when)).map((v) => v.id),
  ];
}

