// Preloaded with `node --import` by test/cli.start.test.ts: appends to the file named by
// TOLLGATE_TRACE_MODULES every module the process loads: ES modules as the loader loads them (a hook,
// in the loader's own thread), CommonJS ones as `require.cache` holds them at exit.
import fs from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const out = process.env.TOLLGATE_TRACE_MODULES;
if (!out) throw new Error('trace-modules.mjs: set TOLLGATE_TRACE_MODULES to the file to write');
register(new URL('./trace-modules-hooks.mjs', import.meta.url), { data: { out } });
const required = createRequire(import.meta.url).cache;
process.on('exit', () => {
  fs.appendFileSync(out, Object.keys(required).map((file) => `${pathToFileURL(file).href}\n`).join(''));
});
