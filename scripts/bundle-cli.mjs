#!/usr/bin/env node
/**
 * Bundles the CLI that bin/tollgate.js runs: dist/bundle/tollgate.js and the chunks it imports when a
 * command reaches them, linked with rolldown from the JavaScript `tsc` wrote to dist/ (`npm run build`
 * runs `tsc`, then this). Nothing is transformed: the bundle is dist/'s code, concatenated.
 *
 * Why (issue 9): a local `status` spent most of its start loading modules, and Node's ESM loader pays
 * for every file: kysely alone is 263 files, zod 95, yaml 73. Loading main.ts's commands on demand
 * took `status` from about 960 files to 530, still about 6× `node -e 0`; as 24 chunks the same code
 * starts in half that time (bench/README.md, "CLI start"). Code splitting keeps what is loaded on
 * demand on demand: each command's module, the store, the HTTP client, the server, the validators
 * and the report are chunks of their own, imported when a command reaches them.
 *
 * Packages stay in node_modules unless BUNDLED lists them: the native addons (better-sqlite3, DuckDB)
 * and the packages only the server, the validators or PostgreSQL use are imported from there as
 * before. All of Tollgate's own code is in the bundle, so no class of it (TollgateError above all,
 * which `instanceof` recognises) is ever loaded twice in one process.
 *
 * Writes dist/bundle/chunks.json too: the modules each chunk holds, which test/cli.start.test.ts
 * reads to tell which of Tollgate's modules a run loaded.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(repo, 'dist/bundle');

/** Pure JavaScript loaded by most commands: bundled. Every other package is imported from node_modules. */
const BUNDLED = ['commander', 'kysely', 'zod', 'yaml', '@marcbachmann/cel-js'];

/** The package a bare import names (`@scope/name/sub` → `@scope/name`); undefined for a path. */
function packageOf(id) {
  if (id.startsWith('.') || path.isAbsolute(id) || id.startsWith('\0')) return undefined;
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Which modules each chunk holds, as paths relative to the repository (packages: node_modules/…). */
const chunkModules = {
  name: 'tollgate-chunk-modules',
  generateBundle(_options, bundle) {
    const relative = (id) => {
      const i = id.lastIndexOf('/node_modules/');
      return i >= 0 ? id.slice(i + 1) : path.relative(repo, id).split(path.sep).join('/');
    };
    const chunks = {};
    for (const [file, chunk] of Object.entries(bundle)) if (chunk.type === 'chunk') chunks[file] = chunk.moduleIds.map(relative).sort();
    this.emitFile({ type: 'asset', fileName: 'chunks.json', source: JSON.stringify(chunks, null, 2) + '\n' });
  },
};

const started = performance.now();
const build = await rolldown({
  cwd: repo,
  input: {
    tollgate: 'dist/cli/main.js',
    // The drift validator starts its CSV parser with `new Worker(new URL('./csv-worker.js', import.meta.url))`:
    // the worker's entry sits beside the chunks, where that URL points.
    'csv-worker': 'dist/validators/drift/csv-worker.js',
  },
  platform: 'node',
  external: (id) => {
    const pkg = packageOf(id);
    return pkg !== undefined && (pkg.startsWith('node:') || !BUNDLED.includes(pkg));
  },
  plugins: [chunkModules],
});
try {
  const { output } = await build.write({
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    // Function and class names as in the source: some libraries put constructor names in messages.
    keepNames: true,
  });
  const chunks = output.filter((o) => o.type === 'chunk');
  const bytes = chunks.reduce((n, c) => n + Buffer.byteLength(c.code), 0);
  console.log(`bundled the CLI into ${path.relative(repo, OUT)}/: ${chunks.length} chunks, ${(bytes / 1e6).toFixed(1)} MB, in ${Math.round(performance.now() - started)} ms`);
} finally {
  await build.close();
}
