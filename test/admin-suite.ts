/**
 * The shared admin suite: token and webhook administration on the local home and over the API run
 * exactly these tests, so `tollgate token …` and `tollgate webhook …` cannot drift between local and
 * remote mode (STYLE.md rule 3). Usage: `runAdminSuite({ name, remote, make })`, where `make(deps)`
 * hands out the admin interfaces acting as a given user. Over the API the caller also needs the
 * `admin` role, which the suite checks only there: the local home is the server's database, and
 * whoever can write it needs no role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasskeyAdmin, TokenAdmin, WebhookAdmin } from '../src/client/admin.js';
import { relyingPartyOf } from '../src/service/passkeys.js';
import { createPasskeyUseCases } from '../src/service/use-cases.js';
import { createSoftAuthenticator } from './helpers/soft-authenticator.js';
import { createUseCases } from '../src/service/use-cases.js';
import type { ServiceDeps } from '../src/service/deps.js';
import type { CreatedWebhook, WebhookInfo } from '../src/service/webhooks.js';
import { authenticate } from '../src/server/auth.js';
import { expectError, makeDeps, manifest, POLICY, SUBJECT } from './client-suite.js';

/** What an implementation hands the suite. */
export interface AdminHarness {
  /** Token administration acting as `user` (locally `--as USER`; over HTTP a token for USER). */
  tokens(user: string): Promise<TokenAdmin>;
  webhooks(user: string): Promise<WebhookAdmin>;
  passkeys(user: string): Promise<PasskeyAdmin>;
  close(): Promise<void>;
}

export interface AdminSuite {
  readonly name: string;
  /** Over the API: roles are checked, and the request schemas refuse some bad input first. */
  readonly remote: boolean;
  make(deps: ServiceDeps): Promise<AdminHarness>;
}

const V1 = `${SUBJECT}@1.0.0`;

function withoutSecret({ secret: _, ...info }: CreatedWebhook): WebhookInfo {
  return info;
}
const HOUR = 3_600_000;

export function runAdminSuite(suite: AdminSuite): void {
  describe(`Admin suite: ${suite.name}`, () => {
    const clock = { t: Date.UTC(2026, 10, 30, 9) };
    let deps: ServiceDeps;
    let harness: AdminHarness;
    let tokens: TokenAdmin;
    let webhooks: WebhookAdmin;

    /** The code of bad input that the API's request schema refuses before the use case sees it. */
    const schemaCode = suite.remote ? 'TG_REQUEST_INVALID' : 'TG_USAGE';

    beforeAll(async () => {
      // Webhooks here point at example.com hosts the sandbox cannot resolve: the address guard has its own tests.
      deps = { ...(await makeDeps()), now: () => new Date(clock.t), allowPrivateWebhooks: true };
      await createUseCases(deps, 'root').applyPolicy(POLICY, 'tollgate.yaml');
      await createUseCases(deps, 'alice').createRelease(manifest('1.0.0'));
      harness = await suite.make(deps);
      tokens = await harness.tokens('root');
      webhooks = await harness.webhooks('root');
    });
    afterAll(async () => {
      await harness.close();
      await deps.store.close();
    });

    const auditTypes = async () => (await deps.store.auditEvents()).map((e) => `${e.type} ${e.actor}`);

    describe('tokens', () => {
      it('issues a token that authenticates its user, shown once and listed without its secret', async () => {
        const issued = await tokens.create('dave');
        expect(issued).toEqual({ id: expect.stringMatching(/^tok_[0-9a-f]{12}$/), user: 'dave', token: expect.stringMatching(/^tg_[A-Za-z0-9_-]{43}$/), expiresAt: null });
        expect(await authenticate(deps.store, `Bearer ${issued.token}`, new Date(clock.t))).toEqual({ user: 'dave', tokenId: issued.id });
        const listed = await tokens.list();
        expect(listed.find((t) => t.id === issued.id)).toEqual({
          id: issued.id,
          user: 'dave',
          createdAt: new Date(clock.t).toISOString(),
          createdBy: 'root',
          expiresAt: null,
          revokedAt: null,
        });
        expect(JSON.stringify(listed)).not.toContain(issued.token);
        expect(await auditTypes()).toContain('TokenCreated user:root');
        expect(JSON.stringify(await deps.store.auditEvents())).not.toContain(issued.token);
      });

      it('issues a token that expires, and refuses it after', async () => {
        const issued = await tokens.create('bob', '12h');
        expect(issued.expiresAt).toBe(new Date(clock.t + 12 * HOUR).toISOString());
        expect((await tokens.list()).find((t) => t.id === issued.id)?.expiresAt).toBe(issued.expiresAt);
        await expect(authenticate(deps.store, `Bearer ${issued.token}`, new Date(clock.t + 12 * HOUR - 1))).resolves.toMatchObject({ user: 'bob' });
        const err = await expectError(authenticate(deps.store, `Bearer ${issued.token}`, new Date(clock.t + 12 * HOUR)), 'TG_TOKEN_INVALID');
        expect(err.message).toContain('expired');
      });

      it('revokes a token by its id; revoking it again changes nothing', async () => {
        const issued = await tokens.create('carol');
        const revoked = await tokens.revoke(issued.id);
        expect(revoked).toMatchObject({ id: issued.id, user: 'carol', createdBy: 'root', revokedAt: new Date(clock.t).toISOString() });
        const err = await expectError(authenticate(deps.store, `Bearer ${issued.token}`, new Date(clock.t)), 'TG_TOKEN_INVALID');
        expect(err.message).toContain('revoked');
        const events = (await deps.store.auditEvents()).length;
        expect(await tokens.revoke(issued.id)).toEqual(revoked);
        expect((await deps.store.auditEvents()).length).toBe(events);
        expect((await tokens.list()).find((t) => t.id === issued.id)).toEqual(revoked);
        expect(await auditTypes()).toContain('TokenRevoked user:root');
      });

      it('names an unknown token id (TG_TOKEN_NOT_FOUND)', async () => {
        const err = await expectError(tokens.revoke('tok_nope'), 'TG_TOKEN_NOT_FOUND');
        expect(err.message).toContain('tok_nope');
      });

      it('refuses a name that is not a user name, and a duration that is not one, writing nothing', async () => {
        const before = await tokens.list();
        const events = (await deps.store.auditEvents()).length;
        await expectError(tokens.create('not a name'), schemaCode);
        const err = await expectError(tokens.create('bob', '30 parsecs'), 'TG_USAGE');
        expect(err.message).toContain('30 parsecs');
        expect(await tokens.list()).toEqual(before);
        expect((await deps.store.auditEvents()).length).toBe(events);
      });

      it('issues a token for someone outside the roster; only the local home can say so', async () => {
        const issued = await tokens.create('mallory');
        expect(issued.user).toBe('mallory');
        expect(await tokens.outsideRoster('mallory')).toEqual(suite.remote ? undefined : { policy: 'suite' });
        expect(await tokens.outsideRoster('dave')).toBeUndefined();
      });
    });

    describe('webhooks', () => {
      let hookId: string;

      it('subscribes a URL, shows the secret once, and lists it without', async () => {
        const created = await webhooks.create({ url: 'https://hooks.example.com/tollgate?key=k1', events: ['promotion.blocked', 'release.promoted', 'promotion.blocked'] });
        hookId = created.id;
        expect(created).toEqual({
          id: expect.stringMatching(/^whk_[0-9a-f]{12}$/),
          url: 'https://hooks.example.com/tollgate?key=k1',
          events: ['promotion.blocked', 'release.promoted'],
          format: 'json',
          secret: expect.stringMatching(/^whsec_/),
          createdAt: new Date(clock.t).toISOString(),
          createdBy: 'root',
          removedAt: null,
        });
        const mine = await webhooks.create({ url: 'http://ci.example.com/hook', events: ['*'], secret: 'sixteen-chars-ok' });
        expect(mine).toMatchObject({ events: ['*'], secret: 'sixteen-chars-ok' });
        const listed = await webhooks.list();
        expect(listed).toHaveLength(2);
        expect(listed).toEqual(expect.arrayContaining([withoutSecret(created), withoutSecret(mine)]));
        expect(JSON.stringify(listed)).not.toContain(created.secret);
        // The audit log keeps where a hook points, not its URL: the query may hold a credential.
        const audited = (await deps.store.auditEvents()).filter((e) => e.type === 'WebhookCreated');
        expect(audited.map((e) => e.actor)).toEqual(['user:root', 'user:root']);
        expect(JSON.stringify(audited)).not.toContain('key=k1');
      });

      it('logs a delivery for each subscribed event, and filters the log', async () => {
        await expectError(createUseCases(deps, 'dave').promote(V1, 'staging'), 'TG_PROMOTION_BLOCKED', 3);
        // Both hooks hear it: one by name, one by `*`.
        const all = await webhooks.deliveries({});
        expect(all.map((d) => `${d.webhookId === hookId ? 'named' : 'star'} ${d.event} ${d.status}`).sort()).toEqual([
          'named promotion.blocked pending',
          'star promotion.blocked pending',
        ]);
        const [mine] = await webhooks.deliveries({ webhookId: hookId });
        expect(mine).toMatchObject({ id: expect.stringMatching(/^dlv_/), webhookId: hookId, event: 'promotion.blocked', attempts: 0, tries: [], deliveredAt: null });
        expect(mine!.auditSeq).toBe((await deps.store.auditEvents()).find((e) => e.type === 'PromotionBlocked')!.seq);
        expect(await webhooks.deliveries({ status: 'delivered' })).toEqual([]);
        expect(await webhooks.deliveries({ status: 'pending', limit: 1 })).toHaveLength(1);
      });

      it('redelivers a delivery now, audited', async () => {
        const [d] = await webhooks.deliveries({ webhookId: hookId });
        const again = await webhooks.redeliver(d!.id);
        expect(again).toMatchObject({ id: d!.id, webhookId: hookId, status: 'pending', nextAttemptAt: new Date(clock.t).toISOString() });
        expect(await auditTypes()).toContain('WebhookRedelivered user:root');
      });

      it('removes a webhook, dropping what it has not sent; removing it again changes nothing', async () => {
        const removed = await webhooks.remove(hookId);
        expect(removed).toMatchObject({ id: hookId, removedAt: new Date(clock.t).toISOString() });
        expect((await webhooks.list()).map((w) => w.id)).not.toContain(hookId);
        const [dropped] = await webhooks.deliveries({ webhookId: hookId });
        expect(dropped).toMatchObject({ status: 'failed', lastError: 'the webhook was removed' });
        const events = (await deps.store.auditEvents()).length;
        expect(await webhooks.remove(hookId)).toEqual(removed);
        expect((await deps.store.auditEvents()).length).toBe(events);
        expect(await auditTypes()).toContain('WebhookRemoved user:root');
        const err = await expectError(webhooks.redeliver(dropped!.id), 'TG_WEBHOOK_NOT_FOUND');
        expect(err.message).toContain('was removed');
      });

      it('names unknown webhook and delivery ids (TG_WEBHOOK_NOT_FOUND)', async () => {
        for (const call of [() => webhooks.remove('whk_nope'), () => webhooks.deliveries({ webhookId: 'whk_nope' }), () => webhooks.redeliver('dlv_nope')]) {
          const err = await expectError(call(), 'TG_WEBHOOK_NOT_FOUND');
          expect(err.message).toMatch(/whk_nope|dlv_nope/);
        }
      });

      // `schema`: the API's request schema refuses it first (TG_REQUEST_INVALID over HTTP).
      const BAD: { name: string; hook: { url: string; events: string[]; secret?: string }; schema: boolean; message: RegExp }[] = [
        { name: 'not a URL', hook: { url: 'hooks.example.com', events: ['*'] }, schema: false, message: /not a URL/ },
        { name: 'not http', hook: { url: 'ftp://hooks.example.com/x', events: ['*'] }, schema: false, message: /http or https/ },
        { name: 'no events', hook: { url: 'https://hooks.example.com/x', events: [] }, schema: true, message: /event/ },
        { name: 'unknown event', hook: { url: 'https://hooks.example.com/x', events: ['release.deleted'] }, schema: false, message: /unknown webhook event "release.deleted"/ },
        { name: 'short secret', hook: { url: 'https://hooks.example.com/x', events: ['*'], secret: 'short' }, schema: true, message: /16/ },
      ];
      it.each(BAD)('refuses a subscription with $name, writing nothing', async ({ hook, schema, message }) => {
        const before = await webhooks.list();
        const events = (await deps.store.auditEvents()).length;
        const err = await expectError(webhooks.create(hook), schema ? schemaCode : 'TG_USAGE');
        expect(err.message).toMatch(message);
        expect(await webhooks.list()).toEqual(before);
        expect((await deps.store.auditEvents()).length).toBe(events);
      });
    });

    describe.runIf(suite.remote)('roles over the API', () => {
      it('refuses every admin operation to a member without the admin role (TG_NOT_ALLOWED), audited', async () => {
        const bobTokens = await harness.tokens('bob');
        const bobHooks = await harness.webhooks('bob');
        const [hook] = await webhooks.list();
        const [delivery] = await webhooks.deliveries({});
        const calls: (() => Promise<unknown>)[] = [
          () => bobTokens.create('bob'),
          () => bobTokens.list(),
          () => bobTokens.revoke('tok_nope'),
          () => bobHooks.create({ url: 'https://hooks.example.com/bob', events: ['*'] }),
          () => bobHooks.list(),
          () => bobHooks.remove(hook!.id),
          () => bobHooks.deliveries({}),
          () => bobHooks.deliveries({ webhookId: hook!.id }),
          () => bobHooks.redeliver(delivery!.id),
        ];
        for (const call of calls) {
          const err = await expectError(call(), 'TG_NOT_ALLOWED');
          expect(err.message).toContain('"admin" role');
        }
        const denied = (await deps.store.auditEvents()).filter((e) => e.type === 'AccessDenied');
        expect(denied).toHaveLength(calls.length);
        expect(new Set(denied.map((e) => e.actor))).toEqual(new Set(['user:bob']));
        expect((await webhooks.list()).map((w) => w.id)).toContain(hook!.id);
      });

      it('refuses someone outside the roster (TG_USER_UNKNOWN)', async () => {
        await expectError((await harness.tokens('mallory')).list(), 'TG_USER_UNKNOWN');
        await expectError((await harness.webhooks('mallory')).list(), 'TG_USER_UNKNOWN');
      });
    });

    describe('passkeys', () => {
      /** A passkey registered for `user` by a software authenticator, as the review desk would. */
      const registered = async (user: string): Promise<string> => {
        const rp = relyingPartyOf('https://desk.example');
        const auth = createSoftAuthenticator({ rpId: rp.id, origin: rp.origin });
        const { challenge } = await createPasskeyUseCases(deps, user).registrationOptions(rp);
        return (await createPasskeyUseCases(deps, user).register({ response: auth.register(challenge), expectedChallenge: challenge, rp })).credentialId;
      };

      it("lists every passkey for an admin and one user's on request; revokes by id, once, audited", async () => {
        const bobs = await registered('bob');
        const carols = await registered('carol');
        const admin = await harness.passkeys('root');
        expect((await admin.list()).map((k) => `${k.user} ${k.id}`)).toEqual(expect.arrayContaining([`bob ${bobs}`, `carol ${carols}`]));
        expect((await admin.list('carol')).map((k) => k.id)).toEqual([carols]);
        const revoked = await admin.revoke(carols);
        expect(revoked).toMatchObject({ id: carols, user: 'carol', revokedBy: 'root', revokedAt: new Date(clock.t).toISOString() });
        expect(await admin.revoke(carols)).toEqual(revoked);
        expect((await auditTypes()).filter((t) => t.startsWith('PasskeyRevoked'))).toEqual(['PasskeyRevoked user:root']);
        await expectError(admin.revoke('no-such-passkey'), 'TG_PASSKEY_NOT_FOUND');
      });

      it("lets an owner list and revoke their own, and nobody else's (TG_NOT_ALLOWED)", async () => {
        const bobs = await registered('bob');
        const bob = await harness.passkeys('bob');
        expect((await bob.list()).every((k) => k.user === 'bob')).toBe(true);
        await expectError(bob.list('carol'), 'TG_NOT_ALLOWED');
        const carols = await registered('carol');
        await expectError(bob.revoke(carols), 'TG_NOT_ALLOWED');
        expect(await bob.revoke(bobs)).toMatchObject({ id: bobs, revokedBy: 'bob' });
      });
    });
  });
}
