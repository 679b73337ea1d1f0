/**
 * The CI templates cannot rot: this runs the steps of ci/github/action.yml and the script lines of
 * ci/gitlab/tollgate.gitlab-ci.yml, as read from the files, with bash and the environment the CI
 * would give them, against a real `tollgate serve` that trusts two local OIDC issuers (one standing
 * for GitHub Actions, one for GitLab). The GitHub job gets its token from a local endpoint that
 * answers like ACTIONS_ID_TOKEN_REQUEST_URL; the GitLab job gets it in TOLLGATE_TOKEN, as
 * `id_tokens:` gives it. The CLI is installed by the templates' own install lines, from the tarball
 * `npm pack` makes of this repository (test/helpers/npm-from-tarball.mjs stands in for the registry).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createProject, removeProjects, type Project } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';
import { createTestIssuer, type TestIssuer } from './server-fixture.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ACTION = path.join(REPO, 'ci/github/action.yml');
const GITLAB = path.join(REPO, 'ci/gitlab/tollgate.gitlab-ci.yml');
const REL = 'fraud-detector@2.4.0';
const VERSION = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB_SUB = 'repo:acme/fraud-detector:ref:refs/heads/main';
const GITLAB_ISSUER = 'https://gitlab.com';
const GITLAB_SUB = 'project_path:acme/fraud-detector:ref_type:branch:ref:main';

let p: Project;
let server: Served | undefined;
let scratch: string;
let github: TestIssuer;
let gitlab: TestIssuer;
let serverKey: string;
const tokens: Record<string, string> = {};
/** Every JWT the two issuers handed to a job, to prove none reaches a log. */
const issued: string[] = [];
/** The requests the GitHub token endpoint got. */
const tokenRequests: { audience: string | null; authorized: boolean }[] = [];
let tokenEndpoint: { url: string; close(): Promise<void> };
const REQUEST_TOKEN = `ghs_${randomBytes(12).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// Running the templates
// ---------------------------------------------------------------------------------------------

interface Ran {
  readonly code: number;
  readonly log: string;
}

/** Runs `file` with bash in `cwd` and `env`, without blocking (the token endpoint lives in this process). */
function bash(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { cwd, env });
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, log });
    });
  });
}

/** The environment of this test run without anything a CI or Tollgate variable could leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(TOLLGATE_|GITHUB_|ACTIONS_|RUNNER_|CI|GITLAB_|npm_)/.test(k)) env[k] = v;
  }
  env.PATH = `${path.join(scratch, 'fake-npm')}:${env.PATH}`;
  env.TOLLGATE_TEST_TARBALL = tarball;
  env.TOLLGATE_TEST_NODE_MODULES = fs.realpathSync(path.join(REPO, 'node_modules'));
  env.TOLLGATE_TEST_NPM_LOG = path.join(scratch, 'npm.log');
  return env;
}
let tarball: string;

interface ActionStep {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  'working-directory'?: string;
}

interface ActionRun extends Ran {
  readonly steps: { name: string; outcome: 'success' | 'failure' | 'skipped'; code?: number }[];
  readonly outputs: Record<string, string>;
  readonly uploads: { name: string; paths: string[]; ifNoFilesFound: string }[];
}

/**
 * Runs the composite action as a GitHub runner would: each `run:` step with `bash --noprofile
 * --norc -eo pipefail` (GitHub's `shell: bash`), its env and working-directory evaluated, step
 * outputs from GITHUB_OUTPUT, PATH additions from GITHUB_PATH, a step after a failure skipped unless
 * its `if` is always(). The `uses:` steps (upload-artifact) are not run: their paths are returned.
 * Any expression this does not know fails the test, so the template cannot drift past it.
 */
async function runAction(inputs: Record<string, string>, opts: { idToken?: boolean } = {}): Promise<ActionRun> {
  const action = parseYaml(fs.readFileSync(ACTION, 'utf8'));
  expect(action.runs.using).toBe('composite');
  for (const name of Object.keys(inputs)) expect(Object.keys(action.inputs), `the action has no input ${name}`).toContain(name);
  const runnerTemp = fs.mkdtempSync(path.join(scratch, 'runner-temp-'));
  const stepOutputs: Record<string, Record<string, string>> = {};
  const input = (name: string): string => {
    const declared = action.inputs[name];
    if (!declared) throw new Error(`the action uses an undeclared input: ${name}`);
    return inputs[name] ?? String(declared.default ?? '');
  };
  const evaluate = (text: string): string =>
    text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_all, expr: string) => {
      let m: RegExpExecArray | null;
      if ((m = /^inputs\.([\w-]+)$/.exec(expr))) return input(m[1]!);
      if (expr === 'runner.temp') return runnerTemp;
      if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr))) return stepOutputs[m[1]!]?.[m[2]!] ?? '';
      throw new Error(`the test does not evaluate \${{ ${expr} }}: teach it, or keep the action simpler`);
    });
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: p.dir,
    GITHUB_ACTION_PATH: path.dirname(ACTION),
    RUNNER_TEMP: runnerTemp,
    ...(opts.idToken === false ? {} : { ACTIONS_ID_TOKEN_REQUEST_URL: `${tokenEndpoint.url}?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN }),
  };
  const githubPath = path.join(runnerTemp, 'github-path');
  const githubEnv = path.join(runnerTemp, 'github-env');
  fs.writeFileSync(githubPath, '');
  fs.writeFileSync(githubEnv, '');
  let failedCode: number | undefined;
  let log = '';
  const steps: ActionRun['steps'] = [];
  const uploads: ActionRun['uploads'] = [];
  for (const [i, step] of (action.runs.steps as ActionStep[]).entries()) {
    const name = step.name ?? `step ${i}`;
    if (step.if !== undefined && !/^(\$\{\{\s*)?always\(\)(\s*\}\})?$/.test(step.if)) throw new Error(`the test does not evaluate if: ${step.if}`);
    if (failedCode !== undefined && step.if === undefined) {
      steps.push({ name, outcome: 'skipped' });
      continue;
    }
    if (step.uses !== undefined) {
      expect(step.uses).toMatch(/^actions\/upload-artifact@v\d+$/);
      uploads.push({
        name: evaluate(step.with!.name!),
        paths: evaluate(step.with!.path!).split('\n').map((l) => l.trim()).filter((l) => l !== ''),
        ifNoFilesFound: step.with!['if-no-files-found'] ?? 'warn',
      });
      steps.push({ name, outcome: 'success' });
      continue;
    }
    expect(step.shell, `${name}: shell`).toBe('bash');
    // No expression in the shell's text: inputs reach it through env only.
    expect(step.run, `${name}: run`).not.toMatch(/\$\{\{/);
    const file = path.join(runnerTemp, `step-${i}.sh`);
    fs.writeFileSync(file, step.run!);
    const outputFile = path.join(runnerTemp, `output-${i}`);
    fs.writeFileSync(outputFile, '');
    const stepEnv: NodeJS.ProcessEnv = { ...env, GITHUB_OUTPUT: outputFile, GITHUB_PATH: githubPath, GITHUB_ENV: githubEnv, GITHUB_STEP_SUMMARY: path.join(runnerTemp, 'summary.md') };
    for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = evaluate(String(v));
    const cwd = path.resolve(p.dir, evaluate(step['working-directory'] ?? '.'));
    const ran = await bash(['--noprofile', '--norc', '-eo', 'pipefail', file], cwd, stepEnv);
    log += `>>> ${name}\n${ran.log}`;
    if (step.id) stepOutputs[step.id] = Object.fromEntries(fs.readFileSync(outputFile, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    // What a step adds to GITHUB_PATH comes first on PATH for the steps after it.
    const added = fs.readFileSync(githubPath, 'utf8').split('\n').filter((l) => l !== '');
    env.PATH = [...added.reverse(), cleanEnv().PATH].join(':');
    steps.push({ name, outcome: ran.code === 0 ? 'success' : 'failure', code: ran.code });
    if (ran.code !== 0 && failedCode === undefined) failedCode = ran.code;
  }
  const outputs = Object.fromEntries(Object.entries(action.outputs as Record<string, { value: string }>).map(([k, o]) => [k, evaluate(o.value)]));
  return { code: failedCode ?? 0, log, steps, outputs, uploads };
}

interface GitlabRun extends Ran {
  /** The exit code of after_script (which GitLab does not let fail the job). */
  readonly afterCode: number;
  /** The job's artifacts: paths, absolute. */
  readonly artifacts: string[];
}

/**
 * Runs a job that `extends: .tollgate` as a GitLab runner would: the template's variables under the
 * job's, each `id_tokens:` entry as a JWT of the GitLab issuer with the template's `aud`,
 * before_script and script in one bash session that stops at the first failing line, after_script
 * in a shell of its own that runs whatever happened.
 */
async function runGitlab(variables: Record<string, string>): Promise<GitlabRun> {
  const template = parseYaml(fs.readFileSync(GITLAB, 'utf8'));
  const job = template['.tollgate'];
  const prefix = fs.mkdtempSync(path.join(scratch, 'npm-global-'));
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PROJECT_DIR: p.dir,
    CI_JOB_ID: String(Date.now()),
    // The image's global npm prefix (/usr/local in node:20), whose bin is on PATH.
    npm_config_prefix: prefix,
    ...Object.fromEntries(Object.entries(job.variables as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    ...variables,
  };
  env.PATH = `${path.join(prefix, 'bin')}:${env.PATH}`;
  for (const [name, spec] of Object.entries(job.id_tokens as Record<string, { aud: string }>)) {
    const jwt = await gitlab.sign({ sub: GITLAB_SUB, aud: spec.aud });
    issued.push(jwt);
    env[name] = jwt;
  }
  const lines = [...(job.before_script as string[]), ...(job.script as string[])];
  const main = await bash(['--noprofile', '--norc', '-c', ['set -eo pipefail', ...lines].join('\n')], p.dir, env);
  const after = await bash(['--noprofile', '--norc', '-c', ['set -eo pipefail', ...(job.after_script as string[])].join('\n')], p.dir, env);
  expect(job.artifacts.when).toBe('always');
  return { code: main.code, afterCode: after.code, log: `${main.log}>>> after_script\n${after.log}`, artifacts: (job.artifacts.paths as string[]).map((a) => path.resolve(p.dir, a)) };
}

// ---------------------------------------------------------------------------------------------
// The server, the issuers and the people who add evidence between jobs
// ---------------------------------------------------------------------------------------------

/** A token endpoint like GitHub's: `?audience=` chooses the aud, the request token must match. */
function startTokenEndpoint(): Promise<{ url: string; close(): Promise<void> }> {
  const endpoint = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    const authorized = req.headers.authorization === `bearer ${REQUEST_TOKEN}`;
    tokenRequests.push({ audience: url.searchParams.get('audience'), authorized });
    if (!authorized || url.searchParams.get('api-version') !== '2.0') {
      res.statusCode = 401;
      res.end();
      return;
    }
    void github.sign({ sub: GITHUB_SUB, aud: url.searchParams.get('audience') ?? `https://github.com/acme` }).then((jwt) => {
      issued.push(jwt);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ count: jwt.length, value: jwt }));
    });
  });
  return new Promise((resolve) =>
    endpoint.listen(0, '127.0.0.1', () => {
      const { port } = endpoint.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/_apis/token`,
        close: () => new Promise((done) => {
          endpoint.closeAllConnections();
          endpoint.close(() => done());
        }),
      });
    }),
  );
}

/** The CLI against the server as one of the example people, with their API token. */
function as(user: string, args: string[]) {
  const r = p.run([...args, '--as', user], { env: { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: tokens[user] } });
  expect(r.code, `${user}: tollgate ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  return r;
}

function promotions(): { actor: string; stage: string }[] {
  const events = as('alice', ['audit', 'log', '--type', 'ReleasePromoted', '--json']).json().events as { actor: string; data: { stage: string } }[];
  return events.map((e) => ({ actor: e.actor, stage: e.data.stage }));
}

/** No JWT a job was given appears in its log, but in the `::add-mask::` line that hides it on GitHub. */
function expectNoTokenIn(log: string): void {
  const unmasked = log.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
  for (const jwt of issued) expect(unmasked.includes(jwt), 'a JWT in the log').toBe(false);
}

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-ci-'));
  // The package as npm would ship it: the templates' install lines install this tarball.
  const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: REPO, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const pack = JSON.parse(packed.stdout)[0];
  tarball = path.join(scratch, pack.filename);
  expect(pack.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['ci/tollgate-ci.sh', 'ci/github/action.yml', 'ci/gitlab/tollgate.gitlab-ci.yml']));
  fs.mkdirSync(path.join(scratch, 'fake-npm'));
  fs.writeFileSync(path.join(scratch, 'fake-npm', 'npm'), `#!/usr/bin/env bash\nexec node ${JSON.stringify(path.join(REPO, 'test/helpers/npm-from-tarball.mjs'))} "$@"\n`, { mode: 0o755 });

  p = createProject();
  github = await createTestIssuer(GITHUB_ISSUER);
  gitlab = await createTestIssuer(GITLAB_ISSUER);
  fs.writeFileSync(path.join(p.home, 'github-jwks.json'), JSON.stringify(github.jwks));
  fs.writeFileSync(path.join(p.home, 'gitlab-jwks.json'), JSON.stringify(gitlab.jwks));
  fs.writeFileSync(
    path.join(p.home, 'oidc.yaml'),
    [
      'issuers:',
      `  - issuer: ${GITHUB_ISSUER}`,
      '    audience: tollgate',
      '    jwks: github-jwks.json',
      '    users:',
      `      "${GITHUB_SUB}": ci`,
      `  - issuer: ${GITLAB_ISSUER}`,
      '    audience: tollgate',
      '    jwks: gitlab-jwks.json',
      '    users:',
      `      "${GITLAB_SUB}": ci`,
      '',
    ].join('\n'),
  );
  for (const user of ['alice', 'bob', 'carol']) tokens[user] = p.run(['token', 'create', user, '--json']).json().token;
  serverKey = p.run(['keys', 'show', '--server']).stdout.trim();
  expect(serverKey).toMatch(/^ed25519:/);
  server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
  tokenEndpoint = await startTokenEndpoint();
}, 120_000);

afterAll(async () => {
  await server?.stop('SIGTERM');
  await tokenEndpoint?.close();
  removeProjects();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('the GitHub Actions composite action (ci/github/action.yml)', () => {
  const inputs = () => ({ 'server-url': server!.url, stage: 'staging', manifest: 'release.yaml', promote: 'true', version: VERSION, 'server-key': serverKey });

  it('registers and validates the release as the OIDC-mapped user, then fails at status naming what is missing, and still writes the report', async () => {
    const job = await runAction(inputs());
    expect(job.code, job.log).toBe(3);
    expect(job.steps.map((s) => [s.name, s.outcome])).toEqual([
      ['Install tollgate', 'success'],
      ['Register the release', 'success'],
      ['Validate', 'success'],
      ['Status', 'failure'],
      ['Promote', 'skipped'],
      ['Write the validation report', 'success'],
      ['Upload the validation report', 'success'],
      ['Upload the attestation', 'success'],
    ]);
    expect(job.log).toContain(
      `::error title=Tollgate::${REL} is not promotable to staging: inventory/datasets-listed missing; inventory/model-card missing; peer-review/signoff:ml-engineer missing`,
    );
    expect(job.outputs).toMatchObject({ release: REL, promotable: 'false', promoted: '', attestation: '' });
    // The install step asked npm for this version, and the later steps ran the CLI it installed.
    expect(fs.readFileSync(path.join(scratch, 'npm.log'), 'utf8')).toContain(`"tollgate@${VERSION}"`);
    // The token endpoint was asked with the request token for the configured audience.
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((r) => r.authorized && r.audience === 'tollgate')).toBe(true);
    // The job's identity is the OIDC-mapped roster user: the release and the results are ci's.
    const created = as('alice', ['audit', 'log', '--type', 'ReleaseCreated', '--json']).json().events;
    expect(created.map((e: { actor: string }) => e.actor)).toEqual(['user:ci']);
    const status = p.run(['status', REL, '--to', 'staging', '--json'], { env: { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: tokens.alice } });
    expect(status.code).toBe(3);
    expect(status.json().gates.find((g: { id: string }) => g.id === 'automated').outcome).toBe('satisfied');
    expect(promotions()).toEqual([]);
    // The report is there to upload; no attestation (nothing was promoted).
    const [report, attestation] = job.uploads;
    expect(report!.paths.filter((f) => fs.existsSync(f)).map((f) => path.basename(f))).toEqual(['report.html', 'status.json', 'status.txt']);
    expect(fs.readFileSync(report!.paths[0]!, 'utf8')).toContain(REL);
    expect(JSON.parse(fs.readFileSync(report!.paths[1]!, 'utf8'))).toMatchObject({ release: REL, stage: 'staging', promotable: false });
    expect(attestation).toMatchObject({ name: 'tollgate-staging-attestation', ifNoFilesFound: 'ignore' });
    expect(fs.existsSync(attestation!.paths[0]!)).toBe(false);
    expectNoTokenIn(job.log);
    expectNoTokenIn(server!.output());
  }, 180_000);

  it('goes green once the evidence is there: validates, shows it promotable, promotes, and uploads a report and an attestation that verifies offline', async () => {
    as('alice', ['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md']);
    as('alice', ['check', REL, 'model-card', '--to', 'staging']);
    as('bob', ['signoff', REL, '--to', 'staging', '--role', 'ml-engineer']);

    const job = await runAction(inputs());
    expect(job.code, job.log).toBe(0);
    expect(job.steps.every((s) => s.outcome === 'success')).toBe(true);
    expect(job.outputs).toMatchObject({ release: REL, promotable: 'true', promoted: 'true' });
    expect(job.log).toContain(`wrote the attestation of ${REL} → staging to ${job.outputs.attestation}`);
    expect(promotions()).toEqual([{ actor: 'user:ci', stage: 'staging' }]);

    const [report, attestation] = job.uploads;
    for (const file of report!.paths) expect(fs.existsSync(file), file).toBe(true);
    expect(job.outputs.report).toBe(report!.paths[0]);
    expect(attestation!.paths).toEqual([job.outputs.attestation]);
    // Verified in the job (server-key given), and here again, offline, as an auditor would.
    expect(job.log).toContain(`verified: ${job.outputs.attestation}`);
    const verified = p.run(['verify', job.outputs.attestation!, '--key', serverKey, '--json'], { cwd: os.tmpdir() });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.json().ok).toBe(true);
    expectNoTokenIn(job.log);
    expectNoTokenIn(server!.output());
  }, 180_000);

  it('fails with a clear message when the job may not request an OIDC token', async () => {
    const job = await runAction(inputs(), { idToken: false });
    expect(job.code).toBe(2);
    expect(job.steps.find((s) => s.name === 'Register the release')!.outcome).toBe('failure');
    expect(job.log).toContain("::error title=Tollgate::no OIDC token: give the job 'permissions: id-token: write'");
  }, 180_000);

  it('asks for the token with the audience input, and the server refuses one it does not trust (exit 2, TG_TOKEN_INVALID)', async () => {
    const job = await runAction({ ...inputs(), audience: 'https://github.com/acme' });
    expect(job.code).toBe(2);
    expect(tokenRequests.at(-1)).toEqual({ audience: 'https://github.com/acme', authorized: true });
    expect(job.log).toMatch(/TG_TOKEN_INVALID/);
    expect(job.log).toContain('::error title=Tollgate::tollgate release create release.yaml failed (exit 2: bad usage or invalid input');
  }, 180_000);
});

describe('the GitLab CI template (ci/gitlab/tollgate.gitlab-ci.yml)', () => {
  const variables = () => ({ TOLLGATE_SERVER: server!.url, TOLLGATE_STAGE: 'production', TOLLGATE_RELEASE: REL, TOLLGATE_PROMOTE: 'true', TOLLGATE_SERVER_KEY: serverKey });

  it('fails the job at status when the release is not promotable, naming what is missing; after_script still writes the report', async () => {
    const job = await runGitlab(variables());
    expect(job.code, job.log).toBe(3);
    expect(job.log).toMatch(/✔ rollback-readiness\/parity \(parity\) passed/);
    expect(job.log).toContain(
      `ERROR: ${REL} is not promotable to production: approvals/signoff:ml-engineer missing; approvals/signoff:security missing; rollback-readiness/rollback-plan missing; rollback-readiness/alerts-tested missing`,
    );
    expect(job.afterCode, job.log).toBe(0);
    const [dir] = job.artifacts;
    expect(fs.existsSync(path.join(dir!, 'report.html'))).toBe(true);
    expect(fs.existsSync(path.join(dir!, 'attestation.json'))).toBe(false);
    expect(promotions()).toEqual([{ actor: 'user:ci', stage: 'staging' }]);
    expectNoTokenIn(job.log);
  }, 180_000);

  it('goes green once the evidence is there: promotes to production as the OIDC-mapped user, with an attestation that verifies offline', async () => {
    as('alice', ['check', REL, 'rollback-plan', '--to', 'production', '--evidence', 'docs/rollback-plan.md']);
    as('alice', ['check', REL, 'alerts-tested', '--to', 'production']);
    as('bob', ['signoff', REL, '--to', 'production', '--role', 'ml-engineer']);
    as('carol', ['signoff', REL, '--to', 'production', '--role', 'security']);

    const job = await runGitlab(variables());
    expect(job.code, job.log).toBe(0);
    expect(job.afterCode, job.log).toBe(0);
    expect(promotions()).toEqual([
      { actor: 'user:ci', stage: 'staging' },
      { actor: 'user:ci', stage: 'production' },
    ]);
    const [dir] = job.artifacts;
    for (const file of ['report.html', 'status.json', 'attestation.json']) expect(fs.existsSync(path.join(dir!, file)), file).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir!, 'status.json'), 'utf8'))).toMatchObject({ stage: 'production' });
    const verified = p.run(['verify', path.join(dir!, 'attestation.json'), '--key', serverKey, '--json'], { cwd: os.tmpdir() });
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.json().ok).toBe(true);
    expectNoTokenIn(job.log);
    expectNoTokenIn(server!.output());
  }, 180_000);
});
