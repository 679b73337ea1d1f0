/**
 * Passkey sign-offs (WebAuthn), checked offline. A browser sign-off is a WebAuthn assertion whose
 * challenge is the SHA-256 of exactly the bytes a CLI sign-off signs (`signoffMessage`: the canonical
 * JSON of the payload), so the passkey signs the same decision an Ed25519 key would. The authenticator
 * signs `authenticatorData ‖ SHA-256(clientDataJSON)`; clientDataJSON carries the challenge and the
 * origin, authenticatorData the RP ID's hash and the user-presence and user-verification flags.
 *
 * This check is pure (node:crypto only) so that `evaluate`, the attestation verifier and `tollgate
 * verify` reach the same answer from the same bytes, without the server. The server verifies each
 * assertion with @simplewebauthn/server as well when it records it (service/passkeys.ts).
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { PasskeyKey, Signoff, SignoffPayload } from './model.js';
import { signoffMessage } from './signoff.js';

/** Flags of authenticatorData (WebAuthn §6.1): user present, user verified. */
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
/** rpIdHash (32) ‖ flags (1) ‖ signCount (4): the least authenticatorData can be. */
const MIN_AUTH_DATA = 37;

/** The challenge of a passkey sign-off: the SHA-256 of the sign-off's signed message, as bytes. */
export function signoffChallengeBytes(payload: SignoffPayload): Buffer {
  return createHash('sha256').update(signoffMessage(payload), 'utf8').digest();
}

/** The same challenge as base64url, the form clientDataJSON and WebAuthn options carry it in. */
export function signoffChallenge(payload: SignoffPayload): string {
  return signoffChallengeBytes(payload).toString('base64url');
}

/** What is wrong with a passkey sign-off, by kind, so that a caller can give each its own error code. */
export type WebauthnProblemKind = 'unknown-key' | 'malformed' | 'challenge' | 'origin' | 'rp-id' | 'user-verification' | 'signature';

export interface WebauthnProblem {
  readonly kind: WebauthnProblemKind;
  readonly message: string;
}

export interface ClientData {
  readonly type: string;
  readonly challenge: string;
  readonly origin: string;
}

/** The parsed clientDataJSON, or undefined when it is not the JSON WebAuthn defines. */
export function parseClientData(clientDataJSON: string): ClientData | undefined {
  try {
    const c = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof c.type !== 'string' || typeof c.challenge !== 'string' || typeof c.origin !== 'string') return undefined;
    return { type: c.type, challenge: c.challenge, origin: c.origin };
  } catch {
    return undefined;
  }
}

/** True when `origin` is an origin of the RP ID: its host is the RP ID or a subdomain of it (WebAuthn §5.1.4.1). */
export function originMatchesRpId(origin: string, rpId: string): boolean {
  let host: string;
  try {
    const url = new URL(origin);
    if (url.origin !== origin) return false;
    host = url.hostname;
  } catch {
    return false;
  }
  return host === rpId || host.endsWith(`.${rpId}`);
}

/** The hash a signature algorithm uses with this key, by its type (ES256/384/512, EdDSA, RS256); null for EdDSA. */
function hashFor(key: KeyObject): string | null | undefined {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return null;
    case 'rsa':
      return 'sha256';
    case 'ec':
      return { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[key.asymmetricKeyDetails?.namedCurve ?? ''];
    default:
      return undefined;
  }
}

/** Parses a passkey's public key (base64 SPKI DER); undefined when it is not one. */
export function parsePasskeyPublicKey(spki: string): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' });
    return hashFor(key) === undefined ? undefined : key;
  } catch {
    return undefined;
  }
}

/**
 * Everything a passkey sign-off must hold, in the order a sceptic checks it: the passkey is the
 * signer's, for the RP ID recorded; clientDataJSON is a `webauthn.get` whose challenge is the digest
 * of this very payload, from the recorded origin (which belongs to the RP ID); authenticatorData is
 * for that RP ID with the user present and verified; and the signature verifies with the passkey's
 * key. Undefined when all hold.
 */
export function webauthnProblem(s: Signoff, key: PasskeyKey | undefined): WebauthnProblem | undefined {
  const a = s.webauthn;
  if (s.signatureKind !== 'webauthn' || !a) return { kind: 'malformed', message: 'the sign-off carries no WebAuthn assertion' };
  if (!key || key.credentialId !== a.credentialId) {
    return { kind: 'unknown-key', message: `the passkey ${a.credentialId} is not a registered, unrevoked passkey` };
  }
  if (key.user !== s.signer) return { kind: 'unknown-key', message: `the passkey ${a.credentialId} is registered to ${key.user}, not to the signer ${s.signer}` };
  if (key.rpId !== a.rpId) return { kind: 'rp-id', message: `the sign-off is for RP ID ${a.rpId}, but the passkey was registered for ${key.rpId}` };

  const client = parseClientData(a.clientDataJSON);
  if (!client) return { kind: 'malformed', message: 'clientDataJSON is not the JSON a WebAuthn client writes' };
  if (client.type !== 'webauthn.get') return { kind: 'malformed', message: `clientDataJSON is of type ${JSON.stringify(client.type)}, not webauthn.get` };
  if (client.challenge !== signoffChallenge(s)) {
    return { kind: 'challenge', message: 'the assertion\'s challenge is not the digest of this sign-off: it was made for another sign-off (another release, gate, decision or time)' };
  }
  if (client.origin !== a.origin) return { kind: 'origin', message: `the assertion was made at origin ${client.origin}, not at ${a.origin}` };
  if (!originMatchesRpId(a.origin, a.rpId)) return { kind: 'origin', message: `the origin ${a.origin} does not belong to the RP ID ${a.rpId}` };

  const authData = Buffer.from(a.authenticatorData, 'base64url');
  if (authData.length < MIN_AUTH_DATA) return { kind: 'malformed', message: 'authenticatorData is too short' };
  const rpIdHash = createHash('sha256').update(a.rpId, 'utf8').digest();
  if (!authData.subarray(0, 32).equals(rpIdHash)) return { kind: 'rp-id', message: `authenticatorData is not for the RP ID ${a.rpId}` };
  const flags = authData[32]!;
  if ((flags & FLAG_UP) === 0 || (flags & FLAG_UV) === 0) {
    return { kind: 'user-verification', message: 'the authenticator did not verify the user (UV flag not set): a sign-off needs the passkey\'s PIN or biometric' };
  }

  const publicKey = parsePasskeyPublicKey(key.publicKey);
  if (!publicKey) return { kind: 'signature', message: `the passkey ${a.credentialId} has no usable public key` };
  const signed = Buffer.concat([authData, createHash('sha256').update(Buffer.from(a.clientDataJSON, 'base64url')).digest()]);
  let ok = false;
  try {
    ok = verify(hashFor(publicKey)!, signed, publicKey, Buffer.from(s.signature, 'base64url'));
  } catch {
    ok = false;
  }
  if (!ok) return { kind: 'signature', message: `the WebAuthn signature does not verify with the public key of passkey ${a.credentialId}` };
  return undefined;
}
