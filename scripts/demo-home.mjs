/**
 * A demo home for the review desk: the example project walked part way, through the real `tollgate`
 * binary. `npm start` serves it, and test/desk.browser.test.ts starts from it.
 *
 * - fraud-detector@2.4.0 went all the way: it holds production; an incident on it there was opened
 *   and resolved (the desk's /delivery shows a failed change and its time to restore).
 * - fraud-detector@2.5.0 (a retrained model) holds staging; for production it has carol's security
 *   sign-off, the rollback checklist and the parity check, and waits on an ml-engineer sign-off (bob).
 * - fraud-detector@2.6.0 waits for staging: its quality check failed (p95 latency 80 ms, limit 50).
 *
 * The commands run in this process (the bundled CLI's `main`, with its own folder and environment),
 * not as one process each: the same code and exits, a few seconds instead of a minute.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/tollgate.js');
const BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/bundle/tollgate.js');

/** Runs one `tollgate` command in `dir`; throws with its output unless it exits `expect`. */
async function tg(dir, args, expect = 0) {
  const { main } = await import(BUNDLE);
  const env = { ...process.env, TOLLGATE_HOME: path.join(dir, '.tollgate') };
  delete env.TOLLGATE_USER;
  delete env.TOLLGATE_SERVER;
  delete env.TOLLGATE_TOKEN;
  let out = '';
  const code = await main(args, { cwd: dir, env, stdout: (t) => (out += t), stderr: (t) => (out += t), interactive: false });
  if (code !== expect) throw new Error(`tollgate ${args.join(' ')} exited ${code}, not ${expect}:\n${out}`);
  return out;
}

/** A release manifest for `version`: the example's, with its own model file (so its digest differs). */
function manifest(dir, version, modelBytes) {
  const file = `release-${version}.yaml`;
  const model = `model/model-${version}.onnx`;
  fs.writeFileSync(path.join(dir, model), modelBytes);
  const text = fs.readFileSync(path.join(dir, 'release.yaml'), 'utf8').replace('version: 2.4.0', `version: ${version}`).replace('path: model/model.onnx', `path: ${model}`);
  fs.writeFileSync(path.join(dir, file), text);
  return file;
}

/** Creates the demo project and home in `dir` (empty or missing). */
export async function createDemoHome(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const run = (args, expect) => tg(dir, args, expect);
  await run(['init']);
  const R = 'fraud-detector@2.4.0';
  await run(['release', 'create', 'release.yaml', '--as', 'alice']);
  await run(['check', R, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']);
  await run(['validate', R, '--to', 'staging', '--as', 'ci']);
  await run(['check', R, 'model-card', '--to', 'staging', '--as', 'alice']);
  await run(['signoff', R, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob', '--comment', 'reviewed the eval report']);
  await run(['promote', R, '--to', 'staging', '--as', 'dave']);
  await run(['signoff', R, '--to', 'production', '--role', 'security', '--comment', 'SBOM reviewed', '--as', 'carol']);
  await run(['signoff', R, '--to', 'production', '--role', 'ml-engineer', '--as', 'bob']);
  await run(['check', R, 'rollback-plan', '--to', 'production', '--evidence', 'docs/rollback-plan.md', '--as', 'dave']);
  await run(['check', R, 'alerts-tested', '--to', 'production', '--as', 'dave', '--note', 'paged the on-call at 14:02']);
  await run(['validate', R, '--to', 'production', '--as', 'ci']);
  await run(['promote', R, '--to', 'production', '--as', 'dave']);
  const incident = JSON.parse(await run(['incident', 'open', 'fraud-detector', '--stage', 'production', '--reason', 'false positives up after a traffic shift', '--as', 'carol', '--json']));
  await run(['incident', 'resolve', incident.id, '--note', 'threshold recalibrated', '--as', 'dave']);

  const model = fs.readFileSync(path.join(dir, 'model/model.onnx'));
  const S = 'fraud-detector@2.5.0';
  await run(['release', 'create', manifest(dir, '2.5.0', Buffer.concat([model, Buffer.from('retrained 2.5.0')])), '--as', 'alice']);
  const metricsFile = path.join(dir, 'eval/metrics.json');
  const metrics = JSON.parse(fs.readFileSync(metricsFile, 'utf8'));
  fs.writeFileSync(metricsFile, JSON.stringify({ ...metrics, accuracy: 0.947, auc: 0.965, latency_p95_ms: 43 }, null, 2));
  await run(['check', S, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']);
  await run(['validate', S, '--to', 'staging', '--as', 'ci']);
  await run(['check', S, 'model-card', '--to', 'staging', '--as', 'alice']);
  await run(['signoff', S, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob', '--comment', 'accuracy up, latency flat']);
  await run(['promote', S, '--to', 'staging', '--as', 'dave']);
  await run(['check', S, 'rollback-plan', '--to', 'production', '--evidence', 'docs/rollback-plan.md', '--as', 'dave']);
  await run(['check', S, 'alerts-tested', '--to', 'production', '--as', 'dave']);
  await run(['validate', S, '--to', 'production', '--as', 'ci']);
  await run(['signoff', S, '--to', 'production', '--role', 'security', '--comment', 'no new dependencies', '--as', 'carol']);

  const T = 'fraud-detector@2.6.0';
  await run(['release', 'create', manifest(dir, '2.6.0', Buffer.concat([model, Buffer.from('retrained 2.6.0')])), '--as', 'alice']);
  fs.writeFileSync(metricsFile, JSON.stringify({ ...metrics, accuracy: 0.951, latency_p95_ms: 80 }, null, 2));
  await run(['validate', T, '--to', 'staging', '--as', 'ci'], 3);
  return { dir, home: path.join(dir, '.tollgate') };
}

/** A fresh API token for `user` on the demo home (printed once by the CLI; stored only as a hash). */
export async function demoToken(dir, user, expires = '1d') {
  return JSON.parse(await tg(dir, ['token', 'create', user, '--expires', expires, '--json'])).token;
}

export { BIN, tg };
