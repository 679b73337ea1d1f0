/**
 * Crash safety (issue 5, acceptance 4): a server killed with SIGKILL in the middle of a stream of
 * writes, three times over, then restarted. No change is half-written (every sign-off has its audit
 * event, its checkpoint and its outbox row, or none of them), every acknowledged write is kept, the
 * log verifies, and every committed change's webhook is delivered at least once, including those
 * whose delivery the killed process had claimed or never got to. On SQLite, and on PostgreSQL when
 * TOLLGATE_TEST_PG names one.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPrivateKey } from '../src/domain/keys.js';
import { createProject, removeProjects } from './helpers/cli.js';
import { api, presignSignoffs, sleep, startReceiver, startServe, waitFor, type Served } from './helpers/serve.js';

const PG = process.env.TOLLGATE_TEST_PG;
const REL = 'fraud-detector@2.4.0';
const ref = encodeURIComponent(REL);
const ROUNDS = 3;
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeProjects();
});

const stores = ['sqlite', ...(PG ? ['postgres'] : [])] as const;

describe.each(stores)('a server killed mid-write, on %s', (kind) => {
  it(
    'restarts with nothing half-written, nothing acknowledged lost, and every webhook delivered',
    async () => {
      // The receiver listens on 127.0.0.1: private webhook addresses allowed.
      const env: Record<string, string> = { TOLLGATE_ALLOW_PRIVATE_WEBHOOKS: '1' };
      let rows: (sql: string) => Promise<any[]>;
      const p = createProject({ init: false });
      if (kind === 'postgres') {
        const schema = `tollgate_crash_${randomUUID().replaceAll('-', '')}`;
        const u = new URL(PG!);
        u.searchParams.set('schema', schema);
        env.TOLLGATE_DATABASE_URL = u.toString();
        const admin = new pg.Pool({ connectionString: PG, max: 1 });
        rows = async (sql) => ((await admin.query(`set search_path to ${pg.escapeIdentifier(schema)}; ${sql}`)) as any)[1].rows;
        cleanups.push(async () => {
          await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
          await admin.end();
        });
      } else {
        rows = async (sql) => {
          const db = p.openDb();
          try {
            return db.prepare(sql).all();
          } finally {
            db.close();
          }
        };
      }
      const init = p.run(['init', '--json'], { env });
      expect(init.code, init.stderr).toBe(0);
      const users = init.json().users as Record<string, string>;
      p.write(
        'crash.yaml',
        `apiVersion: tollgate/v1
kind: Policy
name: crash
roster:
  alice: { roles: [ml-engineer], key: "${users.alice}" }
  carol: { roles: [security], key: "${users.carol}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: approvals
    stage: production
    signoffs:
      - { role: security, count: 1 }
`,
      );
      expect(p.run(['policy', 'apply', 'crash.yaml', '--as', 'dave'], { env }).code).toBe(0);
      expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice'], { env }).code).toBe(0);
      const token = p.run(['token', 'create', 'carol', '--json'], { env }).json().token as string;
      const receiver = await startReceiver();
      cleanups.push(receiver.close);
      expect(p.run(['webhook', 'add', receiver.url, '--events', '*'], { env }).code).toBe(0);
      const key = loadPrivateKey(fs.readFileSync(path.join(p.home, 'demo-keys', 'carol.key'), 'utf8'));
      // A short lease, so that deliveries the killed process had claimed are taken over soon.
      const serveEnv = { TOLLGATE_HOME: p.home, ...env, TOLLGATE_WEBHOOK_POLL_MS: '50', TOLLGATE_WEBHOOK_LEASE_MS: '1500' };

      const acked: string[] = [];
      let lost = 0;
      let server: Served | undefined;
      cleanups.push(async () => void (await server?.stop('SIGKILL')));
      for (let round = 0; round < ROUNDS; round++) {
        server = await startServe(p.dir, serveEnv);
        const url = server.url;
        const queue = await presignSignoffs([url], token, REL, 'production', 'security', key, 60);
        let ackedThisRound = 0;
        // Four clients writing as fast as the server takes it, until the kill cuts them off.
        const workers = Array.from({ length: 4 }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            try {
              const res = await api(url, token, 'POST', `/api/releases/${ref}/signoffs`, { signoffs: next });
              expect(res.status, JSON.stringify(res.json)).toBe(201);
              acked.push(...res.json.signoffs.map((s: { id: string }) => s.id));
              ackedThisRound++;
            } catch (err) {
              if (err instanceof Error && err.name === 'AssertionError') throw err;
              lost++; // The connection died with the server: the write may or may not have committed.
              return;
            }
          }
        });
        // Kill once writes are flowing, while more are on the way.
        await waitFor(() => ackedThisRound >= 5 + round * 3, 30_000);
        await sleep(Math.floor(Math.random() * 20));
        await server.stop('SIGKILL');
        await Promise.all(workers);
        expect(queue.length, 'the kill came before the stream ended').toBeGreaterThan(0);
      }
      // The last restart: it finishes what the killed ones left.
      server = await startServe(p.dir, serveEnv);

      // Nothing half-written: each sign-off with its audit event and its outbox row, the last checkpoint at the head.
      const signoffs = (await rows('select id from signoffs')).map((r) => r.id as string);
      const events = await rows("select seq, data_json from audit_events where type = 'SignoffRecorded' order by seq");
      expect(events.map((e) => JSON.parse(e.data_json).id).sort()).toEqual([...signoffs].sort());
      const outbox = await rows("select audit_seq from webhook_deliveries where event_type = 'signoff.recorded' order by audit_seq");
      expect(outbox.map((r) => Number(r.audit_seq))).toEqual(events.map((e) => Number(e.seq)));
      const [head] = await rows('select max(seq) as size from audit_events');
      const [checkpoint] = await rows('select max(size) as size from audit_checkpoints');
      expect(Number(checkpoint.size)).toBe(Number(head.size));
      // Nothing acknowledged is lost; what was cut off may or may not be there, but never twice.
      expect(signoffs).toEqual(expect.arrayContaining(acked));
      expect(new Set(signoffs).size).toBe(signoffs.length);
      expect(signoffs.length).toBeLessThanOrEqual(acked.length + lost);
      const verify = p.run(['audit', 'verify', '--json'], { env });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.json().ok).toBe(true);

      // Every committed change's webhook arrives at least once.
      const wanted = events.map((e) => Number(e.seq));
      const delivered = () => new Set(receiver.got.filter((g) => g.json.type === 'signoff.recorded').map((g) => g.json.audit.seq));
      expect(await waitFor(() => wanted.every((seq) => delivered().has(seq)), 60_000), `delivered ${delivered().size} of ${wanted.length}`).toBe(true);
      expect(await waitFor(async () => (await rows("select count(*) as n from webhook_deliveries where status != 'delivered'"))[0].n == 0, 30_000)).toBe(true);
      await server.stop('SIGTERM');
    },
    300_000,
  );
});
