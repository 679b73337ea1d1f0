/**
 * The review desk's sign-in, sessions and CSRF through `app.inject` (no browser): what a forged,
 * expired or outsider's request gets, and that the desk's pages stay out of the API's description.
 * The browser test (desk.browser.test.ts) covers the pages themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../src/server/app.js';
import { createApiToken, revokeApiToken } from '../src/service/tokens.js';
import { buildTemplate, serve, V1, type Served, type Template } from './server-fixture.js';

let template: Template;
let s: Served;

beforeAll(async () => {
  template = await buildTemplate();
  s = await serve(template, { desk: {} });
});

afterAll(async () => {
  await s.close();
  const fs = await import('node:fs');
  fs.rmSync(template.dir, { recursive: true, force: true });
});

const cookiesOf = (res: { cookies: { name: string; value: string }[] }) => Object.fromEntries(res.cookies.map((c) => [c.name, c.value]));
const jar = (c: Record<string, string>) => Object.entries(c).map(([k, v]) => `${k}=${v}`).join('; ');

/** Signs in with the token of the Authorization header `header`; the cookies of the session. */
async function signIn(header: string | undefined): Promise<{ status: number; cookies: Record<string, string>; raw: string[] }> {
  const login = await s.app.inject({ method: 'GET', url: '/login' });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const res = await s.app.inject({
    method: 'POST',
    url: '/login',
    headers: { cookie: jar(cookiesOf(login)), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, token: (header ?? '').replace(/^Bearer /, ''), next: '/queue' }).toString(),
  });
  return { status: res.statusCode, cookies: { ...cookiesOf(login), ...cookiesOf(res) }, raw: [res.headers['set-cookie']].flat().map(String) };
}

async function auditTypes(): Promise<{ type: string; actor: string; data: Record<string, unknown> }[]> {
  return (await s.deps.store.auditEvents()).map((e) => ({ type: e.type, actor: e.actor, data: e.data as Record<string, unknown> }));
}

describe('review desk sign-in and sessions', () => {
  it('sends every page but /login to sign in', async () => {
    for (const url of ['/', '/queue', '/audit', '/delivery', `/releases/${V1}`]) {
      const res = await s.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(303);
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
    expect((await s.app.inject({ method: 'GET', url: '/login' })).statusCode).toBe(200);
  });

  it('signs a roster member in with an API token: an HttpOnly, SameSite=Lax cookie that expires', async () => {
    const r = await signIn(template.headers['ml-engineer']);
    expect(r.status).toBe(303);
    const session = r.raw.find((c) => c.startsWith('tg_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).toMatch(/; Max-Age=\d+/);
    expect(session).not.toMatch(/; Secure/);
    const page = await s.app.inject({ method: 'GET', url: '/queue', headers: { cookie: jar(r.cookies) } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Signed in as <strong>bob</strong>');
  });

  it('refuses unknown, expired and revoked tokens and users outside the roster, saying why', async () => {
    for (const who of ['unknown', 'expired', 'revoked', 'outsider'] as const) {
      const r = await signIn(template.headers[who]);
      expect(r.status, who).toBe(401);
      expect(r.cookies.tg_session, who).toBeUndefined();
    }
  });

  it('does not accept a session cookie it did not sign, or one changed after signing', async () => {
    const r = await signIn(template.headers['ml-engineer']);
    const [value, sig] = r.cookies.tg_session!.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'dave', v: 'token', e: Date.now() + 3600_000 })).toString('base64url');
    for (const cookie of [`tg_session=${forged}`, `tg_session=${forged}.${sig}`, `tg_session=${value}.x${sig}`]) {
      const res = await s.app.inject({ method: 'GET', url: '/', headers: { cookie } });
      expect(res.statusCode, cookie).toBe(303);
    }
  });

  it('ends a session signed in with an API token when that token is revoked, at the next click', async () => {
    const issued = await createApiToken(s.deps, undefined, 'bob', '1h');
    const r = await signIn(`Bearer ${issued.token}`);
    expect(r.status).toBe(303);
    // The session lasts no longer than the token (1 h), not the desk's 8 h default.
    const maxAge = Number(/; Max-Age=(\d+)/.exec(r.raw.find((c) => c.startsWith('tg_session='))!)![1]);
    expect(maxAge).toBeGreaterThan(3500);
    expect(maxAge).toBeLessThanOrEqual(3600);
    const get = () => s.app.inject({ method: 'GET', url: '/queue', headers: { cookie: jar(r.cookies) } });
    expect((await get()).statusCode).toBe(200);
    await revokeApiToken(s.deps, undefined, issued.id);
    const after = await get();
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe(`/login?next=${encodeURIComponent('/queue')}&error=revoked`);
    const login = await s.app.inject({ method: 'GET', url: String(after.headers.location) });
    expect(login.body).toContain('The API token you signed in with was revoked');
    // Another token of the same person still signs in: it is the token that ended, not the person.
    expect((await signIn(template.headers['ml-engineer'])).status).toBe(303);
  });

  it('refuses a post without the CSRF token (403 TG_CSRF_INVALID) and audits it like the API', async () => {
    const r = await signIn(template.headers['release-manager']);
    const res = await s.app.inject({
      method: 'POST',
      url: `/releases/${V1}/promotions`,
      headers: { cookie: jar(r.cookies), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'stage=staging',
    });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('TG_CSRF_INVALID');
    const denied = (await auditTypes()).filter((e) => e.type === 'AccessDenied').at(-1)!;
    expect(denied).toMatchObject({ actor: 'user:dave', data: { code: 'TG_CSRF_INVALID', method: 'POST', route: '/releases/:ref/promotions' } });
  });

  it("refuses another user's CSRF token", async () => {
    const bob = await signIn(template.headers['ml-engineer']);
    const page = await s.app.inject({ method: 'GET', url: '/queue', headers: { cookie: jar(bob.cookies) } });
    const bobsToken = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const dave = await signIn(template.headers['release-manager']);
    const res = await s.app.inject({
      method: 'POST',
      url: '/audit/verify',
      headers: { cookie: jar({ ...dave.cookies, tg_csrf: bob.cookies.tg_csrf! }), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: bobsToken }).toString(),
    });
    expect(res.statusCode).toBe(403);
  });

  it('keeps the desk out of the API routes and their description', async () => {
    const routes = registeredRoutes(s.app).map((r) => r.url);
    expect(routes.every((u) => !u.startsWith('/releases') && u !== '/' && u !== '/login')).toBe(true);
    const doc = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths).every((p: string) => p.startsWith('/api') || ['/healthz', '/readyz', '/metrics', '/openapi.json'].includes(p))).toBe(true);
  });
});

describe('the delivery page', () => {
  it('draws the weekly charts and the figures from the audit log, and says why a filter cannot be read', async () => {
    const r = await signIn(template.headers['ml-engineer']);
    const get = (url: string) => s.app.inject({ method: 'GET', url, headers: { cookie: jar(r.cookies) } });
    const res = await get('/delivery?stage=staging');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Promotions into <strong>staging</strong>');
    // Four charts: deployments, change failure rate, lead time, time to restore, one bar per week.
    expect(res.body.match(/<svg [^>]*role="img"/g)).toHaveLength(4);
    expect(res.body).toContain('aria-label="Change failure rate (%)"');
    const intoStaging = (await auditTypes()).filter((e) => e.type === 'ReleasePromoted' && e.data.stage === 'staging').length;
    expect(intoStaging).toBeGreaterThan(0);
    expect(res.body).toContain(`<td>overall</td><td>${intoStaging}</td>`);
    expect(res.body).toMatch(/<table id="delivery-gates">/);
    // The policy's last stage by default.
    expect((await get('/delivery')).body).toContain('Promotions into <strong>production</strong>');
    const bad = await get('/delivery?since=yesterday');
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain('role="alert"');
    expect(bad.body).toContain('is neither a date');
    expect(bad.body).not.toContain('<svg');
  });
});
