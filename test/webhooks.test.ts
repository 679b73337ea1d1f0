/**
 * Webhooks end to end in one process: the outbox is written by the change itself, the dispatcher
 * POSTs signed deliveries to a real HTTP receiver, retries with backoff, and keeps a delivery log.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalClient } from '../src/client/local-client.js';
import { loadPrivateKey } from '../src/domain/keys.js';
import { signSignoff } from '../src/domain/signoff.js';
import { change } from '../src/service/change.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { createWebhook, listDeliveries, redeliverWebhook, removeWebhook } from '../src/service/webhooks.js';
import { backoff, createDispatcher } from '../src/webhooks/dispatcher.js';
import { signDelivery, verifyDelivery } from '../src/webhooks/signature.js';
import { KEYS, expectError, makeDeps, manifest, SUBJECT } from './client-suite.js';
import { slackProblems, teamsProblems } from './helpers/chat-shapes.js';
import { startReceiver } from './helpers/serve.js';

const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: hooks
roster:
  root:  { roles: [admin], key: "${KEYS.root.publicKey}" }
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  carol: { roles: [security], key: "${KEYS.carol.publicKey}" }
  dave:  { roles: [release-manager], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: approvals
    stage: production
    signoffs:
      - { role: security, count: 1 }
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store with the policy and release V1 in staging; returns deps whose clock the test moves. */
async function setup(): Promise<{ deps: ServiceDeps; clock: { t: number } }> {
  const clock = { t: Date.UTC(2026, 10, 30, 9) };
  const base = await makeDeps();
  // Receivers listen on 127.0.0.1: private addresses allowed, as `serve --allow-private-webhooks` does.
  const deps: ServiceDeps = { ...base, now: () => new Date(clock.t), allowPrivateWebhooks: true };
  cleanups.push(() => deps.store.close());
  const root = createLocalClient(deps, 'root');
  await root.applyPolicy(POLICY, 'tollgate.yaml');
  await createLocalClient(deps, 'alice').createRelease(manifest('1.0.0'));
  await createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'staging');
  return { deps, clock };
}

async function approve(deps: ServiceDeps): Promise<void> {
  const carol = createLocalClient(deps, 'carol');
  const draft = await carol.draftSignoffs({ release: `${SUBJECT}@1.0.0`, stage: 'production', role: 'security', decision: 'approve' });
  const key = loadPrivateKey(KEYS.carol.privateKeyPem);
  await carol.recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, key) })));
}

describe('webhook signatures', () => {
  const now = new Date('2026-11-30T09:00:00Z');
  const t = Math.floor(now.getTime() / 1000);
  const secret = 'whsec_test_secret_value';
  const body = '{"type":"release.promoted"}';

  it('verify what was signed, and nothing else', () => {
    const signature = signDelivery(secret, t, body);
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyDelivery({ secret, body, timestamp: String(t), signature, now })).toBe(true);
    expect(verifyDelivery({ secret, body: body.replace('promoted', 'rolled_back'), timestamp: String(t), signature, now })).toBe(false);
    expect(verifyDelivery({ secret: 'whsec_another_secret', body, timestamp: String(t), signature, now })).toBe(false);
    // The timestamp is signed: moving it breaks the signature; an old one is refused outright.
    expect(verifyDelivery({ secret, body, timestamp: String(t + 1), signature, now })).toBe(false);
    expect(verifyDelivery({ secret, body, timestamp: String(t), signature, now: new Date(now.getTime() + 600_000) })).toBe(false);
    expect(verifyDelivery({ secret, body, timestamp: undefined, signature, now })).toBe(false);
    expect(verifyDelivery({ secret, body, timestamp: String(t), signature: undefined, now })).toBe(false);
    expect(verifyDelivery({ secret, body, timestamp: String(t), signature: `v1=${'0'.repeat(64)},${signature}`, now })).toBe(true);
  });

  it('back off exponentially, capped, with bounded jitter', () => {
    expect([1, 2, 3, 4].map((n) => backoff(n, 1000, 5000, () => 0.5))).toEqual([1000, 2000, 4000, 5000]);
    expect(backoff(3, 1000, 60_000, () => 0)).toBe(3200);
    expect(backoff(3, 1000, 60_000, () => 1)).toBe(4800);
  });
});

describe('webhook outbox and dispatcher', () => {
  it('delivers each subscribed event once, signed, in audit order, and logs it', async () => {
    const { deps } = await setup();
    const r = await startReceiver();
    cleanups.push(r.close);
    const all = await createWebhook(deps, 'root', { url: r.url, events: ['*'] });
    const promotedOnly = await createWebhook(deps, 'root', { url: r.url, events: ['release.promoted'], secret: 'a-shared-secret-of-enough-length' });
    expect(all.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    // Blocked (no sign-off yet): promotion.blocked and signoff.requested; then the sign-off and the promotion.
    await expectError(createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'production'), 'TG_PROMOTION_BLOCKED', 3);
    await approve(deps);
    await createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'production');

    const pending = await listDeliveries(deps.store, { status: 'pending' });
    expect(pending.map((d) => `${d.webhookId === all.id ? 'all' : 'promoted'}:${d.event}`).sort()).toEqual(
      ['all:promotion.blocked', 'all:release.promoted', 'all:signoff.recorded', 'all:signoff.requested', 'promoted:release.promoted'].sort(),
    );

    const dispatcher = createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true });
    expect(await dispatcher.runOnce()).toBe(5);
    expect(await dispatcher.runOnce()).toBe(0);
    expect(r.got).toHaveLength(5);

    const secrets = new Map([
      [all.id, all.secret],
      [promotedOnly.id, 'a-shared-secret-of-enough-length'],
    ]);
    const bodies = r.got.map((g) => {
      const payload = JSON.parse(g.body);
      const log = pending.find((d) => d.id === g.headers['tollgate-delivery'])!;
      expect(g.headers['content-type']).toBe('application/json');
      expect(g.headers['tollgate-event']).toBe(payload.type);
      expect(payload.id).toBe(log.id);
      expect(
        verifyDelivery({
          secret: secrets.get(log.webhookId)!,
          body: g.body,
          timestamp: g.headers['tollgate-timestamp'] as string,
          signature: g.headers['tollgate-signature'] as string,
          now: deps.now(),
        }),
      ).toBe(true);
      return payload;
    });
    // In the log's order: what a receiver sees follows what happened.
    expect(bodies.map((b) => b.audit.seq)).toEqual([...bodies.map((b) => b.audit.seq)].sort((a, b) => a - b));
    const requested = bodies.find((b) => b.type === 'signoff.requested');
    expect(requested.data.signoffsNeeded).toEqual([{ gate: 'approvals', role: 'security', outcome: 'missing' }]);
    const promoted = bodies.find((b) => b.type === 'release.promoted');
    expect(promoted).toMatchObject({ actor: 'user:dave', data: { release: `${SUBJECT}@1.0.0`, stage: 'production' }, audit: { type: 'ReleasePromoted' } });
    const audit = await deps.store.auditEvents();
    expect(audit.find((e) => e.seq === promoted.audit.seq)?.hash).toBe(promoted.audit.hash);
    const recorded = bodies.find((b) => b.type === 'signoff.recorded');
    expect(recorded.data.signature).toBeUndefined();
    expect(recorded.data.role).toBe('security');

    const log = await listDeliveries(deps.store, { webhookId: all.id });
    expect(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.tries.length === 1 && d.tries[0]!.statusCode === 204)).toBe(true);
    // The secret is never listed, nor in the audit log.
    expect(JSON.stringify(await deps.store.auditEvents())).not.toContain(all.secret);
  });

  it('writes no delivery for a change that rolls back', async () => {
    const { deps } = await setup();
    await createWebhook(deps, 'root', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    await expect(
      change(deps, async ({ audit }) => {
        await audit('ReleasePromoted', 'user:dave', { release: `${SUBJECT}@9.9.9`, stage: 'production' });
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await listDeliveries(deps.store)).toEqual([]);
  });

  it('retries a failing receiver with backoff until it answers, logging every try', async () => {
    const { deps, clock } = await setup();
    const r = await startReceiver([500, 503]);
    cleanups.push(r.close);
    const hook = await createWebhook(deps, 'root', { url: r.url, events: ['release.rolled_back'] });
    await createLocalClient(deps, 'alice').createRelease(manifest('2.0.0'));
    await createLocalClient(deps, 'dave').promote(`${SUBJECT}@2.0.0`, 'staging');
    await createLocalClient(deps, 'dave').rollback(SUBJECT, 'staging', 'latency regression');
    const dispatcher = createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true, backoffMs: 1000, backoffMaxMs: 10_000 });

    expect(await dispatcher.runOnce()).toBe(1);
    let [d] = await listDeliveries(deps.store, { webhookId: hook.id });
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 500, lastError: 'the receiver answered 500' });
    const wait1 = Date.parse(d!.nextAttemptAt!) - clock.t;
    expect(wait1).toBeGreaterThanOrEqual(800);
    expect(wait1).toBeLessThanOrEqual(1200);
    // Not due yet: nothing is sent.
    expect(await dispatcher.runOnce()).toBe(0);
    clock.t += wait1;
    expect(await dispatcher.runOnce()).toBe(1);
    [d] = await listDeliveries(deps.store, { webhookId: hook.id });
    const wait2 = Date.parse(d!.nextAttemptAt!) - clock.t;
    expect(wait2).toBeGreaterThanOrEqual(1600);
    expect(wait2).toBeLessThanOrEqual(2400);
    clock.t += wait2;
    expect(await dispatcher.runOnce()).toBe(1);
    [d] = await listDeliveries(deps.store, { webhookId: hook.id });
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 204, nextAttemptAt: null });
    expect(d!.tries.map((t) => t.statusCode)).toEqual([500, 503, 204]);
    // Every try sent the same delivery: same id, same body.
    expect(new Set(r.got.map((g) => g.headers['tollgate-delivery'])).size).toBe(1);
    expect(new Set(r.got.map((g) => g.body)).size).toBe(1);
    expect(JSON.parse(r.got[0]!.body)).toMatchObject({ type: 'release.rolled_back', data: { reason: 'latency regression', to: `${SUBJECT}@1.0.0` } });
  });

  it('gives up after the last try, and reports an unreachable receiver and a timeout', async () => {
    const { deps, clock } = await setup();
    const slow = http.createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => { slow.closeAllConnections(); slow.close(() => resolve()); }));
    const closed = await startReceiver();
    await closed.close();
    const down = await createWebhook(deps, 'root', { url: closed.url, events: ['release.promoted'] });
    const hung = await createWebhook(deps, 'root', { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, events: ['release.promoted'] });
    await approve(deps);
    await createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'production');
    const dispatcher = createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true, maxAttempts: 2, backoffMs: 10, timeoutMs: 300 });
    expect(await dispatcher.runOnce()).toBe(2);
    clock.t += 60_000;
    expect(await dispatcher.runOnce()).toBe(2);
    clock.t += 60_000;
    expect(await dispatcher.runOnce()).toBe(0);
    const [d1] = await listDeliveries(deps.store, { webhookId: down.id });
    expect(d1).toMatchObject({ status: 'failed', attempts: 2, nextAttemptAt: null });
    expect(d1!.lastError).toMatch(/ECONNREFUSED/);
    const [d2] = await listDeliveries(deps.store, { webhookId: hung.id });
    expect(d2).toMatchObject({ status: 'failed', attempts: 2, lastError: 'no answer within 300 ms' });

    // A redelivery gives a failed delivery one more try, now; the log keeps all of them.
    const redone = await redeliverWebhook(deps, 'root', d2!.id);
    expect(redone).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: deps.now().toISOString() });
    expect((await deps.store.auditEvents()).at(-1)).toMatchObject({ type: 'WebhookRedelivered', data: { delivery: d2!.id, webhook: hung.id } });
    expect(await dispatcher.runOnce()).toBe(1);
    const [d2again] = await listDeliveries(deps.store, { webhookId: hung.id });
    expect(d2again).toMatchObject({ status: 'failed', attempts: 3, lastError: 'no answer within 300 ms' });
    expect(d2again!.tries).toHaveLength(3);
    // Not for a delivery that does not exist, nor one whose webhook was removed.
    await expectError(redeliverWebhook(deps, 'root', 'dlv_nope'), 'TG_WEBHOOK_NOT_FOUND');
    await removeWebhook(deps, 'root', down.id);
    await expectError(redeliverWebhook(deps, 'root', d1!.id), 'TG_WEBHOOK_NOT_FOUND');
  });

  it('refuses private addresses at creation (TG_WEBHOOK_URL_REFUSED) and at delivery, recorded as refused with no connection (issue 13, finding 5)', async () => {
    const { deps } = await setup();
    const guarded: ServiceDeps = { ...deps, allowPrivateWebhooks: false };
    for (const url of ['http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://0x7f000001/x', 'http://169.254.169.254/latest/meta-data/']) {
      await expectError(createWebhook(guarded, 'root', { url, events: ['*'] }), 'TG_WEBHOOK_URL_REFUSED', 2);
    }
    // Added while allowed (or its DNS answer changed since): the dispatcher checks again at every try.
    const r = await startReceiver();
    cleanups.push(r.close);
    const hook = await createWebhook(deps, 'root', { url: r.url, events: ['signoff.recorded'] });
    await approve(deps);
    const dispatcher = createDispatcher({ store: deps.store, now: deps.now });
    expect(await dispatcher.runOnce()).toBe(1);
    expect(r.got).toHaveLength(0);
    const [refused] = await listDeliveries(deps.store, { webhookId: hook.id });
    expect(refused).toMatchObject({ status: 'failed', attempts: 1, lastStatus: null, lastError: expect.stringMatching(/^refused: 127\.0\.0\.1 is a loopback address; not sent/) });
    expect(refused!.tries).toMatchObject([{ statusCode: null, error: expect.stringMatching(/^refused: /) }]);
  });

  it('coalesces identical blocked attempts within 10 minutes: one PromotionBlocked per actor, one signoff.requested per sign-offs wanted (issue 13, finding 4)', async () => {
    const { deps, clock } = await setup();
    await createWebhook(deps, 'root', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    const blocked = () => expectError(createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'production'), 'TG_PROMOTION_BLOCKED', 3);
    const events = async () => (await deps.store.auditEvents()).filter((e) => e.type === 'PromotionBlocked');
    const pending = async (event: string) => (await listDeliveries(deps.store, { status: 'pending' })).filter((d) => d.event === event).length;

    for (let i = 0; i < 50; i++) await blocked();
    expect(await events()).toHaveLength(1);
    expect(await pending('promotion.blocked')).toBe(1);
    expect(await pending('signoff.requested')).toBe(1);

    // Another actor's attempt is recorded (who tried is part of the record), without asking for the same sign-offs again.
    await expectError(createLocalClient(deps, 'root').promote(`${SUBJECT}@1.0.0`, 'production'), 'TG_PROMOTION_BLOCKED', 3);
    const [first, second] = await events();
    expect(second).toMatchObject({ actor: 'user:root', data: { signoffsRequestedBy: first!.seq } });
    expect(await pending('signoff.requested')).toBe(1);

    // After the window, the same attempt is recorded again, and the sign-offs asked for again.
    clock.t += 10 * 60_000 + 1;
    await blocked();
    expect(await events()).toHaveLength(3);
    expect(await pending('signoff.requested')).toBe(2);

    // What is unmet changed (carol approved): a new event at once.
    clock.t += 1000;
    await approve(deps);
    await createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'production').catch(() => undefined);
    const production = (await deps.store.auditEvents()).filter((e) => (e.type === 'PromotionBlocked' || e.type === 'ReleasePromoted') && e.data.stage === 'production');
    expect(production).toHaveLength(4);
  });

  it('redelivers a failed delivery once its receiver is back', async () => {
    const { deps } = await setup();
    const r = await startReceiver([503]);
    cleanups.push(r.close);
    const hook = await createWebhook(deps, 'root', { url: r.url, events: ['signoff.recorded'] });
    await approve(deps);
    const dispatcher = createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true, maxAttempts: 1 });
    expect(await dispatcher.runOnce()).toBe(1);
    const [failed] = await listDeliveries(deps.store, { webhookId: hook.id });
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 503 });
    await redeliverWebhook(deps, 'root', failed!.id);
    expect(await dispatcher.runOnce()).toBe(1);
    const [delivered] = await listDeliveries(deps.store, { webhookId: hook.id });
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 204 });
    expect(r.got.map((g) => g.headers['tollgate-delivery'])).toEqual([failed!.id, failed!.id]);
  });

  it('drops what is not yet sent when a webhook is removed, and names unknown ids', async () => {
    const { deps } = await setup();
    const hook = await createWebhook(deps, 'root', { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    await approve(deps);
    const removed = await removeWebhook(deps, 'root', hook.id);
    expect(removed.removedAt).toEqual(expect.any(String));
    const [d] = await listDeliveries(deps.store, { webhookId: hook.id });
    expect(d).toMatchObject({ event: 'signoff.recorded', status: 'failed', lastError: 'the webhook was removed' });
    // Nothing to send: the dispatcher finds no due delivery.
    expect(await createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true }).runOnce()).toBe(0);
    await expectError(removeWebhook(deps, 'root', 'whk_nope'), 'TG_WEBHOOK_NOT_FOUND');
    await expectError(listDeliveries(deps.store, { webhookId: 'whk_nope' }), 'TG_WEBHOOK_NOT_FOUND');
    const events = await deps.store.auditEvents();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['WebhookCreated', 'WebhookRemoved']));
    // The audit log says where a webhook points, never its whole URL (chat URLs carry credentials).
    const created = events.find((e) => e.type === 'WebhookCreated')!;
    expect(created.data).toMatchObject({ id: hook.id, url: { origin: 'http://127.0.0.1:9', digest: expect.stringMatching(/^sha256:/) }, events: ['*'] });
    expect(JSON.stringify(events)).not.toContain('127.0.0.1:9/hook');
  });

  it('refuses a bad subscription with a clear message and writes nothing', async () => {
    const { deps } = await setup();
    const before = (await deps.store.auditEvents()).length;
    await expect(createWebhook(deps, 'root', { url: 'not a url', events: ['*'] })).rejects.toThrow(/is not a URL/);
    await expect(createWebhook(deps, 'root', { url: 'ftp://example.com/x', events: ['*'] })).rejects.toThrow(/http or https/);
    await expect(createWebhook(deps, 'root', { url: 'https://example.com/x', events: ['release.deleted'] })).rejects.toThrow(/unknown webhook event "release.deleted"/);
    await expect(createWebhook(deps, 'root', { url: 'https://example.com/x', events: [] })).rejects.toThrow(/at least one event/);
    await expectError(createWebhook(deps, 'root', { url: 'https://example.com/x', events: ['*'], secret: 'short' }), 'TG_USAGE');
    expect(await deps.store.listWebhooks({ includeRemoved: true })).toEqual([]);
    expect((await deps.store.auditEvents()).length).toBe(before);
  });

  it('runs as a loop that a stop ends after recording the tries in flight', async () => {
    const { deps } = await setup();
    const r = await startReceiver();
    cleanups.push(r.close);
    await createWebhook(deps, 'root', { url: r.url, events: ['signoff.recorded'] });
    const dispatcher = createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true, pollMs: 20 });
    dispatcher.start();
    dispatcher.start();
    await approve(deps);
    for (let i = 0; i < 200 && (await listDeliveries(deps.store, { status: 'delivered' })).length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    await dispatcher.stop();
    expect(r.got).toHaveLength(1);
    expect((await listDeliveries(deps.store))[0]?.status).toBe('delivered');
  });
});

describe('chat formats (issue 14, part 4)', () => {
  /** V1 approved for production, V2 in staging: what happens next is the events the webhooks hear. */
  async function prepare(deps: ServiceDeps): Promise<void> {
    await approve(deps);
    await createLocalClient(deps, 'alice').createRelease(manifest('2.0.0'));
    await createLocalClient(deps, 'dave').promote(`${SUBJECT}@2.0.0`, 'staging');
  }

  /** A promotion to production and a rollback of staging with a long, hostile reason: real events. */
  async function happen(deps: ServiceDeps): Promise<string> {
    await createLocalClient(deps, 'dave').promote(`${SUBJECT}@1.0.0`, 'production');
    const reason = `<!channel> see <https://evil.example|here> & ${'a very long reason '.repeat(400)}`;
    await createLocalClient(deps, 'dave').rollback(SUBJECT, 'staging', reason);
    return reason;
  }

  it('delivers Slack Block Kit and Teams Adaptive Card messages, signed as sent, with the release link when the public URL is set', async () => {
    const { deps } = await setup();
    await prepare(deps);
    const r = await startReceiver();
    cleanups.push(r.close);
    const slack = await createWebhook(deps, 'root', { url: `${r.url}/slack`, events: ['release.promoted', 'release.rolled_back'], format: 'slack' });
    const teams = await createWebhook(deps, 'root', { url: `${r.url}/teams`, events: ['release.promoted', 'release.rolled_back'], format: 'teams' });
    const json = await createWebhook(deps, 'root', { url: `${r.url}/json`, events: ['release.promoted'] });
    expect([slack.format, teams.format, json.format]).toEqual(['slack', 'teams', 'json']);
    await happen(deps);

    const dispatcher = createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true, publicUrl: 'https://tollgate.example.com' });
    expect(await dispatcher.runOnce()).toBe(5);
    const secrets = new Map([[slack.id, slack.secret], [teams.id, teams.secret], [json.id, json.secret]]);
    const log = await listDeliveries(deps.store);
    for (const g of r.got) {
      const d = log.find((x) => x.id === g.headers['tollgate-delivery'])!;
      // The signature covers the exact body received, whatever its format.
      expect(verifyDelivery({ secret: secrets.get(d.webhookId)!, body: g.body, timestamp: g.headers['tollgate-timestamp'] as string, signature: g.headers['tollgate-signature'] as string, now: deps.now() })).toBe(true);
      expect(g.headers['tollgate-event']).toBe(d.event);
    }
    const got = (hook: { id: string }, event: string) => {
      const d = log.find((x) => x.webhookId === hook.id && x.event === event)!;
      return r.got.find((g) => g.headers['tollgate-delivery'] === d.id)!.json;
    };

    const promoted = got(slack, 'release.promoted');
    expect(slackProblems(promoted)).toEqual([]);
    expect(promoted.blocks.every((b: { type?: unknown }) => typeof b.type === 'string')).toBe(true);
    expect(promoted.blocks[0].text.text).toBe(`${SUBJECT}@1.0.0 promoted to production`);
    expect(JSON.stringify(promoted.blocks[1])).toContain('dave');
    expect(promoted.blocks.find((b: { type: string }) => b.type === 'actions').elements[0].url).toBe(`https://tollgate.example.com/releases/${SUBJECT}@1.0.0?stage=production`);

    const rolledBack = got(slack, 'release.rolled_back');
    expect(slackProblems(rolledBack)).toEqual([]);
    const reason = rolledBack.blocks.find((b: { text?: { text: string } }) => b.text?.text.startsWith('*Reason*')).text.text as string;
    expect(reason.length).toBeLessThanOrEqual(3000);
    expect(reason).toMatch(/^\*Reason\*\n• &lt;!channel&gt; see &lt;https:\/\/evil\.example\|here&gt; &amp; a very long reason/);
    expect(reason.endsWith('…')).toBe(true);

    const card = got(teams, 'release.promoted');
    expect(teamsProblems(card)).toEqual([]);
    expect(card.attachments[0].content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open the release', url: `https://tollgate.example.com/releases/${SUBJECT}@1.0.0?stage=production` }]);
    expect(teamsProblems(got(teams, 'release.rolled_back'))).toEqual([]);

    // The default format is today's payload, unchanged.
    const plain = got(json, 'release.promoted');
    const stored = log.find((x) => x.webhookId === json.id)!;
    expect(plain).toMatchObject({ id: stored.id, type: 'release.promoted', data: { release: `${SUBJECT}@1.0.0`, stage: 'production' } });
  });

  it('leaves the link out when the server has no public URL', async () => {
    const { deps } = await setup();
    await prepare(deps);
    const r = await startReceiver();
    cleanups.push(r.close);
    await createWebhook(deps, 'root', { url: r.url, events: ['release.promoted'], format: 'slack' });
    await createWebhook(deps, 'root', { url: r.url, events: ['release.promoted'], format: 'teams' });
    await happen(deps);
    expect(await createDispatcher({ store: deps.store, now: deps.now, allowPrivate: true }).runOnce()).toBe(2);
    const [s, t] = [r.got.find((g) => 'blocks' in g.json)!.json, r.got.find((g) => 'attachments' in g.json)!.json];
    expect(slackProblems(s)).toEqual([]);
    expect(s.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'context']);
    expect(teamsProblems(t)).toEqual([]);
    expect(t.attachments[0].content.actions).toEqual([]);
  });

  it('refuses an unknown format with TG_WEBHOOK_FORMAT_UNKNOWN and writes nothing', async () => {
    const { deps } = await setup();
    const before = (await deps.store.auditEvents()).length;
    await expectError(createWebhook(deps, 'root', { url: 'https://example.com/x', events: ['*'], format: 'discord' }), 'TG_WEBHOOK_FORMAT_UNKNOWN', 2);
    expect(await deps.store.listWebhooks({ includeRemoved: true })).toEqual([]);
    expect((await deps.store.auditEvents()).length).toBe(before);
  });
});
