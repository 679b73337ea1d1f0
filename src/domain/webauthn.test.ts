import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PasskeyKey, Signoff, SignoffPayload } from './model.js';
import { signoffMessage } from './signoff.js';
import { originMatchesRpId, signoffChallenge, webauthnProblem } from './webauthn.js';
import { evaluate } from './evaluate.js';
import type { Policy, Release } from './model.js';

const RP_ID = 'tollgate.example.com';
const ORIGIN = 'https://tollgate.example.com';

const PAYLOAD: SignoffPayload = {
  type: 'tollgate/signoff/v1',
  release: 'fraud-detector@2.4.0',
  releaseDigest: `sha256:${'a'.repeat(64)}`,
  stage: 'production',
  gate: 'approvals',
  gateDigest: `sha256:${'b'.repeat(64)}`,
  role: 'security',
  decision: 'approve',
  signer: 'carol',
  at: '2026-11-30T12:00:00.000Z',
  evidenceDigest: `sha256:${'c'.repeat(64)}`,
};

const sha256 = (b: string | Uint8Array) => createHash('sha256').update(b).digest();

/** A passkey sign-off signed by `privateKey` with `hash` (null for Ed25519), with the bytes a browser makes. */
function signed(privateKey: KeyObject, hash: string | null, o: { flags?: number; origin?: string; challenge?: string; type?: string } = {}): Signoff {
  const authData = Buffer.concat([sha256(RP_ID), Buffer.from([o.flags ?? 0x05]), Buffer.from([0, 0, 0, 7])]);
  const client = Buffer.from(JSON.stringify({ type: o.type ?? 'webauthn.get', challenge: o.challenge ?? signoffChallenge(PAYLOAD), origin: o.origin ?? ORIGIN }));
  const signature = sign(hash, Buffer.concat([authData, sha256(client)]), privateKey).toString('base64url');
  return {
    ...PAYLOAD,
    id: 's1',
    signature,
    signatureKind: 'webauthn',
    webauthn: { credentialId: 'cred', authenticatorData: authData.toString('base64url'), clientDataJSON: client.toString('base64url'), rpId: RP_ID, origin: ORIGIN },
  };
}

/** The passkey as registration stores it: the public key as SubjectPublicKeyInfo DER, base64. */
const keyOf = (privateKey: KeyObject, extra: Partial<PasskeyKey> = {}): PasskeyKey => ({
  credentialId: 'cred',
  user: 'carol',
  publicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
  rpId: RP_ID,
  ...extra,
});

describe('signoffChallenge', () => {
  it('is the base64url SHA-256 of the sign-off signed bytes, and changes with any signed field', () => {
    expect(signoffChallenge(PAYLOAD)).toBe(sha256(signoffMessage(PAYLOAD)).toString('base64url'));
    expect(signoffChallenge({ ...PAYLOAD, release: 'fraud-detector@2.5.0' })).not.toBe(signoffChallenge(PAYLOAD));
    expect(signoffChallenge({ ...PAYLOAD, decision: 'reject' })).not.toBe(signoffChallenge(PAYLOAD));
  });
});

describe('webauthnProblem', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  it.each([
    ['ES256 (P-256)', ec, 'sha256'],
    ['EdDSA (Ed25519)', ed, null],
    ['RS256 (RSA PKCS#1 v1.5)', rsa, 'sha256'],
  ] as const)('accepts a good assertion signed with %s', (_name, key, hash) => {
    expect(webauthnProblem(signed(key, hash), keyOf(key))).toBeUndefined();
  });

  it.each([
    ['no passkey', () => webauthnProblem(signed(ec, 'sha256'), undefined), 'unknown-key'],
    ["someone else's passkey", () => webauthnProblem(signed(ec, 'sha256'), keyOf(ec, { user: 'erin' })), 'unknown-key'],
    ['a passkey of another RP ID', () => webauthnProblem(signed(ec, 'sha256'), keyOf(ec, { rpId: 'other.example' })), 'rp-id'],
    ['a registration (webauthn.create)', () => webauthnProblem(signed(ec, 'sha256', { type: 'webauthn.create' }), keyOf(ec)), 'malformed'],
    ['another challenge', () => webauthnProblem(signed(ec, 'sha256', { challenge: signoffChallenge({ ...PAYLOAD, role: 'ml-engineer' }) }), keyOf(ec)), 'challenge'],
    ['another origin', () => webauthnProblem(signed(ec, 'sha256', { origin: 'https://evil.example' }), keyOf(ec)), 'origin'],
    ['no user verification', () => webauthnProblem(signed(ec, 'sha256', { flags: 0x01 }), keyOf(ec)), 'user-verification'],
    ['no user presence', () => webauthnProblem(signed(ec, 'sha256', { flags: 0x04 }), keyOf(ec)), 'user-verification'],
    ['another key', () => webauthnProblem(signed(ec, 'sha256'), keyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)), 'signature'],
    ['a payload field changed after signing', () => webauthnProblem({ ...signed(ec, 'sha256'), comment: 'added later' }, keyOf(ec)), 'challenge'],
  ] as const)('refuses %s', (_name, run, kind) => {
    expect(run()).toMatchObject({ kind });
  });

  it('refuses an assertion for another RP ID whose origin and recorded RP ID were changed to match', () => {
    const s = signed(ec, 'sha256');
    expect(webauthnProblem({ ...s, webauthn: { ...s.webauthn!, rpId: 'evil.example', origin: 'https://evil.example' } }, keyOf(ec, { rpId: 'evil.example' }))).toMatchObject({ kind: 'origin' });
  });
});

describe('originMatchesRpId', () => {
  it.each([
    ['https://tollgate.example.com', 'tollgate.example.com', true],
    ['https://desk.tollgate.example.com:8443', 'tollgate.example.com', true],
    ['http://localhost:7480', 'localhost', true],
    ['https://tollgate.example.com.evil.example', 'tollgate.example.com', false],
    ['https://eviltollgate.example.com', 'tollgate.example.com', false],
    ['https://tollgate.example.com/path', 'tollgate.example.com', false],
    ['not a url', 'tollgate.example.com', false],
  ])('%s for RP ID %s: %s', (origin, rpId, ok) => {
    expect(originMatchesRpId(origin, rpId)).toBe(ok);
  });
});

describe('a passkey sign-off in a decision', () => {
  const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const manifest = { subject: 'fraud-detector', version: '2.4.0', risk: 'high' as const, owner: 'alice', artifacts: [] };
  // The sign-off above names this digest; evaluate takes the release as given.
  const release: Release = { subject: 'fraud-detector', version: '2.4.0', digest: PAYLOAD.releaseDigest, manifest, createdAt: '2026-11-01T00:00:00Z', createdBy: 'alice' };
  const policyWith = (roster: Policy['roster']): Policy => ({
    apiVersion: 'tollgate/v1',
    kind: 'Policy',
    name: 'p',
    roster,
    stages: [{ name: 'production' }],
    gates: [{ id: 'approvals', stage: 'production', signoffs: [{ role: 'security', count: 1 }] }],
  });
  const decide = (roster: Policy['roster']) =>
    evaluate(policyWith(roster), release, { checklist: [], signoffs: [signed(privateKey, 'sha256')], validations: [] }, new Date('2026-11-30T13:00:00Z'), {
      stage: 'production',
      policyDigest: `sha256:${'d'.repeat(64)}`,
      history: [],
      passkeys: new Map([['cred', keyOf(privateKey)]]),
    }).gates[0]!.requirements[0]!.reason;

  it('is not counted once its signer has left the roster, though the passkey still verifies', () => {
    expect(decide({})).toMatch(/\(not counted: carol \(no longer holds security\)\)$/);
  });

  it('is read like any other sign-off while its signer holds the role (here: for an earlier gate definition)', () => {
    expect(decide({ carol: { roles: ['security'], key: 'unused' } })).toMatch(/\(stale: carol signed an earlier definition of gate approvals\)$/);
  });
});

describe('webauthnProblem: each refusal, and what it tells the reader', () => {
  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  /** A sign-off whose authenticatorData or clientDataJSON is replaced after signing (the check refuses before the signature). */
  const withParts = (s: Signoff, parts: Partial<NonNullable<Signoff['webauthn']>>): Signoff => ({ ...s, webauthn: { ...s.webauthn!, ...parts } });
  const clientJson = (o: Record<string, unknown>) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('accepts ES384 (P-384) and ES512 (P-521), each with its own hash, and refuses either signed with the wrong one', () => {
    for (const [curve, hash, wrong] of [['P-384', 'sha384', 'sha256'], ['P-521', 'sha512', 'sha256']] as const) {
      const key = generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
      expect(webauthnProblem(signed(key, hash), keyOf(key))).toBeUndefined();
      expect(webauthnProblem(signed(key, wrong), keyOf(key))).toMatchObject({ kind: 'signature' });
    }
  });

  it('refuses a sign-off that carries no assertion, whichever half is missing', () => {
    const key = ec();
    const s = signed(key, 'sha256');
    const noAssertion = { kind: 'malformed', message: 'the sign-off carries no WebAuthn assertion' };
    expect(webauthnProblem({ ...s, signatureKind: 'ed25519' }, keyOf(key))).toEqual(noAssertion);
    expect(webauthnProblem({ ...s, webauthn: undefined }, keyOf(key))).toEqual(noAssertion);
  });

  it('names the passkey, its holder and its RP ID when the passkey is not the right one', () => {
    const key = ec();
    const s = signed(key, 'sha256');
    expect(webauthnProblem(s, keyOf(key, { credentialId: 'other' }))).toEqual({ kind: 'unknown-key', message: 'the passkey cred is not a registered, unrevoked passkey' });
    expect(webauthnProblem(s, undefined)?.message).toBe('the passkey cred is not a registered, unrevoked passkey');
    expect(webauthnProblem(s, keyOf(key, { user: 'erin' }))?.message).toBe('the passkey cred is registered to erin, not to the signer carol');
    expect(webauthnProblem(s, keyOf(key, { rpId: 'other.example' }))?.message).toBe(`the sign-off is for RP ID ${RP_ID}, but the passkey was registered for other.example`);
  });

  it('refuses clientDataJSON that is not JSON, or lacks a string type, challenge or origin', () => {
    const key = ec();
    const s = signed(key, 'sha256');
    const good = { type: 'webauthn.get', challenge: signoffChallenge(PAYLOAD), origin: ORIGIN };
    const malformed = { kind: 'malformed', message: 'clientDataJSON is not the JSON a WebAuthn client writes' };
    expect(webauthnProblem(withParts(s, { clientDataJSON: Buffer.from('{not json').toString('base64url') }), keyOf(key))).toEqual(malformed);
    for (const field of ['type', 'challenge', 'origin'] as const) {
      const { [field]: _left, ...rest } = good;
      expect(webauthnProblem(withParts(s, { clientDataJSON: clientJson(rest) }), keyOf(key)), `without ${field}`).toEqual(malformed);
      expect(webauthnProblem(withParts(s, { clientDataJSON: clientJson({ ...good, [field]: 7 }) }), keyOf(key)), `${field} a number`).toEqual(malformed);
    }
    // Every field present and a string, written with other spacing: past the parse, refused only for its signature.
    const respaced = Buffer.from(JSON.stringify(good, null, 1)).toString('base64url');
    expect(webauthnProblem(withParts(s, { clientDataJSON: respaced }), keyOf(key))?.kind).toBe('signature');
    expect(webauthnProblem(signed(key, 'sha256', { type: 'webauthn.create' }), keyOf(key))?.message).toBe('clientDataJSON is of type "webauthn.create", not webauthn.get');
  });

  it('says why an assertion made for another sign-off or at another origin does not count', () => {
    const key = ec();
    expect(webauthnProblem(signed(key, 'sha256', { challenge: signoffChallenge({ ...PAYLOAD, decision: 'reject' }) }), keyOf(key))?.message).toMatch(/^the assertion's challenge is not the digest of this sign-off/);
    expect(webauthnProblem(signed(key, 'sha256', { origin: 'https://evil.example' }), keyOf(key))?.message).toBe(`the assertion was made at origin https://evil.example, not at ${ORIGIN}`);
    // The origin recorded and the one signed agree, but it is not an origin of the RP ID.
    const s = signed(key, 'sha256', { origin: 'https://evil.example' });
    expect(webauthnProblem(withParts(s, { origin: 'https://evil.example' }), keyOf(key))).toEqual({ kind: 'origin', message: `the origin https://evil.example does not belong to the RP ID ${RP_ID}` });
  });

  it('refuses authenticatorData that is too short (37 bytes is the least) or for another RP ID', () => {
    const key = ec();
    const s = signed(key, 'sha256');
    const auth = Buffer.from(s.webauthn!.authenticatorData, 'base64url');
    expect(auth).toHaveLength(37); // the good assertions above are exactly the least, so 37 is accepted
    expect(webauthnProblem(withParts(s, { authenticatorData: auth.subarray(0, 36).toString('base64url') }), keyOf(key))).toEqual({ kind: 'malformed', message: 'authenticatorData is too short' });
    const otherRp = Buffer.concat([sha256('other.example'), auth.subarray(32)]);
    expect(webauthnProblem(withParts(s, { authenticatorData: otherRp.toString('base64url') }), keyOf(key))).toEqual({ kind: 'rp-id', message: `authenticatorData is not for the RP ID ${RP_ID}` });
    expect(webauthnProblem(signed(key, 'sha256', { flags: 0x01 }), keyOf(key))?.message).toMatch(/UV flag not set/);
  });

  it('refuses a passkey whose stored public key is not one it can use, and says so', () => {
    const key = ec();
    const s = signed(key, 'sha256');
    const unusable = { kind: 'signature', message: 'the passkey cred has no usable public key' };
    expect(webauthnProblem(s, keyOf(key, { publicKey: Buffer.from('not a key').toString('base64') }))).toEqual(unusable);
    // A key of a type WebAuthn signs with none of: X25519 (key agreement), and an EC curve outside ES256/384/512.
    const x25519 = createPublicKey(generateKeyPairSync('x25519').privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    expect(webauthnProblem(s, keyOf(key, { publicKey: x25519 }))).toEqual(unusable);
    const k1 = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    expect(webauthnProblem(s, keyOf(key, { publicKey: k1 }))).toEqual(unusable);
    expect(webauthnProblem(s, keyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))?.message).toBe('the WebAuthn signature does not verify with the public key of passkey cred');
  });
});
