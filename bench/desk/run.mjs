#!/usr/bin/env node
// The review desk benchmark: requests per second of the release page (`GET /releases/REF`, signed
// in) for a release with 50 validation results and 20 sign-offs, against a bare Fastify route
// answering a fixed HTML page of the same size, in the same run. The machine is shared and noisy,
// so what counts is the ratio to the bare route measured next to it, round by round; each figure is
// the median of the rounds.
//
//   npm run bench:desk                     # builds dist/, then runs this
//   node bench/desk/run.mjs [--connections 10] [--duration 10] [--warmup 2] [--rounds 3]
//
// Both servers listen in this process, one at a time, with autocannon as the load; every answer
// must be a 200 with the page (a run of redirects to /login cannot look fast). SQLite, in a fresh
// temporary folder. Not a test: `npm test` never runs it.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(pathToFileURL(path.join(repo, 'dist', p)).href);
const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});

const { openStore } = await dist('store/open.js');
const { createUseCases } = await dist('service/use-cases.js');
const { createApiToken } = await dist('service/tokens.js');
const { signSignoff } = await dist('domain/signoff.js');
const { formatPublicKey } = await dist('domain/keys.js');
const { createApp } = await dist('server/app.js');

const VALIDATIONS = 50;
const REVIEWERS = 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-bench-desk-'));
const store = await openStore(path.join(dir, 'tollgate.db'));
const deps = { store, serverKey: generateKeyPairSync('ed25519').privateKey, origin: 'bench.tollgate', now: () => new Date() };

// ------------------------------------------------------------------ the record
const keys = {};
const roster = ['admin', 'ci', 'owner', ...Array.from({ length: REVIEWERS }, (_, i) => `r${i + 1}`)];
for (const u of roster) keys[u] = generateKeyPairSync('ed25519');
const role = (u) => (u === 'admin' ? 'admin, release-manager' : u === 'ci' ? 'validator' : u === 'owner' ? 'ml-engineer' : 'reviewer');
const policy = `apiVersion: tollgate/v1
kind: Policy
name: bench
roster:
${roster.map((u) => `  ${u}: { roles: [${role(u)}], key: "${formatPublicKey(keys[u].publicKey)}" }`).join('\n')}
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: automated
    stage: staging
    validations:
${Array.from({ length: VALIDATIONS }, (_, i) => `      - { id: v${i + 1}, uses: metrics, with: { current: eval/metrics.json, rules: ["auc >= 0.5"] } }`).join('\n')}
  - id: approvals
    stage: staging
    signoffs:
      - { role: reviewer, count: ${REVIEWERS} }
`;
await createUseCases(deps, undefined).applyPolicy(policy, 'bench.yaml');
const REF = 'fraud-detector@9.0.0';
const sha = (c) => c.repeat(64);
const { digest } = await createUseCases(deps, 'owner').createRelease({
  subject: 'fraud-detector',
  version: '9.0.0',
  risk: 'high',
  owner: 'owner',
  artifacts: [
    { name: 'model', kind: 'model', uri: 's3://ml/model.onnx', sha256: sha('a') },
    { name: 'train-data', kind: 'dataset', uri: 's3://ml/train.parquet', sha256: sha('b') },
    { name: 'code', kind: 'code', uri: 'git+https://git.example/fraud@4e1d', sha256: sha('c') },
  ],
  lineage: [{ from: ['train-data', 'code'], to: 'model', step: 'train' }],
});
const ci = createUseCases(deps, 'ci');
const plan = await ci.planValidations(REF, 'staging');
await ci.recordValidations(
  REF,
  plan.items.map((item, i) => ({
    releaseDigest: digest,
    stage: item.stage,
    gateId: item.gateId,
    validationId: item.validationId,
    validator: 'metrics',
    validatorVersion: '1.0.0',
    definitionDigest: item.definitionDigest,
    status: 'passed',
    summary: `1 of 1 rules passed: auc >= 0.5 (auc ${(0.9 + i / 1000).toFixed(3)})`,
    measurements: { metrics: { auc: 0.9 + i / 1000, accuracy: 0.93, recall: 0.81, precision: 0.88 }, rules: [{ rule: 'auc >= 0.5', outcome: 'passed', values: { auc: 0.9 + i / 1000 } }] },
    thresholds: { auc: { min: 0.5 } },
    inputs: {},
    durationMs: 12,
  })),
);
for (let i = 1; i <= REVIEWERS; i++) {
  const u = `r${i}`;
  const uc = createUseCases(deps, u);
  const draft = await uc.draftSignoffs({ release: REF, stage: 'staging', role: 'reviewer', decision: 'approve', comment: `reviewed by ${u}` });
  await uc.recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, keys[u].privateKey) })));
}
const { token } = await createApiToken(deps, undefined, 'admin', '1d');

// ------------------------------------------------------------------ the servers
const app = createApp(deps, { desk: {} });
await app.ready();
const login = await app.inject({ method: 'GET', url: '/login' });
const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)[1];
const jar = (res) => res.cookies.map((c) => `${c.name}=${c.value}`);
const signedIn = await app.inject({
  method: 'POST',
  url: '/login',
  headers: { cookie: jar(login).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ _csrf: csrf, token, next: '/' }).toString(),
});
if (signedIn.statusCode !== 303) throw new Error(`sign-in failed: ${signedIn.statusCode} ${signedIn.body.slice(0, 300)}`);
const cookie = [...jar(login), ...jar(signedIn)].join('; ');
const pageUrl = `/releases/${REF}?stage=staging`;
const sample = await app.inject({ method: 'GET', url: pageUrl, headers: { cookie } });
if (sample.statusCode !== 200 || !sample.body.includes('20 of 20 sign-offs by reviewer')) throw new Error(`the release page is not what it should be: ${sample.statusCode}`);
const pageBytes = Buffer.byteLength(sample.body);
const results = (sample.body.match(/class="result passed"/g) ?? []).length;
const signoffs = (sample.body.match(/<span id="signoff-[0-9a-f-]{36}">/g) ?? []).length;
console.log(`release page: ${pageBytes} bytes, ${results} validation results, ${signoffs} sign-offs`);

const bare = Fastify();
const fixed = sample.body;
bare.get('/bare', async (_req, reply) => reply.type('text/html; charset=utf-8').send(fixed));

async function load(server, url, headers, seconds) {
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  try {
    const r = await autocannon({ url: `${address}${url}`, connections: Number(args.connections), duration: seconds, headers });
    const bad = r.non2xx + r.errors + r.timeouts;
    if (bad > 0) throw new Error(`${url}: ${bad} answers were not 2xx`);
    return r.requests.average;
  } finally {
    await server.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (let round = 1; round <= Number(args.rounds); round++) {
  // A fresh app each round (close() ends a Fastify instance); the bare one likewise.
  const deskApp = createApp(deps, { desk: {} });
  const bareApp = Fastify();
  bareApp.get('/bare', async (_req, reply) => reply.type('text/html; charset=utf-8').send(fixed));
  if (Number(args.warmup) > 0) await load(createApp(deps, { desk: {} }), pageUrl, { cookie }, Number(args.warmup));
  const bareRps = await load(bareApp, '/bare', {}, Number(args.duration));
  const deskRps = await load(deskApp, pageUrl, { cookie }, Number(args.duration));
  rows.push({ round, bareRps, deskRps, ratio: deskRps / bareRps });
  console.log(`round ${round}: bare ${bareRps.toFixed(0)} req/s, release page ${deskRps.toFixed(1)} req/s, ratio ${(deskRps / bareRps).toFixed(3)}`);
}
console.log(
  `median: bare ${median(rows.map((r) => r.bareRps)).toFixed(0)} req/s, release page ${median(rows.map((r) => r.deskRps)).toFixed(1)} req/s, ratio ${median(rows.map((r) => r.ratio)).toFixed(3)} (goal >= 0.2)`,
);
await store.close?.();
fs.rmSync(dir, { recursive: true, force: true });
