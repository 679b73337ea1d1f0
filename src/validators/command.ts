/**
 * `command`: runs a command (a test suite, an evaluation script, a scanner) and passes when it exits 0.
 *
 * ```yaml
 * - { id: eval, uses: command, with: { run: [python, eval.py, --model, model/model.onnx], timeout: 10m, inputs: [model/model.onnx] } }
 * - { id: smoke, uses: command, with: { run: "make smoke | tee smoke.log", env: { STAGE: staging }, passEnv: [VIRTUAL_ENV] } }
 * ```
 *
 * The command does not get the runner's whole environment: only a few variables every program needs
 * (`BASE_ENV`), the names `passEnv` lists, and the values `env` sets. Never a `TOLLGATE_*` variable
 * (the API token, the database URL): `policy check` refuses a policy that names one. Its output is
 * kept with the result, which every roster member can read, so the values of secrets the runner
 * holds are redacted from it (`secretValues`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { describeDuration, DURATION_PATTERN, isValidDuration, parseDuration } from '../domain/duration.js';
import { digestFile, InputError, resolveInput } from './inputs.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------- with

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Tollgate's own variables (`TOLLGATE_TOKEN`, `TOLLGATE_DATABASE_URL`, …): never given to a command. */
const TOLLGATE_VAR = /^TOLLGATE_/;
const tollgateVarMessage = (k: string) =>
  `${k}: TOLLGATE_* variables are Tollgate's own (its API token and database URL among them) and are never passed to a command`;

/**
 * What every command gets from the runner's environment: what a program needs to start, find its
 * tools and format text, and nothing that authenticates. Plus any `LC_*` locale variable.
 */
export const BASE_ENV: readonly string[] = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM'];
const LOCALE_VAR = /^LC_[A-Z]+$/;

const CommandArgsSchema = z.strictObject({
  run: z.union(
    [
      z.string().min(1, { error: 'run must not be empty' }),
      z.array(z.string()).min(1, { error: 'run must name a program' }).refine((a) => a[0] !== '', { error: 'run must name a program first' }),
    ],
    { error: 'run must be a shell command line (a string) or a program and its arguments (a list)' },
  ).describe('The command: a string run with /bin/sh -c, or a program and its arguments (a list) run directly; exit code 0 passes.'),
  timeout: z
    .string({ error: 'timeout must be a duration, e.g. 30s, 10m or 1h' })
    .refine(isValidDuration, { error: 'timeout must be a duration, e.g. 30s, 10m or 1h (units: ms, s, m, h, d)' })
    .meta({ pattern: DURATION_PATTERN })
    .default('5m')
    .describe('How long the command may run (default 5m), e.g. 30s, 10m or 1h; a timeout is errored.'),
  cwd: z.string({ error: 'cwd must be a folder path' }).min(1, { error: 'cwd must not be empty' }).optional().describe('The folder to run in, relative to the folder validate runs in.'),
  env: z
    .record(
      z.string(),
      // YAML reads `PORT: 8080` as a number; the variable is the text as written.
      z.union([z.string(), z.number(), z.boolean()], { error: 'an environment variable is a string, number or boolean' }).transform(String),
      { error: 'env must map variable names to values' },
    )
    // Checked here rather than as the record's key schema, whose message zod replaces with its own.
    .superRefine((env, ctx) => {
      for (const k of Object.keys(env)) {
        if (!ENV_KEY.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `${JSON.stringify(k)}: an environment variable name holds letters, digits and _, and does not start with a digit` });
        else if (TOLLGATE_VAR.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: tollgateVarMessage(k) });
      }
    })
    .optional()
    .describe('Environment variables to set for the command, name: value (never TOLLGATE_*).'),
  passEnv: z
    .array(
      z
        .string({ error: 'passEnv lists environment variable names' })
        .regex(ENV_KEY, { error: 'an environment variable name holds letters, digits and _, and does not start with a digit' })
        .refine((k) => !TOLLGATE_VAR.test(k), { error: (i) => tollgateVarMessage(String(i.input)) }),
      { error: 'passEnv must be a list of the names of environment variables the command gets from the runner' },
    )
    .optional()
    .describe('Names of the runner\'s environment variables the command gets (never TOLLGATE_*); it gets only a minimal environment otherwise.'),
  inputs: z
    .array(z.string().min(1, { error: 'an input path must not be empty' }), { error: 'inputs must be a list of file paths the command reads' })
    .optional()
    .describe('Files the command reads, whose sha256 the result binds to.'),
});

/** The `with` block of `command`, after defaults. */
export type CommandArgs = z.output<typeof CommandArgsSchema>;

// ---------------------------------------------------------------- running

/** Captured output kept per stream: the end of a log is where a failure says why. */
export const OUTPUT_TAIL_BYTES = 64 * 1024;
/** How long a command has to exit after SIGTERM before its process group gets SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** How long to wait for the pipes to close after the command exited (a grandchild outside the group may hold them). */
const CLOSE_GRACE_MS = 1_000;

/** The last `limit` bytes of a stream, and how many came before them. */
function tail(limit: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    push(chunk: Buffer) {
      chunks.push(chunk);
      kept += chunk.length;
      while (kept - chunks[0]!.length >= limit) {
        kept -= chunks[0]!.length;
        dropped += chunks.shift()!.length;
      }
    },
    result(): { text: string; dropped: number } {
      const all = Buffer.concat(chunks);
      const cut = Math.max(0, all.length - limit);
      let start = cut;
      // Do not begin inside a UTF-8 sequence: skip continuation bytes at the cut.
      while (cut > 0 && start < all.length && (all[start]! & 0xc0) === 0x80) start++;
      return { text: all.subarray(start).toString('utf8'), dropped: dropped + start };
    },
  };
}

function display(run: string | readonly string[]): string {
  if (typeof run === 'string') return run;
  return run.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function lastLine(text: string): string | undefined {
  const line = text.trimEnd().split('\n').at(-1)?.trim();
  if (!line) return undefined;
  return line.length > 200 ? `${line.slice(0, 197)}…` : line;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

interface Finished {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why we stopped it, if we did. */
  readonly stopped?: 'timeout' | 'cancelled';
  readonly spawnError?: NodeJS.ErrnoException;
  readonly durationMs: number;
  readonly stdout: { text: string; dropped: number };
  readonly stderr: { text: string; dropped: number };
}

/**
 * The environment the command runs with: `BASE_ENV` and `LC_*` from the runner, the names `passEnv`
 * lists, then `env`'s values. A `TOLLGATE_*` name never gets through, even if the schema was bypassed.
 */
export function commandEnvironment(args: Pick<CommandArgs, 'env' | 'passEnv'>, runner: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  const wanted = new Set([...BASE_ENV, ...Object.keys(runner).filter((k) => LOCALE_VAR.test(k)), ...(args.passEnv ?? [])]);
  for (const k of wanted) {
    const v = Object.hasOwn(runner, k) ? runner[k] : undefined;
    if (v !== undefined && !TOLLGATE_VAR.test(k)) out[k] = v;
  }
  for (const [k, v] of Object.entries(args.env ?? {})) if (!TOLLGATE_VAR.test(k)) out[k] = v;
  return out;
}

/** Names whose values are secrets: a token, a password, a key. */
const SECRET_NAME = /TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|AUTH|DATABASE_URL/i;
/** Tollgate variables that hold no secret (and whose short values would garble the output if masked). */
const TOLLGATE_PLAIN = new Set(['TOLLGATE_HOME', 'TOLLGATE_USER', 'TOLLGATE_SERVER', 'TOLLGATE_NOW', 'TOLLGATE_DEBUG', 'TOLLGATE_PUBLIC_URL', 'TOLLGATE_OIDC']);
/** Shorter values are not masked: they would match ordinary text and say nothing about the secret. */
const MIN_SECRET_LENGTH = 6;

/**
 * The secret values the command's output must not carry into the record: every `TOLLGATE_*` value
 * of the runner (but the plain ones above), and the values of secret-looking names the command was
 * given; for a URL, its password too. Longest first, so a secret that contains another is masked whole.
 */
export function secretValues(runner: Readonly<Record<string, string | undefined>>, given: Readonly<Record<string, string>>): { name: string; value: string }[] {
  const found = new Map<string, string>();
  const add = (name: string, value: string | undefined) => {
    if (value === undefined || value.length < MIN_SECRET_LENGTH || found.has(value)) return;
    found.set(value, name);
    try {
      const password = new URL(value).password;
      if (password) {
        add(name, password);
        add(name, decodeURIComponent(password));
      }
    } catch {
      // Not a URL.
    }
  };
  for (const [k, v] of Object.entries(runner)) if (TOLLGATE_VAR.test(k) && !TOLLGATE_PLAIN.has(k)) add(k, v);
  for (const [k, v] of Object.entries(given)) if (SECRET_NAME.test(k)) add(k, v);
  return [...found].map(([value, name]) => ({ name, value })).sort((a, b) => b.value.length - a.value.length);
}

/**
 * `text` with every secret value replaced by `[redacted NAME]`; a secret cut at the start of a kept
 * tail (only its end left) is masked too.
 */
export function redact(text: string, secrets: readonly { name: string; value: string }[]): string {
  let out = text;
  for (const { name, value } of secrets) {
    out = out.split(value).join(`[redacted ${name}]`);
    for (let k = value.length - 1; k >= MIN_SECRET_LENGTH; k--) {
      if (out.startsWith(value.slice(-k))) {
        out = `[redacted ${name}]${out.slice(k)}`;
        break;
      }
    }
  }
  return out;
}

function execute(args: CommandArgs, env: Record<string, string>, cwd: string, timeoutMs: number, signal: AbortSignal): Promise<Finished> {
  const [program, argv] = typeof args.run === 'string' ? ['/bin/sh', ['-c', args.run]] : [args.run[0]!, args.run.slice(1)];
  const stdout = tail(OUTPUT_TAIL_BYTES);
  const stderr = tail(OUTPUT_TAIL_BYTES);
  const started = performance.now();
  return new Promise((resolve) => {
    // Its own process group, so a timeout stops everything it started (a test runner's workers
    // too), not just the shell.
    const child = spawn(program, argv, {
      cwd,
      // Not the runner's whole environment: it holds Tollgate's token, and the output is stored.
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stopped: Finished['stopped'];
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const stop = (why: 'timeout' | 'cancelled') => {
      if (stopped || settled) return;
      stopped = why;
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
    };
    const onAbort = () => stop('cancelled');
    const finish = (f: Omit<Finished, 'durationMs' | 'stdout' | 'stderr' | 'stopped'>) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      signal.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ ...f, ...(stopped ? { stopped } : {}), durationMs: performance.now() - started, stdout: stdout.result(), stderr: stderr.result() });
    };

    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', (err) => finish({ exitCode: null, signal: null, spawnError: err as NodeJS.ErrnoException }));
    child.on('exit', (code, sig) => timers.push(setTimeout(() => finish({ exitCode: code, signal: sig }), CLOSE_GRACE_MS)));
    child.on('close', (code, sig) => finish({ exitCode: code, signal: sig }));
    timers.push(setTimeout(() => stop('timeout'), timeoutMs));
    if (signal.aborted) stop('cancelled');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

// ---------------------------------------------------------------- judgement

/**
 * The `command` validator. A string runs with `/bin/sh -c` (pipes, globs, `&&`); a list runs the
 * program directly with those arguments, no shell. `passed` on exit code 0; `failed` on any other
 * exit code or when the command dies of a signal it did not get from us; `errored` when it cannot be
 * started (not found, not executable, `cwd` missing; the shell's 126/127 mean the same), runs out of
 * `timeout` (default 5m) or is cancelled: then its whole process group is sent SIGTERM, and SIGKILL
 * 2s later. The last 64 KiB of stdout and of stderr are kept in details, with secrets redacted.
 * `inputs` lists files the command reads, so that the result binds to their digests.
 */
export const commandValidator: Validator<CommandArgs> = {
  name: 'command',
  version: '1',
  schema: CommandArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    const command = display(args.run);
    const cwd = resolveInput(ctx.baseDir, args.cwd ?? '.');
    try {
      for (const p of args.inputs ?? []) inputs[p] = await digestFile(resolveInput(ctx.baseDir, p));
      if (!fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`cwd ${args.cwd}: no such folder (${cwd})`);
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }
    if (ctx.signal.aborted) return errored(`cancelled before it started: ${command}`, inputs);

    const timeoutMs = parseDuration(args.timeout);
    ctx.progress({ message: `running ${command}` });
    const runner = ctx.environment ?? process.env;
    const env = commandEnvironment(args, runner);
    const secrets = secretValues(runner, env);
    const raw = await execute(args, env, cwd, timeoutMs, ctx.signal);
    const r = { ...raw, stdout: { ...raw.stdout, text: redact(raw.stdout.text, secrets) }, stderr: { ...raw.stderr, text: redact(raw.stderr.text, secrets) } };
    const durationMs = Math.round(r.durationMs);
    const measurements = { exitCode: r.exitCode, durationMs, ...(r.signal ? { signal: r.signal } : {}) };
    const thresholds = { exitCode: 0, timeoutMs };
    const details = {
      command: args.run,
      ...(args.cwd ? { cwd: args.cwd } : {}),
      // Which variables it got, by name: their values may be secrets.
      env: Object.keys(env).sort(),
      stdout: r.stdout.text,
      stderr: r.stderr.text,
      ...(r.stdout.dropped > 0 ? { stdoutDroppedBytes: r.stdout.dropped } : {}),
      ...(r.stderr.dropped > 0 ? { stderrDroppedBytes: r.stderr.dropped } : {}),
    };
    const outcome = (status: ValidatorOutcome['status'], summary: string): ValidatorOutcome => ({ status, summary, measurements, thresholds, inputs, details });
    const said = lastLine(r.stderr.text) ?? lastLine(r.stdout.text);
    const saying = said ? `; last output: ${said}` : '';

    if (r.spawnError) {
      const code = r.spawnError.code;
      const program = typeof args.run === 'string' ? '/bin/sh' : args.run[0];
      const why = code === 'ENOENT' ? `command not found: ${program}` : code === 'EACCES' ? `not executable: ${program}` : `cannot start ${program}`;
      return outcome('errored', `${why} (${code ?? r.spawnError.message})`);
    }
    if (r.stopped === 'timeout') return outcome('errored', `timed out after ${describeDuration(timeoutMs)} and was stopped: ${command}${saying}`);
    if (r.stopped === 'cancelled') return outcome('errored', `cancelled after ${seconds(durationMs)} and was stopped: ${command}`);
    if (typeof args.run === 'string' && (r.exitCode === 126 || r.exitCode === 127)) {
      return outcome('errored', `the shell could not run it (exit code ${r.exitCode}: ${r.exitCode === 127 ? 'command not found' : 'not executable'}): ${command}${saying}`);
    }
    if (r.exitCode === 0) return outcome('passed', `exit code 0 in ${seconds(durationMs)}: ${command}`);
    if (r.exitCode === null) return outcome('failed', `killed by ${r.signal ?? 'a signal'} after ${seconds(durationMs)}: ${command}${saying}`);
    return outcome('failed', `exit code ${r.exitCode} (want 0) after ${seconds(durationMs)}: ${command}${saying}`);
  },
};
