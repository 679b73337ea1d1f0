#!/usr/bin/env node
// The example walkthrough: a release of fraud-detector from nothing to production, every step run
// through the real `tollgate` binary in a fresh temporary folder, printing what happens and why.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/tollgate.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-walkthrough-'));
const env = { ...process.env, TOLLGATE_HOME: path.join(dir, '.tollgate') };
delete env.TOLLGATE_USER;

function step(why, args, expectCode = 0) {
  console.log(`\n\x1b[1m# ${why}\x1b[0m\n$ tollgate ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stdout.write(r.stderr);
  console.log(`(exit ${r.status})`);
  if (r.status !== expectCode) {
    console.error(`\nwalkthrough failed: expected exit ${expectCode}, got ${r.status}`);
    process.exit(1);
  }
}

console.log(`Walkthrough in ${dir}`);
console.log('Every step below is a real `tollgate` command; its output and exit code follow it.');
step('Create the example project: policy, release manifest, data, keys for alice, bob, carol, dave and ci', ['init']);
step('Lint the policy', ['policy', 'check']);
step('alice registers release 2.4.0 (she owns it; risk high)', ['release', 'create', 'release.yaml', '--as', 'alice']);
step('Nothing is recorded yet, so dave cannot promote: every missing requirement is named (exit 3)', ['promote', 'fraud-detector@2.4.0', '--to', 'staging', '--as', 'dave'], 3);
step('alice lists the validation datasets, with the document as evidence', ['check', 'fraud-detector@2.4.0', 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']);
step('ci (the validator role) runs the staging validations here, where the files are: tests, data contract, drift, model quality, security scan', ['validate', 'fraud-detector@2.4.0', '--to', 'staging', '--as', 'ci']);
step('alice marks the model card written', ['check', 'fraud-detector@2.4.0', 'model-card', '--to', 'staging', '--as', 'alice']);
step('alice signs off her own release: recorded, but under separation of duties it does not count', ['signoff', 'fraud-detector@2.4.0', '--to', 'staging', '--role', 'ml-engineer', '--as', 'alice']);
step('so staging is still blocked (exit 3)', ['status', 'fraud-detector@2.4.0', '--to', 'staging'], 3);
step('bob, another ML engineer, signs off with his own key', ['signoff', 'fraud-detector@2.4.0', '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob', '--comment', 'reviewed the eval report']);
step('dave promotes to staging', ['promote', 'fraud-detector@2.4.0', '--to', 'staging', '--as', 'dave']);
step('production needs sign-offs (security too, because the risk is high) and rollback readiness', ['status', 'fraud-detector@2.4.0', '--to', 'production', '--as', 'dave'], 3);
step('carol (security) rejects at first: a rejection blocks until she signs again', ['signoff', 'fraud-detector@2.4.0', '--to', 'production', '--role', 'security', '--reject', '--comment', 'SBOM missing', '--as', 'carol']);
step('carol signs off once the SBOM is attached', ['signoff', 'fraud-detector@2.4.0', '--to', 'production', '--role', 'security', '--comment', 'SBOM reviewed', '--as', 'carol']);
step('bob signs off for production', ['signoff', 'fraud-detector@2.4.0', '--to', 'production', '--role', 'ml-engineer', '--as', 'bob']);
step('the rollback plan, with evidence', ['check', 'fraud-detector@2.4.0', 'rollback-plan', '--to', 'production', '--evidence', 'docs/rollback-plan.md', '--as', 'dave']);
step('alerts tested', ['check', 'fraud-detector@2.4.0', 'alerts-tested', '--to', 'production', '--as', 'dave', '--note', 'paged the on-call at 14:02']);
step('ci checks that staging and production configuration match (replicas aside)', ['validate', 'fraud-detector@2.4.0', '--to', 'production', '--as', 'ci']);
step('dave promotes to production', ['promote', 'fraud-detector@2.4.0', '--to', 'production', '--as', 'dave']);
step('the validation record as one page with charts', ['report', 'fraud-detector@2.4.0', '-o', 'report.html']);
step('the release and where it is', ['release', 'show', 'fraud-detector@2.4.0']);
step('every step is in the hash-linked audit log, under a checkpoint signed by the server key', ['audit', 'verify']);
step('an auditor reads it without sqlite3: who promoted what, when', ['audit', 'log', '--type', 'ReleasePromoted']);
// A policy change: production sign-offs expire after 72h instead of 168h.
fs.writeFileSync(path.join(dir, 'tollgate.next.yaml'), fs.readFileSync(path.join(dir, 'tollgate.yaml'), 'utf8').replace('expires: 168h', 'expires: 72h'));
step('before changing the policy, see what it would change: the approvals gate changes, so its sign-offs would go stale', ['policy', 'diff', 'tollgate.next.yaml']);
step('only an admin of the active policy may change it: alice is refused (exit 2)', ['policy', 'apply', 'tollgate.next.yaml', '--as', 'alice'], 2);
step('dave holds the admin role', ['policy', 'apply', 'tollgate.next.yaml', '--as', 'dave']);
step('the policy versions, newest first; `policy show 1` prints the old text', ['policy', 'list']);
console.log(`\nDone. The project is in ${dir}; try: cd ${dir} && ${bin} status fraud-detector@2.4.0 --to production`);
