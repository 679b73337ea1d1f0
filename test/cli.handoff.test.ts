/**
 * Hand-off to deployment, end to end through the real binary (issue 12): after a promotion commits,
 * the stage's release is committed to a real Git repository (a bare one in a temporary folder), a
 * field of a Helm values file is set with its comments kept, and a command gets the release as JSON
 * on stdin. A failed hand-off is recorded, shown by `promote`, `status` and `release show`, and
 * `handoff retry` runs it again once the cause is fixed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsProject, removeProjects, V, type Project } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

const NOW = '2026-03-02T10:00:00Z';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-handoff-test-'));

afterAll(() => {
  removeProjects();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function git(args: readonly string[], cwd?: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Someone', GIT_AUTHOR_EMAIL: 'someone@example.com', GIT_COMMITTER_NAME: 'Someone', GIT_COMMITTER_EMAIL: 'someone@example.com' },
  }).trim();
}

/** A bare repository with `files` committed on main by someone else (or empty). */
function bareRepo(name: string, files: Record<string, string> = {}): string {
  const repo = path.join(tmp, `${name}.git`);
  git(['init', '-q', '--bare', '-b', 'main', repo]);
  if (Object.keys(files).length > 0) {
    const work = path.join(tmp, `${name}-seed`);
    git(['init', '-q', '-b', 'main', work]);
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
      fs.writeFileSync(path.join(work, rel), text);
    }
    git(['add', '.'], work);
    git(['commit', '-q', '-m', 'seed'], work);
    git(['push', '-q', repo, 'main'], work);
  }
  return repo;
}

const setUp = (stages: string, releases: number): Project => opsProject(`stages:\n${stages}\ngates: []\n`, releases);

const VALUES = `# Helm values for fraud-detector (kept by hand; Tollgate sets only image.tag)
replicaCount: 3
image:
  repository: registry.example/fraud-detector   # where the image lives
  # the tag Tollgate promotes:
  tag: "1.0.0"
  pullPolicy: IfNotPresent
resources: { limits: { cpu: "2" } }
`;

describe('Git and command hand-offs after a promotion', () => {
  let p: Project;
  let repo: string;
  let out: string;

  beforeAll(() => {
    repo = bareRepo('deploy', { 'helm/values.yaml': VALUES, 'README.md': 'deployment config\n' });
    out = path.join(tmp, 'out');
    fs.mkdirSync(out);
    p = setUp(
      `  - name: staging
    handoff:
      - { git: { repo: "${repo}", file: deploy/staging.json } }
      - { command: [sh, -c, "cat > '${out}/staging-in.json'; env > '${out}/env.txt'"], timeout: 30s }
  - name: production
    after: staging
    handoff:
      - { git: { repo: "${repo}", branch: main, file: helm/values.yaml, set: { path: image.tag, value: "{version}" } } }
      - { command: [sh, -c, "test -f '${out}/go' || { echo 'deploy window not open' >&2; exit 3; }; cat > '${out}/production-in.json'"] }`,
      2,
    );
  });

  it('promote writes the release to a file in the repository and commits it as Tollgate; the command gets the same JSON on stdin', () => {
    const r = p.run(['promote', V(1), '--to', 'staging', '--as', 'alice', '--json'], { env: { TOLLGATE_NOW: NOW, TOLLGATE_TOKEN: 'tg_secret_never_handed_on' } });
    expect(r.code, r.stderr).toBe(0);
    const result = r.json();
    expect(result.promoted).toBe(true);
    expect(result.handoff).toHaveLength(2);
    expect(result.handoff.map((h: any) => [h.kind, h.outcome, h.attempts])).toEqual([
      ['git', 'succeeded', 1],
      ['command', 'succeeded', 1],
    ]);
    expect(r.stderr).not.toContain('warning');

    // The commit is in the repository, by Tollgate, with the expected file.
    const head = git(['--git-dir', repo, 'rev-parse', 'main']);
    expect(result.handoff[0].commit).toBe(head);
    expect(git(['--git-dir', repo, 'log', '-1', '--format=%an <%ae>|%s|%aI', 'main'])).toBe('Tollgate <tollgate@localhost>|fraud-detector@1.1.0 to staging|2026-03-02T10:00:00+00:00');
    expect(git(['--git-dir', repo, 'log', '-1', '--format=%b', 'main'])).toContain(`Tollgate-Promotion: ${result.promotion.id}`);
    const file = JSON.parse(git(['--git-dir', repo, 'show', 'main:deploy/staging.json']));
    const shown = p.run(['release', 'show', V(1), '--json']).json();
    expect(file).toEqual({
      subject: 'fraud-detector',
      version: '1.1.0',
      release: V(1),
      stage: 'staging',
      releaseDigest: shown.digest,
      promotion: { id: result.promotion.id, kind: 'promotion', at: '2026-03-02T10:00:00.000Z', by: 'alice', policyVersion: result.promotion.policyVersion },
      artifacts: shown.manifest.artifacts.map((a: any) => ({ name: a.name, kind: a.kind, ...(a.uri ? { uri: a.uri } : {}), ...(a.path ? { path: a.path } : {}), sha256: a.sha256 })),
    });
    expect(file.artifacts.find((a: any) => a.name === 'train-data')).toEqual({
      name: 'train-data',
      kind: 'dataset',
      uri: 's3://ml/train.parquet',
      sha256: '9f2c5d1e3a7b4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d',
    });
    // The files committed before are still there.
    expect(git(['--git-dir', repo, 'show', 'main:README.md'])).toBe('deployment config');

    // The command read the same release on stdin, in a small environment without Tollgate's secrets.
    expect(JSON.parse(fs.readFileSync(path.join(out, 'staging-in.json'), 'utf8'))).toEqual(file);
    const env = fs.readFileSync(path.join(out, 'env.txt'), 'utf8');
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toContain('TOLLGATE_');
    expect(env).not.toContain('tg_secret_never_handed_on');
  });

  it('a failed hand-off does not undo the promotion: exit 0, a warning naming the retry, and the outcome in the JSON', () => {
    const r = p.run(['promote', V(1), '--to', 'production', '--as', 'dave', '--json'], { env: { TOLLGATE_NOW: '2026-03-02T11:00:00Z' } });
    expect(r.code, r.stderr).toBe(0);
    const result = r.json();
    expect(result.promoted).toBe(true);
    expect(result.handoff.map((h: any) => [h.kind, h.outcome])).toEqual([
      ['git', 'succeeded'],
      ['command', 'failed'],
    ]);
    expect(result.handoff[1].error).toBe('exit code 3: deploy window not open');
    expect(r.stderr).toContain('warning: 1 of 2 hand-offs to deployment failed; fraud-detector@1.1.0 is in production all the same');
    expect(r.stderr).toContain(`tollgate handoff retry ${V(1)} --stage production`);
    expect(p.run(['release', 'show', V(1), '--json']).json().holds.sort()).toEqual(['production', 'staging']);
  });

  it('setting a field of a YAML file keeps its comments and everything else', () => {
    const values = git(['--git-dir', repo, 'show', 'main:helm/values.yaml']);
    expect(values + '\n').toBe(VALUES.replace('tag: "1.0.0"', 'tag: "1.1.0"'));
    expect(git(['--git-dir', repo, 'log', '-1', '--format=%s', 'main'])).toBe('fraud-detector@1.1.0 to production');
  });

  it('status and release show say which hand-off failed and why', () => {
    const s = p.run(['status', V(1), '--to', 'production', '--json', '--as', 'dave']);
    const handoff = s.json().handoff;
    expect(handoff.map((h: any) => [h.index, h.kind, h.outcome, h.attempts])).toEqual([
      [0, 'git', 'succeeded', 1],
      [1, 'command', 'failed', 1],
    ]);
    expect(handoff[1].error).toBe('exit code 3: deploy window not open');
    const human = p.run(['status', V(1), '--to', 'production', '--as', 'dave']).stdout;
    expect(human).toContain('hand-offs of its promotion into production:');
    expect(human).toMatch(/✘ hand-off command sh -c .*: FAILED — exit code 3: deploy window not open/);

    const show = p.run(['release', 'show', V(1), '--json']).json();
    expect(show.handoffs.map((h: any) => [h.stage, h.kind, h.outcome])).toEqual([
      ['staging', 'git', 'succeeded'],
      ['staging', 'command', 'succeeded'],
      ['production', 'git', 'succeeded'],
      ['production', 'command', 'failed'],
    ]);
    expect(p.run(['release', 'show', V(1)]).stdout).toMatch(/✘ hand-off command .* \(into production at 2026-03-02T11:00:00.000Z\): FAILED — exit code 3/);
  });

  it('handoff retry still failing exits 1; once fixed it runs only the failed one, and then there is nothing to retry', () => {
    const still = p.run(['handoff', 'retry', V(1), '--stage', 'production', '--as', 'dave', '--json']);
    expect(still.code).toBe(1);
    expect(still.json()).toMatchObject({ retried: [1], handoff: [{ outcome: 'succeeded', attempts: 1 }, { outcome: 'failed', attempts: 2 }] });
    const commits = git(['--git-dir', repo, 'rev-list', '--count', 'main']);

    fs.writeFileSync(path.join(out, 'go'), '');
    const r = p.run(['handoff', 'retry', V(1), '--stage', 'production', '--as', 'dave', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ release: V(1), stage: 'production', retried: [1] });
    expect(r.json().handoff.map((h: any) => [h.outcome, h.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 3],
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'production-in.json'), 'utf8'))).toMatchObject({ release: V(1), stage: 'production' });
    // The Git hand-off had succeeded: it was not run again.
    expect(git(['--git-dir', repo, 'rev-list', '--count', 'main'])).toBe(commits);
    expect(p.run(['status', V(1), '--to', 'production', '--json', '--as', 'dave']).json().handoff.map((h: any) => h.outcome)).toEqual(['succeeded', 'succeeded']);

    const again = p.run(['handoff', 'retry', V(1), '--stage', 'production', '--as', 'dave']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`nothing to retry: every hand-off of ${V(1)} into production has succeeded`);
  });

  it('a retry is refused for a release that does not hold the stage', () => {
    expect(p.run(['promote', V(2), '--to', 'staging', '--as', 'alice']).code).toBe(0);
    const r = p.run(['handoff', 'retry', V(1), '--stage', 'staging', '--as', 'dave', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_NOT_IN_STAGE');
    expect(r.json().error.message).toBe(`${V(1)} does not hold staging (${V(2)} does): only the release that holds a stage is handed off again`);
    expect(JSON.parse(git(['--git-dir', repo, 'show', 'main:deploy/staging.json'])).version).toBe('1.2.0');
  });

  it('a rollback hands the release it puts back to deployment too', () => {
    const r = p.run(['rollback', 'fraud-detector', '--stage', 'staging', '--reason', 'bad canary', '--as', 'dave', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().handoff.map((h: any) => h.outcome)).toEqual(['succeeded', 'succeeded']);
    const file = JSON.parse(git(['--git-dir', repo, 'show', 'main:deploy/staging.json']));
    expect(file).toMatchObject({ version: '1.1.0', promotion: { kind: 'rollback', by: 'dave' } });
  });

  it('every recorded hand-off is vouched for by the audit log; an edited one is refused and named', () => {
    const v = p.run(['audit', 'verify', '--json']);
    expect(v.code, v.stdout).toBe(0);
    const db = p.openDb();
    db.prepare("UPDATE handoffs SET outcome = 'succeeded', error = NULL WHERE outcome = 'failed'").run();
    db.prepare("UPDATE handoffs SET error = 'forged' WHERE kind = 'git' AND stage = 'production'").run();
    db.close();
    const show = p.run(['release', 'show', V(1), '--json']);
    expect(show.code).toBe(4);
    expect(show.json().error.code).toBe('TG_STATE_TAMPERED');
    expect(show.json().error.message).toMatch(/^handoffs \S+\/0 is not what the audit log vouches for \(edited\)/);
    const audit = p.run(['audit', 'verify', '--json']);
    expect(audit.code).toBe(4);
    expect(audit.json().firstBad).toMatchObject({ table: 'handoffs', what: 'edited' });
  });
});

describe('a Git hand-off that fails, and its retry once the repository exists', () => {
  it('is recorded as failed with git\'s reason, and `handoff retry` commits once the repository is there', () => {
    const repo = path.join(tmp, 'later.git');
    const p = setUp(`  - name: staging\n    handoff:\n      - { git: { repo: "${repo}", branch: release/staging, file: release.json } }`, 1);
    const r = p.run(['promote', V(1), '--to', 'staging', '--as', 'alice', '--json']);
    expect(r.code).toBe(0);
    const [h] = r.json().handoff;
    expect(h).toMatchObject({ kind: 'git', outcome: 'failed', attempts: 1, target: `${repo} release/staging:release.json` });
    expect(h.error).toMatch(new RegExp(`^cannot read repository ${repo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*(does not appear to be a git repository|not found)`));
    expect(h.commit).toBeUndefined();
    expect(r.stderr).toContain('warning: 1 of 1 hand-off to deployment failed');

    // An empty bare repository: the branch is created with the first commit.
    git(['init', '-q', '--bare', '-b', 'main', repo]);
    const retry = p.run(['handoff', 'retry', V(1), '--stage', 'staging', '--as', 'alice', '--json']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    const [done] = retry.json().handoff;
    expect(done).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(done.error).toBeUndefined();
    expect(git(['--git-dir', repo, 'rev-parse', 'release/staging'])).toBe(done.commit);
    expect(JSON.parse(git(['--git-dir', repo, 'show', 'release/staging:release.json']))).toMatchObject({ release: V(1), stage: 'staging' });
    expect(p.run(['release', 'show', V(1)]).stdout).toMatch(/✔ hand-off git .*release\/staging:release.json \(into staging at .*\): succeeded \(commit [0-9a-f]{12}\), attempt 2/);

    // A policy that changes the hand-off's definition: a retry runs the new one, though the old one succeeded.
    p.write('ops.yaml', p.read('ops.yaml').replace('file: release.json', 'file: staging/release.json'));
    expect(p.run(['policy', 'apply', 'ops.yaml', '--as', 'dave']).code).toBe(0);
    const changed = p.run(['handoff', 'retry', V(1), '--stage', 'staging', '--as', 'alice', '--json']);
    expect(changed.code, changed.stdout + changed.stderr).toBe(0);
    expect(changed.json()).toMatchObject({ retried: [0], handoff: [{ outcome: 'succeeded', attempts: 3, target: `${repo} release/staging:staging/release.json` }] });
    expect(JSON.parse(git(['--git-dir', repo, 'show', 'release/staging:staging/release.json']))).toMatchObject({ release: V(1) });
  });

  it('`policy check` names a bad hand-off at its line and column', () => {
    const p = setUp(`  - name: staging`, 0);
    p.write('bad.yaml', p.read('ops.yaml').replace('  - name: staging', '  - name: staging\n    handoff:\n      - { git: { repo: /srv/deploy.git, file: ../escape.json } }\n      - { deploy: now }'));
    const r = p.run(['policy', 'check', 'bad.yaml']);
    expect(r.code).toBe(2);
    const text = r.stderr + r.stdout;
    expect(text).toMatch(/bad\.yaml:13:\d+: stage "staging", handoff\[0\]\.git\.file: file "\.\.\/escape\.json" must be a path inside the repository/);
    expect(text).toMatch(/bad\.yaml:14:9: stage "staging", handoff\[1\]: a hand-off is a map with one of git, command or webhook/);
  });
});

describe('server mode: the server hands off, and release.promoted carries the artifacts', () => {
  let server: Served | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('a promotion over the API commits to the repository from the server, with the same record as locally', async () => {
    const repo = bareRepo('served');
    const p = setUp(`  - name: staging\n    handoff:\n      - { git: { repo: "${repo}", file: staging/release.json } }`, 1);
    server = await startServe(p.dir, { TOLLGATE_HOME: p.home }, ['--no-webhooks']);
    const token = p.run(['token', 'create', 'alice', '--json']).json().token as string;
    const remote = (args: string[]) => p.run([...args, '--json'], { env: { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: token } });
    const r = remote(['promote', V(1), '--to', 'staging']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().handoff).toMatchObject([{ kind: 'git', outcome: 'succeeded', by: 'alice' }]);
    expect(git(['--git-dir', repo, 'rev-parse', 'main'])).toBe(r.json().handoff[0].commit);
    expect(JSON.parse(git(['--git-dir', repo, 'show', 'main:staging/release.json']))).toMatchObject({ release: V(1), promotion: { by: 'alice' } });
    expect(remote(['status', V(1), '--to', 'staging']).json().handoff).toMatchObject([{ outcome: 'succeeded' }]);
    expect(remote(['handoff', 'retry', V(1), '--stage', 'staging']).json()).toMatchObject({ retried: [], handoff: [{ outcome: 'succeeded', attempts: 1 }] });

    // The release.promoted webhook's data (the audit event's) carries where the artifacts are and their digests.
    const events = p.run(['audit', 'log', '--type', 'ReleasePromoted', '--json']).json().events;
    expect(events.at(-1).data.artifacts).toContainEqual({ name: 'train-data', kind: 'dataset', uri: 's3://ml/train.parquet', sha256: '9f2c5d1e3a7b4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d' });
    const recorded = p.run(['audit', 'log', '--type', 'HandoffRecorded', '--json']).json().events;
    expect(recorded.at(-1)).toMatchObject({ actor: 'user:alice', data: { release: V(1), stage: 'staging', handoffs: [{ index: 0, kind: 'git', outcome: 'succeeded' }] } });
  }, 60_000);
});
