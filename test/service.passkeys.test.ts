// Passkeys and passkey sign-offs through the use cases over a real SQLite store, signed by a software
// authenticator (test/helpers/soft-authenticator.ts): registration is audited and vouched for; a
// passkey sign-off signs exactly the CLI's payload, counts like a CLI sign-off, and each wrong
// assertion is refused with its own code.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import type { ReleaseManifest } from '../src/domain/model.js';
import { signoffMessage } from '../src/domain/signoff.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { relyingPartyOf } from '../src/service/passkeys.js';
import { promote } from '../src/service/promote.js';
import { draftSignoffs } from '../src/service/signoff.js';
import { decide } from '../src/service/status.js';
import { createPasskeyUseCases } from '../src/service/use-cases.js';
import { verifyAudit } from '../src/service/verify-audit.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { createSoftAuthenticator } from './helpers/soft-authenticator.js';

const USERS = ['alice', 'carol', 'erin', 'dave'] as const;
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<(typeof USERS)[number], ReturnType<typeof generateKeyPair>>;
const REL = 'scorer@1.0.0';
const RP = relyingPartyOf('https://desk.example:8443');

const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: passkeys
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  carol: { roles: [security], key: "${KEYS.carol.publicKey}" }
  erin: { roles: [security], key: "${KEYS.erin.publicKey}" }
  dave: { roles: [release-manager, admin], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
  - name: production
gates:
  - id: security-review
    stage: staging
    signoffs:
      - { role: security, count: 1 }
  - id: production-review
    stage: production
    checklist:
      - { id: rollback-plan }
    signoffs:
      - { role: security, count: 1 }
`;

async function setup(file = ':memory:') {
  let now = new Date('2026-11-30T12:00:00Z');
  const store = await createSqliteStore(file);
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => now };
  await applyPolicy(deps, 'dave', POLICY, 'tollgate.yaml');
  const manifest: ReleaseManifest = { subject: 'scorer', version: '1.0.0', risk: 'high', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', sha256: 'b'.repeat(64) }] };
  await createRelease(deps, 'alice', manifest);
  const as = (user: string) => createPasskeyUseCases(deps, user);
  /** Registers a new software passkey for `user` through the use cases. */
  const register = async (user: string) => {
    const auth = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    const { challenge } = await as(user).registrationOptions(RP);
    await as(user).register({ response: auth.register(challenge), expectedChallenge: challenge, rp: RP });
    return auth;
  };
  return { deps, store, as, register, advance: (ms: number) => (now = new Date(now.getTime() + ms)), now: () => now };
}

const outcome = async (t: Awaited<ReturnType<typeof setup>>) =>
  (await decide(t.store, REL, 'staging', t.now())).gates.find((g) => g.id === 'security-review')!.requirements[0]!;

describe('passkey registration', () => {
  it('binds the credential to the roster user with a vouched PasskeyRegistered event', async () => {
    const t = await setup();
    const { options, challenge } = await t.as('carol').registrationOptions(RP);
    expect(options).toMatchObject({ rp: { id: 'desk.example', name: 'Tollgate' }, user: { name: 'carol' }, authenticatorSelection: { userVerification: 'required' } });
    const auth = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    expect(await t.as('carol').register({ response: auth.register(challenge), expectedChallenge: challenge, rp: RP })).toEqual({ credentialId: auth.credentialId });
    expect(await t.as('carol').list()).toMatchObject([{ id: auth.credentialId, user: 'carol', algorithm: -7, rpId: 'desk.example', origin: 'https://desk.example:8443', revokedAt: null }]);
    const events = await t.store.auditEvents();
    expect(events.at(-1)).toMatchObject({ type: 'PasskeyRegistered', actor: 'user:carol', data: { id: auth.credentialId, user: 'carol', rpId: 'desk.example' } });
    // The next registration excludes the passkey already there.
    expect((await t.as('carol').registrationOptions(RP)).options.excludeCredentials).toEqual([{ id: auth.credentialId, type: 'public-key', transports: ['internal'] }]);
    expect((await verifyAudit(t.store, t.deps.serverKey)).ok).toBe(true);
  });

  it('refuses a registration without user verification, at another origin, for another challenge, or for a non-member', async () => {
    const t = await setup();
    const auth = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    const { challenge } = await t.as('carol').registrationOptions(RP);
    const attempt = (response: ReturnType<typeof auth.register>, expectedChallenge = challenge) => t.as('carol').register({ response, expectedChallenge, rp: RP }).catch((e: unknown) => e);
    expect(await attempt(auth.register(challenge, { userVerified: false }))).toMatchObject({ code: 'TG_PASSKEY_INVALID' });
    expect(await attempt(auth.register(challenge, { origin: 'https://evil.example' }))).toMatchObject({ code: 'TG_PASSKEY_INVALID' });
    expect(await attempt(auth.register(challenge), 'b3RoZXI')).toMatchObject({ code: 'TG_PASSKEY_INVALID' });
    expect(await t.as('mallory').registrationOptions(RP).catch((e: unknown) => e)).toMatchObject({ code: 'TG_USER_UNKNOWN' });
    await attempt(auth.register(challenge));
    expect(await attempt(auth.register(challenge))).toMatchObject({ code: 'TG_PASSKEY_INVALID', message: expect.stringContaining('already registered') });
    expect(await t.store.listPasskeys()).toHaveLength(1);
  });
});

describe('passkey sign-offs', () => {
  it("signs exactly the CLI's payload and counts like a CLI sign-off in status and promote", async () => {
    const t = await setup();
    const auth = await t.register('carol');
    const { options, draft } = await t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', comment: 'reviewed', rp: RP });
    const cli = await draftSignoffs(t.store, 'carol', { release: REL, stage: 'staging', role: 'security', decision: 'approve', comment: 'reviewed' }, t.now());
    expect(draft).toEqual(cli.payloads[0]);
    expect(options.challenge).toBe(createHash('sha256').update(signoffMessage(draft)).digest('base64url'));
    expect(options).toMatchObject({ rpId: 'desk.example', userVerification: 'required', allowCredentials: [{ id: auth.credentialId, type: 'public-key' }] });
    expect((await outcome(t)).outcome).toBe('missing');

    const [recorded] = await t.as('carol').recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP });
    expect(recorded).toMatchObject({ ...draft, signatureKind: 'webauthn', webauthn: { credentialId: auth.credentialId, rpId: 'desk.example', origin: RP.origin } });
    expect(await outcome(t)).toMatchObject({ outcome: 'satisfied', signers: ['carol'] });
    expect((await t.store.auditEvents()).at(-1)).toMatchObject({ type: 'SignoffRecorded', actor: 'user:carol', data: { signatureKind: 'webauthn', passkey: auth.credentialId } });
    expect((await t.store.findPasskey(auth.credentialId))!.signCount).toBe(1);
    expect((await promote(t.deps, 'dave', REL, 'staging')).promoted).toBe(true);
    expect((await verifyAudit(t.store, t.deps.serverKey)).ok).toBe(true);
  });

  it('refuses each wrong assertion with its own code, and records nothing', async () => {
    const t = await setup();
    const auth = await t.register('carol');
    const ask = (decision: 'approve' | 'reject' = 'approve') => t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision, rp: RP });
    const { options, draft } = await ask();
    const rec = (response: ReturnType<typeof auth.assert>, d = draft, rp: { id: string; origin: string } = RP) => t.as('carol').recordSignoff({ draft: d, response, rp }).catch((e: unknown) => e);

    const stranger = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    expect(await rec(stranger.assert(options.challenge))).toMatchObject({ code: 'TG_PASSKEY_UNKNOWN', message: expect.stringContaining('not registered') });
    const other = await ask('reject');
    expect(await rec(auth.assert(other.options.challenge))).toMatchObject({ code: 'TG_PASSKEY_CHALLENGE_MISMATCH' });
    expect(await rec(auth.assert(options.challenge, { origin: 'https://evil.example' }))).toMatchObject({ code: 'TG_PASSKEY_ORIGIN_MISMATCH' });
    expect(await rec(auth.assert(options.challenge, { rpId: 'evil.example' }))).toMatchObject({ code: 'TG_PASSKEY_ORIGIN_MISMATCH' });
    expect(await rec(auth.assert(options.challenge), draft, relyingPartyOf('https://other.example'))).toMatchObject({ code: 'TG_PASSKEY_ORIGIN_MISMATCH' });
    expect(await rec(auth.assert(options.challenge, { userVerified: false }))).toMatchObject({ code: 'TG_PASSKEY_USER_NOT_VERIFIED' });
    const good = auth.assert(options.challenge);
    const flipped = Buffer.from(good.response.signature, 'base64url');
    flipped[flipped.length - 1]! ^= 0x01;
    expect(await rec({ ...good, response: { ...good.response, signature: flipped.toString('base64url') } })).toMatchObject({ code: 'TG_PASSKEY_ASSERTION_INVALID' });
    expect(await rec({ ...good, response: { ...good.response, signature: '' } })).toMatchObject({ code: 'TG_PASSKEY_ASSERTION_INVALID' });
    // Someone else cannot record carol's sign-off, even with her assertion.
    expect(await t.as('erin').recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_NOT_ALLOWED' });
    expect((await t.store.evidence((await t.store.findRelease('scorer', '1.0.0'))!.digest)).signoffs).toEqual([]);
  });

  it('refuses a stale draft: too old, or evidence recorded since', async () => {
    const t = await setup();
    const auth = await t.register('carol');
    const { options, draft } = await t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP });
    t.advance(6 * 60 * 1000);
    expect(await t.as('carol').recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_SIGNOFF_STALE', message: expect.stringContaining('more than 5 minutes') });
    const prod = await t.as('carol').signoffOptions({ release: REL, stage: 'production', role: 'security', decision: 'approve', rp: RP });
    await completeItem(t.deps, 'alice', { release: REL, stage: 'production', item: 'rollback-plan' });
    expect(await t.as('carol').recordSignoff({ draft: prod.draft, response: auth.assert(prod.options.challenge), rp: RP }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_SIGNOFF_STALE', message: expect.stringContaining('evidence was recorded') });
    expect((await t.store.evidence((await t.store.findRelease('scorer', '1.0.0'))!.digest)).signoffs).toEqual([]);
  });

  it('keeps the signature counter: an assertion whose counter went backwards (a cloned authenticator) is refused', async () => {
    const t = await setup();
    const auth = await t.register('carol');
    const first = await t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP });
    await t.as('carol').recordSignoff({ draft: first.draft, response: auth.assert(first.options.challenge, { counter: 5 }), rp: RP });
    expect((await t.store.findPasskey(auth.credentialId))!.signCount).toBe(5);
    const next = await t.as('carol').signoffOptions({ release: REL, stage: 'production', role: 'security', decision: 'reject', rp: RP });
    const err = await t.as('carol').recordSignoff({ draft: next.draft, response: auth.assert(next.options.challenge, { counter: 3 }), rp: RP }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TG_PASSKEY_ASSERTION_INVALID', message: expect.stringContaining('counter') });
    expect((await verifyAudit(t.store, t.deps.serverKey)).ok).toBe(true);
  });

  it('refuses options to someone without the role, or without a passkey for this RP', async () => {
    const t = await setup();
    await t.register('alice');
    expect(await t.as('alice').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_ROLE_NOT_HELD' });
    expect(await t.as('erin').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_PASSKEY_NOT_FOUND' });
    await t.register('erin');
    expect(await t.as('erin').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: relyingPartyOf('https://other.example') }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_PASSKEY_NOT_FOUND' });
  });

  it('revokes: the owner or an admin only; a revoked passkey signs nothing more and its sign-offs stop counting', async () => {
    const t = await setup();
    const auth = await t.register('carol');
    const { options, draft } = await t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP });
    await t.as('carol').recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP });
    expect((await outcome(t)).outcome).toBe('satisfied');
    expect(await t.as('erin').revoke(auth.credentialId).catch((e: unknown) => e)).toMatchObject({ code: 'TG_NOT_ALLOWED' });
    expect(await t.as('erin').list('carol').catch((e: unknown) => e)).toMatchObject({ code: 'TG_NOT_ALLOWED' });
    expect(await t.as('erin').list()).toEqual([]);
    expect(await t.as('dave').revoke('nope').catch((e: unknown) => e)).toMatchObject({ code: 'TG_PASSKEY_NOT_FOUND' });
    const revoked = await t.as('dave').revoke(auth.credentialId);
    expect(revoked).toMatchObject({ id: auth.credentialId, revokedBy: 'dave', revokedAt: t.now().toISOString() });
    expect((await t.store.auditEvents()).at(-1)).toMatchObject({ type: 'PasskeyRevoked', actor: 'user:dave', data: { id: auth.credentialId, user: 'carol' } });
    expect(await outcome(t)).toMatchObject({ outcome: 'missing', reason: expect.stringContaining('a passkey sign-off as carol that does not verify') });
    const again = await t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'TG_PASSKEY_NOT_FOUND' });
    expect(await t.as('carol').recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP }).catch((e: unknown) => e)).toMatchObject({ code: 'TG_PASSKEY_UNKNOWN', message: expect.stringContaining('revoked') });
    expect((await verifyAudit(t.store, t.deps.serverKey)).ok).toBe(true);
  });

  it('refuses to decide on a passkey whose row was changed behind Tollgate\'s back, and audit verify names it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-passkeys-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const t = await setup(path.join(dir, 'tollgate.db'));
    onTestFinished(() => t.store.close());
    const auth = await t.register('carol');
    const forger = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    const { options, draft } = await t.as('carol').signoffOptions({ release: REL, stage: 'staging', role: 'security', decision: 'approve', rp: RP });
    await t.as('carol').recordSignoff({ draft, response: auth.assert(options.challenge), rp: RP });
    // Swap in a key the forger holds: their assertions would now verify, were the row believed.
    const forgedKey = (await import('node:crypto')).createPublicKey(forger.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    const raw = new BetterSqlite3(path.join(dir, 'tollgate.db'));
    raw.prepare('update passkeys set public_key = ?').run(forgedKey);
    raw.close();
    expect(await decide(t.store, REL, 'staging', t.now()).catch((e: unknown) => e)).toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringContaining(`passkeys ${auth.credentialId}`) });
    const verdict = await verifyAudit(t.store, t.deps.serverKey);
    expect(verdict).toMatchObject({ ok: false, rows: [{ table: 'passkeys', key: auth.credentialId, what: 'edited' }] });
  });
});
