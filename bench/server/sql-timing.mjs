// SQL run per sign-off in bench/server: loaded into the server process, it times every statement
// better-sqlite3 runs (all, get, run: synchronous, so the time is the statement's own, a COMMIT's
// fsync included) by its SQL, and writes the totals to OUT.<pid> every second; run directly, it
// prints them per sign-off written (the statements that insert a sign-off are counted as writes).
//
//   TOLLGATE_SQL_TIMING=/tmp/sql.json NODE_OPTIONS="--import $PWD/bench/server/sql-timing.mjs" \
//     node bench/server/run.mjs --duration 5 --warmup 1 --rounds 1 --stores sqlite --targets write
//   node bench/server/sql-timing.mjs /tmp/sql.json
// (NODE_OPTIONS reaches the load generator too; only the process that ran statements writes any.)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) report(process.argv[2]);
else if (process.env.TOLLGATE_SQL_TIMING) instrument(process.env.TOLLGATE_SQL_TIMING);

function instrument(out) {
  const Database = createRequire(self)('better-sqlite3');
  const probe = new Database(':memory:');
  const Statement = Object.getPrototypeOf(probe.prepare('select 1'));
  probe.close();
  const stats = new Map();
  for (const method of ['all', 'get', 'run']) {
    const original = Statement[method];
    Statement[method] = function (...args) {
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const sql = this.source.replace(/\s+/g, ' ').slice(0, 160);
        const s = stats.get(sql) ?? { n: 0, ns: 0n };
        s.n++;
        s.ns += process.hrtime.bigint() - start;
        stats.set(sql, s);
      }
    };
  }
  setInterval(() => {
    if (stats.size === 0) return;
    const rows = [...stats].map(([sql, s]) => ({ sql, n: s.n, us: Number(s.ns / 1000n) }));
    fs.writeFileSync(`${out}.${process.pid}`, JSON.stringify({ cpu: process.cpuUsage(), rows }));
  }, 1000).unref();
}

function report(out) {
  const dir = path.dirname(out);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(`${path.basename(out)}.`));
  for (const f of files) {
    const { rows } = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    const writes = rows.find((r) => /^insert into "signoffs"/.test(r.sql))?.n;
    if (!writes) continue;
    const total = rows.reduce((a, r) => a + r.us, 0);
    const count = rows.reduce((a, r) => a + r.n, 0);
    console.log(`${writes} sign-offs: ${(count / writes).toFixed(1)} statements and ${(total / writes).toFixed(0)} µs of SQL per sign-off`);
    for (const r of rows.sort((a, b) => b.us - a.us).slice(0, 20)) {
      console.log(`${(r.us / writes).toFixed(1).padStart(8)} µs ${(r.n / writes).toFixed(2).padStart(6)}×  ${r.sql}`);
    }
  }
}
