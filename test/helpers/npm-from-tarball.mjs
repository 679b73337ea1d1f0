#!/usr/bin/env node
/**
 * A stand-in for `npm install --global [--prefix DIR] tollgate@VERSION`, for the CI templates' test:
 * it installs the tarball `npm pack` made of this repository (TOLLGATE_TEST_TARBALL) the way npm lays
 * out a global install (DIR/lib/node_modules/tollgate, each of its package.json bins linked in
 * DIR/bin), with the repository's node_modules as its dependencies, instead of downloading it from
 * the registry and compiling better-sqlite3 for a minute. It refuses any other command, package or
 * version, and appends each call's arguments to TOLLGATE_TEST_NPM_LOG.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
fs.appendFileSync(process.env.TOLLGATE_TEST_NPM_LOG, JSON.stringify(args) + '\n');
const die = (message) => {
  process.stderr.write(`npm (test stand-in): ${message}\n`);
  process.exit(1);
};
if (args[0] !== 'install' || !args.includes('--global')) die(`only "install --global" is stood in for, got: ${args.join(' ')}`);
const at = args.indexOf('--prefix');
const prefix = at >= 0 ? args[at + 1] : process.env.npm_config_prefix;
if (!prefix) die('no --prefix and no npm_config_prefix');
const specs = args.slice(1).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--prefix');
if (specs.length !== 1) die(`one package expected, got: ${specs.join(' ')}`);

const tarball = process.env.TOLLGATE_TEST_TARBALL;
const target = path.join(prefix, 'lib', 'node_modules', 'tollgate');
fs.rmSync(target, { recursive: true, force: true });
fs.mkdirSync(target, { recursive: true });
execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
const pkg = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8'));
const [name, version] = specs[0].split('@');
if (name !== pkg.name || (version !== 'latest' && version !== pkg.version)) die(`no ${specs[0]} here (only ${pkg.name}@${pkg.version})`);
fs.symlinkSync(process.env.TOLLGATE_TEST_NODE_MODULES, path.join(target, 'node_modules'));
fs.mkdirSync(path.join(prefix, 'bin'), { recursive: true });
for (const [bin, file] of Object.entries(pkg.bin)) {
  const link = path.join(prefix, 'bin', bin);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.join(target, file), link);
  // npm makes every bin executable, whatever the tarball says.
  fs.chmodSync(path.join(target, file), 0o755);
}
process.stdout.write(`added 1 package: ${pkg.name}@${pkg.version}\n`);
