import { randomUUID } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { conditionHolds } from '../domain/cel.js';
import { isUtcInstant } from '../domain/duration.js';
import { tollgateError } from '../domain/errors.js';
import { gateDigest } from '../domain/policy-digests.js';
import { signoffPayload, signoffSignatureValid } from '../domain/signoff.js';
import {
  releaseName,
  rosterEntry,
  type EvidenceSet,
  type GateDef,
  type PasskeyKeys,
  type Policy,
  type PolicyVersion,
  type Promotion,
  type Release,
  type Signoff,
  type SignoffDecision,
  type SignoffPayload,
} from '../domain/model.js';
import { unmetPreconditions } from '../domain/preconditions.js';
import { evidenceSetDigest } from '../domain/records.js';
import type { StoreReader } from '../store/store.js';
import { change, type ChangeScope } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';
import { decisionRows, evidencePasskeys, requireVouched } from './vouch.js';

export interface SignoffRequest {
  readonly release: string;
  readonly stage: string;
  readonly role: string;
  readonly decision: SignoffDecision;
  readonly comment?: string;
}

export interface SignoffDraft {
  /** One payload per gate of the stage that asks for this role; each is signed separately. */
  readonly payloads: SignoffPayload[];
  /** The signer's key as the roster holds it, so a client can tell a mismatched local key early. */
  readonly rosterKey: string;
}

/** A time from outside, or TG_TIME_INVALID: RFC 3339 in UTC only (see isUtcInstant). */
export function requireUtcTime(at: string, what: string): void {
  if (!isUtcInstant(at)) {
    throw tollgateError('TG_TIME_INVALID', `${what} ${JSON.stringify(at)} is not a time in RFC 3339 UTC (e.g. 2026-12-24T09:00:00Z): a time without its zone is another instant in every time zone`);
  }
}

/** How far a signer's clock may be from the server's: a sign-off dated elsewhere in time is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

function requireRole(policy: Policy, user: string, role: string): void {
  const roles = rosterEntry(policy, user)!.roles;
  if (!roles.includes(role)) {
    throw tollgateError('TG_ROLE_NOT_HELD', `${user} does not hold the role "${role}" (roles: ${roles.join(', ')})`);
  }
}

/** The payloads the signer is asked to sign: read-only, nothing recorded yet. */
export async function draftSignoffs(store: StoreReader, actor: string | undefined, req: SignoffRequest, now: Date): Promise<SignoffDraft> {
  const active = await requirePolicy(store);
  const policy = active.policy;
  const signer = requireMember(policy, actor);
  requireRole(policy, signer, req.role);
  requireStage(policy, req.stage);
  const release = await requireRelease(store, req.release);
  const holds = (w: string | undefined) => conditionHolds(w, release.manifest);
  const gates = policy.gates.filter(
    (g) => g.stage === req.stage && holds(g.when) && (g.signoffs ?? []).some((r) => r.role === req.role && holds(r.when)),
  );
  if (gates.length === 0) {
    throw tollgateError('TG_SIGNOFF_NOT_REQUIRED', `no gate of ${req.stage} that applies to ${releaseName(release)} asks for a sign-off by ${req.role}`);
  }
  const { evidence, history, passkeys } = await recordOf(store, release, now);
  for (const g of gates) requirePreconditions(active, release, evidence, history, now, g, req.role, req.decision, passkeys);
  // What the signer is shown is what they sign: the evidence of the stage as it stands now.
  const evidenceDigest = evidenceSetDigest(evidence, release.digest, req.stage);
  const at = now.toISOString();
  return {
    rosterKey: rosterEntry(policy, signer)!.key,
    payloads: gates.map((g) =>
      signoffPayload({
        type: 'tollgate/signoff/v1',
        release: releaseName(release),
        releaseDigest: release.digest,
        stage: req.stage,
        gate: g.id,
        gateDigest: gateDigest(g),
        role: req.role,
        decision: req.decision,
        signer,
        at,
        ...(req.comment !== undefined ? { comment: req.comment } : {}),
        evidenceDigest,
      }),
    ),
  };
}

/**
 * The release's evidence and its subject's promotions, each row vouched for by the audit log, and
 * the passkeys its passkey sign-offs were signed with, as they stand at `now`.
 */
export async function recordOf(store: StoreReader, release: Release, now: Date): Promise<{ evidence: EvidenceSet; history: Promotion[]; passkeys: PasskeyKeys }> {
  const [evidence, history] = await Promise.all([store.evidence(release.digest), store.promotions({ subject: release.subject })]);
  await requireVouched(store, decisionRows(evidence, history));
  return { evidence, history, passkeys: await evidencePasskeys(store, evidence.signoffs, now.toISOString()) };
}

/** Whether an approval by `role` on `gate` has a precondition to check (`after` or `inStage`). */
function hasPreconditions(gate: GateDef, role: string, decision: SignoffDecision, release: Release): boolean {
  if (decision !== 'approve') return false;
  return (gate.signoffs ?? []).some(
    (r) => r.role === role && conditionHolds(r.when, release.manifest) && ((r.after?.length ?? 0) > 0 || r.inStage !== undefined),
  );
}

/**
 * An approval is given only in the state its rule asks for (`after`: gates satisfied; `inStage`: the
 * release holds a stage): TG_SIGNOFF_PRECONDITION saying what is unmet. A rejection may always be
 * given: a reviewer who sees the automated checks fail must be able to say no.
 */
function requirePreconditions(
  active: PolicyVersion,
  release: Release,
  evidence: EvidenceSet,
  history: readonly Promotion[],
  now: Date,
  gate: GateDef,
  role: string,
  decision: SignoffDecision,
  passkeys: PasskeyKeys,
): void {
  if (decision !== 'approve') return;
  const holds = (w: string | undefined) => conditionHolds(w, release.manifest);
  const ctx = { policyDigest: active.digest, policyVersion: active.version, history, passkeys };
  const unmet = (gate.signoffs ?? [])
    .filter((r) => r.role === role && holds(r.when))
    .flatMap((rule) => unmetPreconditions(active.policy, release, evidence, now, ctx, rule));
  if (unmet.length > 0) {
    throw tollgateError('TG_SIGNOFF_PRECONDITION', `a ${role} sign-off on gate ${gate.id} of ${gate.stage} is given only once ${unmet.join('; ')}`, {
      details: { gate: gate.id, role, unmet },
    });
  }
}

/**
 * Records signed sign-offs after checking, in the transaction, everything the signature vouches for:
 * the signer is the caller and holds the role, the release and gate digests are the current ones, the
 * time is now, and the signature verifies against the roster key.
 */
export async function recordSignoffs(
  deps: ServiceDeps,
  actor: string | undefined,
  signed: readonly (SignoffPayload & { signature: string })[],
): Promise<Signoff[]> {
  if (signed.length === 0) throw tollgateError('TG_USAGE', 'no sign-off to record');
  return change(deps, async (scope) => {
    const active = await requirePolicy(scope.tx);
    const by = requireMember(active.policy, actor);
    const out: Signoff[] = [];
    for (const s of signed) {
      const signoff: Signoff = { ...signoffPayload(s), id: randomUUID(), signature: s.signature };
      out.push(
        await recordSigned(scope, active, by, signoff, async () => {
          if (!signoffSignatureValid(active.policy, signoff)) {
            throw tollgateError('TG_SIGNATURE_INVALID', `the signature does not verify against the roster key of ${by}`);
          }
          return {};
        }),
      );
    }
    return out;
  });
}

/** What a signature check may hand back: a passkey's new signature counter, written with the sign-off. */
export interface SignatureChecked {
  readonly passkeyCounter?: { readonly id: string; readonly signCount: number };
}

/**
 * One signed sign-off, checked and recorded in the transaction of `scope`, whichever way it was
 * signed (an Ed25519 key, a passkey): the signer is the caller and holds the role, the release and
 * gate digests are the current ones, the time is now, `verify` accepts the signature, and the
 * preconditions hold in the state as it is now. The same sign-off sent again is the one recorded.
 */
export async function recordSigned(
  scope: ChangeScope,
  active: PolicyVersion,
  by: string,
  signoff: Signoff,
  verify: () => Promise<SignatureChecked>,
): Promise<Signoff> {
  const { tx, now, vouch } = scope;
  const policy = active.policy;
  const s = signoff;
  if (s.signer !== by) throw tollgateError('TG_NOT_ALLOWED', `${by} cannot record a sign-off in the name of ${s.signer}`);
  requireRole(policy, by, s.role);
  const release = await requireRelease(tx, s.release);
  if (release.digest !== s.releaseDigest) {
    throw tollgateError('TG_SIGNATURE_INVALID', `the sign-off names digest ${s.releaseDigest}, but ${s.release} is ${release.digest}`);
  }
  const gate = policy.gates.find((g) => g.id === s.gate && g.stage === s.stage);
  if (!gate || gateDigest(gate) !== s.gateDigest) {
    throw tollgateError('TG_SIGNOFF_NOT_REQUIRED', `gate ${s.gate} of ${s.stage} is not what was signed (the policy changed meanwhile); sign off again`);
  }
  requireUtcTime(s.at, "the sign-off's \"at\"");
  const skew = Math.abs(Date.parse(s.at) - now.getTime());
  if (!Number.isFinite(skew) || skew > MAX_CLOCK_SKEW_MS) {
    throw tollgateError('TG_SIGNATURE_INVALID', `the sign-off is dated ${s.at}, too far from the server's time ${now.toISOString()}; check your clock`);
  }
  const checked = await verify();
  // The same signed sign-off sent again (a client retrying after a lost answer) is the one already
  // recorded: Ed25519 signatures are deterministic, so the signature names the payload; a passkey
  // assertion is one set of bytes, sent again as it was.
  const recorded = await tx.findSignoff(release.digest, by, s.signature);
  if (recorded) return recorded;
  // The preconditions again, in the transaction: the state may have changed since the draft. A rule
  // without any reads no evidence, so a sign-off costs the same on a release with thousands.
  if (hasPreconditions(gate, s.role, s.decision, release)) {
    const { evidence, history, passkeys } = await recordOf(tx, release, now);
    requirePreconditions(active, release, evidence, history, now, gate, s.role, s.decision, passkeys);
  }
  await tx.insertSignoff(
    signoff,
    vouch('SignoffRecorded', actorOf(by), {
      id: signoff.id,
      release: s.release,
      releaseDigest: s.releaseDigest,
      stage: s.stage,
      gate: s.gate,
      gateDigest: s.gateDigest,
      role: s.role,
      decision: s.decision,
      ...(s.evidenceDigest !== undefined ? { evidenceDigest: s.evidenceDigest } : {}),
      signature: s.signature,
      ...(s.signatureKind === 'webauthn' && s.webauthn ? { signatureKind: s.signatureKind, passkey: s.webauthn.credentialId } : {}),
    }),
    checked.passkeyCounter,
  );
  return signoff;
}
