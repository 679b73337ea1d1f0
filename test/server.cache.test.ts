/**
 * The server's read cache: status decisions, the policy and token identities are kept in memory until
 * the store changes (a commit by this process, by another process on the same SQLite file, by
 * another replica on the same PostgreSQL database) or until a moment the decision depends on passes.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLocalClient } from '../src/client/local-client.js';
import { decisionHorizon } from '../src/domain/horizon.js';
import type { EvidenceSet, Policy, Signoff } from '../src/domain/model.js';
import { createApp } from '../src/server/app.js';
import { createReadCache } from '../src/server/read-cache.js';
import { revokeApiToken } from '../src/service/tokens.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { makeDeps, manifest, POLICY, SUBJECT } from './client-suite.js';
import { buildTemplate, serve, V1, type Template } from './server-fixture.js';

let template: Template;
beforeAll(async () => {
  template = await buildTemplate();
});
afterAll(async () => {
  const fs = await import('node:fs');
  fs.rmSync(template.dir, { recursive: true, force: true });
});

const ref = encodeURIComponent(V1);

describe('read cache over SQLite', () => {
  it('answers a repeated status read from memory, and a write by another process at once', async () => {
    const s = await serve(template);
    const other = await createSqliteStore(s.file);
    try {
      const auth = { authorization: template.headers['release-manager']! };
      const status = async () => (await s.app.inject({ method: 'GET', url: `/api/releases/${encodeURIComponent(`${SUBJECT}@2.0.0`)}/status?stage=production`, headers: auth })).json();
      const evidence = vi.spyOn(s.deps.store, 'evidence');
      const tokens = vi.spyOn(s.deps.store, 'findTokenByHash');
      const first = await status();
      expect(first.gates.find((g: { id: string }) => g.id === 'approvals').outcome).not.toBe('satisfied');
      expect(await status()).toEqual(first);
      expect(await status()).toEqual(first);
      expect(evidence).toHaveBeenCalledTimes(1);
      expect(tokens).toHaveBeenCalledTimes(1);

      // Another process (its own connection to the file) records a sign-off: the next read sees it.
      const otherDeps: ServiceDeps = { ...s.deps, store: other };
      const { KEYS } = await import('./client-suite.js');
      const { loadPrivateKey } = await import('../src/domain/keys.js');
      const { signSignoff } = await import('../src/domain/signoff.js');
      const carol = createLocalClient(otherDeps, 'carol');
      const draft = await carol.draftSignoffs({ release: `${SUBJECT}@2.0.0`, stage: 'production', role: 'security', decision: 'approve' });
      await carol.recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.carol.privateKeyPem)) })));
      const after = await status();
      const security = (d: any) => d.gates.find((g: { id: string }) => g.id === 'approvals').requirements.find((r: { id: string }) => r.id === 'signoff:security');
      expect(security(first).outcome).toBe('missing');
      expect(security(after).outcome).toBe('satisfied');
      expect(evidence).toHaveBeenCalledTimes(2);

      // A token revoked by another process stops working on the next request.
      const tokenId = (await other.listTokens()).find((t) => t.user === 'dave' && t.revokedAt === undefined && t.expiresAt === undefined)!.id;
      await revokeApiToken(otherDeps, undefined, tokenId);
      const refused = await s.app.inject({ method: 'GET', url: `/api/releases/${ref}/status?stage=production`, headers: auth });
      expect(refused.statusCode).toBe(401);
    } finally {
      await other.close();
      await s.close();
    }
  });

  it('keeps decisions per caller: separation of duties depends on who asks', async () => {
    const s = await serve(template);
    try {
      const ask = async (who: 'release-manager' | 'security') =>
        (await s.app.inject({ method: 'GET', url: `/api/releases/${ref}/status?stage=production`, headers: { authorization: template.headers[who]! } })).json();
      // Carol signed V1 off: asked by her (the would-be promoter) her sign-off does not count.
      expect((await ask('release-manager')).promotable).toBe(true);
      expect((await ask('security')).promotable).toBe(false);
      expect((await ask('release-manager')).promotable).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('does not keep unknown tokens', async () => {
    const s = await serve(template);
    try {
      const lookups = vi.spyOn(s.deps.store, 'findTokenByHash');
      for (let i = 0; i < 3; i++) {
        const res = await s.app.inject({ method: 'GET', url: '/api/policy', headers: { authorization: template.headers.unknown! } });
        expect(res.statusCode).toBe(401);
      }
      expect(lookups).toHaveBeenCalledTimes(3);
    } finally {
      await s.close();
    }
  });

  it('can be turned off', async () => {
    const s = await serve(template);
    const app = createApp(s.deps, { readCache: false });
    try {
      const evidence = vi.spyOn(s.deps.store, 'evidence');
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({ method: 'GET', url: `/api/releases/${ref}/status?stage=production`, headers: { authorization: template.headers.admin! } });
        expect(res.statusCode).toBe(200);
      }
      expect(evidence).toHaveBeenCalledTimes(3);
    } finally {
      await app.close();
      await s.close();
    }
  });
});

describe('read cache entries', () => {
  function fakeStore(marker: { v: string | undefined }): Store {
    return { changeMarker: async () => marker.v } as unknown as Store;
  }

  it('expire at their horizon, and start over when the marker moves; none without a marker', async () => {
    const marker: { v: string | undefined } = { v: '1/0' };
    const caches = createReadCache(fakeStore(marker));
    let computed = 0;
    const compute = async () => ({ value: ++computed, until: 1000 });
    expect(await caches.forRequest().get('k', 0, compute)).toBe(1);
    expect(await caches.forRequest().get('k', 999, compute)).toBe(1);
    expect(await caches.forRequest().get('k', 1000, compute)).toBe(2);
    marker.v = '2/0';
    expect(await caches.forRequest().get('k', 0, compute)).toBe(3);
    marker.v = undefined;
    expect(await caches.forRequest().get('k', 0, compute)).toBe(4);
    expect(await caches.forRequest().get('k', 0, compute)).toBe(5);
    // A computation that fails is not kept.
    marker.v = '3/0';
    await expect(caches.forRequest().get('e', 0, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await caches.forRequest().get('e', 0, async () => ({ value: 'ok' }))).toBe('ok');
  });

  it('are not kept when the marker moved while computing', async () => {
    const marker = { v: '1/0' as string | undefined };
    const caches = createReadCache(fakeStore(marker));
    const slow = caches.forRequest();
    const value = await slow.get('k', 0, async () => {
      marker.v = '2/0';
      await caches.forRequest().get('other', 0, async () => ({ value: 'x' }));
      return { value: 'old' };
    });
    expect(value).toBe('old');
    expect(await caches.forRequest().get('k', 0, async () => ({ value: 'new' }))).toBe('new');
  });
});

describe('read cache computations under way', () => {
  function fakeStore(marker: { v: string | undefined }): Store {
    return { changeMarker: async () => marker.v } as unknown as Store;
  }

  it('are shared by requests that ask together under one marker, and not across markers', async () => {
    const marker: { v: string | undefined } = { v: '1/0' };
    const caches = createReadCache(fakeStore(marker));
    let computed = 0;
    const compute = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return { value: ++computed };
    };
    expect(await Promise.all([1, 2, 3].map(() => caches.forRequest().get('k', 0, compute)))).toEqual([1, 1, 1]);
    expect(computed).toBe(1);
    marker.v = '2/0';
    const first = caches.forRequest().get('k', 0, compute);
    marker.v = '3/0';
    const second = caches.forRequest().get('k', 0, compute);
    expect(await Promise.all([first, second])).toEqual([2, 3]);
  });

  it('are not shared when they fail: each request then computes for itself', async () => {
    const caches = createReadCache(fakeStore({ v: '1/0' }));
    let calls = 0;
    const failing = caches.forRequest().get('e', 0, async () => {
      calls++;
      await new Promise((resolve) => setImmediate(resolve));
      throw new Error('boom');
    });
    const other = caches.forRequest().get('e', 0, async () => {
      calls++;
      return { value: 'ok' };
    });
    await expect(failing).rejects.toThrow('boom');
    expect(await other).toBe('ok');
    expect(calls).toBe(2);
  });
});

describe('decision horizon', () => {
  const policy = {
    stages: [{ name: 'staging' }, { name: 'production', freeze: ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z'] }],
    gates: [{ id: 'approvals', stage: 'production', expires: '24h', signoffs: [{ role: 'security', count: 1 }] }],
  } as unknown as Policy;
  const signoff = (at: string, stage = 'production', gate = 'approvals') => ({ at, stage, gate }) as Signoff;
  const evidence = (signoffs: Signoff[]): EvidenceSet => ({ checklist: [], signoffs, validations: [] });

  it('is the first expiry or freeze boundary after now', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(decisionHorizon(policy, evidence([]), 'staging', now)).toBe(Infinity);
    expect(decisionHorizon(policy, evidence([]), 'production', now)).toBe(Date.parse('2026-12-24T00:00:00Z'));
    const s = signoff('2026-11-30T12:00:00Z');
    expect(decisionHorizon(policy, evidence([s, signoff('2026-11-30T01:00:00Z', 'staging')]), 'production', now)).toBe(Date.parse('2026-12-01T12:00:00Z') + 1);
    // Inside the freeze, its end; after it, nothing.
    expect(decisionHorizon(policy, evidence([]), 'production', new Date('2026-12-25T00:00:00Z'))).toBe(Date.parse('2026-12-27T00:00:00Z'));
    expect(decisionHorizon(policy, evidence([]), 'production', new Date('2026-12-28T00:00:00Z'))).toBe(Infinity);
  });

  it('makes a cached status change when a sign-off expires, with nothing written', async () => {
    const clock = { t: Date.parse('2026-11-30T09:00:00Z') };
    const base = await makeDeps();
    const deps: ServiceDeps = { ...base, now: () => new Date(clock.t) };
    try {
      const expiring = POLICY.replace('  - id: approvals\n    stage: production\n', '  - id: approvals\n    stage: production\n    expires: 1h\n');
      expect(expiring).toContain('expires: 1h');
      const { KEYS } = await import('./client-suite.js');
      const { loadPrivateKey } = await import('../src/domain/keys.js');
      const { signSignoff } = await import('../src/domain/signoff.js');
      const { createApiToken } = await import('../src/service/tokens.js');
      await createLocalClient(deps, 'root').applyPolicy(expiring, 'tollgate.yaml');
      await createLocalClient(deps, 'alice').createRelease(manifest('1.0.0'));
      const carol = createLocalClient(deps, 'carol');
      const draft = await carol.draftSignoffs({ release: `${SUBJECT}@1.0.0`, stage: 'production', role: 'security', decision: 'approve' });
      await carol.recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.carol.privateKeyPem)) })));
      const token = (await createApiToken(deps, undefined, 'dave')).token;
      const app = createApp(deps);
      const security = async () => {
        const d = (await app.inject({ method: 'GET', url: `/api/releases/${encodeURIComponent(`${SUBJECT}@1.0.0`)}/status?stage=production`, headers: { authorization: `Bearer ${token}` } })).json();
        return d.gates.find((g: { id: string }) => g.id === 'approvals').requirements.find((r: { id: string }) => r.id === 'signoff:security').outcome;
      };
      expect(await security()).toBe('satisfied');
      clock.t += 59 * 60_000;
      expect(await security()).toBe('satisfied');
      clock.t += 2 * 60_000;
      expect(await security()).toBe('expired');
      await app.close();
    } finally {
      await deps.store.close();
    }
  });
});

const PG = process.env.TOLLGATE_TEST_PG;

describe.skipIf(!PG)('read cache over PostgreSQL', () => {
  it('sees another replica\'s write on the next read', async () => {
    const schema = `tollgate_cache_${randomUUID().replaceAll('-', '')}`;
    const admin = new pg.Pool({ connectionString: PG, max: 1 });
    const a = await createPostgresStore(PG!, { schema, poolSize: 3 });
    const b = await createPostgresStore(PG!, { schema, poolSize: 3 });
    try {
      const depsA = { ...(await makeDeps(async () => a)) };
      const depsB: ServiceDeps = { ...depsA, store: b };
      await createLocalClient(depsB, 'root').applyPolicy(POLICY, 'tollgate.yaml');
      await createLocalClient(depsB, 'alice').createRelease(manifest('1.0.0'));
      const { createApiToken } = await import('../src/service/tokens.js');
      const token = (await createApiToken(depsB, undefined, 'dave')).token;
      const app = createApp(depsA);
      const evidence = vi.spyOn(a, 'evidence');
      const staging = async () =>
        (await app.inject({ method: 'GET', url: `/api/releases/${encodeURIComponent(`${SUBJECT}@1.0.0`)}/status?stage=staging`, headers: { authorization: `Bearer ${token}` } })).json();
      const before = await staging();
      expect(await staging()).toEqual(before);
      expect(evidence).toHaveBeenCalledTimes(1);
      await createLocalClient(depsB, 'dave').check({ release: `${SUBJECT}@1.0.0`, stage: 'staging', item: 'alerts-tested' });
      const after = await staging();
      const item = (d: any) => d.gates.find((g: { id: string }) => g.id === 'inventory').requirements.find((r: { id: string }) => r.id === 'alerts-tested').outcome;
      expect(item(before)).not.toBe('satisfied');
      expect(item(after)).toBe('satisfied');
      await app.close();
    } finally {
      await a.close();
      await b.close();
      await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      await admin.end();
    }
  });
});
