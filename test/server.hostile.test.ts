/**
 * Hostile requests against a real `tollgate serve` process (issue 13, findings 3, 4, 5 and 9): each
 * is refused with a 4xx and a TG_ code, and the process is still up and answering /healthz after.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';
import { api, startServe, type Served } from './helpers/serve.js';

let p: Project;
let server: Served;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  p = createProject();
  for (const u of ['alice', 'dave']) tokens[u] = p.run(['token', 'create', u, '--expires', '1d', '--json']).json().token;
  server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  removeProjects();
});

async function healthy(): Promise<boolean> {
  const res = await fetch(`${server.url}/healthz`);
  return res.status === 200 && (await res.json()).ok === true;
}

describe('finding 3: a request cannot kill the server', () => {
  it('answers 400 TG_YAML_SYNTAX to policies nesting 50,000 [ and 400,000 - deep, and stays up', async () => {
    for (const source of ['['.repeat(50_000), '- '.repeat(400_000)]) {
      const res = await api(server.url, tokens.dave!, 'POST', '/api/policies', { source, file: 'hostile.yaml' });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('TG_YAML_SYNTAX');
      expect(res.json.error.message).toMatch(/nest too deep/);
      expect(await healthy()).toBe(true);
    }
  });

  it('answers 400 to a policy previewed (diff) with the same text, and to a JSON body nesting 400,000 deep', async () => {
    const diff = await api(server.url, tokens.alice!, 'POST', '/api/policies/diff', { source: '{a: '.repeat(100_000), file: 'x.yaml' });
    expect(diff.status).toBe(400);
    expect(diff.json.error.code).toBe('TG_YAML_SYNTAX');
    const res = await fetch(`${server.url}/api/validations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: `${'['.repeat(400_000)}${']'.repeat(400_000)}`,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'TG_REQUEST_INVALID', message: expect.stringMatching(/nests/) });
    expect(await healthy()).toBe(true);
  });

  it('refuses a policy whose condition calls matches() (a backtracking RegExp in cel-js)', async () => {
    const policy = p.read('tollgate.yaml');
    const withMatches = policy.replace(/gates:\n/, () => "gates:\n  - id: regexy\n    stage: staging\n    when: \"release.subject.matches('(a+)+$')\"\n    checklist: [{ id: x, text: x }]\n");
    expect(withMatches).not.toBe(policy);
    const res = await api(server.url, tokens.dave!, 'POST', '/api/policies', { source: withMatches, file: 'tollgate.yaml' });
    expect(res.status).toBe(400);
    expect(res.json.error.code, JSON.stringify(res.json)).toBe('TG_POLICY_INVALID');
    expect(res.json.error.message).toMatch(/matches\(\)/);
    expect(await healthy()).toBe(true);
  });
});

/** Sends raw bytes to the server and reads all it answers until it closes the connection. */
function raw(request: string): Promise<string> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', (err) => (got ? resolve(got) : reject(err)));
  });
}

describe('finding 9: answers the server gives before any route carry a TG_ code', () => {
  it('431 for headers over 16 KiB: TG_REQUEST_HEADERS_TOO_LARGE in a JSON body', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body.error).toMatchObject({ code: 'TG_REQUEST_HEADERS_TOO_LARGE', hint: expect.any(String) });
    expect(await healthy()).toBe(true);
  });

  it('400 TG_REQUEST_INVALID for bytes that are not HTTP', async () => {
    const answer = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code).toBe('TG_REQUEST_INVALID');
  });
});

describe('finding 5: webhooks may not point at the server\'s own network', () => {
  it.each(['http://127.0.0.1:7480/x', 'http://[::1]:22/x', 'http://0x7f000001/x', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/x'])(
    'POST /api/webhooks %s: 400 TG_WEBHOOK_URL_REFUSED, and nothing is added',
    async (url) => {
      const res = await api(server.url, tokens.dave!, 'POST', '/api/webhooks', { url, events: ['*'] });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'TG_WEBHOOK_URL_REFUSED', message: expect.stringMatching(/address/) });
      expect((await api(server.url, tokens.dave!, 'GET', '/api/webhooks')).json.webhooks).toEqual([]);
    },
  );
});

describe('finding 4: per-identity limits on a server started with --rate-limit 40 --rate-limit-writes 8', () => {
  let limited: Served;
  const REL = 'fraud-detector@2.4.0';
  beforeAll(async () => {
    tokens.bob = p.run(['token', 'create', 'bob', '--expires', '1d', '--json']).json().token;
    tokens.carol = p.run(['token', 'create', 'carol', '--expires', '1d', '--json']).json().token;
    expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
    limited = await startServe(p.dir, { TOLLGATE_HOME: p.home }, ['--rate-limit', '40', '--rate-limit-writes', '8']);
  });
  afterAll(async () => {
    await limited?.stop('SIGKILL');
  });
  const count = (type: string, actor: string) => p.run(['audit', 'log', '--type', type, '--actor', actor, '--limit', '1000', '--json']).json().events.length;

  it('blocked promotions: 8 changes a minute per user are answered, then 429 TG_RATE_LIMITED with Retry-After, and nothing more is recorded', async () => {
    const before = count('PromotionBlocked', 'carol');
    const statuses: number[] = [];
    let limitedAnswer: Response | undefined;
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${limited.url}/api/releases/${encodeURIComponent(REL)}/promotions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.carol}`, 'content-type': 'application/json' },
        body: JSON.stringify({ stage: 'production' }),
      });
      statuses.push(res.status);
      if (res.status === 429) limitedAnswer ??= res;
      else await res.text();
    }
    expect(statuses.slice(0, 8).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429, 429, 429]);
    expect(Number(limitedAnswer!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limitedAnswer!.json()).error).toMatchObject({ code: 'TG_RATE_LIMITED', message: expect.stringMatching(/too many changes from carol/) });
    expect(count('PromotionBlocked', 'carol') - before).toBeLessThanOrEqual(8);
    // Another user is not held back by carol's limit.
    expect((await api(limited.url, tokens.alice!, 'GET', '/api/policy')).status).toBe(200);
  });

  it('AccessDenied: forbidden requests count against the caller, and past the limit are answered 429 and not audited', async () => {
    const before = count('AccessDenied', 'bob');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await api(limited.url, tokens.bob!, 'POST', '/api/tokens', { user: 'bob', expires: '1d' })).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(403));
    expect(statuses.slice(8)).toEqual([429, 429, 429, 429]);
    expect(count('AccessDenied', 'bob') - before).toBe(8);
  });

  it('requests without a valid token are limited by address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await fetch(`${limited.url}/api/policy`, { headers: { authorization: 'Bearer tg_nonsense' } })).status);
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(401));
    expect(statuses.slice(40)).toEqual(Array(5).fill(429));
    expect(await healthy()).toBe(true);
  });
});
