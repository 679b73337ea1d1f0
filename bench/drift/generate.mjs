#!/usr/bin/env node
// Writes the drift benchmark's data: reference.csv and current.csv, ROWS rows × 10 numeric columns
// each, one empty field (a null) in a thousand, a shift in four columns of current.csv.
// Deterministic: the same seed gives byte-identical files.
//
//   node bench/drift/generate.mjs [DIR=/tmp/tollgate-bench] [ROWS=10000000]
//
// The columns mix what real feature tables hold: integers with many ties, money with two decimals,
// measurements with a few decimals and one column of nearly unique values with nine decimals, so
// that neither "few distinct values" nor "all distinct" tricks get an easy ride.
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? '/tmp/tollgate-bench');
const rows = Number(process.argv[3] ?? 10_000_000);
const SEED = 20251130;

/** sfc32: small, fast, 128-bit state; good enough statistically and identical on every machine. */
function sfc32(a, b, c, d) {
  return () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function makeRandom(seed) {
  const u = sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0);
  for (let i = 0; i < 20; i++) u(); // let the state mix before use
  let spare = NaN;
  const normal = () => {
    // Box–Muller, both halves used.
    if (!Number.isNaN(spare)) { const s = spare; spare = NaN; return s; }
    let r1 = u();
    while (r1 === 0) r1 = u();
    const r = Math.sqrt(-2 * Math.log(r1));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  return { u, normal };
}

const HEADER = 'amount,score,age,latency_ms,items,ratio,temperature,balance,signal,clicks\n';

/** One row's fields; `shifted` moves amount, score, temperature and clicks. */
function columnsFor(rnd, shifted) {
  const { u, normal } = rnd;
  return [
    () => Math.exp(3 + 0.9 * normal() + (shifted ? 0.04 : 0)).toFixed(2), // amount, log-normal money
    () => (normal() + (shifted ? 0.03 : 0)).toFixed(6), // score
    () => String(18 + Math.floor(u() * 73)), // age: integers, heavy ties
    () => (-Math.log(1 - u()) * 120).toFixed(1), // latency_ms: exponential
    () => String(Math.floor(-Math.log(1 - u()) * 3)), // items: small integers
    () => u().toFixed(4), // ratio: uniform
    () => (20 + 5 * normal() + (shifted ? 0.2 : 0)).toFixed(3), // temperature
    () => (2500 + 4000 * normal()).toFixed(2), // balance: money, both signs
    () => (normal() * 0.001 + u()).toFixed(9), // signal: nearly all values distinct
    () => String(Math.max(0, Math.round(200 + 60 * normal() * (shifted ? 1.1 : 1)))), // clicks
  ];
}

function writeFile(file, seed, shifted) {
  const rnd = makeRandom(seed);
  const cols = columnsFor(rnd, shifted);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, HEADER);
  const BATCH = 20_000;
  let written = 0;
  while (written < rows) {
    const n = Math.min(BATCH, rows - written);
    const lines = new Array(n);
    for (let i = 0; i < n; i++) {
      const fields = new Array(cols.length);
      for (let c = 0; c < cols.length; c++) {
        // Draw the value even for a null so that nulls do not shift the other columns' streams.
        const v = cols[c]();
        fields[c] = rnd.u() < 0.001 ? '' : v;
      }
      lines[i] = fields.join(',');
    }
    fs.writeSync(fd, lines.join('\n') + '\n');
    written += n;
  }
  fs.closeSync(fd);
}

fs.mkdirSync(dir, { recursive: true });
const t0 = Date.now();
writeFile(path.join(dir, 'reference.csv'), SEED, false);
writeFile(path.join(dir, 'current.csv'), SEED + 1, true);
for (const f of ['reference.csv', 'current.csv']) {
  const st = fs.statSync(path.join(dir, f));
  console.log(`${path.join(dir, f)}: ${rows} rows, ${(st.size / 1e6).toFixed(0)} MB`);
}
console.log(`generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
