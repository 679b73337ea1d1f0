#!/usr/bin/env node
// In-process timings of `status` and `attest` on one home, for the state benchmark: the use cases of
// dist/service over the home's SQLite file, as `tollgate` runs them, without the process start that a
// whole CLI run adds (about 0.5 s here, the same at every size, which would hide a growth). Prints
// JSON: the first call of each (cold: the SQLite page cache and V8 not warmed) and the median of
// `--iterations` calls after it, CPU and wall.
//
//   node bench/state/ops.mjs HOME RELEASE [--stage production] [--iterations 30]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);

const { values, positionals } = parseArgs({ allowPositionals: true, options: { stage: { type: 'string', default: 'production' }, iterations: { type: 'string', default: '30' } } });
const [home, ref] = positionals;
const iterations = Number(values.iterations);
const [{ createSqliteStore }, { createUseCases }, { loadServerKey, loadOrigin }] = await Promise.all([load('store/sqlite-store.js'), load('service/use-cases.js'), load('cli/home.js')]);

const store = await createSqliteStore(path.join(home, 'tollgate.db'));
const useCases = createUseCases({ store, serverKey: loadServerKey(home), origin: loadOrigin(home), now: () => new Date() }, 'dave');

async function time(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, result };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const ops = {
  status: () => useCases.status(ref, values.stage),
  attest: () => useCases.attest(ref, values.stage),
};
const out = {};
try {
  for (const [name, fn] of Object.entries(ops)) {
    const first = await time(fn);
    const runs = [];
    for (let i = 0; i < iterations; i++) runs.push(await time(fn));
    out[name] = { firstMs: first.wall, firstCpuMs: first.cpu, medianMs: median(runs.map((r) => r.wall)), medianCpuMs: median(runs.map((r) => r.cpu)) };
    if (name === 'attest') out[name].bytes = JSON.stringify(first.result).length;
    if (name === 'status') out[name].promotable = first.result.promotable;
  }
} finally {
  await store.close();
}
console.log(JSON.stringify(out));
