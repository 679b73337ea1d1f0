// A passkey sign-off end to end, on real files with the real CLI binary: the example project walked to
// staging with the ml-engineer sign-off given by a passkey (a software P-256 authenticator in this
// process, through the same use cases the review desk calls), promoted with `tollgate promote`,
// exported with `tollgate attest` and checked offline with `tollgate verify` (exit 0). A tampered
// assertion, an assertion made at another origin, and one whose challenge is another release's
// sign-off each end in exit 4 at the WebAuthn check: the envelope is re-signed with the server key so
// that nothing else fails first. `tollgate passkey list` / `passkey revoke` on the local home.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrigin, loadServerKey } from '../src/cli/home.js';
import { digestOf } from '../src/domain/digest.js';
import type { Signoff } from '../src/domain/model.js';
import { signoffChallenge } from '../src/domain/webauthn.js';
import { relyingPartyOf } from '../src/service/passkeys.js';
import { createPasskeyUseCases } from '../src/service/use-cases.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { createProject, removeProjects, runInAsync, type Project } from './helpers/cli.js';
import { createSoftAuthenticator, type SoftAuthenticator } from './helpers/soft-authenticator.js';

const REL = 'fraud-detector@2.4.0';
const RP = relyingPartyOf('https://tollgate.example.com');

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

let p: Project;
let auth: SoftAuthenticator;
let serverKey: KeyObject;
let serverPub: string;
let envelope: Envelope;

function must(args: readonly string[]): string {
  const r = p.run(args);
  if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** DSSE v1 Pre-Authentication Encoding. */
const pae = (type: string, body: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `, 'utf8'), body]);

/** The envelope with its statement changed by `edit`, signed anew with the server key. */
function resigned(edit: (statement: any) => void): Envelope {
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  edit(statement);
  const body = Buffer.from(JSON.stringify(statement), 'utf8');
  return { payloadType: envelope.payloadType, payload: body.toString('base64'), signatures: [{ keyid: envelope.signatures[0]!.keyid, sig: sign(null, pae(envelope.payloadType, body), serverKey).toString('base64') }] };
}

/** The passkey sign-off of a statement. */
const passkeySignoff = (statement: any): Signoff => statement.predicate.evidence.signoffs.find((s: Signoff) => s.signatureKind === 'webauthn');

let fileNo = 0;
async function verify(bundle: Envelope): Promise<{ code: number; out: any }> {
  const rel = `bundles/b${++fileNo}.json`;
  p.write(rel, JSON.stringify(bundle, null, 2));
  const r = await runInAsync(p.dir, p.home, ['verify', rel, '--key', serverPub, '--json']);
  return { code: r.code, out: r.json() };
}

afterAll(() => removeProjects());

beforeAll(async () => {
  p = createProject();
  must(['release', 'create', 'release.yaml', '--as', 'alice']);
  must(['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']);
  must(['check', REL, 'model-card', '--to', 'staging', '--as', 'alice']);
  must(['validate', REL, '--to', 'staging', '--as', 'ci']);

  // bob registers a passkey and signs off in "the browser": the desk's use cases over the home.
  const store = await createSqliteStore(p.dbFile);
  try {
    const deps = { store, serverKey: loadServerKey(p.home), origin: loadOrigin(p.home), now: () => new Date() };
    const bob = createPasskeyUseCases(deps, 'bob');
    auth = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    const { challenge } = await bob.registrationOptions(RP);
    await bob.register({ response: auth.register(challenge), expectedChallenge: challenge, rp: RP });
    const { options, draft } = await bob.signoffOptions({ release: REL, stage: 'staging', role: 'ml-engineer', decision: 'approve', comment: 'reviewed in the browser', rp: RP });
    await bob.recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP });
  } finally {
    await store.close();
  }
  must(['promote', REL, '--to', 'staging', '--as', 'dave']);
  must(['attest', REL, '--stage', 'staging', '-o', 'att.json']);
  envelope = JSON.parse(p.read('att.json'));
  serverPub = must(['keys', 'show', '--server']).trim();
  serverKey = createPrivateKey(fs.readFileSync(path.join(p.home, 'server.key'), 'utf8'));
}, 120_000);

describe.concurrent('a passkey sign-off in an attestation', () => {
  it('counted like a CLI sign-off: status showed it, promote took it, and the attestation carries the assertion and the vouched passkey', () => {
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    const s = passkeySignoff(statement);
    expect(s).toMatchObject({ signer: 'bob', role: 'ml-engineer', signatureKind: 'webauthn', comment: 'reviewed in the browser', webauthn: { credentialId: auth.credentialId, rpId: RP.id, origin: RP.origin } });
    expect(statement.predicate.passkeys).toEqual([
      // Vouched for now by the sign-off's own event, which moved the passkey's signature counter to 1.
      expect.objectContaining({ row: expect.objectContaining({ id: auth.credentialId, user_name: 'bob', rp_id: RP.id, sign_count: 1 }), log: expect.objectContaining({ event: expect.objectContaining({ type: 'SignoffRecorded' }) }) }),
    ]);
    const publicKey = createPublicKey(auth.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    expect(statement.predicate.passkeys[0].row.public_key).toBe(publicKey);
  });

  it('verifies offline: exit 0, naming the passkey checks', async () => {
    const r = await verify(envelope);
    expect(r.code).toBe(0);
    expect(r.out.ok).toBe(true);
    expect(r.out.checked).toEqual(expect.arrayContaining([
      '1 passkey vouched for by the audit log under the checkpoint',
      "1 passkey sign-off: WebAuthn signature, challenge = the sign-off's digest, origin and RP ID as recorded, user verified",
    ]));
  });

  it('control: the same statement re-signed with the server key verifies (exit 0)', async () => {
    expect((await verify(resigned(() => {}))).code).toBe(0);
  });

  it('a tampered assertion (one bit of the authenticator data), re-signed: exit 4 at the WebAuthn signature', async () => {
    const r = await verify(
      resigned((st) => {
        const s = passkeySignoff(st) as any;
        const data = Buffer.from(s.webauthn.authenticatorData, 'base64url');
        data.writeUInt8(data[data.length - 1]! ^ 0x01, data.length - 1); // the signature counter's low bit: flags and RP ID still fine
        s.webauthn.authenticatorData = data.toString('base64url');
      }),
    );
    expect(r.code).toBe(4);
    expect(r.out).toMatchObject({ ok: false, failure: expect.stringMatching(/passkey sign-off by bob .* does not verify: the WebAuthn signature does not verify/) });
  });

  it('an assertion made at another origin (signed by the passkey itself), re-signed: exit 4 at the origin', async () => {
    const r = await verify(
      resigned((st) => {
        const s = passkeySignoff(st) as any;
        const forged = auth.assert(signoffChallenge(s), { origin: 'https://evil.example' });
        Object.assign(s.webauthn, { authenticatorData: forged.response.authenticatorData, clientDataJSON: forged.response.clientDataJSON });
        s.signature = forged.response.signature;
      }),
    );
    expect(r.code).toBe(4);
    expect(r.out.failure).toContain('the assertion was made at origin https://evil.example, not at https://tollgate.example.com');
  });

  it('the recorded origin changed to match (evil.example), re-signed: exit 4, the origin is not of the passkey\'s RP ID', async () => {
    const r = await verify(
      resigned((st) => {
        const s = passkeySignoff(st) as any;
        s.webauthn.origin = 'https://evil.example';
        const forged = auth.assert(signoffChallenge(s), { origin: 'https://evil.example' });
        Object.assign(s.webauthn, { authenticatorData: forged.response.authenticatorData, clientDataJSON: forged.response.clientDataJSON });
        s.signature = forged.response.signature;
      }),
    );
    expect(r.code).toBe(4);
    expect(r.out.failure).toContain('does not belong to the RP ID tollgate.example.com');
  });

  it('an assertion whose challenge is the sign-off of another release (signed by the passkey itself), re-signed: exit 4 at the challenge', async () => {
    const r = await verify(
      resigned((st) => {
        const s = passkeySignoff(st) as any;
        const other = { ...s, release: 'fraud-detector@2.5.0', releaseDigest: digestOf({ another: 'release' }) };
        const forged = auth.assert(signoffChallenge(other));
        Object.assign(s.webauthn, { authenticatorData: forged.response.authenticatorData, clientDataJSON: forged.response.clientDataJSON });
        s.signature = forged.response.signature;
      }),
    );
    expect(r.code).toBe(4);
    expect(r.out.failure).toContain("the assertion's challenge is not the digest of this sign-off");
  });

  it("another key swapped into the passkey's row, the assertion signed with it, re-signed: exit 4, the row is not what the log vouches for", async () => {
    const forger = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    const r = await verify(
      resigned((st) => {
        const s = passkeySignoff(st) as any;
        st.predicate.passkeys[0].row.public_key = createPublicKey(forger.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
        const forged = forger.assert(signoffChallenge(s));
        Object.assign(s.webauthn, { authenticatorData: forged.response.authenticatorData, clientDataJSON: forged.response.clientDataJSON });
        s.signature = forged.response.signature;
      }),
    );
    expect(r.code).toBe(4);
    expect(r.out.failure).toContain(`passkey ${auth.credentialId} is not what audit event`);
  });

  it('the passkey left out of the bundle, re-signed: exit 4, the sign-off has no passkey to verify with', async () => {
    const r = await verify(resigned((st) => delete st.predicate.passkeys));
    expect(r.code).toBe(4);
    expect(r.out.failure).toContain('is not a registered, unrevoked passkey');
  });
});

describe('passkey admin on the local home', () => {
  it('passkey list shows bob\'s passkey; revoke by an unknown id is exit 2 TG_PASSKEY_NOT_FOUND; revoke records who and when', () => {
    const copy = p.clone();
    const list = copy.run(['passkey', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.json().passkeys).toEqual([expect.objectContaining({ id: auth.credentialId, user: 'bob', revokedAt: null })]);
    expect(copy.run(['passkey', 'list', 'carol', '--json']).json().passkeys).toEqual([]);
    const unknown = copy.run(['passkey', 'revoke', 'nope', '--as', 'bob', '--json']);
    expect(unknown.code).toBe(2);
    expect(unknown.json().error.code).toBe('TG_PASSKEY_NOT_FOUND');
    const denied = copy.run(['passkey', 'revoke', '--as', 'carol', '--json', '--', auth.credentialId]);
    expect(denied.code).toBe(2);
    expect(denied.json().error.code).toBe('TG_NOT_ALLOWED');
    // The example roster has no admin: the owner revokes their own. A credential id may start with
    // `-` (base64url), so it goes after `--`.
    const revoked = copy.run(['passkey', 'revoke', '--as', 'bob', '--', auth.credentialId]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revoked passkey ${auth.credentialId} of bob at \\S+`));
    expect(copy.run(['passkey', 'list', 'bob', '--json']).json().passkeys).toEqual([expect.objectContaining({ revokedBy: 'bob', revokedAt: expect.any(String) })]);
    // From now on bob's passkey sign-off no longer counts.
    expect(copy.run(['status', REL, '--to', 'staging', '--json']).json().gates.find((g: any) => g.id !== 'stage' && g.requirements.some((r: any) => r.id === 'signoff:ml-engineer')).outcome).not.toBe('satisfied');
    // The attestation of the promotion it signed for still verifies: it was live then.
    const att = copy.run(['attest', REL, '--stage', 'staging', '-o', 'after-revoke.json']);
    expect(att.code).toBe(0);
    expect(copy.run(['verify', 'after-revoke.json', '--key', serverPub]).code).toBe(0);
    expect(copy.run(['audit', 'verify']).code).toBe(0);
  });
});
