/**
 * `tollgate validate`'s progress (issue 14, part 5), from the built binary: in a pseudo-terminal
 * (util-linux `script`) a spinner per validation with its elapsed time and rows read, then each
 * validation's closing line; piped, exactly the plain lines (no escape code, no spinner frame); and
 * each result recorded before the next validation starts, in both. Locally and with `--server`.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, createProject, removeProjects, type Project } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

const REL = 'fraud-detector@2.4.0';
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const ESCAPE = /\x1b/;
const MARK: Record<string, string> = { passed: '✔', failed: '✘', errored: '!' };

let p: Project;
let server: Served | undefined;

/**
 * A last validation that passes only if the five before it are already recorded: a command that
 * asks `tollgate status` (on the same home: `.tollgate` in the project folder, its working folder)
 * while `validate` is still running, and exits 0 only if each of them is satisfied.
 */
const RECORDED_FIRST = `
      - { id: recorded-first, uses: command, with: { run: ["${process.execPath}", "check-recorded.mjs"] } }`;
const CHECK_RECORDED = `import { execFileSync } from 'node:child_process';
let out;
try { out = execFileSync(${JSON.stringify(process.execPath)}, [${JSON.stringify(BIN)}, 'status', ${JSON.stringify(REL)}, '--to', 'staging', '--json'], { encoding: 'utf8' }); }
catch (err) { out = err.stdout; }
const gate = JSON.parse(out).gates.find((g) => g.id === 'automated');
const before = gate.requirements.filter((r) => ['tests', 'contract', 'drift', 'quality', 'security'].includes(r.id));
console.log(before.map((r) => r.id + ' ' + r.outcome).join(', '));
process.exit(before.length === 5 && before.every((r) => r.outcome === 'satisfied') ? 0 : 1);
`;

beforeAll(() => {
  p = createProject();
  const policy = p.read('tollgate.yaml');
  const security = '      - { id: security, uses: sarif, with: { report: reports/scan.sarif, failOn: [error] } }';
  expect(policy).toContain(security);
  p.write('tollgate.yaml', policy.replace(security, security + RECORDED_FIRST));
  p.write('check-recorded.mjs', CHECK_RECORDED);
  expect(p.run(['policy', 'apply', 'tollgate.yaml', '--as', 'dave']).code).toBe(0);
  const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
  if (r.code !== 0) throw new Error(r.stderr);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  removeProjects();
});

/** Runs the CLI in a pseudo-terminal: stdout and stderr are the terminal, both captured as one. */
function inTerminal(args: readonly string[], env: Record<string, string> = {}): { code: number; out: string } {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const clean: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: p.home, ...env };
  // A person at a terminal: not CI (where progress is off on purpose).
  for (const k of ['CI', 'TOLLGATE_USER', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DATABASE_URL']) if (!(k in env)) delete clean[k];
  const r = spawnSync('script', ['-qec', quoted, '/dev/null'], { cwd: p.dir, env: clean, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: r.stdout };
}

/** The `status` reason of the command validation that checked the others were recorded first. */
function recordedFirst(): { outcome: string; reason: string } {
  const d = p.run(['status', REL, '--to', 'staging', '--json']).json();
  return d.gates.find((g: any) => g.id === 'automated').requirements.find((r: any) => r.id === 'recorded-first');
}

describe('validate progress', () => {
  it('in a terminal: a spinner, the elapsed time, rows read and each validation by name; each result recorded as it finishes', () => {
    const r = inTerminal(['validate', REL, '--to', 'staging', '--as', 'ci']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(SPINNER);
    expect(r.out).toMatch(ESCAPE);
    // A running validation's line: elapsed seconds, then what it reported.
    expect(r.out).toMatch(/› \d+\.\ds/);
    expect(r.out).toMatch(/\d+\.\ds · [\d,]+ rows read/);
    for (const id of ['tests (junit)', 'contract (schema)', 'drift (drift)', 'quality (metrics)', 'security (sarif)', 'recorded-first (command)']) {
      expect(r.out).toContain(`automated/${id}`);
    }
    expect(r.out).toMatch(/automated\/drift \(drift\) passed in \d+\.\ds: no drift beyond thresholds/);
    expect(r.out).toContain(`recorded 6 results for ${REL} → staging: 6 passed`);
    // The command saw the five results before it: recorded as each finished, not at the end.
    const rf = recordedFirst();
    expect(rf.outcome, rf.reason).toBe('satisfied');
  }, 90_000);

  it('piped: exactly the plain lines, no escape code or spinner frame; --json adds nothing', () => {
    const plain = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'drift']);
    expect(plain.code, plain.stderr).toBe(0);
    const json = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'drift', '--json']);
    const [result] = json.json().results;
    // Today's output, line for line: the durations alone differ from run to run.
    expect(plain.stderr.replace(/ in \d+\.\ds: /g, ' in N.Ns: ')).toBe(`${MARK[result.outcome]} automated/drift (drift) ${result.outcome} in N.Ns: ${result.summary}\n`);
    expect(plain.stdout).toBe(`recorded 1 result for ${REL} → staging: 1 passed\n`);
    for (const text of [plain.stdout, plain.stderr, json.stdout, json.stderr]) {
      expect(text).not.toMatch(ESCAPE);
      expect(text).not.toMatch(SPINNER);
    }
    expect(json.stderr).toBe('');
    // In a terminal, --json is still one JSON document and nothing else.
    const t = inTerminal(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'drift', '--json']);
    expect(t.code).toBe(0);
    expect(t.out).not.toMatch(SPINNER);
    expect(JSON.parse(t.out.replace(/\r\n/g, '\n')).results[0]).toMatchObject({ id: 'drift', outcome: 'passed' });
  }, 90_000);

  it('in a terminal, shows a validation that failed as failed and exits 3', () => {
    const q = p.clone();
    q.write('eval/metrics.json', q.read('eval/metrics.json').replace('"latency_p95_ms": 41', '"latency_p95_ms": 73'));
    const quoted = [process.execPath, BIN, 'validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'quality'].map((a) => `'${a}'`).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: q.home };
    delete env.CI;
    const r = spawnSync('script', ['-qec', quoted, '/dev/null'], { cwd: q.dir, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/✖.*automated\/quality \(metrics\) failed in \d+\.\ds: [\s\S]*latency_p95_ms/);
    expect(r.stdout).toContain(`recorded 1 result for ${REL} → staging: 0 passed, 1 did not (quality failed)`);
  }, 90_000);

  it('with --server: the same progress, the results recorded through the API', async () => {
    server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
    const token = p.run(['token', 'create', 'ci', '--json']).json().token as string;
    const r = inTerminal(['validate', REL, '--to', 'staging', '--only', 'contract'], { TOLLGATE_SERVER: server.url, TOLLGATE_TOKEN: token });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(SPINNER);
    expect(r.out).toMatch(/automated\/contract \(schema\) passed in \d+\.\ds: 2000 rows meet contract/);
    expect(r.out).toContain(`recorded 1 result for ${REL} → staging: 1 passed`);
    const piped = p.run(['validate', REL, '--to', 'staging', '--only', 'contract'], { env: { TOLLGATE_SERVER: server.url, TOLLGATE_TOKEN: token } });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toMatch(/^✔ automated\/contract \(schema\) passed in \d+\.\ds: 2000 rows meet contract contracts\/tx\.yaml \(14 checks\)\n$/);
    expect(piped.stderr + piped.stdout).not.toMatch(ESCAPE);
  }, 90_000);
});
