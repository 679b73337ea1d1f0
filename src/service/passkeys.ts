/**
 * Passkeys (WebAuthn) and the sign-offs signed with them (docs/passkeys.md). A reviewer registers a
 * passkey on the review desk: the credential's public key is bound to their roster name, with a
 * `PasskeyRegistered` audit event in the same transaction (an admin or the owner can revoke it,
 * `PasskeyRevoked`). Signing off in the browser is a WebAuthn assertion whose challenge is the
 * SHA-256 of exactly what a CLI sign-off signs (`signoffMessage`), with user verification; it is
 * checked and recorded through the same path as a CLI sign-off (`recordSigned`), so it is authorized,
 * refused and counted the same way.
 *
 * Registration and assertions are verified with @simplewebauthn/server, imported when first needed
 * (the CLI's commands never load it). Each assertion is also checked by the pure check every later
 * decision and `tollgate verify` run (domain/webauthn.ts), which tells a wrong challenge from a wrong
 * origin from a missing user verification, so each is refused with its own code.
 */
import { createHash, createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { actorOf } from '../audit/events.js';
import { DIGEST_PATTERN } from '../domain/digest.js';
import { tollgateError, type ErrorCode } from '../domain/errors.js';
import { ADMIN_ROLE, rosterEntry, type Signoff, type SignoffDecision, type SignoffPayload } from '../domain/model.js';
import { gateDigest } from '../domain/policy-digests.js';
import { evidenceSetDigest } from '../domain/records.js';
import { signoffPayload } from '../domain/signoff.js';
import { originMatchesRpId, signoffChallenge, signoffChallengeBytes, webauthnProblem, type WebauthnProblemKind } from '../domain/webauthn.js';
import type { Passkey, StoreReader } from '../store/store.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease } from './lookup.js';
import { draftSignoffs, recordOf, recordSigned, requireUtcTime } from './signoff.js';
import { requireVouched } from './vouch.js';

export type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON };

/**
 * The relying party: this server as browsers see it. `id` is the RP ID (the public URL's host name;
 * a passkey works only there and on its subdomains), `origin` the public URL's origin, `name` what
 * the browser shows when registering.
 */
export interface RelyingParty {
  readonly id: string;
  readonly name: string;
  readonly origin: string;
}

/** The relying party of a public URL (`TOLLGATE_PUBLIC_URL`): RP ID its host name, origin its origin. */
export function relyingPartyOf(publicUrl: string, name = 'Tollgate'): RelyingParty {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw tollgateError('TG_USAGE', `the public URL ${JSON.stringify(publicUrl)} is not a URL (e.g. https://tollgate.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw tollgateError('TG_USAGE', `the public URL ${publicUrl} must be http:// or https://`);
  // IPv6 hosts come back bracketed; WebAuthn RP IDs are domains (browsers refuse IP addresses).
  return Object.freeze({ id: url.hostname.replace(/^\[|\]$/g, ''), name, origin: url.origin });
}

/** A passkey as listed: never more than what identifies it, whose it is and its state. */
export interface PasskeyInfo {
  readonly id: string;
  readonly user: string;
  readonly algorithm: number;
  readonly transports: readonly string[];
  readonly rpId: string;
  readonly origin: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
}

function passkeyInfo(p: Passkey): PasskeyInfo {
  return {
    id: p.id,
    user: p.user,
    algorithm: p.algorithm,
    transports: p.transports,
    rpId: p.rpId,
    origin: p.origin,
    createdAt: p.createdAt,
    createdBy: p.createdBy,
    revokedAt: p.revokedAt ?? null,
    revokedBy: p.revokedBy ?? null,
  };
}

/** Signature algorithms a passkey may use: those node:crypto verifies offline (domain/webauthn.ts). */
const SUPPORTED_ALGORITHMS = [-8, -7, -35, -36, -257];

/** How long a browser may take for a WebAuthn ceremony, and how old a passkey sign-off's draft may be. */
const CEREMONY_TIMEOUT_MS = 5 * 60 * 1000;

/** A stable WebAuthn user handle for a roster name: a second registration on one authenticator replaces the first. */
function userHandle(user: string): Uint8Array {
  return createHash('sha256').update(`tollgate/user/${user}`, 'utf8').digest();
}

const webauthn = () => import('@simplewebauthn/server');

/** The user's passkeys that are not revoked, each vouched for by the audit log. */
async function livePasskeys(store: StoreReader, user: string): Promise<Passkey[]> {
  const live = (await store.listPasskeys({ user })).filter((p) => p.revokedAt === undefined);
  await requireVouched(store, live.map((p) => ({ table: 'passkeys' as const, key: p.id })));
  return live;
}

// ------------------------------------------------------------------------------------ registration

/** WebAuthn registration options for a roster member; the caller keeps `challenge` for `registerPasskey`. */
export async function passkeyRegistrationOptions(
  deps: ServiceDeps,
  req: { readonly user: string; readonly rp: Pick<RelyingParty, 'id' | 'name'> },
): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: string }> {
  const user = requireMember((await requirePolicy(deps.store)).policy, req.user);
  const existing = await livePasskeys(deps.store, user);
  const { generateRegistrationOptions } = await webauthn();
  const options = await generateRegistrationOptions({
    rpName: req.rp.name,
    rpID: req.rp.id,
    userName: user,
    userID: userHandle(user) as Uint8Array<ArrayBuffer>,
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: [...p.transports] })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
  return { options, challenge: options.challenge };
}

/**
 * Verifies a registration (the challenge of `passkeyRegistrationOptions`, this relying party, user
 * verification) and binds the credential to the roster user, with its audit event.
 */
export async function registerPasskey(
  deps: ServiceDeps,
  req: { readonly user: string; readonly response: RegistrationResponseJSON; readonly expectedChallenge: string; readonly rp: Pick<RelyingParty, 'id' | 'origin'> },
): Promise<{ credentialId: string }> {
  const { verifyRegistrationResponse } = await webauthn();
  let info;
  try {
    const verified = await verifyRegistrationResponse({
      response: req.response,
      expectedChallenge: req.expectedChallenge,
      expectedOrigin: req.rp.origin,
      expectedRPID: req.rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    if (!verified.verified) throw new Error('the registration did not verify');
    info = verified.registrationInfo;
  } catch (err) {
    throw tollgateError('TG_PASSKEY_INVALID', `the passkey registration does not verify: ${(err as Error).message}`);
  }
  const { credential } = info;
  const { publicKey, algorithm } = await spkiOfCose(credential.publicKey);
  return change(deps, async ({ tx, at, vouch }) => {
    const user = requireMember((await requirePolicy(tx)).policy, req.user);
    if (await tx.findPasskey(credential.id)) throw tollgateError('TG_PASSKEY_INVALID', `the passkey ${credential.id} is already registered`);
    const passkey: Passkey = {
      id: credential.id,
      user,
      publicKey,
      coseKey: Buffer.from(credential.publicKey).toString('base64url'),
      algorithm,
      signCount: credential.counter,
      transports: [...(credential.transports ?? [])],
      rpId: req.rp.id,
      origin: req.rp.origin,
      createdAt: at,
      createdBy: user,
    };
    await tx.insertPasskey(passkey, vouch('PasskeyRegistered', actorOf(user), { id: passkey.id, user, publicKey, algorithm, rpId: passkey.rpId, origin: passkey.origin }));
    return { credentialId: passkey.id };
  });
}

/**
 * The SubjectPublicKeyInfo (base64 DER) of a COSE public key, through a JWK: what node:crypto and so
 * `tollgate verify` check signatures with, without a CBOR decoder.
 */
async function spkiOfCose(cose: Uint8Array): Promise<{ publicKey: string; algorithm: number }> {
  const { decodeCredentialPublicKey, cose: c } = await import('@simplewebauthn/server/helpers');
  const key = decodeCredentialPublicKey(cose as Uint8Array<ArrayBuffer>);
  const algorithm = key.get(c.COSEKEYS.alg);
  const b64 = (v: Uint8Array | undefined) => (v ? Buffer.from(v).toString('base64url') : undefined);
  let jwk: JsonWebKey;
  if (c.isCOSEPublicKeyEC2(key)) {
    const crv = { [c.COSECRV.P256]: 'P-256', [c.COSECRV.P384]: 'P-384', [c.COSECRV.P521]: 'P-521' }[key.get(c.COSEKEYS.crv) ?? 0];
    jwk = { kty: 'EC', crv, x: b64(key.get(c.COSEKEYS.x)), y: b64(key.get(c.COSEKEYS.y)) };
  } else if (c.isCOSEPublicKeyOKP(key) && key.get(c.COSEKEYS.crv) === c.COSECRV.ED25519) {
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64(key.get(c.COSEKEYS.x)) };
  } else if (c.isCOSEPublicKeyRSA(key)) {
    jwk = { kty: 'RSA', n: b64(key.get(c.COSEKEYS.n)), e: b64(key.get(c.COSEKEYS.e)) };
  } else {
    throw tollgateError('TG_PASSKEY_INVALID', 'the passkey uses a key type Tollgate cannot verify offline (supported: ES256/384/512, EdDSA Ed25519, RS256)');
  }
  if (algorithm === undefined || !SUPPORTED_ALGORITHMS.includes(algorithm)) {
    throw tollgateError('TG_PASSKEY_INVALID', `the passkey's algorithm ${String(algorithm)} is not one Tollgate verifies offline (${SUPPORTED_ALGORITHMS.join(', ')})`);
  }
  try {
    return { publicKey: createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }).toString('base64'), algorithm };
  } catch (err) {
    throw tollgateError('TG_PASSKEY_INVALID', `the passkey's public key is not valid: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------------------ listing and revoking

/** Passkeys, revoked ones included, oldest first; of one user when named. */
export async function listPasskeys(deps: ServiceDeps, req: { readonly user?: string } = {}): Promise<PasskeyInfo[]> {
  return (await deps.store.listPasskeys(req.user !== undefined ? { user: req.user } : {})).map(passkeyInfo);
}

/**
 * The passkeys `actor` may see: anyone's for an admin (or the home's owner, unnamed), their own for
 * everyone else. Over the API the server names the actor.
 */
export async function listPasskeysAs(deps: ServiceDeps, actor: string | undefined, user?: string): Promise<PasskeyInfo[]> {
  if (actor !== undefined) {
    const policy = (await requirePolicy(deps.store)).policy;
    requireMember(policy, actor);
    const admin = rosterEntry(policy, actor)!.roles.includes(ADMIN_ROLE);
    if (!admin && user !== undefined && user !== actor) {
      throw tollgateError('TG_NOT_ALLOWED', `${actor} may list only their own passkeys: listing ${user}'s needs the "${ADMIN_ROLE}" role`);
    }
    if (!admin) return listPasskeys(deps, { user: actor });
  }
  return listPasskeys(deps, user !== undefined ? { user } : {});
}

/**
 * Revokes a passkey by its credential id: its sign-offs stop counting from now on. Allowed to an
 * admin and to the passkey's owner (and on the local home without `--as`, to whoever holds it).
 * Revoking a revoked passkey again changes nothing.
 */
export async function revokePasskey(deps: ServiceDeps, req: { readonly actor: string | undefined; readonly credentialId: string }): Promise<PasskeyInfo> {
  const { actor, credentialId } = req;
  return change(deps, async ({ tx, at, vouch }) => {
    const before = await tx.findPasskey(credentialId);
    if (!before) throw tollgateError('TG_PASSKEY_NOT_FOUND', `no passkey has the credential id "${credentialId}"`);
    if (actor !== undefined) {
      const policy = (await requirePolicy(tx)).policy;
      requireMember(policy, actor);
      if (actor !== before.user && !rosterEntry(policy, actor)!.roles.includes(ADMIN_ROLE)) {
        throw tollgateError('TG_NOT_ALLOWED', `${actor} may not revoke ${before.user}'s passkey: that needs the "${ADMIN_ROLE}" role, or to be its owner`);
      }
    }
    const by = actor ?? 'local';
    await tx.revokePasskey(credentialId, at, by, vouch('PasskeyRevoked', actorOf(actor), { id: credentialId, user: before.user }));
    return passkeyInfo(before.revokedAt !== undefined ? before : { ...before, revokedAt: at, revokedBy: by });
  });
}

// --------------------------------------------------------------------------------------- sign-offs

export interface PasskeySignoffRequest {
  readonly release: string;
  readonly stage: string;
  readonly role: string;
  readonly decision: SignoffDecision;
  readonly comment?: string;
  readonly signer: string;
  /** The gate, when more than one gate of the stage asks this role for a sign-off (one assertion signs one payload). */
  readonly gate?: string;
  readonly rp: Pick<RelyingParty, 'id'>;
}

/**
 * WebAuthn request options for a sign-off: `draft` is exactly the payload a CLI sign-off would sign
 * (the same checks of role, gate and preconditions), and the challenge is the SHA-256 of its signed
 * message; only the signer's registered, unrevoked passkeys for this RP are allowed, with user
 * verification required. Nothing is recorded.
 */
export async function passkeySignoffOptions(
  deps: ServiceDeps,
  req: PasskeySignoffRequest,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; draft: SignoffPayload }> {
  const { payloads } = await draftSignoffs(deps.store, req.signer, {
    release: req.release,
    stage: req.stage,
    role: req.role,
    decision: req.decision,
    ...(req.comment !== undefined ? { comment: req.comment } : {}),
  }, deps.now());
  const draft = req.gate !== undefined ? payloads.find((p) => p.gate === req.gate) : payloads.length === 1 ? payloads[0] : undefined;
  if (!draft) {
    throw tollgateError(
      req.gate !== undefined ? 'TG_SIGNOFF_NOT_REQUIRED' : 'TG_USAGE',
      req.gate !== undefined
        ? `gate ${req.gate} of ${req.stage} does not ask ${req.role} for a sign-off on ${req.release} (gates that do: ${payloads.map((p) => p.gate).join(', ')})`
        : `more than one gate of ${req.stage} asks ${req.role} for a sign-off (${payloads.map((p) => p.gate).join(', ')}): name the gate; a passkey signs one sign-off at a time`,
    );
  }
  const keys = (await livePasskeys(deps.store, req.signer)).filter((p) => p.rpId === req.rp.id);
  if (keys.length === 0) {
    throw tollgateError('TG_PASSKEY_NOT_FOUND', `${req.signer} has no registered passkey for ${req.rp.id}: register one first ("Register a passkey")`);
  }
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: req.rp.id,
    challenge: signoffChallengeBytes(draft) as Uint8Array<ArrayBuffer>,
    allowCredentials: keys.map((p) => ({ id: p.id, transports: [...p.transports] })),
    userVerification: 'required',
    timeout: CEREMONY_TIMEOUT_MS,
  });
  return { options, draft };
}

const PROBLEM_CODES: Record<WebauthnProblemKind, ErrorCode> = {
  'unknown-key': 'TG_PASSKEY_UNKNOWN',
  malformed: 'TG_PASSKEY_ASSERTION_INVALID',
  challenge: 'TG_PASSKEY_CHALLENGE_MISMATCH',
  origin: 'TG_PASSKEY_ORIGIN_MISMATCH',
  'rp-id': 'TG_PASSKEY_ORIGIN_MISMATCH',
  'user-verification': 'TG_PASSKEY_USER_NOT_VERIFIED',
  signature: 'TG_PASSKEY_ASSERTION_INVALID',
};

/** The draft as sent back by a browser: exactly a sign-off payload, or TG_REQUEST_INVALID. */
function parseDraft(draft: unknown): SignoffPayload {
  const d = (typeof draft === 'object' && draft !== null ? draft : {}) as Record<string, unknown>;
  const text = (k: string) => typeof d[k] === 'string' && (d[k] as string).length > 0;
  const ok =
    d.type === 'tollgate/signoff/v1' &&
    ['release', 'stage', 'gate', 'role', 'signer', 'at'].every(text) &&
    typeof d.releaseDigest === 'string' && DIGEST_PATTERN.test(d.releaseDigest) &&
    typeof d.gateDigest === 'string' && DIGEST_PATTERN.test(d.gateDigest) &&
    (d.decision === 'approve' || d.decision === 'reject') &&
    (d.comment === undefined || typeof d.comment === 'string') &&
    (d.evidenceDigest === undefined || (typeof d.evidenceDigest === 'string' && DIGEST_PATTERN.test(d.evidenceDigest)));
  if (!ok) throw tollgateError('TG_REQUEST_INVALID', 'the sign-off draft is not a sign-off payload as passkeySignoffOptions gave it');
  return signoffPayload(d as unknown as SignoffPayload);
}

function parseAssertion(response: unknown): AuthenticationResponseJSON {
  const r = (typeof response === 'object' && response !== null ? response : {}) as Record<string, unknown>;
  const inner = (typeof r.response === 'object' && r.response !== null ? r.response : {}) as Record<string, unknown>;
  const b64url = (v: unknown) => typeof v === 'string' && v.length > 0 && /^[A-Za-z0-9_-]+$/.test(v);
  if (!b64url(r.id) || r.type !== 'public-key' || !b64url(inner.authenticatorData) || !b64url(inner.clientDataJSON) || !b64url(inner.signature)) {
    throw tollgateError('TG_PASSKEY_ASSERTION_INVALID', 'the passkey response is not a WebAuthn assertion (id, type public-key, response.authenticatorData, clientDataJSON, signature, base64url)');
  }
  return response as AuthenticationResponseJSON;
}

/**
 * Records a passkey sign-off: the assertion must be by a registered, unrevoked passkey of the signer,
 * for this relying party, with the user verified, over the challenge of exactly `draft`; the draft must
 * still be current (the release, the gate definition and the evidence it names, signed less than five
 * minutes ago), else TG_SIGNOFF_STALE. Then it takes the CLI sign-off's own path (`recordSigned`):
 * the same authorization, role check, preconditions and audit event. `actor`, when given (the
 * signed-in user), must be the signer.
 */
export async function recordPasskeySignoff(
  deps: ServiceDeps,
  req: { readonly draft: SignoffPayload; readonly response: AuthenticationResponseJSON; readonly rp: Pick<RelyingParty, 'id' | 'origin'>; readonly actor?: string },
): Promise<Signoff[]> {
  const draft = parseDraft(req.draft);
  const response = parseAssertion(req.response);
  if (req.actor !== undefined && req.actor !== draft.signer) {
    throw tollgateError('TG_NOT_ALLOWED', `${req.actor} cannot record a sign-off in the name of ${draft.signer}`);
  }
  const { verifyAuthenticationResponse } = await webauthn();
  return change(deps, async (scope) => {
    const { tx, now } = scope;
    const active = await requirePolicy(tx);
    const by = requireMember(active.policy, draft.signer);

    const passkey = await tx.findPasskey(response.id);
    if (!passkey || passkey.revokedAt !== undefined || passkey.user !== by) {
      throw tollgateError(
        'TG_PASSKEY_UNKNOWN',
        !passkey
          ? `the passkey ${response.id} is not registered`
          : passkey.revokedAt !== undefined
            ? `the passkey ${response.id} was revoked at ${passkey.revokedAt}`
            : `the passkey ${response.id} is not ${by}'s`,
      );
    }
    await requireVouched(tx, [{ table: 'passkeys', key: passkey.id }]);
    const signoff: Signoff = {
      ...draft,
      id: randomUUID(),
      signature: response.response.signature,
      signatureKind: 'webauthn',
      webauthn: {
        credentialId: passkey.id,
        authenticatorData: response.response.authenticatorData,
        clientDataJSON: response.response.clientDataJSON,
        rpId: req.rp.id,
        origin: req.rp.origin,
      },
    };
    // The pure check first: it names what is wrong (challenge, origin, user verification …).
    if (!originMatchesRpId(req.rp.origin, req.rp.id)) throw tollgateError('TG_PASSKEY_ORIGIN_MISMATCH', `the server's origin ${req.rp.origin} does not belong to its RP ID ${req.rp.id}`);
    const problem = webauthnProblem(signoff, { credentialId: passkey.id, user: passkey.user, publicKey: passkey.publicKey, rpId: passkey.rpId });
    if (problem) throw tollgateError(PROBLEM_CODES[problem.kind], problem.message);
    let newCounter: number;
    try {
      const verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: signoffChallenge(draft),
        expectedOrigin: req.rp.origin,
        expectedRPID: req.rp.id,
        credential: { id: passkey.id, publicKey: Buffer.from(passkey.coseKey, 'base64url') as Uint8Array<ArrayBuffer>, counter: passkey.signCount, transports: [...passkey.transports] as never },
        requireUserVerification: true,
      });
      if (!verified.verified) throw new Error('the assertion did not verify');
      newCounter = verified.authenticationInfo.newCounter;
    } catch (err) {
      throw tollgateError('TG_PASSKEY_ASSERTION_INVALID', `the passkey assertion does not verify: ${(err as Error).message}`);
    }

    // Is the draft still what the reviewer would be shown now?
    requireUtcTime(draft.at, "the sign-off's \"at\"");
    const age = now.getTime() - Date.parse(draft.at);
    if (!Number.isFinite(age) || age > CEREMONY_TIMEOUT_MS || age < -CEREMONY_TIMEOUT_MS) {
      throw tollgateError('TG_SIGNOFF_STALE', `the sign-off was drafted at ${draft.at}, more than 5 minutes from the server's time ${now.toISOString()}: sign off again`);
    }
    const release = await requireRelease(tx, draft.release);
    if (release.digest !== draft.releaseDigest) throw tollgateError('TG_SIGNOFF_STALE', `the draft names digest ${draft.releaseDigest}, but ${draft.release} is ${release.digest}`);
    const gate = active.policy.gates.find((g) => g.id === draft.gate && g.stage === draft.stage);
    if (!gate || gateDigest(gate) !== draft.gateDigest) throw tollgateError('TG_SIGNOFF_STALE', `gate ${draft.gate} of ${draft.stage} changed since the sign-off was drafted (a new policy): sign off again`);
    const { evidence } = await recordOf(tx, release, now);
    if (draft.evidenceDigest !== undefined && evidenceSetDigest(evidence, release.digest, draft.stage) !== draft.evidenceDigest) {
      throw tollgateError('TG_SIGNOFF_STALE', `evidence was recorded for ${draft.stage} since the sign-off was drafted: review it and sign off again`);
    }

    const recorded = await recordSigned(scope, active, by, signoff, async () =>
      newCounter !== passkey.signCount ? { passkeyCounter: { id: passkey.id, signCount: newCounter } } : {},
    );
    return [recorded];
  });
}
