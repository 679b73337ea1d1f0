/**
 * Scale-out (issue 5, acceptance 3): three `tollgate serve` processes on one PostgreSQL database take
 * 200 concurrent requests that mix sign-offs and promotions of one release. Exactly one promotion per
 * stage, every acknowledged sign-off kept, the audit log verifies, and every committed sign-off and
 * promotion reaches the webhook receiver (three dispatchers sharing one outbox).
 * Needs PostgreSQL (TOLLGATE_TEST_PG, as .ci/run sets); skipped without it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey } from '../src/domain/keys.js';
import { createProject, removeProjects, type Project } from './helpers/cli.js';
import { api, presignSignoffs, startReceiver, startServe, waitFor, type Served } from './helpers/serve.js';

const PG = process.env.TOLLGATE_TEST_PG;
const REL = 'fraud-detector@2.4.0';
const ref = encodeURIComponent(REL);

describe.skipIf(!PG)('three servers on one PostgreSQL database', () => {
  const schema = `tollgate_cluster_${randomUUID().replaceAll('-', '')}`;
  let databaseUrl: string;
  let p: Project;
  let servers: Served[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const tokens: Record<string, string> = {};
  let env: Record<string, string>;
  const admin = PG ? new pg.Pool({ connectionString: PG, max: 2 }) : undefined;

  const q = async (text: string): Promise<any[]> => (await admin!.query(`set search_path to ${pg.escapeIdentifier(schema)}; ${text}`) as any)[1].rows;

  beforeAll(async () => {
    const u = new URL(PG!);
    u.searchParams.set('schema', schema);
    databaseUrl = u.toString();
    // The receiver listens on 127.0.0.1: private webhook addresses allowed.
    env = { TOLLGATE_DATABASE_URL: databaseUrl, TOLLGATE_ALLOW_PRIVATE_WEBHOOKS: '1' };
    p = createProject({ init: false });
    const init = p.run(['init', '--json'], { env });
    expect(init.code, init.stderr).toBe(0);
    // The home holds no database file: the data is in PostgreSQL.
    expect(fs.existsSync(path.join(p.home, 'tollgate.db'))).toBe(false);
    const users = init.json().users as Record<string, string>;
    p.write(
      'cluster.yaml',
      `apiVersion: tollgate/v1
kind: Policy
name: cluster
roster:
  alice: { roles: [ml-engineer], key: "${users.alice}" }
  bob:   { roles: [ml-engineer], key: "${users.bob}" }
  carol: { roles: [security], key: "${users.carol}" }
  dave:  { roles: [release-manager], key: "${users.dave}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: approvals
    stage: production
    separationOfDuties: true
    signoffs:
      - { role: ml-engineer, count: 1 }
      - { role: security, count: 1 }
`,
    );
    expect(p.run(['policy', 'apply', 'cluster.yaml', '--as', 'dave'], { env }).code).toBe(0);
    expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice'], { env }).code).toBe(0);
    for (const user of ['bob', 'carol', 'dave']) tokens[user] = p.run(['token', 'create', user, '--json'], { env }).json().token;
    receiver = await startReceiver();
    const hook = p.run(['webhook', 'add', receiver.url, '--events', 'signoff.recorded,release.promoted', '--json'], { env });
    expect(hook.code, hook.stderr).toBe(0);
    servers = await Promise.all([0, 1, 2].map(() => startServe(p.dir, { TOLLGATE_HOME: p.home, ...env, TOLLGATE_WEBHOOK_POLL_MS: '100' })));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await receiver?.close();
    await admin?.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await admin?.end();
    removeProjects();
  });

  const key = (user: string) => loadPrivateKey(fs.readFileSync(path.join(p.home, 'demo-keys', `${user}.key`), 'utf8'));
  const signed = (user: 'bob' | 'carol', role: string, n: number) => presignSignoffs(servers.map((s) => s.url), tokens[user]!, REL, 'production', role, key(user), n);

  it('serializes 200 concurrent sign-offs and promotions: one promotion per stage, nothing lost, a log that verifies', async () => {
    const bob = await signed('bob', 'ml-engineer', 50);
    const carol = await signed('carol', 'security', 50);
    type Req = { kind: 'staging' | 'production' | 'signoff'; user: string; body: unknown; path: string };
    const promote = (stage: 'staging' | 'production'): Req => ({ kind: stage, user: 'dave', path: `/api/releases/${ref}/promotions`, body: { stage } });
    const sign = (user: 'bob' | 'carol', signoffs: unknown[]): Req => ({ kind: 'signoff', user, path: `/api/releases/${ref}/signoffs`, body: { signoffs } });
    const requests: Req[] = [];
    for (let i = 0; i < 50; i++) requests.push(promote('staging'), sign('carol', carol[i]!), promote('production'), sign('bob', bob[i]!));
    expect(requests).toHaveLength(200);

    const fire = (list: Req[]) =>
      Promise.all(list.map(async (r, i) => ({ r, res: await api(servers[i % 3]!.url, tokens[r.user]!, 'POST', r.path, r.body) })));
    const answers = await fire(requests);

    // Nothing but the two answers a promotion can get, and every sign-off taken.
    const unexpected = answers.filter(({ r, res }) => !(r.kind === 'signoff' ? [201] : [201, 409]).includes(res.status));
    expect(unexpected.map(({ r, res }) => `${r.kind} ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`)).toEqual([]);
    expect(answers.filter(({ r, res }) => r.kind === 'staging' && res.status === 201)).toHaveLength(1);
    const productionFirst = answers.filter(({ r, res }) => r.kind === 'production' && res.status === 201).length;
    expect(productionFirst).toBeLessThanOrEqual(1);
    for (const { r, res } of answers.filter((a) => a.r.kind !== 'signoff' && a.res.status === 409)) {
      expect(res.json.error.code, `${r.kind}: ${JSON.stringify(res.json)}`).toBe('TG_PROMOTION_BLOCKED');
    }

    // Now every requirement holds: a second burst of production promotions, one of which may win if none did.
    const settle = await fire(Array.from({ length: 21 }, () => promote('production')));
    expect(settle.every(({ res }) => res.status === 201 || (res.status === 409 && res.json.error.code === 'TG_PROMOTION_BLOCKED'))).toBe(true);
    expect(productionFirst + settle.filter(({ res }) => res.status === 201).length).toBe(1);

    const promotions = await q(`select stage, count(*)::int as n from promotions group by stage order by stage`);
    expect(promotions).toEqual([
      { stage: 'production', n: 1 },
      { stage: 'staging', n: 1 },
    ]);
    // No sign-off lost: every acknowledged id is stored, and nothing else is.
    const acked = answers.filter(({ r }) => r.kind === 'signoff').flatMap(({ res }) => res.json.signoffs.map((s: { id: string }) => s.id));
    expect(acked).toHaveLength(100);
    const stored = (await q(`select id from signoffs`)).map((r) => r.id);
    expect([...stored].sort()).toEqual([...acked].sort());

    // The log verifies, from a fourth process, and holds one event per change.
    const verify = p.run(['audit', 'verify', '--json'], { env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const events = await q(`select type, count(*)::int as n from audit_events group by type`);
    const count = (type: string) => events.find((e) => e.type === type)?.n ?? 0;
    expect(count('SignoffRecorded')).toBe(100);
    expect(count('ReleasePromoted')).toBe(2);
    expect(verify.json()).toMatchObject({ ok: true, events: events.reduce((n, e) => n + e.n, 0) });

    // Every committed sign-off and promotion was delivered, by whichever replica claimed it.
    const wanted = (await q(`select seq from audit_events where type in ('SignoffRecorded', 'ReleasePromoted') order by seq`)).map((r) => r.seq);
    const delivered = () => new Set(receiver.got.map((g) => g.json.audit.seq));
    expect(await waitFor(() => wanted.every((seq) => delivered().has(seq)), 60_000), `delivered ${delivered().size} of ${wanted.length}`).toBe(true);
    expect(receiver.got.every((g) => ['signoff.recorded', 'release.promoted'].includes(g.json.type))).toBe(true);
  }, 300_000);
});
