/**
 * The state benchmark's generator (bench/state/generate.mjs) makes genuine homes: a few hundred events
 * with both writers, each checked by the real `tollgate audit verify` (every event, the Merkle tree,
 * the signed checkpoint and every row the log vouches for), and its newest promotion attested. The
 * benchmark's figures mean nothing if its homes are not what Tollgate writes. Not timed. Runs dist/
 * (`npm run build` first), as the benchmark does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..');
const BIN = path.join(REPO, 'bin/tollgate.js');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tollgate(home: string, args: string[]) {
  const env = { ...process.env };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN']) delete env[k];
  const r = spawnSync(process.execPath, [BIN, '--home', home, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench/state/generate.mjs', () => {
  for (const writer of ['sql', 'store'] as const) {
    it(`--writer ${writer} makes a home that audit verify accepts whole`, async () => {
      const { generateHome } = (await import(pathToFileURL(path.join(REPO, 'bench/state/generate.mjs')).href)) as {
        generateHome(o: { dir: string; events: number; batch?: number; perSubject?: number; writer?: string }): Promise<{ home: string; events: number; releases: number; lastProduction: string }>;
      };
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tollgate-bench-state-${writer}-`));
      dirs.push(dir);
      const info = await generateHome({ dir, events: 150, batch: 7, perSubject: 4, writer });
      expect(info.events).toBeGreaterThanOrEqual(150);
      expect(info.releases).toBeGreaterThan(10);

      const verify = tollgate(info.home, ['audit', 'verify', '--json']);
      expect(verify.code, verify.stderr).toBe(0);
      const answer = JSON.parse(verify.stdout) as { ok: boolean; events: number };
      expect(answer).toMatchObject({ ok: true, events: info.events });

      // Every kind of event of the mix is there, and a decision reads the generated record as valid.
      const types = new Set<string>();
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(path.join(info.home, 'tollgate.db'), { readonly: true });
      try {
        for (const row of db.prepare('select distinct type from audit_events').all() as { type: string }[]) types.add(row.type);
        const checkpoints = (db.prepare('select count(*) as n from audit_checkpoints').get() as { n: number }).n;
        // One signed checkpoint per change, as change.ts writes them (fewer than events: a change may append several).
        expect(checkpoints).toBeGreaterThan(info.releases * 8);
        expect(checkpoints).toBeLessThanOrEqual(info.events);
      } finally {
        db.close();
      }
      expect([...types].sort()).toEqual(['ChecklistItemCompleted', 'PolicyApplied', 'ReleaseCreated', 'ReleasePromoted', 'SignoffRecorded', 'ValidationRecorded']);
      const attest = tollgate(info.home, ['attest', info.lastProduction, '--stage', 'production']);
      expect(attest.code, attest.stderr).toBe(0);
    }, 60_000);
  }
});
