/**
 * `tollgate serve` and remote mode end to end, through the real binary: tokens made on the home,
 * the CLI talking to the server with `--server URL` and TOLLGATE_TOKEN (same exits as local mode),
 * and a clean stop on SIGTERM.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

const REL = 'fraud-detector@2.4.0';

let p: Project;
let server: Served;
let url: string;
const tokens: Record<string, string> = {};

function remote(user: string, args: string[]) {
  return p.run(args, { env: { TOLLGATE_SERVER: url, TOLLGATE_TOKEN: tokens[user] } });
}

beforeAll(async () => {
  p = createProject();
  for (const u of ['alice', 'bob', 'carol', 'dave', 'ci']) {
    const r = p.run(['token', 'create', u, '--expires', '1d', '--json']);
    expect(r.code).toBe(0);
    tokens[u] = r.json().token;
  }
  server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
  url = server.url;
});

afterAll(async () => {
  await server.stop('SIGKILL');
  removeProjects();
});

describe('tollgate serve and remote mode', () => {
  it('token create prints the token once, with its id and expiry; token list never shows it', () => {
    expect(tokens.dave).toMatch(/^tg_[A-Za-z0-9_-]{43}$/);
    const list = p.run(['token', 'list', '--json']).json();
    expect(list.tokens).toHaveLength(5);
    expect(JSON.stringify(list)).not.toContain(tokens.dave);
    expect(list.tokens[0].expiresAt).toEqual(expect.any(String));
  });

  it('answers /healthz on the URL it printed', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/healthz`);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('runs the CLI against the server with the same exits as local mode', () => {
    const created = remote('alice', ['release', 'create', 'release.yaml', '--json']);
    expect(created.code).toBe(0);
    expect(created.json().release).toBe(REL);

    const blocked = remote('dave', ['promote', REL, '--to', 'staging', '--json']);
    expect(blocked.code).toBe(3);
    expect(blocked.json()).toMatchObject({ release: REL, stage: 'staging', promotable: false, promoted: false, error: { code: 'TG_PROMOTION_BLOCKED' } });

    const checked = remote('alice', ['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--json']);
    expect(checked.code).toBe(0);
    expect(checked.json().evidence).toMatchObject({ name: 'datasets.md', digest: expect.stringMatching(/^sha256:/) });

    const validated = remote('ci', ['validate', REL, '--to', 'staging', '--json']);
    expect(validated.code).toBe(0);
    expect(validated.json().results.every((r: { outcome: string }) => r.outcome === 'passed')).toBe(true);

    const signed = remote('bob', ['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--json']);
    expect(signed.code).toBe(0);

    const status = remote('dave', ['status', REL, '--to', 'staging', '--json']);
    const tests = status.json().gates.find((g: { id: string }) => g.id === 'automated').requirements.find((r: { id: string }) => r.id === 'tests');
    expect(tests.outcome).toBe('satisfied');

    const audit = remote('dave', ['audit', 'verify', '--json']);
    expect(audit.code).toBe(0);
    expect(audit.json().ok).toBe(true);
  });

  it('reports refusals with their codes and exits', () => {
    const unknown = remote('dave', ['release', 'show', 'fraud-detector@9.9.9', '--json']);
    expect([unknown.code, unknown.json().error.code]).toEqual([2, 'TG_RELEASE_NOT_FOUND']);
    const role = remote('alice', ['signoff', REL, '--to', 'production', '--role', 'security']);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('TG_ROLE_NOT_HELD');
    const bad = p.run(['release', 'list', '--json'], { env: { TOLLGATE_SERVER: url, TOLLGATE_TOKEN: 'tg_nope' } });
    expect([bad.code, bad.json().error.code]).toEqual([2, 'TG_TOKEN_INVALID']);
    const none = p.run(['release', 'list', '--json'], { env: { TOLLGATE_SERVER: url } });
    expect([none.code, none.json().error.code]).toEqual([2, 'TG_TOKEN_INVALID']);
    const notAdmin = remote('bob', ['token', 'create', 'alice', '--json']);
    expect([notAdmin.code, notAdmin.json().error.code]).toEqual([2, 'TG_NOT_ALLOWED']);
  });

  it('names the URL when the server cannot be reached, exit 1', async () => {
    const port = await freePort();
    const r = p.run(['release', 'list'], { env: { TOLLGATE_SERVER: `http://127.0.0.1:${port}`, TOLLGATE_TOKEN: tokens.dave } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TG_SERVER_UNREACHABLE');
    expect(r.stderr).toContain(`http://127.0.0.1:${port}`);
  });

  it('revokes a token: the next request with it is refused', () => {
    const id = p.run(['token', 'list', '--json']).json().tokens.find((t: { user: string }) => t.user === 'carol').id;
    expect(p.run(['token', 'revoke', id]).code).toBe(0);
    const r = remote('carol', ['release', 'list', '--json']);
    expect([r.code, r.json().error.code]).toEqual([2, 'TG_TOKEN_INVALID']);
  });

  it('logs JSON lines without tokens, and stops cleanly on SIGTERM', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    const stdout = server.stdout();
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    for (const t of Object.values(tokens)) expect(stdout).not.toContain(t);
    expect(stdout).toContain('shutting down');
  });

  it('refuses a port in use with TG_USAGE', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = p.run(['serve', '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('already in use');
      expect(p.run(['serve', '--port', 'http']).code).toBe(2);
    } finally {
      blocker.close();
    }
  });
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
