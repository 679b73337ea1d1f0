/**
 * A reader that closes the pipe early (`tollgate validate … | head -1`, `audit verify --json | true`):
 * the command exits quietly with its own code and still records what it did (issue 13, new-user bugs:
 * both exited 1 with an EPIPE stack trace, and validate recorded nothing).
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, createProject, removeProjects, type Project } from './helpers/cli.js';

afterAll(() => removeProjects());

/** Runs the binary with its stdout closed by the reader before anything is written. */
function runClosedPipe(p: Project, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: p.home };
    for (const k of ['TOLLGATE_USER', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DATABASE_URL']) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: p.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed pipe', () => {
  it('validate exits with its own code, no stack trace, and records every result', async () => {
    const p = createProject();
    expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
    const plan = p.run(['validate', 'fraud-detector@2.4.0', '--to', 'staging', '--as', 'ci', '--json']);
    const expected = plan.code;
    const planned = (plan.json().results as unknown[]).length;
    const r = await runClosedPipe(p, ['validate', 'fraud-detector@2.4.0', '--to', 'staging', '--as', 'ci', '--json']);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.code).toBe(expected);
    const events = p.run(['audit', 'log', '--type', 'ValidationRecorded', '--limit', '1000', '--json']).json().events as unknown[];
    expect(events.length).toBe(planned * 2);
  });

  it('audit verify --json exits 0 quietly', async () => {
    const p = createProject();
    const r = await runClosedPipe(p, ['audit', 'verify', '--json']);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.code).toBe(0);
  });
});
