/**
 * `tollgate serve` as a real child process, for the multi-process tests: started on a free port, its
 * URL read from what it prints, its JSON log kept, stopped with a signal of the test's choice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import type { SignoffPayload } from '../../src/domain/model.js';
import { signSignoff } from '../../src/domain/signoff.js';
import { BIN } from './cli.js';

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything printed so far (stdout: JSON log lines; stderr: notes). */
  output(): string;
  /** stdout alone: the JSON log lines. */
  stdout(): string;
  /** Sends `signal` and waits for the process to end; its exit code (null when a signal ended it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `tollgate serve --port 0` in `dir` with `env` (TOLLGATE_HOME and the database in it). */
export function startServe(dir: string, env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<Served> {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_DEBUG']) delete clean[k];
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { cwd: dir, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within 30 s: ${out}`));
    }, 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          url: m[1]!,
          output: () => out,
          stdout: () => stdout,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before it served: ${out}`));
    });
  });
}

export interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly json: any;
}

/**
 * A webhook receiver: a real HTTP server on a free port that keeps what it got and answers each
 * request with the next status of `statuses`, then 204.
 */
export async function startReceiver(statuses: number[] = []): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.statusCode = statuses.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/tollgate`,
    got,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** JSON request to a served API as a token's user. */
export async function api(url: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 100 ms until it is true or `ms` have passed; returns its last answer. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

/**
 * `n` sign-offs of `ref` by the token's user in `role`, drafted by the server and signed with the
 * user's private key (PEM) ahead of time, so that a burst of writes is only the recording requests.
 */
export async function presignSignoffs(
  urls: readonly string[],
  token: string,
  ref: string,
  stage: string,
  role: string,
  key: KeyObject,
  n: number,
): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (let i = 0; i < n; i++) {
    const draft = await api(urls[i % urls.length]!, token, 'POST', `/api/releases/${encodeURIComponent(ref)}/signoff-drafts`, { stage, role, decision: 'approve' });
    if (draft.status !== 200) throw new Error(`drafting a sign-off failed: ${draft.status} ${JSON.stringify(draft.json)}`);
    out.push(draft.json.payloads.map((pl: SignoffPayload) => ({ ...pl, signature: signSignoff(pl, key) })));
  }
  return out;
}
