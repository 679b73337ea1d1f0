#!/usr/bin/env node
// The state benchmark (issue 10, acceptance 5 and 6): how `audit verify`, `status` and `attest` scale
// with the length of the audit log, on generated SQLite homes (bench/state/generate.mjs) of 10k,
// 100k and 1M events.
//
//   npm run bench:state                      # builds dist/, then runs this
//   node bench/state/run.mjs [--sizes 10000,100000,1000000] [--quick] [--data DIR] [--runs 5]
//                            [--iterations 30] [--verify-runs 2] [--out FILE.json]
//
// Homes are made once under --data (default $TMPDIR/tollgate-bench-state/events-N) and reused by later
// runs (every measured command only reads them); delete the folder to make them again. --quick: 1k
// and 4k events, fewer rounds, for a smoke run.
//
// - Goal 5: full `audit verify` of the 100k home (or the largest size up to 100k), events per second,
//   against raw SHA-256 of the same leaf bytes (0x00 || the event's canonical JSON, what each Merkle
//   leaf hashes) in the same run: the hashing alone, timed around `crypto.hash` per leaf, with the
//   bytes read and built beforehand, measured right before and right after the verify (their mean).
//   Goal ≥ 0.5×.
// - Goal 6: `status` and `attest` at the largest size ≤ 1.2× their cost at the smallest: whole CLI
//   runs (median of --runs, interleaved) and in-process timings (bench/state/ops.mjs: median of
//   --iterations calls in one process, after a first cold call); full `audit verify` at each size
//   as a child process, with its peak RSS (process.resourceUsage().maxRSS, read by
//   bench/state/rusage.mjs in the child): goal < 512 MiB at 1M.
// - Table sizes per event (dbstat): audit_events, audit_checkpoints, audit_nodes, with their indexes.
//
// Not a test: it prints figures and asserts nothing about them; it fails if a command does not end as
// it should (verify: exit 0 and "ok"; status: exit 0 or 3; attest: exit 0).
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const BIN = path.join(repo, 'bin/tollgate.js');
const RUSAGE = pathToFileURL(path.join(here, 'rusage.mjs')).href;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    data: { type: 'string', default: path.join(os.tmpdir(), 'tollgate-bench-state') },
    runs: { type: 'string' },
    iterations: { type: 'string' },
    'verify-runs': { type: 'string' },
    out: { type: 'string' },
  },
});
const SIZES = (args.sizes ?? (args.quick ? '1000,4000' : '10000,100000,1000000')).split(',').map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 100)) fail(`--sizes must be whole numbers of at least 100, got ${args.sizes}`);
const RUNS = Number(args.runs ?? (args.quick ? 3 : 5));
const ITERATIONS = Number(args.iterations ?? (args.quick ? 5 : 30));
const VERIFY_RUNS = Number(args['verify-runs'] ?? (args.quick ? 1 : 2));
const DATA = path.resolve(args.data);

function fail(message) {
  console.error(`bench:state: ${message}`);
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The home of `n` events, generated if it is not there yet. */
function homeOf(n) {
  const dir = path.join(DATA, `events-${n}`);
  const info = path.join(dir, 'generated.json');
  if (!fs.existsSync(info)) {
    fs.rmSync(dir, { recursive: true, force: true });
    console.error(`generating ${n} events in ${dir} …`);
    const r = spawnSync(process.execPath, [path.join(here, 'generate.mjs'), dir, '--events', String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) fail(`generating ${n} events failed (exit ${r.status})`);
    console.error('');
  }
  return JSON.parse(fs.readFileSync(info, 'utf8'));
}

/** One `tollgate` run as a child process: wall time from here, CPU and peak RSS from the child itself. */
function tollgate(home, argv, exits) {
  const usage = path.join(os.tmpdir(), `tollgate-bench-rusage-${process.pid}.json`);
  fs.rmSync(usage, { force: true });
  const env = { ...process.env, TOLLGATE_BENCH_RUSAGE: usage };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DEBUG']) delete env[k];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', RUSAGE, BIN, '--home', home, ...argv], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!exits.includes(r.status)) fail(`tollgate ${argv.join(' ')}: exit ${r.status}, expected ${exits.join(' or ')}\n${r.stdout.slice(0, 2000)}${r.stderr.slice(0, 2000)}`);
  const u = JSON.parse(fs.readFileSync(usage, 'utf8'));
  fs.rmSync(usage, { force: true });
  return { wall, cpu: u.cpuS, rssMiB: u.maxRssKiB / 1024, stdout: r.stdout };
}

/** Full `audit verify`, which must answer ok for every event of the home. */
function verify(info) {
  const r = tollgate(info.home, ['audit', 'verify', '--json'], [0]);
  const answer = JSON.parse(r.stdout);
  if (!answer.ok || answer.events !== info.events) fail(`audit verify of ${info.home}: ${JSON.stringify(answer).slice(0, 500)}`);
  return { wall: r.wall, cpu: r.cpu, rssMiB: r.rssMiB };
}

/**
 * Seconds of raw SHA-256 over every leaf's bytes (built beforehand, untimed, a page at a time); and,
 * timed apart, reading the events' rows from SQLite (better-sqlite3, pages of 10 000): the floor under
 * anything that checks the log from the file.
 */
async function rawLeafHashing(info) {
  const [{ default: Database }, { canonicalJson }] = await Promise.all([import('better-sqlite3'), import(pathToFileURL(path.join(repo, 'dist/domain/digest.js')).href)]);
  const db = new Database(path.join(info.home, 'tollgate.db'), { readonly: true });
  const page = db.prepare('select seq, at, actor, type, data_json, prev, hash from audit_events where seq > ? order by seq limit 10000');
  let seconds = 0;
  let readSeconds = 0;
  let cpuSeconds = 0;
  let readCpuSeconds = 0;
  let bytes = 0;
  let count = 0;
  try {
    for (let after = 0; ; ) {
      const rc0 = process.cpuUsage();
      const r0 = process.hrtime.bigint();
      const rows = page.all(after);
      readSeconds += Number(process.hrtime.bigint() - r0) / 1e9;
      const rc = process.cpuUsage(rc0);
      readCpuSeconds += (rc.user + rc.system) / 1e6;
      if (rows.length === 0) break;
      const leaves = rows.map((e) => {
        const json = Buffer.from(canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, type: e.type, data: JSON.parse(e.data_json), prev: e.prev, hash: e.hash }), 'utf8');
        const leaf = Buffer.allocUnsafe(1 + json.length);
        leaf[0] = 0;
        json.copy(leaf, 1);
        return leaf;
      });
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const leaf of leaves) hash('sha256', leaf, 'buffer');
      seconds += Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      cpuSeconds += (c.user + c.system) / 1e6;
      for (const leaf of leaves) bytes += leaf.length;
      count += rows.length;
      after = rows[rows.length - 1].seq;
    }
  } finally {
    db.close();
  }
  if (count !== info.events) fail(`read ${count} events of ${info.events}`);
  return { seconds, readSeconds, cpuSeconds, readCpuSeconds, bytes };
}

/** Bytes of each table with its indexes (dbstat), per audit event. */
async function tableSizes(info) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(info.home, 'tollgate.db'), { readonly: true });
  try {
    const owner = new Map(db.prepare("select name, tbl_name from sqlite_schema where type in ('table', 'index')").all().map((r) => [r.name, r.tbl_name]));
    const out = {};
    for (const { name, bytes } of db.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all()) {
      const table = owner.get(name) ?? name;
      out[table] ??= { table: 0, indexes: 0 };
      out[table][table === name ? 'table' : 'indexes'] += bytes;
    }
    const file = fs.statSync(path.join(info.home, 'tollgate.db')).size;
    return { file, tables: out };
  } finally {
    db.close();
  }
}

const loadBefore = os.loadavg();
const started = new Date();
console.error(`bench:state: sizes ${SIZES.join(', ')}; homes in ${DATA}`);
const homes = SIZES.map(homeOf);

// Goal 5: verify against raw SHA-256 of the same leaf bytes.
const goal5 = homes.filter((h) => h.events <= 110_000).at(-1) ?? homes[0];
console.error(`goal 5: audit verify of ${goal5.events} events …`);
const shaBefore = await rawLeafHashing(goal5);
const verifies5 = [];
for (let i = 0; i < VERIFY_RUNS; i++) verifies5.push(verify(goal5));
const shaAfter = await rawLeafHashing(goal5);
const shaSeconds = (shaBefore.seconds + shaAfter.seconds) / 2;
const readSeconds = (shaBefore.readSeconds + shaAfter.readSeconds) / 2;
const shaCpuSeconds = (shaBefore.cpuSeconds + shaAfter.cpuSeconds) / 2;
const readCpuSeconds = (shaBefore.readCpuSeconds + shaAfter.readCpuSeconds) / 2;
const verifyWall = median(verifies5.map((v) => v.wall));
const verifyCpu = median(verifies5.map((v) => v.cpu));
const g5 = {
  events: goal5.events,
  leafBytes: shaBefore.bytes,
  shaSeconds,
  shaEventsPerS: goal5.events / shaSeconds,
  readSeconds,
  shaCpuSeconds,
  readCpuSeconds,
  verifyWallS: verifyWall,
  verifyCpuS: verifyCpu,
  verifyEventsPerS: goal5.events / verifyWall,
  ratioWall: shaSeconds / verifyWall,
  ratioCpu: shaCpuSeconds / verifyCpu,
  runs: verifies5,
};

// Goal 6: per size, verify (RSS), status and attest (whole runs and in process), table sizes.
const perSize = [];
for (const info of homes) {
  console.error(`goal 6: ${info.events} events …`);
  const v = info === goal5 ? verifies5[0] : verify(info);
  const ref = info.lastProduction;
  const cases = {
    status: ['status', ref, '--to', 'production', '--as', 'dave', '--json'],
    attest: ['attest', ref, '--stage', 'production'],
  };
  const samples = { status: [], attest: [] };
  for (const [name, argv] of Object.entries(cases)) tollgate(info.home, argv, name === 'status' ? [0, 3] : [0]); // warm-up
  for (let round = 0; round < RUNS; round++) {
    for (const name of round % 2 ? ['attest', 'status'] : ['status', 'attest']) samples[name].push(tollgate(info.home, cases[name], name === 'status' ? [0, 3] : [0]));
  }
  const ops = spawnSync(process.execPath, [path.join(here, 'ops.mjs'), info.home, ref, '--iterations', String(ITERATIONS)], { encoding: 'utf8' });
  if (ops.status !== 0) fail(`ops.mjs on ${info.home}: ${ops.stderr}`);
  perSize.push({
    events: info.events,
    releases: info.releases,
    verify: { wallS: v.wall, cpuS: v.cpu, rssMiB: v.rssMiB, eventsPerS: info.events / v.wall },
    cli: Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, { wallMs: median(xs.map((x) => x.wall)) * 1000, cpuMs: median(xs.map((x) => x.cpu)) * 1000, rssMiB: median(xs.map((x) => x.rssMiB)) }])),
    inProcess: JSON.parse(ops.stdout),
    sizes: await tableSizes(info),
  });
}
const loadAfter = os.loadavg();

// ------------------------------------------------------------------------------------------ report
const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }).replace(/,/g, ' ');
console.log(`tollgate state benchmark, ${started.toISOString()}; node ${process.version}, ${os.cpus().length} CPUs; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after`);
console.log('');
console.log(`Goal 5: full \`audit verify\` of ${f(g5.events)} events (${VERIFY_RUNS} run${VERIFY_RUNS > 1 ? 's' : ''}, median) against raw SHA-256 of the same ${f(g5.leafBytes / 2 ** 20, 1)} MiB of leaf bytes`);
console.log('');
console.log('| | wall s | events/s (wall) | CPU s | events/s (CPU) | ratio to SHA-256: wall / CPU |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const line = (label, wall, cpu, ratio) => console.log(`| ${label} | ${f(wall, 3)} | ${f(g5.events / wall)} | ${f(cpu, 3)} | ${f(g5.events / cpu)} | ${ratio} |`);
line('raw SHA-256 of the leaves (mean of before and after)', g5.shaSeconds, g5.shaCpuSeconds, '1');
line("reading the events' rows from SQLite, no parsing (the same)", g5.readSeconds, g5.readCpuSeconds, `${f(g5.shaSeconds / g5.readSeconds, 3)}× / ${f(g5.shaCpuSeconds / g5.readCpuSeconds, 3)}×`);
line('`audit verify`, whole process', g5.verifyWallS, g5.verifyCpuS, `**${f(g5.ratioWall, 3)}× / ${f(g5.ratioCpu, 3)}×** (goal ≥ 0.5×)`);
console.log('');
console.log('Goal 6, per size: full `audit verify` (child process), `status` and `attest` as whole CLI runs (median of ' + RUNS + ') and in process (median of ' + ITERATIONS + ' calls; first call in brackets), ms');
console.log('');
console.log('| events | verify wall / CPU | verify events/s | verify peak RSS | CLI status wall / CPU | CLI attest wall / CPU | in-process status wall / CPU (first) | in-process attest wall / CPU (first) |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const s of perSize) {
  const c = s.cli;
  const p = s.inProcess;
  console.log(
    `| ${f(s.events)} | ${f(s.verify.wallS, 1)} s / ${f(s.verify.cpuS, 1)} s | ${f(s.verify.eventsPerS)} | ${f(s.verify.rssMiB)} MiB | ${f(c.status.wallMs)} / ${f(c.status.cpuMs)} | ${f(c.attest.wallMs)} / ${f(c.attest.cpuMs)} | ${f(p.status.medianMs, 1)} / ${f(p.status.medianCpuMs, 1)} (${f(p.status.firstMs)} / ${f(p.status.firstCpuMs)}) | ${f(p.attest.medianMs, 1)} / ${f(p.attest.medianCpuMs, 1)} (${f(p.attest.firstMs)} / ${f(p.attest.firstCpuMs)}) |`,
  );
}
const [small, large] = [perSize[0], perSize.at(-1)];
const r = (a, b) => `${f(a / b, 2)}×`;
console.log('');
console.log(`Ratios ${f(large.events)} / ${f(small.events)} events (goal ≤ 1.2× for status and attest; verify RSS < 512 MiB at 1M):`);
console.log(`- status: CLI wall ${r(large.cli.status.wallMs, small.cli.status.wallMs)}, CLI CPU ${r(large.cli.status.cpuMs, small.cli.status.cpuMs)}, in process wall ${r(large.inProcess.status.medianMs, small.inProcess.status.medianMs)}, CPU ${r(large.inProcess.status.medianCpuMs, small.inProcess.status.medianCpuMs)} (first call: wall ${r(large.inProcess.status.firstMs, small.inProcess.status.firstMs)}, CPU ${r(large.inProcess.status.firstCpuMs, small.inProcess.status.firstCpuMs)})`);
console.log(`- attest: CLI wall ${r(large.cli.attest.wallMs, small.cli.attest.wallMs)}, CLI CPU ${r(large.cli.attest.cpuMs, small.cli.attest.cpuMs)}, in process wall ${r(large.inProcess.attest.medianMs, small.inProcess.attest.medianMs)}, CPU ${r(large.inProcess.attest.medianCpuMs, small.inProcess.attest.medianCpuMs)} (first call: wall ${r(large.inProcess.attest.firstMs, small.inProcess.attest.firstMs)}, CPU ${r(large.inProcess.attest.firstCpuMs, small.inProcess.attest.firstCpuMs)})`);
console.log(`- verify: peak RSS ${f(small.verify.rssMiB)} → ${f(large.verify.rssMiB)} MiB; events/s ${f(small.verify.eventsPerS)} → ${f(large.verify.eventsPerS)}`);
console.log('');
console.log('Table sizes, bytes per event (table + its indexes):');
console.log('');
const TABLES = ['audit_events', 'audit_checkpoints', 'audit_nodes'];
console.log(`| events | file | ${TABLES.join(' | ')} | the vouched rows (all other tables) |`);
console.log(`| ---: | ---: | ${TABLES.map(() => '---:').join(' | ')} | ---: |`);
for (const s of perSize) {
  const t = s.sizes.tables;
  const per = (x) => f(x / s.events);
  const others = Object.entries(t).filter(([k]) => !TABLES.includes(k)).reduce((a, [, v]) => a + v.table + v.indexes, 0);
  console.log(`| ${f(s.events)} | ${f(s.sizes.file / 2 ** 20)} MiB | ${TABLES.map((k) => `${per(t[k]?.table ?? 0)} + ${per(t[k]?.indexes ?? 0)}`).join(' | ')} | ${per(others)} |`);
}
if (args.out) fs.writeFileSync(args.out, JSON.stringify({ at: started.toISOString(), node: process.version, loadBefore, loadAfter, goal5: g5, perSize }, null, 2) + '\n');
