#!/usr/bin/env node
// Where the server's CPU went during sign-off writes, from a profile written by
// `node bench/server/run.mjs --targets write --cpu-prof DIR`: the samples between the first and the
// last one inside `recordSigned` (the write run, warm-up included), each counted once under the first
// of the categories below whose test its stack meets (so the order matters: the native time of a
// statement is "SQLite" whoever ran it). Async stacks end at each `await`, so a category names where
// the work was done, not always which use case asked for it.
//
//   node bench/server/cpu-profile-summary.mjs DIR/CPU.*.cpuprofile [WINDOW_FUNCTION]
import fs from 'node:fs';

const [file, windowFn = 'recordSigned'] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpu-profile-summary.mjs FILE.cpuprofile [WINDOW_FUNCTION]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
let t = profile.startTime;
const times = profile.timeDeltas.map((d) => (t += d));
const stackOf = (id) => {
  const frames = [];
  for (let x = id; x !== undefined; x = parent.get(x)) frames.push(byId.get(x).callFrame);
  return frames;
};
const inWindow = profile.samples.map((id, i) => (stackOf(id).some((f) => f.functionName === windowFn) ? times[i] : undefined)).filter((x) => x !== undefined);
if (inWindow.length === 0) {
  console.error(`no sample inside ${windowFn}`);
  process.exit(1);
}
const from = Math.min(...inWindow);
const to = Math.max(...inWindow);
const has = (s, name) => s.some((f) => f.functionName === name);
const CATEGORIES = [
  ['GC', (s) => s[0].functionName === '(garbage collector)'],
  ['idle', (s) => s[0].functionName === '(idle)'],
  ['SQLite statements (native; a COMMIT waits for its fsync here)', (s) => /sqlite-driver|better-sqlite3/.test(s[0].url)],
  ['Ed25519 signing (checkpoints)', (s) => has(s, 'signOneShot')],
  ['Ed25519 verification (sign-offs)', (s) => has(s, 'verifyOneShot')],
  ['async_hooks (AsyncLocalStorage of kysely-store.ts)', (s) => /async_hooks/.test(s[0].url)],
  ['Kysely compiling', (s) => has(s, 'compileQuery')],
  ['socket writes, HTTP', (s) => s.some((f) => /node:_http|node:net|stream_base|streams\/writable/.test(f.url)) || s[0].functionName === 'writev'],
  ['Fastify (routing, hooks, body, serialisation)', (s) => s.some((f) => /fastify|avvio|find-my-way|ajv|fast-json/.test(f.url))],
  ['checkpoint (frontier, root, note)', (s) => s.some((f) => f.functionName === 'checkpoint' && /change\.js/.test(f.url))],
  ['appending events (hash, leaf, Merkle nodes)', (s) => has(s, 'appendAudit')],
  ['vouching (row digests, event hashes)', (s) => s.some((f) => /vouch|storedRow|rowDigest/.test(f.functionName))],
  ['canonical JSON, SHA-256 elsewhere', (s) => s.some((f) => /canonicalize|digest\.js/.test(f.url)) || s[0].functionName === 'hash'],
  ['Kysely building queries', (s) => /kysely\/dist/.test(s[0].url) && s.some((f) => /\/dist\/(store|service)\//.test(f.url) && !/kysely/.test(f.url))],
  ['Kysely executing (executor, connection)', (s) => /kysely\/dist/.test(s[0].url)],
  ['Tollgate code, other', (s) => /\/dist\//.test(s[0].url) && !/node_modules/.test(s[0].url)],
  ['other', () => true],
];
const counts = new Map();
let busy = 0;
profile.samples.forEach((id, i) => {
  if (times[i] < from || times[i] > to) return;
  const [name] = CATEGORIES.find(([, test]) => test(stackOf(id)));
  if (name === 'idle') return;
  busy++;
  counts.set(name, (counts.get(name) ?? 0) + 1);
});
console.log(`${((to - from) / 1e6).toFixed(1)} s of writes, ${busy} busy samples`);
for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${((100 * n) / busy).toFixed(1).padStart(5)} %  ${name}`);
