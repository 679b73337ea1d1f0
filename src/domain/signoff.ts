/**
 * Sign-offs are signed by the signer's own Ed25519 key over the canonical JSON of exactly the fields
 * that make the decision (release digest, gate digest, role, decision, time …), so a row written into
 * the database by hand, or any field changed afterwards, cannot pass as an approval (DESIGN.md rule 3).
 */
import { canonicalJson } from './digest.js';
import { signBytes, tryParsePublicKey, verifyBytes } from './keys.js';
import type { KeyObject } from 'node:crypto';
import { rosterEntry, type PasskeyKeys, type Policy, type Signoff, type SignoffPayload } from './model.js';
import { webauthnProblem } from './webauthn.js';

/** The exact fields a signature covers; anything else on the row is not trusted. */
export function signoffPayload(s: SignoffPayload): SignoffPayload {
  return {
    type: 'tollgate/signoff/v1',
    release: s.release,
    releaseDigest: s.releaseDigest,
    stage: s.stage,
    gate: s.gate,
    gateDigest: s.gateDigest,
    role: s.role,
    decision: s.decision,
    signer: s.signer,
    at: s.at,
    ...(s.comment !== undefined ? { comment: s.comment } : {}),
    ...(s.evidenceDigest !== undefined ? { evidenceDigest: s.evidenceDigest } : {}),
  };
}

export function signoffMessage(s: SignoffPayload): string {
  return canonicalJson(signoffPayload(s));
}

export function signSignoff(payload: SignoffPayload, privateKey: KeyObject): string {
  return signBytes(privateKey, signoffMessage(payload));
}

/**
 * True only when the signature verifies: an Ed25519 sign-off against the key the policy's roster
 * holds for the signer; a passkey sign-off (`webauthn`) against the signer's registered passkey in
 * `passkeys` (see webauthn.ts), which must be given for such a sign-off to count at all.
 */
export function signoffSignatureValid(policy: Policy, s: Signoff, passkeys?: PasskeyKeys): boolean {
  if (s.signatureKind === 'webauthn') return webauthnProblem(s, s.webauthn && passkeys?.get(s.webauthn.credentialId)) === undefined;
  if (s.signatureKind !== undefined && s.signatureKind !== 'ed25519') return false;
  const entry = rosterEntry(policy, s.signer);
  if (!entry) return false;
  const key = tryParsePublicKey(entry.key);
  if (!key) return false;
  return verifyBytes(key, signoffMessage(s), s.signature);
}
