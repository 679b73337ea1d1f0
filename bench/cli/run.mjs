#!/usr/bin/env node
// The CLI start benchmark: how long `tollgate` takes from start to exit, as whole processes, next to
// `node -e 0` measured in the same run. CI jobs call `tollgate` dozens of times per release, so the
// time to load the code is most of what a local `status` costs. The machine is shared and noisy, so
// the cases are interleaved round by round (each round in a rotated order) and what counts is the
// ratio of each median to the median of `node -e 0`. Goals (issue 9): `status` ≤ 3×, `--version` and
// `--help` ≤ 2×.
//
//   npm run bench:cli                         # builds dist/, then runs this
//   node bench/cli/run.mjs [--rounds 15] [--bin [LABEL=]FILE …] [--out FILE.json]
//
// `--bin` (default bin/tollgate.js) may be given more than once, to compare builds in one run (each
// as LABEL=FILE, e.g. `--bin before=/tmp/old/bin/tollgate.js --bin after=bin/tollgate.js`); the home
// is made with the first.
//
// Wall time is taken around each child process; CPU time (user + system) is the child's own, read
// from the growth of this process's reaped-children counters in /proc/self/stat (Linux; 10 ms ticks)
// — so it is measured outside the child and includes everything up to its exit. Elsewhere only wall
// time is reported.
//
// Not a test: it wants a quiet minute and prints figures, it asserts nothing about them; `npm test`
// never runs it. It fails if a command does not exit as expected (status: 3, not promotable).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    bin: { type: 'string', multiple: true, default: [path.join(repo, 'bin/tollgate.js')] },
    out: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) fail(`--rounds must be a whole number of at least 1, got ${args.rounds}`);
const BINS = args.bin.map((arg) => {
  const [label, file] = /^[\w.-]+=/.test(arg) ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [undefined, arg];
  const bin = path.resolve(file);
  if (!fs.existsSync(bin)) fail(`${bin} is missing`);
  return { label: label ?? (args.bin.length > 1 ? path.relative(repo, bin) : undefined), bin };
});
const BIN = BINS[0].bin;

function fail(message) {
  console.error(`bench:cli: ${message}`);
  process.exit(1);
}

const REL = 'fraud-detector@2.4.0';
/** The commands measured (each with the exit code it must end with) and their goals, as ratios to `node -e 0`. */
const COMMANDS = [
  { args: ['--version'], exit: 0, goal: 2 },
  { args: ['--help'], exit: 0, goal: 2 },
  { args: ['status', REL, '--to', 'staging', '--json'], exit: 3, goal: 3 },
  { args: ['release', 'list', '--json'], exit: 0 },
];
/** What is measured: a label, the arguments to `node`, the exit code it must end with, the goal. */
const CASES = [
  { label: 'node -e 0', argv: ['-e', '0'], exit: 0 },
  ...BINS.flatMap(({ label, bin }) =>
    COMMANDS.map((c) => ({ label: `${label ? `${label}: ` : ''}tollgate ${c.args.join(' ')}`, argv: [bin, ...c.args], exit: c.exit, goal: c.goal })),
  ),
];

/** CPU seconds (user + system) of the children this process has waited for; undefined off Linux. */
function childrenCpu() {
  try {
    // Fields after the command name: utime stime cutime cstime are the 12th to 15th; in clock ticks (USER_HZ, 100 on Linux).
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

// A small home: the example project of `tollgate init` and its release, in a temporary folder.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-cli-'));
const env = { ...process.env, TOLLGATE_HOME: path.join(dir, '.tollgate') };
for (const k of ['TOLLGATE_USER', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DEBUG']) delete env[k];

function run(c) {
  const cpu0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = childrenCpu();
  if (r.error) fail(`${c.label}: ${r.error.message}`);
  if (r.status !== c.exit) fail(`${c.label}: exit ${r.status}, expected ${c.exit}\n${r.stdout}${r.stderr}`);
  return { wall, cpu: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

try {
  run({ label: 'tollgate init', argv: [BIN, 'init', '--json'], exit: 0 });
  run({ label: 'tollgate release create', argv: [BIN, 'release', 'create', 'release.yaml', '--as', 'alice', '--json'], exit: 0 });

  const loadBefore = os.loadavg();
  const samples = new Map(CASES.map((c) => [c.label, []]));
  for (const c of CASES) run(c); // warm the file cache; not counted
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated each round, so no case always runs right after another.
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[(i + round) % CASES.length];
      samples.get(c.label).push(run(c));
    }
  }
  const loadAfter = os.loadavg();

  const base = samples.get('node -e 0');
  const baseWall = median(base.map((s) => s.wall));
  const hasCpu = base.every((s) => s.cpu !== undefined);
  const baseCpu = hasCpu ? median(base.map((s) => s.cpu)) : undefined;
  const rows = CASES.map((c) => {
    const xs = samples.get(c.label);
    const wall = median(xs.map((s) => s.wall));
    const cpu = hasCpu ? median(xs.map((s) => s.cpu)) : undefined;
    return { command: c.label, wall, cpu, wallRatio: wall / baseWall, cpuRatio: cpu !== undefined ? cpu / baseCpu : undefined, goal: c.goal };
  });

  const ms = (s) => `${Math.round(s * 1000)} ms`;
  const x = (r) => `${r.toFixed(1)}×`;
  console.log(`tollgate CLI start: medians of ${ROUNDS} interleaved rounds; node ${process.version}, ${os.cpus().length} CPUs`);
  for (const { label, bin } of BINS) if (label) console.log(`${label}: ${bin}`);
  console.log(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`);
  console.log('');
  console.log('| command | wall | CPU | wall / node | CPU / node | goal |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const met = r.goal === undefined ? '' : `≤ ${r.goal}× ${r.wallRatio <= r.goal ? '✔' : '✘'}`;
    console.log(`| \`${r.command}\` | ${ms(r.wall)} | ${r.cpu !== undefined ? ms(r.cpu) : '–'} | ${x(r.wallRatio)} | ${r.cpuRatio !== undefined ? x(r.cpuRatio) : '–'} | ${met} |`);
  }
  if (args.out) fs.writeFileSync(args.out, JSON.stringify({ at: new Date().toISOString(), node: process.version, rounds: ROUNDS, loadBefore, loadAfter, rows }, null, 2) + '\n');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
