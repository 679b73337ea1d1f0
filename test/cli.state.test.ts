/**
 * Decisions follow from the verified record alone (DESIGN.md rules 5 and 6), end to end through the
 * real binary and a real `tollgate serve`, on SQLite and (with TOLLGATE_TEST_PG) PostgreSQL:
 * - the four forgeries of issue 10 (a roster key swapped in the stored policy, a release's risk
 *   downgraded, validation results inserted by hand, a promotion inserted by hand) each end in exit 4
 *   TG_STATE_TAMPERED, locally and over --server, before and after the server restarts, and never in
 *   a promotion; `audit verify` names the row; undoing the forgery gives the old answers back;
 * - `status --json` is the same from three folders and over --server.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, runInAsync, type Project, type RunResult } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

const REL = 'fraud-detector@2.4.0';
const pgUrl = process.env.TOLLGATE_TEST_PG;

/** A table's rows, read and written behind Tollgate's back: the forger's tools. */
interface Db {
  one(sql: string, params?: unknown[]): Promise<Record<string, any>>;
  exec(sql: string, params?: unknown[]): Promise<number>;
  close(): Promise<void>;
}

interface Store {
  readonly name: string;
  /** Extra environment for every command and the server (the database URL on PostgreSQL). */
  env(): Record<string, string>;
  open(project: Project): Promise<Db>;
  /** `?` placeholders become `$1…` on PostgreSQL. */
  readonly placeholders: (sql: string) => string;
}

function sqliteStore(): Store {
  return {
    name: 'SQLite',
    env: () => ({}),
    placeholders: (sql) => sql,
    async open(project) {
      const db = project.openDb();
      return {
        one: async (sql, params = []) => db.prepare(sql).get(...params) as Record<string, any>,
        exec: async (sql, params = []) => db.prepare(sql).run(...params).changes,
        close: async () => void db.close(),
      };
    },
  };
}

function postgresStore(url: string): Store {
  const schema = `tollgate_state_${randomUUID().replaceAll('-', '')}`;
  return {
    name: 'PostgreSQL',
    env: () => ({ TOLLGATE_DATABASE_URL: `${url}${url.includes('?') ? '&' : '?'}schema=${schema}` }),
    placeholders: (sql) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    },
    async open() {
      const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
      return {
        one: async (sql, params = []) => (await pool.query(sql, params)).rows[0],
        exec: async (sql, params = []) => (await pool.query(sql, params)).rowCount ?? 0,
        close: () => pool.end(),
      };
    },
  };
}

const stores: Store[] = [sqliteStore(), ...(pgUrl ? [postgresStore(pgUrl)] : [])];

afterAll(removeProjects);

describe.each(stores)('decisions from the verified record ($name)', (store) => {
  let p: Project;
  let served: Served | undefined;
  let token: string;
  let bobKey: string;

  const run = (args: readonly string[], cwd?: string): Promise<RunResult> => runInAsync(p.dir, p.home, args, { env: store.env(), ...(cwd ? { cwd } : {}) });
  const remote = (args: readonly string[]): Promise<RunResult> =>
    runInAsync(p.dir, p.home, ['--server', served!.url, ...args], { env: { ...store.env(), TOLLGATE_TOKEN: token } });
  const must = async (args: readonly string[]) => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r;
  };
  const serve = async () => {
    served = await startServe(p.dir, { TOLLGATE_HOME: p.home, ...store.env() }, ['--no-webhooks']);
  };
  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = await store.open(p);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  const sql = store.placeholders;

  beforeAll(async () => {
    p = createProject({ init: false });
    const init = await run(['init', '--json']);
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    bobKey = init.json().users.bob;
    await must(['release', 'create', 'release.yaml', '--as', 'alice']);
    await must(['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']);
    await must(['check', REL, 'model-card', '--to', 'staging', '--as', 'alice']);
    await must(['validate', REL, '--to', 'staging', '--as', 'ci']);
    await must(['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob']);
    token = (await must(['token', 'create', 'dave'])).stdout.trim();
    await serve();
  }, 240_000);
  afterAll(async () => {
    await served?.stop();
  });

  /** Status and promote to `stage`, locally and over --server: each must exit 4 with TG_STATE_TAMPERED naming `row`. */
  async function refusedEverywhere(stage: string, row: RegExp): Promise<void> {
    const answers = await Promise.all([
      run(['status', REL, '--to', stage, '--json']),
      run(['promote', REL, '--to', stage, '--as', 'dave', '--json']),
      remote(['status', REL, '--to', stage, '--json']),
      remote(['promote', REL, '--to', stage, '--json']),
    ]);
    for (const r of answers) {
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.json().error.code).toBe('TG_STATE_TAMPERED');
      expect(r.json().error.message).toMatch(row);
    }
    const shown = await run(['release', 'show', REL, '--json']);
    // Never a promotion (release show itself refuses a tampered release).
    if (shown.code === 0) expect(shown.json().holds).toEqual([]);
    else expect(shown.json().error.code).toBe('TG_STATE_TAMPERED');
  }

  async function auditVerifyNames(table: string): Promise<void> {
    const v = await run(['audit', 'verify', '--json']);
    expect(v.code).toBe(4);
    expect(v.json().rows.map((r: any) => r.table)).toContain(table);
  }

  async function restart(): Promise<void> {
    await served!.stop();
    await serve();
  }

  const forgeries: { name: string; stage: string; row: RegExp; table: string; forge: (db: Db) => Promise<(db: Db) => Promise<void>> }[] = [
    {
      name: "a roster key swapped in the stored policy (bob's for a key the forger holds)",
      stage: 'staging',
      row: /^policies 1 is not what the audit log vouches for/,
      table: 'policies',
      forge: async (db) => {
        const mallory = `ed25519:${generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
        const { policy_json: before } = await db.one('select policy_json from policies where version = 1');
        expect(before).toContain(bobKey);
        expect(await db.exec(sql('update policies set policy_json = ? where version = 1'), [before.replace(bobKey, mallory)])).toBe(1);
        return async (again) => void (await again.exec(sql('update policies set policy_json = ? where version = 1'), [before]));
      },
    },
    {
      name: "the release's risk downgraded (high → low, so production would ask no security sign-off)",
      stage: 'production',
      row: /^releases sha256:[0-9a-f]{64} is not what the audit log vouches for/,
      table: 'releases',
      forge: async (db) => {
        const { manifest_json: before, digest } = await db.one("select manifest_json, digest from releases where version = '2.4.0'");
        expect(before).toContain('"risk":"high"');
        expect(await db.exec(sql('update releases set manifest_json = ? where digest = ?'), [before.replace('"risk":"high"', '"risk":"low"'), digest])).toBe(1);
        return async (again) => void (await again.exec(sql('update releases set manifest_json = ? where digest = ?'), [before, digest]));
      },
    },
    {
      name: 'a passed validation result inserted by hand',
      stage: 'staging',
      row: /^validation_results forged-result is not what the audit log vouches for \(inserted\)/,
      table: 'validation_results',
      forge: async (db) => {
        const row = await db.one("select * from validation_results where validation_id = 'quality'");
        const forged: Record<string, unknown> = { ...row, id: 'forged-result', at: new Date().toISOString(), audit_seq: null };
        const cols = Object.keys(forged);
        await db.exec(sql(`insert into validation_results (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`), cols.map((c) => forged[c]));
        return async (again) => void (await again.exec("delete from validation_results where id = 'forged-result'"));
      },
    },
    {
      name: 'a promotion into staging inserted by hand (so production would find the stage order met)',
      stage: 'production',
      row: /^promotions forged-promotion is not what the audit log vouches for \(inserted\)/,
      table: 'promotions',
      forge: async (db) => {
        const { digest } = await db.one("select digest from releases where version = '2.4.0'");
        const { version: policyVersion, digest: policyDigest } = await db.one('select version, digest from policies order by version desc limit 1');
        await db.exec(
          sql(`insert into promotions (id, seq, subject, stage, version, release_digest, policy_version, policy_digest, kind, by_user, at, previous_version, reason, audit_seq)
               values ('forged-promotion', 1, 'fraud-detector', 'staging', '2.4.0', ?, ?, ?, 'promotion', 'dave', ?, null, null, 2)`),
          [digest, policyVersion, policyDigest, new Date().toISOString()],
        );
        return async (again) => void (await again.exec("delete from promotions where id = 'forged-promotion'"));
      },
    },
  ];

  it('answers normally before any forgery: staging promotable (exit 0), production blocked (exit 3), locally and over --server', async () => {
    expect((await run(['status', REL, '--to', 'staging', '--json'])).code).toBe(0);
    expect((await remote(['status', REL, '--to', 'staging', '--json'])).code).toBe(0);
    expect((await remote(['status', REL, '--to', 'production', '--json'])).code).toBe(3);
  });

  for (const f of forgeries) {
    it(`${f.name}: exit 4 locally and over --server, before and after a restart; audit verify names the row; undone, the answers come back`, async () => {
      // The server has answered (and cached) this question before the forgery.
      const before = await remote(['status', REL, '--to', f.stage, '--json']);
      expect([0, 3]).toContain(before.code);
      const undo = await withDb(f.forge);
      try {
        await refusedEverywhere(f.stage, f.row);
        await auditVerifyNames(f.table);
        await restart();
        await refusedEverywhere(f.stage, f.row);
      } finally {
        await withDb(undo);
      }
      const after = await remote(['status', REL, '--to', f.stage, '--json']);
      expect(after.code).toBe(before.code);
      expect({ ...after.json(), evaluatedAt: 0 }).toEqual({ ...before.json(), evaluatedAt: 0 });
      expect((await run(['audit', 'verify', '--json'])).code).toBe(0);
    });
  }

  it('gives the same status --json from three folders and over --server (but evaluatedAt)', async () => {
    const away = fs.mkdtempSync(path.join(path.dirname(p.dir), 'tollgate-away-'));
    try {
      const answers = await Promise.all([
        run(['status', REL, '--to', 'production', '--as', 'dave', '--json']),
        run(['status', REL, '--to', 'production', '--as', 'dave', '--json'], 'data'),
        run(['--home', p.home, 'status', REL, '--to', 'production', '--as', 'dave', '--json'], away),
        remote(['status', REL, '--to', 'production', '--json']),
      ]);
      const texts = answers.map((r) => {
        expect(r.code, r.stderr).toBe(3);
        return r.stdout.replace(/"evaluatedAt": "[^"]+"/, '"evaluatedAt": ""');
      });
      for (const t of texts.slice(1)) expect(t).toBe(texts[0]);
    } finally {
      fs.rmSync(away, { recursive: true, force: true });
    }
  });
});
