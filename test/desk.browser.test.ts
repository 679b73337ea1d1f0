/**
 * The review desk in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download), against `tollgate serve` run as a real process on a demo home (scripts/demo-home.mjs),
 * with a real local OpenID provider (oidc-provider) for the OIDC sign-in and Chromium's virtual
 * authenticator (CDP WebAuthn domain) for passkeys. Screenshots of every page at 1280×800 and 390×844
 * go to test-results/desk/ (gitignored).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type Served } from './helpers/serve.js';
// @ts-expect-error: a plain ES module of the repository's scripts, without types
import { BIN, createDemoHome, demoToken } from '../scripts/demo-home.mjs';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve(import.meta.dirname, '../test-results/desk');
const NEXT = 'fraud-detector@2.5.0';
const FAILING = 'fraud-detector@2.6.0';

let dir: string;
let server: Served;
let url: string;
let idp: { url: string; close(): Promise<void> };
const tokens: Record<string, string> = {};
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A real OpenID provider on this machine, with one public client (PKCE) for the desk. */
async function startProvider(port: number, redirect: string): Promise<{ url: string; close(): Promise<void> }> {
  // oidc-provider ships no types; only its constructor and listen() are used here.
  const name = 'oidc-provider';
  const { default: Provider } = (await import(name)) as { default: new (issuer: string, config: object) => { listen(port: number, host: string): import('node:http').Server } };
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'tollgate-desk', token_endpoint_auth_method: 'none', redirect_uris: [redirect], grant_types: ['authorization_code'], response_types: ['code'] }],
    pkce: { required: () => true },
    cookies: { keys: ['a test key of the local provider'] },
  });
  const listener = provider.listen(port, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  return { url: issuer, close: () => new Promise((resolve) => listener.close(() => resolve())) };
}

function tg(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: path.join(dir, '.tollgate') };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN']) delete env[k];
  return spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8' });
}

let shared: BrowserContext | undefined;

/**
 * The browser, started once (a start costs seconds): each test begins signed out, its cookies
 * cleared. `bypassCSP` lets axe-core's script be injected into the pages.
 */
async function browser(): Promise<BrowserContext> {
  if (shared) {
    await shared.clearCookies();
    return shared;
  }
  const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'tg-chromium-')), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    bypassCSP: true,
  });
  shared = ctx;
  contexts.push(ctx);
  ctx.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  for (const p of ctx.pages()) p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
  return ctx;
}

async function signIn(ctx: BrowserContext, user: string): Promise<Page> {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${url}/login`);
  await page.getByRole('textbox', { name: 'API token' }).fill(tokens[user]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/`);
  expect(await page.locator('.who').innerText()).toContain(`Signed in as ${user}`);
  return page;
}

const releaseUrl = (ref: string, stage?: string, hash?: string) => `${url}/releases/${ref}${stage ? `?stage=${stage}` : ''}${hash ? `#${hash}` : ''}`;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-desk-'));
  await createDemoHome(dir);
  for (const u of ['bob', 'carol', 'dave']) tokens[u] = await demoToken(dir, u);
  const [deskPort, idpPort] = [await freePort(), await freePort()];
  // localhost, not 127.0.0.1: a passkey's relying party ID is a host name, never an IP address.
  url = `http://localhost:${deskPort}`;
  idp = await startProvider(idpPort, `${url}/login/oidc/callback`);
  const oidcFile = path.join(dir, 'oidc.yaml');
  fs.writeFileSync(
    oidcFile,
    `issuers:\n  - issuer: ${idp.url}\n    audience: [tollgate-desk]\n    jwks: ${idp.url}/jwks\n    claim: sub\n    login: { clientId: tollgate-desk, name: Test IdP }\n`,
  );
  server = await startServe(dir, { TOLLGATE_HOME: path.join(dir, '.tollgate') }, ['--port', String(deskPort), '--oidc', oidcFile, '--public-url', url]);
  fs.mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await server?.stop('SIGTERM');
  await idp?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('review desk in Chromium', () => {
  it('signs in with an API token; the session cookie is HttpOnly and never visible to page script', async () => {
    const ctx = await browser();
    const page = ctx.pages()[0]!;
    await page.goto(`${url}/queue`);
    expect(page.url()).toMatch(/\/login\?next=%2Fqueue/);
    await page.getByRole('textbox', { name: 'API token' }).fill('tg_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').innerText()).toContain('not known');
    await page.getByRole('textbox', { name: 'API token' }).fill(tokens.bob!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/queue`);
    const cookies = await ctx.cookies(url);
    const session = cookies.find((c) => c.name === 'tg_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(session.expires).toBeGreaterThan(Date.now() / 1000);
    expect(await page.evaluate(() => document.cookie)).not.toContain('tg_session');
  });

  it('signs in through the OpenID provider (authorization code + PKCE), mapped to the roster user', async () => {
    const ctx = await browser();
    const page = ctx.pages()[0]!;
    await page.goto(`${url}/login`);
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.locator('input[name=login]').fill('carol');
    await page.locator('input[name=password]').fill('anything');
    await page.locator('button[type=submit]').click();
    // The provider asks for consent once.
    await page.locator('button[type=submit]').click();
    await page.waitForURL(`${url}/`);
    expect(await page.locator('.who').innerText()).toContain('Signed in as carol');
    expect(await page.evaluate(() => document.cookie)).not.toContain('tg_session');
  });

  it('shows the pipeline: who holds each stage, what waits and on what, the freeze window', async () => {
    const page = await signIn(await browser(), 'bob');
    const row = page.locator('table.pipeline tbody tr', { hasText: 'fraud-detector' });
    const [staging, production] = [row.locator('td').nth(0), row.locator('td').nth(1)];
    expect(await production.innerText()).toMatch(/2\.4\.0 holds production/);
    expect(await staging.innerText()).toMatch(/2\.5\.0 holds staging/);
    expect(await production.innerText()).toMatch(/2\.5\.0 waits on approvals: sign-off by ml-engineer \(missing\)/);
    expect(await staging.innerText()).toMatch(/2\.6\.0 waits on .*automated: validation quality \(failed\)/);
    expect(await page.locator('thead').innerText()).toContain('2030-12-24T00:00:00Z/2030-12-27T00:00:00Z');
  });

  it('puts failures first: from the failed gate, its value and threshold are on the page or one click away', async () => {
    const page = await signIn(await browser(), 'bob');
    await page.goto(releaseUrl(FAILING, 'staging'));
    const failures = page.locator('section.failures');
    const text = await failures.innerText();
    expect(text).toContain('validation quality');
    expect(text).toMatch(/Measured:.*latency_p95_ms 80/);
    expect(text).toMatch(/Threshold:/);
    // The failures come before the gates on the page.
    const order = await page.evaluate(() => {
      const f = document.querySelector('section.failures')!;
      const g = document.querySelector('section.gate')!;
      return f.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    expect(order).toBeTruthy();
    // From the gate's requirement: one click to the result, with the value and the threshold.
    const req = page.locator('#req-staging-automated-quality');
    expect(await req.innerText()).toMatch(/Measured: .*latency_p95_ms 80.*threshold/s);
    await req.getByRole('link', { name: 'result' }).click();
    const result = page.locator(':target');
    expect(await result.innerText()).toMatch(/latency_p95_ms <= 50/);
    // The raw evidence, one more link away: the result as recorded.
    const raw = await page.locator(':target').getByRole('link', { name: 'raw evidence (JSON)' }).getAttribute('href');
    const res = await page.request.get(`${url}${raw}`);
    expect(res.status()).toBe(200);
    expect(await res.json()).toMatchObject({ validationId: 'quality', status: 'failed' });
  });

  it('completes a checklist item with an uploaded evidence file, and the gate shows it', async () => {
    const page = await signIn(await browser(), 'bob');
    await page.goto(releaseUrl(FAILING, 'staging', 'gate-staging-inventory'));
    const req = page.locator('#req-staging-inventory-datasets-listed');
    expect(await req.innerText()).toMatch(/missing/);
    await req.getByLabel('Evidence file').setInputFiles({ name: 'datasets.md', mimeType: 'text/markdown', buffer: Buffer.from('# datasets\n- s3://ml/train.parquet\n') });
    await req.getByLabel('Note').fill('listed in the data catalogue');
    await req.getByRole('button', { name: 'Complete datasets-listed' }).click();
    await page.waitForURL(/done=checked/);
    expect(await page.getByRole('status').innerText()).toContain('Checklist item completed');
    expect(await page.locator('#req-staging-inventory-datasets-listed').innerText()).toMatch(/satisfied[\s\S]*completed by bob/);
    const link = page.locator('#checklist ~ div table a', { hasText: 'datasets.md' }).first();
    const href = await link.getAttribute('href');
    const res = await page.request.get(`${url}${href}`);
    expect(await res.text()).toContain('s3://ml/train.parquet');
  });

  it('registers a passkey, then goes from the notice link to a recorded sign-off in 3 steps; the gate turns satisfied', async () => {
    const ctx = await browser();
    const page = await signIn(ctx, 'bob');
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const notice = releaseUrl(NEXT, 'production', 'gate-production-approvals');
    await page.goto(notice);
    const gate = page.locator('#gate-production-approvals');
    const rule = page.locator('#req-production-approvals-signoff-ml-engineer');
    expect(await rule.innerText()).toMatch(/missing[\s\S]*0 of 1 sign-off by ml-engineer/);
    expect(await rule.getByRole('button', { name: 'Sign off' }).isDisabled()).toBe(true);
    expect(await rule.innerText()).toContain('Register a passkey first');
    await page.getByRole('button', { name: 'Register a passkey' }).click();
    await page.waitForFunction(() => document.body.innerText.includes('1 registered'));

    // Step 1: the notice's link. Step 2: Sign off (the passkey asserts, with user verification). Step 3: the recorded sign-off.
    await page.goto(notice);
    await rule.getByLabel('Comment (ml-engineer)').fill('checked the diff against 2.4.0');
    await rule.getByRole('button', { name: 'Sign off' }).click();
    await page.waitForURL(/done=signed#signoff-/);
    const recorded = page.locator(':target').locator('xpath=ancestor::tr');
    expect(await recorded.innerText()).toMatch(/bob\s+ml-engineer\s+approve[\s\S]*checked the diff against 2\.4\.0\s+passkey \(WebAuthn\)/);
    expect(await gate.locator('h4').innerText()).toMatch(/gate approvals: satisfied/);
    expect(await page.locator('#stage-production-h').innerText()).toContain('can be promoted to production');
  });

  it('shows a person without the role the disabled button with the reason; posting anyway answers 403', async () => {
    const page = await signIn(await browser(), 'carol');
    await page.goto(releaseUrl(NEXT, 'production', 'gate-production-approvals'));
    const rule = page.locator('#req-production-approvals-signoff-ml-engineer');
    const button = rule.getByRole('button', { name: 'Sign off' });
    expect(await button.isDisabled()).toBe(true);
    expect(await rule.innerText()).toContain('it needs the role "ml-engineer", and your roles are security');
    const answer = await page.evaluate(async (ref) => {
      const token = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const res = await fetch(`/releases/${ref}/signoffs/options`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': token },
        body: JSON.stringify({ stage: 'production', gate: 'approvals', role: 'ml-engineer', decision: 'approve' }),
      });
      return { status: res.status, body: await res.json() };
    }, NEXT);
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'TG_ROLE_NOT_HELD' } } });
  });

  it('lets a release manager promote; the pipeline shows it; the passkey sign-off exported with attest passes verify', async () => {
    const page = await signIn(await browser(), 'dave');
    await page.goto(releaseUrl(NEXT, 'production'));
    await page.getByRole('button', { name: 'Promote to production' }).click();
    await page.waitForURL(/done=promoted/);
    expect(await page.getByRole('status').innerText()).toContain('Promoted');
    await page.getByRole('link', { name: 'Pipeline' }).click();
    const production = page.locator('table.pipeline tbody tr', { hasText: 'fraud-detector' }).locator('td').nth(1);
    expect(await production.innerText()).toMatch(/2\.5\.0 holds production/);

    const file = path.join(dir, 'att.json');
    const attest = tg(['attest', NEXT, '--stage', 'production', '-o', file]);
    expect(attest.status, attest.stderr).toBe(0);
    const statement = JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(file, 'utf8')).payload, 'base64').toString('utf8'));
    expect(JSON.stringify(statement)).toContain('webauthn');
    const key = tg(['keys', 'show', '--server']).stdout.trim();
    const verified = tg(['verify', file, '--key', key, '--json']);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).ok).toBe(true);
  });

  it('refuses a form post without the CSRF token with 403, and audits it', async () => {
    const page = await signIn(await browser(), 'dave');
    await page.goto(releaseUrl(NEXT, 'production'));
    const status = await page.evaluate(async (ref) => {
      const res = await fetch(`/releases/${ref}/promotions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'stage=production' });
      return res.status;
    }, NEXT);
    expect(status).toBe(403);
    await page.goto(`${url}/audit?type=AccessDenied`);
    const rows = await page.locator('table tbody').innerText();
    expect(rows).toMatch(/user:dave[\s\S]*TG_CSRF_INVALID/);
  });

  it('verifies the audit log from the audit page, as `tollgate audit verify` does', async () => {
    const page = await signIn(await browser(), 'carol');
    await page.goto(`${url}/audit`);
    expect(await page.locator('#cp-h ~ pre').innerText()).toMatch(/^\S+\n\d+\n/);
    await page.getByRole('button', { name: 'Verify the audit log' }).click();
    expect(await page.getByRole('status').innerText()).toMatch(/Audit log verified: \d+ events/);
    await page.getByLabel('Actor').fill('carol');
    await page.getByLabel('Type').selectOption('SignoffRecorded');
    await page.getByRole('button', { name: 'Filter' }).click();
    const text = await page.locator('table tbody').innerText();
    expect(text).toContain('SignoffRecorded');
    expect(text).not.toContain('user:bob');
  });

  it('renders every page without horizontal overflow, script errors or serious accessibility violations', async () => {
    const ctx = await browser();
    const axe = fs.readFileSync(path.resolve(import.meta.dirname, '../node_modules/axe-core/axe.min.js'), 'utf8');
    const sizes = [[1280, 800], [390, 844]] as const;
    async function check(p: Page, name: string, target: string, w: number, hgt: number): Promise<void> {
      await p.setViewportSize({ width: w, height: hgt });
      await p.goto(`${url}${target}`);
      await p.screenshot({ path: path.join(SHOTS, `${name}-${w}x${hgt}.png`), fullPage: true });
      const overflow = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
      expect(overflow.scroll, `${name} at ${w}×${hgt}`).toBeLessThanOrEqual(overflow.view);
      await p.addScriptTag({ content: axe });
      const violations = await p.evaluate(async () => {
        const r = await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      });
      expect(violations, `${name} at ${w}×${hgt}`).toEqual([]);
    }
    const first = ctx.pages()[0]!;
    for (const [w, hgt] of sizes) await check(first, 'login', '/login', w, hgt);
    const page = await signIn(ctx, 'carol');
    const pages: [string, string][] = [
      ['pipeline', '/'],
      ['release', `/releases/${NEXT}?stage=production`],
      ['release-failing', `/releases/${FAILING}`],
      ['queue', '/queue'],
      ['audit', '/audit'],
      ['delivery', '/delivery'],
    ];
    for (const [w, hgt] of sizes) for (const [name, target] of pages) await check(page, name, target, w, hgt);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
