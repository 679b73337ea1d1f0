#!/usr/bin/env node
// The server benchmark: requests per second of `tollgate serve`'s status read and sign-off write, on
// SQLite and on PostgreSQL, against a bare Fastify route answering fixed JSON of the same size in
// the same run. The machine is shared and noisy, so what counts is the ratio to the bare route
// measured next to it, round by round; each figure is the median of the rounds.
//
//   npm run bench:server                                  # builds dist/, then runs this
//   npm run bench:server -- --duration 3 --warmup 1 --rounds 1 --stores sqlite   # a quick look
//   node bench/server/run.mjs [--connections 10] [--duration 10] [--warmup 2] [--rounds 3]
//        [--stores sqlite,postgres] [--targets bare,status,write,raw] [--pg URL] [--out FILE]
//        [--logs] [--cpu-prof DIR] [--presign-rate N]
//
// PostgreSQL: --pg, else TOLLGATE_BENCH_PG, else postgres://postgres@127.0.0.1:5432/test; a fresh
// schema per run, dropped at the end. The servers run in a child process (serve.mjs), the load
// generator (autocannon) in this one, so the two do not share an event loop.
//
// Every response must be a 2xx (200 for reads, 201 for writes): any other answer, connection
// error or timeout fails the run, so a benchmark of refusals cannot look fast. After each write
// run, the store's audit log must have grown by the number of sign-offs autocannon saw accepted.
//
// Not a test: it takes minutes and wants a quiet machine; `npm test` never runs it.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    // Which of a store's targets to run (all by default; the ratios need bare, and raw for writes).
    targets: { type: 'string', default: 'bare,status,write,raw' },
    pg: { type: 'string' },
    out: { type: 'string', default: path.join(here, 'result.json') },
    logs: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    // Sign-offs signed ahead of each write run, per second of it (the server idles meanwhile); more
    // are signed on the fly if the server takes them faster, and counted.
    'presign-rate': { type: 'string', default: '1000' },
  },
});
const CONNECTIONS = positive('connections');
const DURATION = positive('duration');
const WARMUP = Number(args.warmup);
const ROUNDS = positive('rounds');
const PRESIGN_RATE = positive('presign-rate');
const STORES = args.stores.split(',').map((s) => s.trim());
for (const s of STORES) if (!['sqlite', 'postgres'].includes(s)) fail(`--stores: unknown store "${s}" (sqlite, postgres)`);
const TARGETS = args.targets.split(',').map((s) => s.trim());
for (const t of TARGETS) if (!['bare', 'status', 'write', 'raw'].includes(t)) fail(`--targets: unknown target "${t}" (bare, status, write, raw)`);
const PG_URL = args.pg ?? process.env.TOLLGATE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

function positive(name) {
  const n = Number(args[name]);
  if (!(n > 0)) fail(`--${name} must be a positive number, got ${args[name]}`);
  return n;
}

function fail(message) {
  console.error(`bench:server: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(repo, 'dist/server/app.js'))) fail('dist/ is missing: run `npm run build` first (npm run bench:server does)');
const { signSignoff } = await import(pathToFileURL(path.join(repo, 'dist/domain/signoff.js')).href);
const { loadPrivateKey } = await import(pathToFileURL(path.join(repo, 'dist/domain/keys.js')).href);

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

const execArgv = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args['cpu-prof'])] : [];
const child = fork(path.join(here, 'serve.mjs'), [JSON.stringify({ stores: STORES, pgUrl: PG_URL, logs: args.logs })], {
  execArgv,
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
let nextId = 0;
const waiting = new Map();
let ready;
const readyPromise = new Promise((resolve, reject) => {
  ready = resolve;
  child.on('exit', (code) => reject(new Error(`the bench server exited early (code ${code})`)));
});
child.on('message', (msg) => {
  if (msg.type === 'ready') ready(msg);
  else waiting.get(msg.id)?.(msg);
});

function ask(msg) {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    waiting.set(id, (answer) => {
      waiting.delete(id);
      if (answer.error) reject(new Error(answer.error));
      else resolve(answer);
    });
    child.send({ ...msg, id });
  });
}

const serverCpu = async () => (await ask({ type: 'cpu' })).micros;
const auditSize = async (store) => (await ask({ type: 'audit', store })).size;

async function stopChild() {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  await exited;
}

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

const info = await readyPromise.catch((err) => fail(err.message));
const signerKey = loadPrivateKey(info.signerKeyPem);
let written = 0;

/** `n` new sign-offs by the signer, each signed now and unlike every other (the comment says which). */
function signOffBodies(template, n) {
  const at = new Date().toISOString();
  const out = [];
  for (let i = 0; i < n; i++) {
    const payload = { ...template, at, comment: `bench write ${++written}` };
    out.push(JSON.stringify({ signoffs: [{ ...payload, signature: signSignoff(payload, signerKey) }] }));
  }
  return out;
}

/** What autocannon is asked for, per target. */
function targetOptions(target, seconds) {
  const base = { connections: CONNECTIONS, duration: seconds, timeout: 10 };
  if (target.kind === 'bare') return { ...base, url: info.servers.bare.url + info.servers.bare.path };
  const server = info.servers[target.store];
  if (target.kind === 'status') {
    return { ...base, url: server.url + server.statusPath, headers: { authorization: `Bearer ${server.tokens.dave}` } };
  }
  // Writes: each request a new sign-off by bob, signed ahead of the run; more are signed on the fly
  // if the pool runs out (counted: that signing runs in this process, not the server's).
  const pool = signOffBodies(server.writeTemplate, Math.ceil(seconds * PRESIGN_RATE));
  let next = 0;
  target.signedOnTheFly = 0;
  return {
    ...base,
    url: server.url,
    requests: [
      {
        method: 'POST',
        path: server.writePath,
        headers: { authorization: `Bearer ${server.tokens.bob}`, 'content-type': 'application/json' },
        setupRequest: (req) => {
          let body = pool[next++];
          if (body === undefined) {
            body = signOffBodies(server.writeTemplate, 1)[0];
            target.signedOnTheFly++;
          }
          return { ...req, body };
        },
      },
    ],
  };
}

/** Runs autocannon and fails the whole benchmark on any answer that is not the expected 2xx. */
async function load(target, seconds) {
  const result = await autocannon(targetOptions(target, seconds));
  const expected = target.kind === 'write' ? '201' : '200';
  const codes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
  const wrong = Object.entries(codes).filter(([code]) => code !== expected);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || wrong.length > 0 || result['2xx'] === 0) {
    await stopChild();
    fail(
      `${label(target)}: not every answer was ${expected}: status codes ${JSON.stringify(codes)}, non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`,
    );
  }
  return result;
}

/**
 * Waits for the requests still in flight when autocannon stopped (it does not wait for them; the
 * server still answers them): for writes, until the audit log stops growing.
 */
async function settle(target) {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 250));
  if (target.kind !== 'write') return pause();
  let size = await auditSize(target.store);
  for (;;) {
    await pause();
    const now = await auditSize(target.store);
    if (now === size) return size;
    size = now;
  }
}

async function measure(target) {
  if (target.kind === 'raw') {
    // The disk's pace: durable one-row transactions, one after another, in the server process
    // (idle meanwhile) on a file of its own beside the store's.
    const raw = await ask({ type: 'raw', store: target.store, seconds: DURATION });
    return { rps: raw.count / raw.seconds, requests: raw.count, seconds: raw.seconds, p50: raw.p50, p99: raw.p99, serverCpuMicrosPerRequest: raw.cpuMicros / raw.count };
  }
  if (WARMUP > 0) {
    await load(target, WARMUP);
    await settle(target);
  }
  const auditBefore = target.kind === 'write' ? await auditSize(target.store) : 0;
  const cpuBefore = await serverCpu();
  const result = await load(target, DURATION);
  const cpu = (await serverCpu()) - cpuBefore;
  const ok = result['2xx'];
  if (target.kind !== 'write') await settle(target);
  if (target.kind === 'write') {
    // Requests still in flight when autocannon stops may be recorded without being counted.
    const grew = (await settle(target)) - auditBefore;
    if (grew < ok || grew > ok + CONNECTIONS) {
      await stopChild();
      fail(`${label(target)}: autocannon saw ${ok} sign-offs accepted, but the audit log grew by ${grew}`);
    }
  }
  return {
    rps: ok / result.duration,
    requests: ok,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    serverCpuMicrosPerRequest: cpu / ok,
    ...(target.kind === 'write' ? { signedOnTheFly: target.signedOnTheFly } : {}),
  };
}

function note(m) {
  if (m.signedOnTheFly > 0) console.log(`    (${m.signedOnTheFly} sign-offs were signed during the run: raise --presign-rate)`);
}

const label = (t) => (t.kind === 'bare' ? `bare (next to ${t.store})` : `${t.store} ${t.kind}`);

// One sanity look at each route before timing anything: the status is the expected decision, and
// the bare route answers an object of the same size.
async function sanity() {
  const bare = await fetch(info.servers.bare.url + info.servers.bare.path);
  const bareText = await bare.text();
  const sizes = { bare: bareText.length };
  for (const store of STORES) {
    const server = info.servers[store];
    const res = await fetch(server.url + server.statusPath, { headers: { authorization: `Bearer ${server.tokens.dave}` } });
    const text = await res.text();
    if (res.status !== 200 || JSON.parse(text).promotable !== true || JSON.parse(text).release !== info.readRef) {
      await stopChild();
      fail(`${store} status: expected a promotable decision for ${info.readRef}, got ${res.status} ${text.slice(0, 300)}`);
    }
    sizes[store] = text.length;
  }
  if (bare.status !== 200) fail(`bare: ${bare.status}`);
  return sizes;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------------

const startedAt = new Date();
const loadBefore = os.loadavg();
const bodySizes = await sanity();
console.log(
  `bench:server: ${STORES.join(' + ')}; ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per target, ${ROUNDS} round(s); ` +
    `status answer ${bodySizes[STORES[0]]} B, bare answer ${bodySizes.bare} B; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
);
for (const store of STORES) {
  const s = info.servers[store];
  console.log(`  ${store}: ${s.where}; state built in ${s.populateSeconds.toFixed(1)} s (${s.auditEvents} audit events)`);
}

const rounds = [];
for (let r = 1; r <= ROUNDS; r++) {
  const round = {};
  for (const store of STORES) {
    // The bare route runs next to each store's targets, and the order flips every round, so that a
    // noisy minute falls on the baseline as often as on what is compared with it.
    let order = TARGETS.filter((kind) => kind !== 'raw' || store === 'sqlite').map((kind) => ({ kind, store }));
    if (r % 2 === 0) order = order.reverse();
    round[store] = {};
    for (const target of order) {
      const m = await measure(target);
      round[store][target.kind] = m;
      note(m);
      console.log(
        `  round ${r} ${label(target).padEnd(22)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${String(m.p50).padStart(3)} ms  p99 ${String(m.p99).padStart(4)} ms  server CPU ${m.serverCpuMicrosPerRequest.toFixed(0)} µs/req`,
      );
    }
    const bare = round[store].bare?.rps;
    if (round[store].status) round[store].statusRatio = round[store].status.rps / bare;
    if (round[store].write) round[store].writeRatio = round[store].write.rps / bare;
    if (round[store].write && round[store].raw) round[store].writeRawRatio = round[store].write.rps / round[store].raw.rps;
  }
  rounds.push(round);
}
const loadAfter = os.loadavg();
await stopChild();

const summary = {};
for (const store of STORES) {
  const of = (kind) => {
    if (!TARGETS.includes(kind) || rounds.some((r) => !r[store][kind])) return undefined;
    const m = (field) => median(rounds.map((r) => r[store][kind][field]));
    return { rps: m('rps'), p50: m('p50'), p99: m('p99'), serverCpuMicrosPerRequest: m('serverCpuMicrosPerRequest') };
  };
  const ratio = (name) => (rounds[0][store][name] === undefined || Number.isNaN(rounds[0][store][name]) ? undefined : median(rounds.map((r) => r[store][name])));
  summary[store] = {
    bare: of('bare'),
    status: of('status'),
    write: of('write'),
    raw: of('raw'),
    statusRatio: ratio('statusRatio'),
    writeRatio: ratio('writeRatio'),
    writeRawRatio: ratio('writeRawRatio'),
  };
  if (summary[store].statusRatio !== undefined) summary[store].goalMet = summary[store].statusRatio >= 0.5;
  if (summary[store].writeRawRatio !== undefined) summary[store].writeGoalMet = summary[store].writeRawRatio >= 0.5;
}

const cell = (m) => (m ? `${m.rps.toFixed(0)} (${m.p50} / ${m.p99})` : '–');
const times = (x) => (x === undefined ? '–' : `${x.toFixed(3)}×`);
const cpu = (m) => (m ? m.serverCpuMicrosPerRequest.toFixed(0) : '–');
console.log(`\nmedian of ${ROUNDS} round(s); ratios are per round against the bare route measured next to them, then the median`);
console.log('| store | bare req/s (p50 / p99 ms) | status req/s (p50 / p99 ms) | sign-off writes/s (p50 / p99 ms) | raw durable txn/s | status / bare | writes / raw | server CPU µs/req: bare, status, write | goals: status ≥ 0.5× bare, writes ≥ 0.5× raw |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const store of STORES) {
  const s = summary[store];
  const verdict = (met) => (met === undefined ? '–' : met ? 'met' : 'NOT met');
  console.log(
    `| ${store} | ${cell(s.bare)} | ${cell(s.status)} | ${cell(s.write)} | ${s.raw ? s.raw.rps.toFixed(0) : '–'} | ${times(s.statusRatio)} | ${times(s.writeRawRatio)} | ${cpu(s.bare)}, ${cpu(s.status)}, ${cpu(s.write)} | ${verdict(s.goalMet)}, ${verdict(s.writeGoalMet)} |`,
  );
}
console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);

const result = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  command: process.argv.slice(1).map((a) => path.relative(repo, a) || a).join(' '),
  settings: { connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, rounds: ROUNDS, stores: STORES, logs: args.logs },
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version, loadBefore, loadAfter },
  bodySizes,
  summary,
  rounds,
};
fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
fs.writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`results: ${path.relative(process.cwd(), path.resolve(args.out))}`);
