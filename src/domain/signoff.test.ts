/**
 * What an Ed25519 sign-off's signature covers and when it verifies (passkey sign-offs: webauthn.test.ts).
 * A field the signature does not cover could be edited in the database without anyone noticing.
 */
import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { generateKeyPair, loadPrivateKey } from './keys.js';
import type { Policy, Signoff, SignoffPayload } from './model.js';
import { signoffMessage, signoffPayload, signoffSignatureValid, signSignoff } from './signoff.js';

const BOB = generateKeyPair();
const POLICY: Policy = {
  apiVersion: 'tollgate/v1',
  kind: 'Policy',
  name: 'p',
  roster: { bob: { roles: ['ml-engineer'], key: BOB.publicKey }, carol: { roles: ['security'], key: 'not a key' } },
  stages: [{ name: 'production' }],
  gates: [],
};
const PAYLOAD: SignoffPayload = {
  type: 'tollgate/signoff/v1',
  release: 'fd@1.0.0',
  releaseDigest: digestOf('r'),
  stage: 'production',
  gate: 'approvals',
  gateDigest: digestOf('g'),
  role: 'ml-engineer',
  decision: 'approve',
  signer: 'bob',
  at: '2026-11-30T10:00:00Z',
};
const sign = (p: SignoffPayload, pem = BOB.privateKeyPem): Signoff => ({ ...p, id: 's1', signature: signSignoff(p, loadPrivateKey(pem)) });

describe('signoffPayload', () => {
  it('keeps exactly the signed fields, the optional ones only when present', () => {
    const row = { ...sign(PAYLOAD), extra: 'x' } as Signoff;
    expect(signoffPayload(row)).toStrictEqual(PAYLOAD);
    const full = { ...PAYLOAD, comment: 'looks good', evidenceDigest: digestOf('e') };
    expect(signoffPayload({ ...full, type: 'other' } as unknown as SignoffPayload)).toEqual(full);
    expect(signoffMessage(PAYLOAD)).toBe(
      `{"at":"2026-11-30T10:00:00Z","decision":"approve","gate":"approvals","gateDigest":"${digestOf('g')}","release":"fd@1.0.0","releaseDigest":"${digestOf('r')}","role":"ml-engineer","signer":"bob","stage":"production","type":"tollgate/signoff/v1"}`,
    );
  });
});

describe('signoffSignatureValid', () => {
  it.each<[string, (s: Signoff) => Signoff, boolean]>([
    ['as signed', (s) => s, true],
    ['marked ed25519', (s) => ({ ...s, signatureKind: 'ed25519' }), true],
    ['of another kind', (s) => ({ ...s, signatureKind: 'rsa' as 'ed25519' }), false],
    ['with the comment added', (s) => ({ ...s, comment: 'edited' }), false],
    ['with the evidence digest added', (s) => ({ ...s, evidenceDigest: digestOf('x') }), false],
    ['turned into a rejection', (s) => ({ ...s, decision: 'reject' }), false],
    ['by someone outside the roster', (s) => ({ ...s, signer: 'mallory' }), false],
    ['by a member whose key cannot be read', (s) => ({ ...s, signer: 'carol' }), false],
    ['signed with another key', () => sign(PAYLOAD, generateKeyPair().privateKeyPem), false],
    [
      'a passkey sign-off when no passkeys are given',
      (s) => ({ ...s, signatureKind: 'webauthn', webauthn: { credentialId: 'c', authenticatorData: '', clientDataJSON: '', rpId: 'x', origin: 'https://x' } }),
      false,
    ],
  ])('verifies a sign-off only %s', (_why, edit, ok) => {
    expect(signoffSignatureValid(POLICY, edit(sign(PAYLOAD)))).toBe(ok);
  });

  it('covers the comment and the evidence digest when signed with them', () => {
    const s = sign({ ...PAYLOAD, comment: 'ok', evidenceDigest: digestOf('e') });
    expect(signoffSignatureValid(POLICY, s)).toBe(true);
    expect(signoffSignatureValid(POLICY, { ...s, comment: 'changed' })).toBe(false);
    expect(signoffSignatureValid(POLICY, { ...s, evidenceDigest: digestOf('f') })).toBe(false);
  });
});
