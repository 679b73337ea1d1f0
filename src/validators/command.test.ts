import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { commandEnvironment, commandValidator, OUTPUT_TAIL_BYTES, redact, secretValues, type CommandArgs } from './command.js';
import { digestFile } from './inputs.js';

const DIR = fixtureDir('command');
const NODE = process.execPath;

function run(w: Record<string, unknown>, ctx = testContext(DIR)) {
  return commandValidator.run(commandValidator.schema.parse(w) as CommandArgs, ctx);
}

interface Details {
  stdout: string;
  stderr: string;
  stdoutDroppedBytes?: number;
}

/** Running, as opposed to gone or a zombie (an orphan nobody reaps where PID 1 is not an init). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (check()) return true;
  return check();
}

describe('command: schema', () => {
  it('defaults the timeout to 5m', () => {
    expect(commandValidator.schema.parse({ run: 'make test' })).toEqual({ run: 'make test', timeout: '5m' });
  });

  it('takes env values as text, as YAML numbers and booleans too', () => {
    expect(commandValidator.schema.parse({ run: ['x'], env: { PORT: 8080, DEBUG: true, NAME: 'a' } })).toMatchObject({ env: { PORT: '8080', DEBUG: 'true', NAME: 'a' } });
  });

  it.each([
    [{}, /run must be a shell command line \(a string\) or a program and its arguments \(a list\)/],
    [{ run: '' }, /run must not be empty/],
    [{ run: [] }, /run must name a program/],
    [{ run: ['', 'x'] }, /run must name a program first/],
    [{ run: 'x', timeout: '5 minutes' }, /timeout must be a duration, e\.g\. 30s, 10m or 1h/],
    [{ run: 'x', timeout: 30 }, /timeout must be a duration/],
    [{ run: 'x', env: { 'MY-VAR': 'a' } }, /an environment variable name holds letters, digits and _/],
    [{ run: 'x', env: { A: { b: 1 } } }, /an environment variable is a string, number or boolean/],
    [{ run: 'x', inputs: 'model.bin' }, /inputs must be a list of file paths/],
    [{ run: 'x', shell: true }, /shell/],
  ])('rejects %j', (w, message) => {
    const r = commandValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.message} ${'keys' in i ? (i.keys as string[]).join(',') : ''}`).join('\n')).toMatch(message);
  });
});

describe('command: running', () => {
  it('passes on exit code 0, runs a list without a shell, keeps the output', async () => {
    const out = await run({ run: [NODE, '-e', 'console.log(process.argv[1])', '$HOME * ;'] });
    expect(out.status).toBe('passed');
    expect(out.summary).toMatch(/^exit code 0 in \d+(ms|\.\ds): .*node -e 'console\.log\(process\.argv\[1\]\)' '\$HOME \* ;'$/);
    expect(out.measurements).toMatchObject({ exitCode: 0 });
    expect((out.measurements as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
    expect((out.details as Details).stdout).toBe('$HOME * ;\n');
    expect(out.thresholds).toEqual({ exitCode: 0, timeoutMs: 300_000 });
  });

  it('fails on a non-zero exit code, with the last line of stderr', async () => {
    const out = await run({ run: 'echo collected 3 tests; echo "2 failed, 1 passed" >&2; exit 3' });
    expect(out.status).toBe('failed');
    expect(out.summary).toMatch(/^exit code 3 \(want 0\) after \d+(ms|\.\ds): echo collected 3 tests; .*; last output: 2 failed, 1 passed$/);
    expect(out.measurements).toMatchObject({ exitCode: 3 });
    expect(out.details).toMatchObject({ stdout: 'collected 3 tests\n', stderr: '2 failed, 1 passed\n' });
  });

  it('fails when the command dies of a signal', async () => {
    const out = await run({ run: 'kill -9 $$' });
    expect(out.status).toBe('failed');
    expect(out.summary).toMatch(/^killed by SIGKILL after/);
    expect(out.measurements).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('runs in cwd (relative to the project folder) with env added to the environment', async () => {
    const out = await run({ run: 'printf "%s %s " "$GREETING" "${PATH:+has-path}"; cat marker.txt', cwd: 'work', env: { GREETING: 'hello' } });
    expect(out.status).toBe('passed');
    expect((out.details as Details).stdout).toBe('hello has-path cwd marker\n');
  });

  it('binds the result to the digests of its inputs', async () => {
    const out = await run({ run: 'true', inputs: ['model.bin'] });
    expect(out.inputs).toEqual({ 'model.bin': await digestFile(path.join(DIR, 'model.bin')) });
  });

  it('keeps the last 64 KiB of output and counts what it dropped', async () => {
    const out = await run({ run: [NODE, '-e', `process.stdout.write('a'.repeat(100 * 1024) + 'THE END')`] });
    const d = out.details as Details;
    expect(d.stdout).toHaveLength(OUTPUT_TAIL_BYTES);
    expect(d.stdout.endsWith('aTHE END')).toBe(true);
    expect(d.stdoutDroppedBytes).toBe(100 * 1024 + 7 - OUTPUT_TAIL_BYTES);
  });
});

describe('command: errors', () => {
  it('errors when the program does not exist', async () => {
    const out = await run({ run: ['tollgate-no-such-program', '--version'] });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe('command not found: tollgate-no-such-program (ENOENT)');
  });

  it('errors when the shell cannot find the command', async () => {
    const out = await run({ run: 'tollgate-no-such-program --version' });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(/^the shell could not run it \(exit code 127: command not found\): tollgate-no-such-program --version; last output: .*not found/);
  });

  it('errors when cwd or an input is missing, before running anything', async () => {
    expect((await run({ run: 'true', cwd: 'nowhere' })).summary).toMatch(/^cwd nowhere: no such folder/);
    const missing = await run({ run: 'true', inputs: ['model.bin', 'missing.bin'] });
    expect(missing.status).toBe('errored');
    expect(missing.summary).toMatch(/missing\.bin: no such file/);
    expect(Object.keys(missing.inputs)).toEqual(['model.bin']);
  });

  it('stops the whole process group on timeout and errors', async () => {
    const started = Date.now();
    // The shell starts a grandchild and prints its pid: it must be gone too.
    const out = await run({ run: 'sleep 30 & echo $!; wait', timeout: '300ms' });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe('timed out after 300ms and was stopped: sleep 30 & echo $!; wait; last output: ' + (out.details as Details).stdout.trim());
    expect(Date.now() - started).toBeLessThan(5_000);
    const grandchild = Number((out.details as Details).stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(await eventually(() => !isRunning(grandchild))).toBe(true);
  });

  it('sends SIGKILL when SIGTERM is ignored', async () => {
    const out = await run({ run: "trap '' TERM; sleep 30", timeout: '200ms' });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(/^timed out after 200ms/);
    expect((out.measurements as { durationMs: number }).durationMs).toBeLessThan(5_000);
  });

  it('stops the command when the run is cancelled', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const out = await run({ run: [NODE, '-e', 'setTimeout(() => {}, 30000)'] }, testContext(DIR, { signal: ac.signal }));
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(/^cancelled after \d+ms and was stopped: /);
  });

  it('does not start when already cancelled', async () => {
    const out = await run({ run: 'true' }, testContext(DIR, { signal: AbortSignal.abort() }));
    expect(out.status).toBe('errored');
    expect(out.summary).toBe('cancelled before it started: true');
  });
});

// Security finding 2 (issue 13): the command got the CLI's whole environment, TOLLGATE_TOKEN
// included, and its output is stored where every roster member reads it.
describe('command: the environment it gets and the secrets it may not record', () => {
  const TOKEN = 'tg_0123456789abcdefSECRET';
  const RUNNER = {
    PATH: process.env.PATH,
    HOME: '/home/runner',
    LANG: 'C.UTF-8',
    LC_TIME: 'C',
    TOLLGATE_TOKEN: TOKEN,
    TOLLGATE_DATABASE_URL: 'postgres://tg:pg-pass-77@db.internal:5432/tg',
    TOLLGATE_USER: 'ci',
    AWS_SECRET_ACCESS_KEY: 'aws-secret-value-1',
    VIRTUAL_ENV: '/opt/venv',
    DEPLOY_API_TOKEN: 'deploy-token-value-2',
  };
  const printEnv = [NODE, '-e', 'for (const k of Object.keys(process.env).sort()) console.log(k + "=" + process.env[k])'];

  it('passes only the base variables, LC_*, the names passEnv lists and env; no TOLLGATE_* and no other secret', async () => {
    const out = await run({ run: printEnv, passEnv: ['VIRTUAL_ENV', 'NOT_SET'], env: { STAGE: 'staging' } }, testContext(DIR, { environment: RUNNER }));
    expect(out.status).toBe('passed');
    const stdout = (out.details as Details).stdout;
    const names = stdout.trim().split('\n').map((l) => l.split('=')[0]);
    expect(names).toEqual(['HOME', 'LANG', 'LC_TIME', 'PATH', 'STAGE', 'VIRTUAL_ENV']);
    expect(stdout).not.toContain(TOKEN);
    expect(stdout).not.toContain('aws-secret-value-1');
    expect(out.details).toMatchObject({ env: ['HOME', 'LANG', 'LC_TIME', 'PATH', 'STAGE', 'VIRTUAL_ENV'] });
  });

  it('never passes a TOLLGATE_* variable, even when the schema was bypassed', () => {
    expect(commandEnvironment({ passEnv: ['TOLLGATE_TOKEN'], env: { TOLLGATE_HOME: '/x' } }, RUNNER)).not.toHaveProperty('TOLLGATE_TOKEN');
    expect(commandEnvironment({ passEnv: ['TOLLGATE_TOKEN'], env: { TOLLGATE_HOME: '/x' } }, RUNNER)).not.toHaveProperty('TOLLGATE_HOME');
    // An inherited name on Object.prototype is not a variable.
    expect(commandEnvironment({ passEnv: ['constructor'] }, RUNNER)).not.toHaveProperty('constructor');
  });

  it.each([
    [{ run: 'x', passEnv: ['TOLLGATE_TOKEN'] }, /TOLLGATE_TOKEN: TOLLGATE_\* variables are Tollgate's own .* never passed to a command/],
    [{ run: 'x', env: { TOLLGATE_HOME: '/x' } }, /TOLLGATE_HOME: TOLLGATE_\* variables are Tollgate's own/],
    [{ run: 'x', passEnv: ['MY-VAR'] }, /an environment variable name holds letters, digits and _/],
    [{ run: 'x', passEnv: 'VIRTUAL_ENV' }, /passEnv must be a list of the names of environment variables/],
  ])('policy check refuses %j', (w, message) => {
    const r = commandValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it("redacts the runner's TOLLGATE_* secrets and the secret-looking values it passed from the recorded output and summary", async () => {
    // The secrets reach the output the way a leak would (a file, a debug dump), not written in the policy.
    const script = `console.log('token ' + 'tg_0123456789' + 'abcdefSECRET db ' + 'pg-pass' + '-77 user ci'); console.error('deploy ' + process.env.DEPLOY_API_TOKEN); process.exit(1)`;
    const out = await run({ run: [NODE, '-e', script], passEnv: ['DEPLOY_API_TOKEN'] }, testContext(DIR, { environment: RUNNER }));
    expect(out.status).toBe('failed');
    const d = out.details as Details;
    expect(d.stdout).toBe('token [redacted TOLLGATE_TOKEN] db [redacted TOLLGATE_DATABASE_URL] user ci\n');
    expect(d.stderr).toBe('deploy [redacted DEPLOY_API_TOKEN]\n');
    expect(out.summary).toContain('last output: deploy [redacted DEPLOY_API_TOKEN]');
    expect(JSON.stringify(out)).not.toMatch(/tg_0123456789abcdefSECRET|pg-pass-77|deploy-token-value-2/);
  });

  it('masks the end of a secret cut at the start of the kept tail', () => {
    const secrets = secretValues(RUNNER, {});
    expect(redact(`${TOKEN.slice(5)} and more`, secrets)).toBe('[redacted TOLLGATE_TOKEN] and more');
    expect(redact('plain text ci', secrets)).toBe('plain text ci');
  });
});
