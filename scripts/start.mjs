#!/usr/bin/env node
/**
 * `npm start`: the review desk on a demo home. Creates the home (the example project walked part
 * way, scripts/demo-home.mjs) in .demo/ if it is not there yet, starts `tollgate serve` on it with
 * the desk, and prints the URL and a fresh sign-in token for bob, a demo reviewer (ml-engineer) whose
 * production sign-off fraud-detector@2.5.0 waits on. PORT picks another port (default 7480);
 * TOLLGATE_DEMO_DIR another folder.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, createDemoHome, demoToken } from './demo-home.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.resolve(repo, process.env.TOLLGATE_DEMO_DIR ?? '.demo');
const port = Number(process.env.PORT ?? 7480);
const url = `http://localhost:${port}`;

if (!fs.existsSync(path.join(dir, '.tollgate', 'server.key'))) {
  console.log(`Creating the demo home in ${dir} (the example project walked part way)…`);
  await createDemoHome(dir);
}
const token = await demoToken(dir, 'bob', '7d');
const env = { ...process.env, TOLLGATE_HOME: path.join(dir, '.tollgate') };
for (const k of ['TOLLGATE_USER', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN']) delete env[k];
const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--public-url', url], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
child.stderr.on('data', (d) => {
  const text = d.toString();
  process.stderr.write(text);
  if (text.includes('tollgate serving')) {
    console.log(`
The review desk: ${url}/
Sign in with this API token (bob, a demo reviewer with the ml-engineer role; valid 7 days):

  ${token}

fraud-detector@2.4.0 holds production; 2.5.0 holds staging and waits on bob's production sign-off
(register a passkey on its page, then "Sign off"); 2.6.0 failed its quality check for staging.
More tokens: TOLLGATE_HOME=${path.relative(process.cwd(), path.join(dir, '.tollgate')) || '.'} npx tollgate token create dave (release manager) or carol (security).
Stop with Ctrl-C.`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
