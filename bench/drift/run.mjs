#!/usr/bin/env node
// The drift benchmark: times, in one run and on the same files, (1) Tollgate's drift validator,
// (2) pandas + SciPy doing the same job (reference.py), (3) DuckDB's bare scan of both files (min
// and max of every column: the floor for anything that reads them), each in its own child
// process so that its peak RSS is its own. Then checks that Tollgate's figures equal the
// reference's (statistics to 1e-9, p-values to 1e-6 relative, counts exactly). Reports wall time,
// peak RSS and CPU time (user + system over all threads) of each.
//
//   npm run build && node bench/drift/generate.mjs /tmp/tollgate-bench
//   node bench/drift/run.mjs [DIR=/tmp/tollgate-bench] [--runs N] [--skip-reference] [--engine duckdb]
//
// Not a test: it needs the generated data (2 × 10 M rows) and minutes; `npm test` never runs it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const PYTHON = '/usr/bin/python3'; // Debian's python3-scipy and python3-pandas, not the PATH python

// ---------------------------------------------------------------------------------------------
// Children: each prints one JSON line {seconds, maxRssMiB, ...}
// ---------------------------------------------------------------------------------------------

async function childTollgate(dir, engine) {
  const { driftValidator, runDrift } = await import(pathToFileURL(path.join(repo, 'dist/validators/drift/index.js')).href);
  const ctx = {
    baseDir: dir,
    release: { subject: 'bench', version: '0', digest: `sha256:${'0'.repeat(64)}` },
    stage: 'staging',
    gateId: 'bench',
    validationId: 'drift',
    signal: new AbortController().signal,
    progress: () => {},
    baselineMetrics: async () => undefined,
  };
  const args = driftValidator.schema.parse({ reference: 'reference.csv', current: 'current.csv', psi: { max: 0.2 } });
  const t0 = performance.now();
  const outcome = await runDrift(args, ctx, { engine });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, ...usage(), outcome };
}

async function childScan(dir) {
  const { DuckDBInstance } = await import(pathToFileURL(path.join(repo, 'node_modules/@duckdb/node-api/lib/index.js')).href);
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const out = {};
  for (const f of ['reference', 'current']) {
    const file = path.join(dir, `${f}.csv`).replaceAll("'", "''");
    const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_csv('${file}', header = true)`)).getRowObjectsJS().map((r) => r.column_name);
    const reader = await con.runAndReadAll(`SELECT ${cols.map((c) => `min("${c}"), max("${c}")`).join(', ')} FROM read_csv('${file}', header = true)`);
    out[f] = reader.getRowsJS()[0].map(String);
  }
  const seconds = (performance.now() - t0) / 1000;
  con.closeSync();
  instance.closeSync();
  return { seconds, ...usage(), minmax: out };
}

/** Peak RSS and CPU time (user + system, all threads) of this process so far. */
function usage() {
  const u = process.resourceUsage();
  return { maxRssMiB: u.maxRSS / 1024, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6 };
}

// ---------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------

function runChild(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`));
      const line = out.trim().split('\n').pop();
      resolve({ wall, ...JSON.parse(line) });
    });
  });
}

function compare(tollgate, reference) {
  const problems = [];
  const rel = (a, b) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE));
  for (const [name, want] of Object.entries(reference)) {
    const got = tollgate[name];
    if (!got) {
      problems.push(`${name}: missing`);
      continue;
    }
    for (const k of ['ks_statistic', 'psi']) if (!(Math.abs(got[k] - want[k]) <= 1e-9)) problems.push(`${name}.${k}: ${got[k]} vs ${want[k]}`);
    if (!(rel(got.ks_pvalue, want.ks_pvalue) <= 1e-6)) problems.push(`${name}.ks_pvalue: ${got.ks_pvalue} vs ${want.ks_pvalue}`);
    for (const k of ['n_reference', 'n_current', 'nulls_reference', 'nulls_current']) if (got[k] !== want[k]) problems.push(`${name}.${k}: ${got[k]} vs ${want[k]}`);
  }
  return problems;
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [, role, dir, engine] = argv;
    const result = role === 'tollgate' ? await childTollgate(dir, engine) : await childScan(dir);
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const flag = (name) => argv.includes(name);
  const value = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
  const dir = path.resolve(argv.find((a, i) => !a.startsWith('--') && !['--runs', '--engine'].includes(argv[i - 1])) ?? '/tmp/tollgate-bench');
  const runs = Number(value('--runs', '1'));
  const engine = value('--engine', 'auto');
  for (const f of ['reference.csv', 'current.csv']) {
    if (!fs.existsSync(path.join(dir, f))) throw new Error(`${path.join(dir, f)} is missing: run node bench/drift/generate.mjs ${dir}`);
  }
  if (!fs.existsSync(path.join(repo, 'dist/validators/drift/index.js'))) throw new Error('dist/validators/drift/index.js is missing: run npm run build');
  const self = fileURLToPath(import.meta.url);
  const size = ['reference.csv', 'current.csv'].map((f) => fs.statSync(path.join(dir, f)).size);
  console.log(`data: ${dir} (${size.map((s) => (s / 1e6).toFixed(0) + ' MB').join(' + ')})`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  for (let r = 1; r <= runs; r++) {
    const scan = await runChild(process.execPath, [self, '--child', 'scan', dir]);
    const tollgate = await runChild(process.execPath, [self, '--child', 'tollgate', dir, engine]);
    const reference = flag('--skip-reference') ? undefined : await runChild(PYTHON, [path.join(here, 'reference.py'), path.join(dir, 'reference.csv'), path.join(dir, 'current.csv')]);
    const tg = tollgate.outcome;
    if (tg.status === 'errored') throw new Error(`tollgate errored: ${tg.summary}`);
    const row = (name, x) =>
      `  ${name.padEnd(16)} ${x.wall.toFixed(2).padStart(7)} s  ${(x.maxRssMiB ?? NaN).toFixed(0).padStart(6)} MiB  ${(x.cpuSeconds ?? NaN).toFixed(1).padStart(6)} s CPU`;
    console.log(`run ${r}:`);
    console.log(row('tollgate drift', tollgate) + `   (${tg.summary}; engines ${tg.details.engine.reference}/${tg.details.engine.current})`);
    if (reference) console.log(row('pandas + SciPy', reference));
    console.log(row('DuckDB bare scan', scan));
    const ratios = [`tollgate / bare scan = ${(tollgate.wall / scan.wall).toFixed(2)}× (CPU ${(tollgate.cpuSeconds / scan.cpuSeconds).toFixed(2)}×)`];
    if (reference) ratios.unshift(`pandas+SciPy / tollgate = ${(reference.wall / tollgate.wall).toFixed(1)}× (CPU ${(reference.cpuSeconds / tollgate.cpuSeconds).toFixed(1)}×)`);
    console.log(`  ${ratios.join(', ')}`);
    if (reference) {
      const problems = compare(tg.measurements.columns, reference.columns);
      console.log(problems.length === 0 ? `  answers: identical to pandas + SciPy on ${Object.keys(reference.columns).length} columns (statistics ≤ 1e-9, p-values ≤ 1e-6 relative, counts exact)` : `  ANSWERS DIFFER:\n    ${problems.join('\n    ')}`);
      if (problems.length > 0) process.exitCode = 1;
    }
  }
}

await main();
