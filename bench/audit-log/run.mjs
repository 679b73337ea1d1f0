// Reading the audit log: `auditSearch` (audit log, GET /api/audit/events) against `auditPage` (the
// unfiltered page, the baseline) on a log of N events written straight into SQLite (reads only are
// measured; the events carry no valid hashes). Usage: node bench/audit-log/run.mjs [N] [DBFILE]
import BetterSqlite3 from 'better-sqlite3';
import fs from 'node:fs';
const { createSqliteStore } = await import(new URL('../../dist/store/sqlite-store.js', import.meta.url).href);
const N = Number(process.argv[2] ?? 200000);
const file = process.argv[3] ?? '/tmp/tollgate-audit-log-bench.db';
fs.rmSync(file, { force: true });
(await createSqliteStore(file)).close();
const db = new BetterSqlite3(file);
const ins = db.prepare('insert into audit_events (seq, at, actor, type, data_json, prev, hash) values (?, ?, ?, ?, ?, ?, ?)');
const types = ['ReleaseCreated', 'SignoffRecorded', 'ChecklistItemCompleted', 'ValidationRecorded', 'ReleasePromoted'];
db.transaction(() => {
  for (let i = 1; i <= N; i++) {
    const subject = i === N ? 'rare' : `subject-${i % 50}`;
    const type = i === N ? 'ReleaseRolledBack' : types[i % types.length];
    ins.run(i, new Date(Date.UTC(2026, 0, 1) + i * 60000).toISOString(), `user:u${i % 7}`, type, JSON.stringify({ release: `${subject}@1.${i}.0`, stage: 'staging', rows: [{ digest: 'sha256:' + 'a'.repeat(64), key: String(i), table: 'signoffs' }] }), 'x', 'y');
  }
})();
db.close();
const store = await createSqliteStore(file);
async function time(name, fn, runs = 5) {
  const ts = [];
  for (let r = 0; r < runs; r++) { const t = process.hrtime.bigint(); await fn(); ts.push(Number(process.hrtime.bigint() - t) / 1e6); }
  ts.sort((a, b) => a - b);
  return { name, ms: ts[Math.floor(runs / 2)] };
}
const rows = [
  await time('auditPage(0,100) (baseline)', () => store.auditPage(0, 100)),
  await time('type=ReleasePromoted, first 100', () => store.auditSearch({ type: 'ReleasePromoted' }, 0, 100)),
  await time('subject=subject-7, first 100', () => store.auditSearch({ subject: 'subject-7' }, 0, 100)),
  await time('type=ReleaseRolledBack (only the last event)', () => store.auditSearch({ type: 'ReleaseRolledBack' }, 0, 100)),
  await time('subject=rare (only the last event)', () => store.auditSearch({ subject: 'rare' }, 0, 100)),
  await time('since=last hour', () => store.auditSearch({ since: new Date(Date.UTC(2026, 0, 1) + (N - 60) * 60000).toISOString() }, 0, 100)),
];
const base = rows[0].ms;
for (const r of rows) console.log(`${r.name.padEnd(48)} ${r.ms.toFixed(2).padStart(9)} ms  ×${(r.ms / base).toFixed(1)}`);
await store.close();
