/**
 * Faults (issue 13, standing suite), with real processes, files and databases:
 * - SIGKILL of `tollgate promote` and `tollgate validate` at random points, repeated: after each kill
 *   the record verifies, a change is there whole or not at all, and running the command again
 *   completes it.
 * - A full disk (a size-limited tmpfs holding the home): a clear TG_STORAGE_ code and exit 1, nothing
 *   half-written, and the same command succeeds once there is room.
 * - PostgreSQL unavailable for a while (a TCP proxy in front of it is cut, then restored): commands and
 *   API requests answer TG_DATABASE_UNAVAILABLE, nothing half-written, and work again once it is back.
 *
 * Bounded here (`.ci/run`); `TOLLGATE_FAULT_ROUNDS=50 npx vitest run test/faults.test.ts` is the full
 * run whose figures are in docs/reliability.md. `TOLLGATE_FAULT_SEED=N` replays the kill times.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, createProject, removeProjects, type Project } from './helpers/cli.js';
import { api, startServe, type Served } from './helpers/serve.js';

const PG = process.env.TOLLGATE_TEST_PG;
const ROUNDS = Number(process.env.TOLLGATE_FAULT_ROUNDS ?? 6);
let seed = Number(process.env.TOLLGATE_FAULT_SEED ?? Date.now() % 1_000_000);
const SEED = seed;
/** A small seeded generator (mulberry32), so a failing run's kill times can be replayed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeProjects();
});

const REL = 'fraud-detector@2.4.0';
const V = (n: number) => `fraud-detector@1.${n}.0`;

/** Runs the binary and kills it with SIGKILL after `ms` (if it is still running). */
function runAndKill(p: Project, args: readonly string[], ms: number, env: Record<string, string> = {}): Promise<{ killed: boolean; code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: p.dir,
      env: { ...process.env, TOLLGATE_HOME: p.home, TOLLGATE_USER: '', TOLLGATE_SERVER: '', TOLLGATE_TOKEN: '', ...env },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.resume();
    let killed = false;
    const timer = setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ killed: killed && code === null, code, stdout });
    });
  });
}

function verifies(p: Project, env: Record<string, string> = {}): void {
  const v = p.run(['audit', 'verify', '--json'], { env });
  expect(v.code, `audit verify after a fault (seed ${SEED}): ${v.stdout}${v.stderr}`).toBe(0);
  expect(v.json().ok).toBe(true);
}

/** A policy with two stages and no gates, and releases 1.1.0 … 1.n.0 registered by alice. */
function opsProject(n: number, env: Record<string, string> = {}): Project {
  const p = createProject({ init: false });
  const i = p.run(['init', '--json'], { env });
  if (i.code !== 0) throw new Error(`init failed: ${i.stdout}${i.stderr}`);
  const users = i.json().users as Record<string, string>;
  p.write(
    'ops.yaml',
    `apiVersion: tollgate/v1\nkind: Policy\nname: ops\nroster:\n  alice: { roles: [ml-engineer], key: "${users.alice}" }\n  dave: { roles: [release-manager, admin], key: "${users.dave}" }\nstages:\n  - name: staging\n  - name: production\n    after: staging\ngates: []\n`,
  );
  const a = p.run(['policy', 'apply', 'ops.yaml', '--as', 'dave'], { env });
  if (a.code !== 0) throw new Error(`policy apply failed: ${a.stdout}${a.stderr}`);
  const manifest = p.read('release.yaml');
  for (let k = 1; k <= n; k++) {
    p.write(`r${k}.yaml`, manifest.replace('version: 2.4.0', `version: 1.${k}.0`));
    const r = p.run(['release', 'create', `r${k}.yaml`, '--as', 'alice'], { env });
    if (r.code !== 0) throw new Error(`release create failed: ${r.stdout}${r.stderr}`);
  }
  return p;
}

describe('SIGKILL at random points', () => {
  it(`during promotions (${ROUNDS} kills): each promotion is there whole or not at all, the log verifies, and promoting again completes it`, async () => {
    const p = opsProject(ROUNDS);
    // How long a promotion takes here, so the kills land before, inside and after its transaction.
    const t0 = Date.now();
    expect(p.run(['promote', V(1), '--to', 'staging', '--as', 'dave']).code).toBe(0);
    const span = Math.max(200, Date.now() - t0);
    const outcomes = { killedBeforeCommit: 0, killedAfterCommit: 0, finished: 0 };
    for (let k = 2; k <= ROUNDS; k++) {
      // Mostly in the second half of a run, where the command is past start-up and writing.
      const ms = Math.floor(span * (0.3 + random() * 0.9));
      const r = await runAndKill(p, ['promote', V(k), '--to', 'staging', '--as', 'dave', '--json'], ms);
      verifies(p);
      const events = p.run(['audit', 'log', '--type', 'ReleasePromoted', '--limit', '1000', '--json']).json().events as any[];
      const promoted = events.filter((e) => e.data.release === V(k));
      if (!r.killed) {
        expect(r.code, r.stdout).toBe(0);
        outcomes.finished++;
      } else if (promoted.length === 1) outcomes.killedAfterCommit++;
      else outcomes.killedBeforeCommit++;
      expect(promoted.length, `promotion of ${V(k)} recorded at most once (seed ${SEED})`).toBeLessThanOrEqual(1);
      // The database agrees with the log: the row and its event came together or not at all.
      const db = p.openDb();
      try {
        const rows = db.prepare('select count(*) as n from promotions where version = ? and stage = ?').get(`1.${k}.0`, 'staging') as { n: number };
        expect(rows.n, `promotion rows of ${V(k)} against its events (seed ${SEED})`).toBe(promoted.length);
      } finally {
        db.close();
      }
      if (promoted.length === 0) {
        const again = p.run(['promote', V(k), '--to', 'staging', '--as', 'dave', '--json']);
        expect(again.code, again.stdout + again.stderr).toBe(0);
      }
    }
    verifies(p);
    const promotions = p.run(['audit', 'log', '--type', 'ReleasePromoted', '--limit', '1000', '--json']).json().events as any[];
    expect(promotions.map((e) => e.data.release)).toEqual(Array.from({ length: ROUNDS }, (_, i) => V(i + 1)));
    console.info(`faults: promote killed ${ROUNDS - 1} times (seed ${SEED}): ${JSON.stringify(outcomes)}`);
  }, 240_000);

  it(`during validations (${Math.max(2, Math.floor(ROUNDS / 2))} kills): results recorded are whole, the log verifies, and validating again records them all`, async () => {
    const p = createProject();
    expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
    const t0 = Date.now();
    const first = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    const span = Math.max(300, Date.now() - t0);
    expect([0, 3], first.stdout + first.stderr).toContain(first.code);
    const planned = (first.json().results as any[]).length;
    expect(planned).toBeGreaterThan(0);
    for (let k = 0; k < Math.max(2, Math.floor(ROUNDS / 2)); k++) {
      await runAndKill(p, ['validate', REL, '--to', 'staging', '--as', 'ci', '--json'], Math.floor(random() * span * 1.2));
      verifies(p);
    }
    const again = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect([0, 3]).toContain(again.code);
    expect((again.json().results as any[]).length).toBe(planned);
    verifies(p);
  }, 240_000);
});

/** Whether this process may mount a tmpfs (root in CI and here; not on every developer machine). */
function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-mount-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
  if (ok) spawnSync('umount', [dir]);
  fs.rmSync(dir, { recursive: true, force: true });
  return ok;
}

// A full disk needs a small file system of its own: a tmpfs, which only root may mount. Where the
// suite is not root (a developer's machine) the test is skipped and says why; `.ci/run` runs as root.
describe.runIf(canMount())('a full disk (needs root to mount a small tmpfs; skipped otherwise)', () => {
  it('refuses a write with TG_STORAGE_FULL or TG_STORAGE_ERROR, writes nothing, and succeeds once there is room', () => {
    const p = opsProject(1);
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]).status).toBe(0);
    cleanups.push(() => {
      spawnSync('umount', [mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    });
    const home = path.join(mnt, 'home');
    fs.cpSync(p.home, home, { recursive: true });
    const env = { TOLLGATE_HOME: home };
    verifies(p, env);
    const before = p.run(['audit', 'verify', '--json'], { env }).json().events as number;
    // Fill the disk but for a few pages, then attach evidence larger than what is left.
    const free = () => Number(spawnSync('df', ['-k', '--output=avail', mnt], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1));
    const filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 96) * 1024));
    p.write('evidence.bin', 'x'.repeat(600 * 1024));
    p.write('full.yaml', p.read('ops.yaml').replace('gates: []', 'gates:\n  - { id: ready, stage: staging, checklist: [ { id: plan, evidence: required } ] }'));
    const apply = p.run(['policy', 'apply', 'full.yaml', '--as', 'dave', '--json'], { env });
    let applied = apply.code === 0;
    if (!applied) {
      expect(apply.code).toBe(1);
      expect(apply.json().error.code).toMatch(/^TG_STORAGE_(FULL|ERROR)$/);
    }
    const checked = p.run(['check', V(1), 'plan', '--to', 'staging', '--evidence', 'evidence.bin', '--as', 'alice', '--json'], { env });
    if (applied) {
      expect(checked.code, checked.stdout + checked.stderr).toBe(1);
      expect(checked.json().error.code).toMatch(/^TG_STORAGE_(FULL|ERROR)$/);
      expect(checked.json().error.message).toMatch(/nothing of this change was written/);
    }
    fs.rmSync(filler);
    // Nothing half-written: the log verifies and holds only what succeeded.
    verifies(p, env);
    const after = p.run(['audit', 'verify', '--json'], { env }).json().events as number;
    expect(after).toBe(before + (applied ? 1 : 0));
    if (!applied) {
      expect(p.run(['policy', 'apply', 'full.yaml', '--as', 'dave'], { env }).code).toBe(0);
      applied = true;
    }
    const retry = p.run(['check', V(1), 'plan', '--to', 'staging', '--evidence', 'evidence.bin', '--as', 'alice', '--json'], { env });
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    verifies(p, env);
  }, 120_000);
});

/** A TCP proxy in front of PostgreSQL, in its own process, that can be cut (every connection dropped, new ones refused) and restored. */
async function startProxy(target: URL): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const child = fork(path.join(import.meta.dirname, 'helpers/tcp-proxy.mjs'), [target.hostname, target.port || '5432'], { stdio: 'ignore' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: any) => resolve(m.port));
    child.once('error', reject);
  });
  const say = (m: string) => new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send(m);
  });
  return {
    port,
    cut: () => say('cut'),
    restore: () => say('restore'),
    close: async () => {
      child.kill('SIGKILL');
    },
  };
}

describe.runIf(PG)('PostgreSQL unavailable for a while (TOLLGATE_TEST_PG)', () => {
  it('answers TG_DATABASE_UNAVAILABLE while it is gone, writes nothing half, and works again when it is back: CLI and server', async () => {
    const target = new URL(PG!);
    const proxy = await startProxy(target);
    cleanups.push(proxy.close);
    const schema = `tollgate_fault_${randomUUID().replaceAll('-', '')}`;
    const viaProxy = new URL(PG!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set('schema', schema);
    const env = { TOLLGATE_DATABASE_URL: viaProxy.toString() };
    const admin = new pg.Pool({ connectionString: PG, max: 1 });
    cleanups.push(async () => {
      await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      await admin.end();
    });
    const p = opsProject(3, env);
    expect(p.run(['promote', V(1), '--to', 'staging', '--as', 'dave'], { env }).code).toBe(0);

    // The CLI: refused with the code, the URL named without a password, exit 1.
    await proxy.cut();
    const down = p.run(['promote', V(2), '--to', 'staging', '--as', 'dave', '--json'], { env });
    expect(down.code, down.stdout + down.stderr).toBe(1);
    expect(down.json().error.code).toBe('TG_DATABASE_UNAVAILABLE');
    await proxy.restore();
    verifies(p, env);
    expect(p.run(['promote', V(2), '--to', 'staging', '--as', 'dave'], { env }).code).toBe(0);

    // The server: requests while it is gone are 503 with the code, not 500; it recovers by itself.
    const token = p.run(['token', 'create', 'dave', '--json'], { env }).json().token as string;
    const server: Served = await startServe(p.dir, { TOLLGATE_HOME: p.home, ...env });
    cleanups.push(async () => void (await server.stop('SIGKILL')));
    const ref = encodeURIComponent(V(3));
    expect((await api(server.url, token, 'GET', `/api/releases/${ref}/status?stage=staging`)).status).toBe(200);
    await proxy.cut();
    const during = await api(server.url, token, 'POST', `/api/releases/${ref}/promotions`, { stage: 'staging' }).catch((err: unknown) => {
      throw new Error(`no answer while PostgreSQL was gone (the server must stay up and say so): ${String(err)}\n${server.output().slice(-3000)}`);
    });
    expect(during.status, JSON.stringify(during.json)).toBe(503);
    expect(during.json.error.code).toBe('TG_DATABASE_UNAVAILABLE');
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBeLessThan(600); // answers at all: the process stayed up
    await proxy.restore();
    let after = await api(server.url, token, 'POST', `/api/releases/${ref}/promotions`, { stage: 'staging' });
    for (let i = 0; i < 20 && after.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await api(server.url, token, 'POST', `/api/releases/${ref}/promotions`, { stage: 'staging' });
    }
    expect(after.status, JSON.stringify(after.json)).toBe(201);
    await server.stop('SIGTERM');
    verifies(p, env);
    const promoted = p.run(['audit', 'log', '--type', 'ReleasePromoted', '--json'], { env }).json().events.map((e: any) => e.data.release);
    expect(promoted).toEqual([V(1), V(2), V(3)]);
  }, 240_000);
});
