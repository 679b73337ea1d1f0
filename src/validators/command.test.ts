import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { commandValidator, OUTPUT_TAIL_BYTES, type CommandArgs } from './command.js';
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
