// The server side of the server benchmark (bench/server/run.mjs starts it as a child process, so that
// the load generator does not share its event loop): a real Tollgate app, `createApp(deps)` from
// dist/, over each store asked for, each on its own port, and a bare Fastify app with one route that
// answers a fixed status answer (the same object, so the same bytes to serialize), on another port.
//
// It talks to the parent over IPC: sends {type: 'ready', ...} with the ports, tokens and what the
// parent needs to sign sign-offs, answers {type: 'cpu'} with this process's CPU time so far and
// {type: 'audit', store} with the number of audit events the store holds, and on
// {type: 'stop'} closes everything, drops the PostgreSQL schema and exits.
//
// Not run on its own: `npm run bench:server` (run.mjs) starts it.
import { randomUUID, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dist = (p) => import(pathToFileURL(path.join(repo, 'dist', p)).href);

const { createApp } = await dist('server/app.js');
const { createApiToken } = await dist('service/tokens.js');
const { createLocalClient } = await dist('client/local-client.js');
const { generateKeyPair, loadPrivateKey } = await dist('domain/keys.js');
const { signSignoff } = await dist('domain/signoff.js');
const { createSqliteStore } = await dist('store/sqlite-store.js');
const { createPostgresStore } = await dist('store/postgres-store.js');

const opts = JSON.parse(process.argv[2] ?? '{}');
const stores = opts.stores ?? ['sqlite'];
const pgUrl = opts.pgUrl;

// ---------------------------------------------------------------------------------------------
// The state every store is filled with
// ---------------------------------------------------------------------------------------------

const CORE_USERS = { root: ['admin'], alice: ['ml-engineer'], bob: ['ml-engineer'], carol: ['security'], dave: ['release-manager'], ci: ['validator'] };
/** A roster of a realistic size: the six who act, and 24 more who only hold roles. */
const EXTRA_USERS = Object.fromEntries(
  Array.from({ length: 24 }, (_, i) => [`member${String(i + 1).padStart(2, '0')}`, [['ml-engineer', 'security', 'release-manager'][i % 3]]]),
);
const ROLES = { ...CORE_USERS, ...EXTRA_USERS };
const KEYS = Object.fromEntries(Object.keys(ROLES).map((u) => [u, generateKeyPair()]));
const SUBJECT = 'fraud-detector';
/** Releases 1.0.0 … 1.9.0 pass staging; all but the last go on to production. */
const VERSIONS = Array.from({ length: 10 }, (_, i) => `1.${i}.0`);
/** The release whose status is read: in staging, signed off for production, not promoted yet. */
const READ_REF = `${SUBJECT}@${VERSIONS.at(-1)}`;
/** The release that the sign-off writes go to, so that they do not grow the evidence that reads read. */
const WRITE_REF = `${SUBJECT}@2.0.0`;

const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: bench
roster:
${Object.entries(ROLES)
  .map(([u, roles]) => `  ${u}: { roles: [${roles.join(', ')}], key: "${KEYS[u].publicKey}" }`)
  .join('\n')}
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: inventory
    stage: staging
    checklist:
      - { id: datasets-listed, text: Validation datasets are listed, evidence: required }
      - { id: alerts-tested }
      - { id: runbook-reviewed, text: The on-call runbook covers this model }
  - id: automated
    stage: staging
    validations:
      - { id: tests, uses: junit, with: { report: reports/junit.xml } }
      - { id: quality, uses: metrics, with: { current: eval/metrics.json, rules: ["accuracy >= 0.8"] } }
  - id: approvals
    stage: production
    separationOfDuties: true
    signoffs:
      - { role: ml-engineer, count: 1 }
      - { role: security, count: 1, when: "release.risk in ['high', 'critical']" }
`;

function manifest(version) {
  const sha = (s) => createHash('sha256').update(s).digest('hex');
  return {
    subject: SUBJECT,
    version,
    risk: 'high',
    owner: 'alice',
    artifacts: [
      { name: 'model', kind: 'model', path: 'model/model.onnx', sha256: sha(`model ${version}`), size: 48_213_504 },
      { name: 'tokenizer', kind: 'file', path: 'model/tokenizer.json', sha256: sha(`tokenizer ${version}`), size: 2_113_224 },
    ],
    lineage: [{ from: ['model'], to: 'model', step: 'identity' }],
    testedIn: ['dev'],
    dependencies: { python: '3.11', onnxruntime: '1.18.0' },
  };
}

async function passingResults(deps, ref, stage) {
  const plan = await createLocalClient(deps, 'ci').planValidations(ref, stage);
  return plan.items.map((item) => ({
    releaseDigest: plan.release.digest,
    stage: item.stage,
    gateId: item.gateId,
    validationId: item.validationId,
    validator: item.uses,
    validatorVersion: '1.0.0',
    definitionDigest: item.definitionDigest,
    status: 'passed',
    summary: `${item.validationId} passed`,
    measurements: item.uses === 'metrics' ? { metrics: { accuracy: 0.93, auc: 0.97 } } : { tests: 412, failures: 0 },
    thresholds: {},
    inputs: { [String(item.with.report ?? item.with.current)]: `sha256:${createHash('sha256').update(`input ${ref} ${item.validationId}`).digest('hex')}` },
    durationMs: 1834,
  }));
}

async function signOff(deps, user, ref, role) {
  const client = createLocalClient(deps, user);
  const draft = await client.draftSignoffs({ release: ref, stage: 'production', role, decision: 'approve', comment: `reviewed by ${user}` });
  const key = loadPrivateKey(KEYS[user].privateKeyPem);
  await client.recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, key) })));
}

/** Policy, ten releases with their evidence and promotions, sign-offs, tokens; ~100 audit events. */
async function populate(deps) {
  const as = (u) => createLocalClient(deps, u);
  await as('root').applyPolicy(POLICY, 'tollgate.yaml');
  for (const [i, v] of VERSIONS.entries()) {
    const ref = `${SUBJECT}@${v}`;
    await as('alice').createRelease(manifest(v));
    await as('alice').check({ release: ref, stage: 'staging', item: 'datasets-listed', evidence: { kind: 'url', uri: 'https://docs.example/datasets' }, note: 'train, holdout, shadow' });
    await as('dave').check({ release: ref, stage: 'staging', item: 'alerts-tested', note: 'paged the on-call' });
    await as('dave').check({ release: ref, stage: 'staging', item: 'runbook-reviewed' });
    await as('ci').recordValidations(ref, await passingResults(deps, ref, 'staging'));
    await as('dave').promote(ref, 'staging');
    await signOff(deps, 'bob', ref, 'ml-engineer');
    await signOff(deps, 'carol', ref, 'security');
    if (i < VERSIONS.length - 1) await as('dave').promote(ref, 'production');
  }
  await as('alice').createRelease(manifest('2.0.0'));
  const tokens = {};
  for (const u of Object.keys(CORE_USERS)) tokens[u] = (await createApiToken(deps, undefined, u)).token;
  const decision = await as('dave').status(READ_REF, 'production');
  if (!decision.promotable) throw new Error(`bench state: expected ${READ_REF} to be promotable to production`);
  const draft = await as('bob').draftSignoffs({ release: WRITE_REF, stage: 'production', role: 'ml-engineer', decision: 'approve' });
  const events = (await deps.store.auditHead()).size;
  return { tokens, decision, writeTemplate: draft.payloads[0], auditEvents: events };
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

const closers = [];
const servers = {};
const deps = {};
let decision;

async function openStore(kind) {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-server-'));
    const store = await createSqliteStore(path.join(dir, 'tollgate.db'));
    closers.push(async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return { store, where: 'a temporary SQLite file (WAL)' };
  }
  const schema = `tollgate_bench_${randomUUID().replace(/-/g, '')}`;
  const store = await createPostgresStore(pgUrl, { schema });
  closers.push(async () => {
    await store.close();
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await client.end();
  });
  return { store, where: `schema ${schema}` };
}

async function listen(app) {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  closers.unshift(() => app.close());
  return address;
}

async function start() {
  const serverKeyPem = generateKeyPair().privateKeyPem;
  for (const kind of stores) {
    const { store, where } = await openStore(kind);
    deps[kind] = { store, serverKey: loadPrivateKey(serverKeyPem), origin: 'tollgate/bench', now: () => new Date() };
    const t0 = performance.now();
    const state = await populate(deps[kind]);
    // `tollgate serve` logs every request as a JSON line; --logs does the same into a sink.
    const logger = opts.logs ? { level: 'info', stream: { write: () => {} } } : false;
    const app = createApp(deps[kind], { logger });
    servers[kind] = {
      url: await listen(app),
      where,
      populateSeconds: (performance.now() - t0) / 1000,
      tokens: state.tokens,
      auditEvents: state.auditEvents,
      statusPath: `/api/releases/${READ_REF}/status?stage=production`,
      writePath: `/api/releases/${WRITE_REF}/signoffs`,
      writeTemplate: state.writeTemplate,
    };
    decision ??= state.decision;
  }
  // The baseline: a bare Fastify app, nothing in front of its one route, answering a status answer
  // computed once, so it serializes the same object as the real route.
  const bare = Fastify({ logger: false });
  bare.get('/bare', async () => decision);
  servers.bare = { url: await listen(bare), path: '/bare' };
  process.send({ type: 'ready', servers, signerKeyPem: KEYS.bob.privateKeyPem, signer: 'bob', readRef: READ_REF, writeRef: WRITE_REF });
}

/**
 * The baseline for writes: durable one-row transactions on SQLite (WAL, synchronous=FULL: an fsync
 * per commit), one after another for `seconds`, on a file of its own in a temporary folder like
 * the store's. What a sign-off write would cost if it were nothing but its row.
 */
function rawTransactions(store, seconds) {
  if (store !== 'sqlite') throw new Error(`raw: only for sqlite, not ${store}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-raw-'));
  const db = new BetterSqlite3(path.join(dir, 'raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table t (id integer primary key, body text not null)');
    const insert = db.prepare('insert into t (body) values (?)');
    const once = db.transaction((body) => insert.run(body));
    const latencies = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let count = 0;
    while (performance.now() - t0 < seconds * 1000) {
      const t = performance.now();
      once(`row ${count}`);
      latencies.push(performance.now() - t);
      count++;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    latencies.sort((a, b) => a - b);
    const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 100) / 100;
    return { count, seconds: elapsed, cpuMicros: cpu.user + cpu.system, p50: at(0.5), p99: at(0.99) };
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      console.error('bench server: while closing:', err);
    }
  }
  process.exit(0);
}

process.on('message', (msg) => {
  if (msg.type === 'cpu') {
    const u = process.cpuUsage();
    process.send({ type: 'cpu', id: msg.id, micros: u.user + u.system });
  } else if (msg.type === 'audit') {
    // How many audit events a store holds: every recorded sign-off adds exactly one.
    deps[msg.store].store.auditHead().then(
      (head) => process.send({ type: 'audit', id: msg.id, size: head.size }),
      (err) => process.send({ type: 'audit', id: msg.id, error: String(err) }),
    );
  } else if (msg.type === 'raw') {
    try {
      process.send({ type: 'raw', id: msg.id, ...rawTransactions(msg.store, msg.seconds) });
    } catch (err) {
      process.send({ type: 'raw', id: msg.id, error: String(err) });
    }
  } else if (msg.type === 'stop') {
    void stop();
  }
});
// If the parent dies, do not linger (and still drop the schema).
process.on('disconnect', () => void stop());

start().catch(async (err) => {
  console.error('bench server: setup failed:', err);
  for (const close of closers) await close().catch(() => {});
  process.exit(1);
});
