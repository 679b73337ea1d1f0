/**
 * The authorization table: every route the app registers (read from the app itself, so a new route
 * without a row fails here) × every kind of caller gets exactly the status the table says. Each cell
 * runs on a fresh copy of the same database, so the cells do not depend on one another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../src/server/app.js';
import { manifest, POLICY, SUBJECT } from './client-suite.js';
import { createLocalClient } from '../src/client/local-client.js';
import { buildTemplate, carolSignoff, IDENTITIES, passingResults, serve, USER_OF, V1, V2, type Identity, type Served, type Template } from './server-fixture.js';

interface Call {
  readonly url: string;
  readonly body?: unknown;
}

interface Row {
  /** The request, built against the served copy (some bodies are signed or planned at call time). */
  readonly call: (s: Served, t: Template) => Promise<Call> | Call;
  /** Status for roster members; `public` routes answer everyone with it. */
  readonly member: number;
  readonly public?: boolean;
  /** Statuses that differ from `member`, by identity. */
  readonly except?: Partial<Record<Identity, number>>;
}

const adminOnly = (ok: number): Pick<Row, 'member' | 'except'> => ({ member: 403, except: { admin: ok } });

const ref = encodeURIComponent(V1);

// What each route answers each kind of caller, with the template's state (see server-fixture.ts).
const TABLE: Record<string, Row> = {
  'GET /healthz': { public: true, member: 200, call: () => ({ url: '/healthz' }) },
  'GET /readyz': { public: true, member: 200, call: () => ({ url: '/readyz' }) },
  'GET /metrics': { public: true, member: 200, call: () => ({ url: '/metrics' }) },
  'GET /openapi.json': { public: true, member: 200, call: () => ({ url: '/openapi.json' }) },

  'POST /api/policies': { ...adminOnly(201), call: () => ({ url: '/api/policies', body: { source: POLICY, file: 'tollgate.yaml' } }) },
  'GET /api/policy': { member: 200, call: () => ({ url: '/api/policy' }) },
  'GET /api/policies': { member: 200, call: () => ({ url: '/api/policies' }) },
  'GET /api/policies/:version': { member: 200, call: () => ({ url: '/api/policies/1' }) },
  'POST /api/policies/diff': { member: 200, call: () => ({ url: '/api/policies/diff', body: { source: POLICY.replace('count: 1 }', 'count: 2 }'), file: 'new.yaml' } }) },
  'POST /api/releases': { member: 201, call: () => ({ url: '/api/releases', body: manifest('3.0.0') }) },
  'GET /api/releases': { member: 200, call: () => ({ url: '/api/releases' }) },
  'GET /api/releases/:ref': { member: 200, call: () => ({ url: `/api/releases/${ref}` }) },
  'GET /api/releases/:ref/status': { member: 200, call: () => ({ url: `/api/releases/${ref}/status?stage=production` }) },
  'GET /api/releases/:ref/evidence': { member: 200, call: () => ({ url: `/api/releases/${ref}/evidence` }) },
  'POST /api/releases/:ref/checklist': { member: 201, call: () => ({ url: `/api/releases/${ref}/checklist`, body: { stage: 'staging', item: 'alerts-tested' } }) },
  // Only carol holds security; everyone else is refused the draft (TG_ROLE_NOT_HELD).
  'POST /api/releases/:ref/signoff-drafts': {
    member: 403,
    except: { security: 200 },
    call: () => ({ url: `/api/releases/${ref}/signoff-drafts`, body: { stage: 'production', role: 'security', decision: 'approve' } }),
  },
  // Carol's signed sign-off: only carol may record it (TG_NOT_ALLOWED for anyone else).
  'POST /api/releases/:ref/signoffs': {
    member: 403,
    except: { security: 201 },
    call: async (s) => ({ url: `/api/releases/${ref}/signoffs`, body: { signoffs: await carolSignoff(s.deps) } }),
  },
  // The template's policy names no break-glass role and no waivers: every member is refused (TG_NOT_ALLOWED);
  // who may when it does is the client suite's "break-glass and waivers".
  'POST /api/releases/:ref/exception-drafts': {
    member: 403,
    call: () => ({ url: `/api/releases/${ref}/exception-drafts`, body: { stage: 'production', role: 'security', kind: 'break-glass', reason: 'incident' } }),
  },
  'POST /api/releases/:ref/exceptions': {
    member: 403,
    call: async (s) => {
      const release = await createLocalClient(s.deps, 'carol').showRelease(V1);
      const body = { type: 'tollgate/exception/v1', kind: 'break-glass', release: V1, releaseDigest: release.digest, stage: 'production', role: 'security', signer: 'carol', at: s.deps.now().toISOString(), reason: 'incident', signature: Buffer.from('x'.repeat(64)).toString('base64') };
      return { url: `/api/releases/${ref}/exceptions`, body };
    },
  },
  'GET /api/releases/:ref/validation-plan': { member: 403, except: { validator: 200 }, call: () => ({ url: `/api/releases/${ref}/validation-plan?stage=staging` }) },
  'POST /api/releases/:ref/validations': {
    member: 403,
    except: { validator: 201 },
    call: async (s) => ({ url: `/api/releases/${ref}/validations`, body: { results: await passingResults(s.deps, V1, 'staging') } }),
  },
  'GET /api/subjects/:subject/baselines/:ref': { member: 200, call: () => ({ url: `/api/subjects/${SUBJECT}/baselines/staging` }) },
  'GET /api/blobs/:digest': { member: 200, call: () => ({ url: `/api/blobs/sha256:${'0'.repeat(64)}` }) },
  // Bob and carol signed V1 off: with separation of duties their own promotion does not count them,
  // so it is refused (409); anyone else promotes it.
  'POST /api/releases/:ref/promotions': {
    member: 201,
    except: { 'ml-engineer': 409, security: 409 },
    call: () => ({ url: `/api/releases/${ref}/promotions`, body: { stage: 'production' } }),
  },
  'POST /api/subjects/:subject/rollbacks': { member: 201, call: () => ({ url: `/api/subjects/${SUBJECT}/rollbacks`, body: { stage: 'staging', reason: 'latency regression' } }) },
  // dave rolls V2 out of staging first; clearing its hold takes release-manager or admin (the default `clear`).
  'POST /api/releases/:ref/clearances': {
    member: 403,
    except: { admin: 201, 'release-manager': 201 },
    call: async (s) => {
      await createLocalClient(s.deps, 'dave').rollback(SUBJECT, 'staging', 'latency regression');
      return { url: `/api/releases/${encodeURIComponent(V2)}/clearances`, body: { stage: 'staging', reason: 'fixed in the runtime' } };
    },
  },
  // Any roster member opens and resolves incidents; V2 holds staging in the template.
  'POST /api/subjects/:subject/incidents': { member: 201, call: () => ({ url: `/api/subjects/${SUBJECT}/incidents`, body: { stage: 'staging', reason: 'alerts firing' } }) },
  'POST /api/incidents/:id/resolutions': {
    member: 201,
    call: async (s) => {
      const opened = await createLocalClient(s.deps, 'dave').openIncident(SUBJECT, 'staging', 'alerts firing');
      return { url: `/api/incidents/${opened.id}/resolutions`, body: { note: 'fixed' } };
    },
  },
  'GET /api/incidents': { member: 200, call: () => ({ url: '/api/incidents?open=true' }) },
  'GET /api/metrics': { member: 200, call: () => ({ url: `/api/metrics?subject=${SUBJECT}&since=30d&stage=staging` }) },
  // V2 holds staging after the template's promotions; the stage hands off nothing, so there is nothing to run.
  'POST /api/releases/:ref/handoff-retries': { member: 200, call: () => ({ url: `/api/releases/${encodeURIComponent(V2)}/handoff-retries`, body: { stage: 'staging' } }) },
  'POST /api/audit/verify': { member: 200, call: () => ({ url: '/api/audit/verify', body: {} }) },
  'GET /api/audit/checkpoint': { member: 200, call: () => ({ url: '/api/audit/checkpoint' }) },
  'GET /api/server-key': { member: 200, call: () => ({ url: '/api/server-key' }) },
  'GET /api/audit/events': { member: 200, call: () => ({ url: '/api/audit/events?type=ReleaseCreated&limit=5' }) },
  'GET /api/releases/:ref/attestations/:stage': { member: 200, call: () => ({ url: `/api/releases/${ref}/attestations/staging` }) },
  'POST /api/tokens': { ...adminOnly(201), call: () => ({ url: '/api/tokens', body: { user: 'bob', expires: '30d' } }) },
  'GET /api/tokens': { ...adminOnly(200), call: () => ({ url: '/api/tokens' }) },
  'DELETE /api/tokens/:id': { ...adminOnly(200), call: (_s, t) => ({ url: `/api/tokens/${t.spareTokenId}` }) },
  'POST /api/webhooks': { ...adminOnly(201), call: () => ({ url: '/api/webhooks', body: { url: 'https://chat.example.com/hooks/1', events: ['release.promoted'] } }) },
  'GET /api/webhooks': { ...adminOnly(200), call: () => ({ url: '/api/webhooks' }) },
  'DELETE /api/webhooks/:id': { ...adminOnly(200), call: (_s, t) => ({ url: `/api/webhooks/${t.spareWebhookId}` }) },
  'GET /api/webhooks/:id/deliveries': { ...adminOnly(200), call: (_s, t) => ({ url: `/api/webhooks/${t.spareWebhookId}/deliveries` }) },
  'GET /api/webhook-deliveries': { ...adminOnly(200), call: () => ({ url: '/api/webhook-deliveries?status=pending' }) },
  'POST /api/webhook-deliveries/:id/redeliveries': { ...adminOnly(200), call: (_s, t) => ({ url: `/api/webhook-deliveries/${t.spareDeliveryId}/redeliveries`, body: {} }) },
  // Everyone lists their own passkeys; carol's passkey is revoked by her or an admin, refused to anyone else.
  'GET /api/passkeys': { member: 200, call: () => ({ url: '/api/passkeys' }) },
  'DELETE /api/passkeys/:id': { member: 403, except: { admin: 200, security: 200 }, call: (_s, t) => ({ url: `/api/passkeys/${t.sparePasskeyId}` }) },
};

const UNAUTHENTICATED: readonly Identity[] = ['none', 'malformed', 'unknown', 'expired', 'revoked', 'oidc-expired', 'oidc-wrong-audience'];

/** Identities that must be answered exactly as another: an OIDC token mapped to `ci` is the validator. */
const SAME_AS: Partial<Record<Identity, Identity>> = { 'oidc-validator': 'validator' };

function expected(row: Row, caller: Identity): number {
  const who = SAME_AS[caller] ?? caller;
  if (row.public) return row.member;
  if (UNAUTHENTICATED.includes(who)) return 401;
  if (who === 'outsider') return 403;
  return row.except?.[who] ?? row.member;
}

/** The code a refusal must carry, where the table's status alone does not say it. */
function expectedCode(row: Row, who: Identity, status: number): string | undefined {
  if (row.public || status < 400) return undefined;
  if (status === 401) return 'TG_TOKEN_INVALID';
  if (who === 'outsider') return 'TG_USER_UNKNOWN';
  if (status === 409) return 'TG_PROMOTION_BLOCKED';
  return undefined;
}

let template: Template;
let routes: string[];

beforeAll(async () => {
  template = await buildTemplate();
  const s = await serve(template);
  routes = registeredRoutes(s.app).map((r) => `${r.method} ${r.url}`);
  await s.close();
});

afterAll(async () => {
  const fs = await import('node:fs');
  fs.rmSync(template.dir, { recursive: true, force: true });
});

describe('authorization table', () => {
  it('has exactly one row for every route the app registers', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect([...routes].sort()).toEqual(Object.keys(TABLE).sort());
  });

  const cells = Object.keys(TABLE).flatMap((route) => IDENTITIES.map((who) => ({ route, who })));
  it.each(cells)('$route as $who', async ({ route, who }) => {
    const row = TABLE[route]!;
    const s = await serve(template);
    try {
      const { url, body } = await row.call(s, template);
      const header = template.headers[who];
      const method = route.split(' ')[0] as 'GET' | 'POST' | 'DELETE';
      const res = await s.app.inject({
        method,
        url,
        headers: header !== undefined ? { authorization: header } : {},
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      const want = expected(row, who);
      if (row.public) expect(JSON.stringify(await s.deps.store.auditEvents())).not.toContain('AccessDenied');
      expect(res.statusCode, `${route} as ${who}: ${res.body.slice(0, 300)}`).toBe(want);
      if (want >= 400) {
        const error = res.json().error;
        expect(error.code).toMatch(/^TG_[A-Z_]+$/);
        expect(error.message.length).toBeGreaterThan(5);
        const code = expectedCode(row, who, want);
        if (code) expect(error.code).toBe(code);
      }
      // A refusal of a known caller leaves an audit event naming them; nothing else does.
      const denied = (await s.deps.store.auditEvents()).filter((e) => e.type === 'AccessDenied');
      if (want === 403 && !row.public) {
        expect(denied).toHaveLength(1);
        expect(denied[0]).toMatchObject({ actor: `user:${who === 'oidc-validator' ? 'ci' : USER_OF[who]}`, data: { method, route: route.split(' ')[1], code: res.json().error.code } });
      } else {
        expect(denied).toEqual([]);
      }
    } finally {
      await s.close();
    }
  });
});

describe('tokens over the API', () => {
  it('an admin issues a token that works at once, and revokes it', async () => {
    const s = await serve(template);
    try {
      const admin = { authorization: template.headers.admin! };
      const created = await s.app.inject({ method: 'POST', url: '/api/tokens', headers: admin, payload: { user: 'dave' } });
      expect(created.statusCode).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      const issued = created.json();
      expect(issued).toMatchObject({ user: 'dave', expiresAt: null });
      expect(issued.token).toMatch(/^tg_[A-Za-z0-9_-]{43}$/);
      const auth = { authorization: `Bearer ${issued.token}` };
      expect((await s.app.inject({ method: 'GET', url: '/api/policy', headers: auth })).statusCode).toBe(200);
      const list = (await s.app.inject({ method: 'GET', url: '/api/tokens', headers: admin })).json();
      expect(JSON.stringify(list)).not.toContain(issued.token);
      expect(list.tokens.find((t: { id: string }) => t.id === issued.id)).toMatchObject({ user: 'dave', revokedAt: null });
      const revoked = await s.app.inject({ method: 'DELETE', url: `/api/tokens/${issued.id}`, headers: admin });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().revokedAt).toEqual(expect.any(String));
      const after = await s.app.inject({ method: 'GET', url: '/api/policy', headers: auth });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.message).toContain('revoked');
      const unknown = await s.app.inject({ method: 'DELETE', url: '/api/tokens/tok_nope', headers: admin });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.code).toBe('TG_TOKEN_NOT_FOUND');
      // Token changes are state changes: audited, and the log still verifies.
      const types = (await s.deps.store.auditEvents()).map((e) => e.type);
      expect(types.filter((t) => t === 'TokenCreated').length).toBeGreaterThan(0);
      expect(types).toContain('TokenRevoked');
      expect(JSON.stringify(await s.deps.store.auditEvents())).not.toContain(issued.token);
      const verify = await s.app.inject({ method: 'POST', url: '/api/audit/verify', headers: admin, payload: {} });
      expect(verify.json().ok).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('stores only the SHA-256 of a token, never the token', async () => {
    const s = await serve(template);
    try {
      const secret = template.headers.admin!.slice('Bearer '.length);
      const rows = await s.deps.store.listTokens();
      expect(JSON.stringify(rows)).not.toContain(secret);
    } finally {
      await s.close();
    }
  });

  it('lets any valid token apply the first policy, and only that, while no policy exists', async () => {
    const { createSqliteStore } = await import('../src/store/sqlite-store.js');
    const { createApp } = await import('../src/server/app.js');
    const { createApiToken } = await import('../src/service/tokens.js');
    const { generateKeyPair, loadPrivateKey } = await import('../src/domain/keys.js');
    const store = await createSqliteStore(':memory:');
    const deps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/boot', now: () => new Date() };
    const app = createApp(deps);
    try {
      const auth = { authorization: `Bearer ${(await createApiToken(deps, undefined, 'root')).token}` };
      const tokens = await app.inject({ method: 'POST', url: '/api/tokens', headers: auth, payload: { user: 'x' } });
      expect([tokens.statusCode, tokens.json().error.code]).toEqual([409, 'TG_NO_POLICY']);
      const applied = await app.inject({ method: 'POST', url: '/api/policies', headers: auth, payload: { source: POLICY, file: 'tollgate.yaml' } });
      expect(applied.statusCode).toBe(201);
      expect((await store.auditEvents())[0]).toMatchObject({ type: 'TokenCreated' });
      expect((await store.auditEvents()).at(-1)).toMatchObject({ type: 'PolicyApplied', actor: 'user:root' });
      // From now on the roster applies: root is admin, so the next apply passes, and bob's would not.
      const bob = { authorization: `Bearer ${(await createApiToken(deps, undefined, 'bob')).token}` };
      const refused = await app.inject({ method: 'POST', url: '/api/policies', headers: bob, payload: { source: POLICY, file: 'tollgate.yaml' } });
      expect([refused.statusCode, refused.json().error.code]).toEqual([403, 'TG_NOT_ALLOWED']);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
