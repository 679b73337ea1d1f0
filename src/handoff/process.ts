/**
 * Runs a program for a hand-off: no shell, a given (small) environment, input on stdin, a timeout
 * after which its whole process group is stopped, and the end of its output kept for the record.
 */
import { spawn } from 'node:child_process';

/** Output kept per stream: the end is where a failure says why. */
const TAIL_BYTES = 16 * 1024;
const KILL_GRACE_MS = 2_000;

export interface Ran {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** Set when the program could not be started (ENOENT, EACCES). */
  readonly spawnError?: NodeJS.ErrnoException;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly stdin?: string;
}

export function runProgram(program: string, args: readonly string[], opts: RunOptions): Promise<Ran> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const keep = (chunks: Buffer[]) => (c: Buffer) => {
      chunks.push(c);
      while (chunks.length > 1 && chunks.reduce((n, b) => n + b.length, 0) - chunks[0]!.length >= TAIL_BYTES) chunks.shift();
    };
    const text = (chunks: Buffer[]) => {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - TAIL_BYTES)).toString('utf8');
    };
    // Its own process group, so a timeout stops everything it started, not just the program.
    const child = spawn(program, [...args], { cwd: opts.cwd, env: { ...opts.env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const finish = (r: Pick<Ran, 'exitCode' | 'signal'> & { spawnError?: NodeJS.ErrnoException }) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      resolve({ ...r, timedOut, stdout: text(out), stderr: text(err) });
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    // A program that does not read its stdin closes the pipe: that is its business, not an error.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => finish({ exitCode: null, signal: null, spawnError: e as NodeJS.ErrnoException }));
    child.on('close', (exitCode, signal) => finish({ exitCode, signal }));
    timers.push(
      setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
      }, opts.timeoutMs),
    );
    child.stdin.end(opts.stdin ?? '');
  });
}

/** The last few lines of a program's output, bounded: what an error message can quote. */
export function lastLines(text: string, max = 600): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `…${trimmed.slice(trimmed.length - max)}` : trimmed;
}
