/**
 * One JSON request to `tollgate serve`, for the HTTP client and the HTTP admin (remote mode: `--server
 * URL`, token in TOLLGATE_TOKEN). The server answers errors as `{error: {code, message, hint,
 * problems?, details?}}`; they come back here as the same TollgateError the local side throws (same
 * code, same exit; a refused promotion carries its decision in `details`).
 */
import { ERRORS, TollgateError, tollgateError, type ErrorCode } from '../domain/errors.js';

/** Where the server is and how to reach it. */
export interface HttpOptions {
  /** The server's base URL: `http://tollgate.internal:7480`. */
  readonly url: string;
  /** An API token (`tollgate token create USER`); every API request needs one. */
  readonly token?: string;
  /** Who the caller says they are (`--as`, TOLLGATE_USER): the server refuses a token of anyone else. */
  readonly as?: string;
  /** The fetch to use; the global one by default. */
  readonly fetch?: typeof fetch;
  /** How long one request may take, in ms (default 5 minutes: validation uploads and promotions). */
  readonly timeoutMs?: number;
}

export interface ApiRequest {
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
}

/** A path segment, encoded: release names hold `@` and may hold `/`. */
export const seg = encodeURIComponent;

export type Call = <T>(method: 'GET' | 'POST' | 'DELETE', path: string, req?: ApiRequest) => Promise<T>;

/** One JSON request to the server, its error answer turned back into the TollgateError it stands for. */
export function createTransport(opts: HttpOptions): Call {
  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    throw tollgateError('TG_USAGE', `--server ${JSON.stringify(opts.url)} is not a URL; expected e.g. http://localhost:7480`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw tollgateError('TG_USAGE', `--server must be an http or https URL, not ${base.protocol}`);
  }
  const root = base.toString().replace(/\/+$/, '');
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;

  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, req: ApiRequest = {}): Promise<T> {
    if (!opts.token) {
      throw tollgateError('TG_TOKEN_INVALID', `remote mode needs an API token for ${root}: set TOLLGATE_TOKEN (an admin creates one with \`tollgate token create USER\`)`);
    }
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) params.set(k, v);
    const qs = params.size > 0 ? `?${params}` : '';
    const url = `${root}${path}${qs}`;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${opts.token}`,
          accept: 'application/json',
          ...(opts.as !== undefined ? { 'x-tollgate-as': opts.as } : {}),
          ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw tollgateError('TG_SERVER_UNREACHABLE', `cannot reach the Tollgate server at ${root}: ${describeNetworkError(err, timeoutMs)}`);
    }
    let data: unknown;
    try {
      data = text === '' ? undefined : JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (res.ok) {
      if (data === undefined) throw tollgateError('TG_SERVER_UNREACHABLE', `${root} answered ${method} ${path} with something other than JSON: is it a Tollgate server?`);
      return data as T;
    }
    throw errorFrom(data, res, root);
  }
  return call;
}

/** The server's `{error}` as the TollgateError it stands for; an unknown code keeps its text under TG_INTERNAL. */
function errorFrom(data: unknown, res: Response, root: string): TollgateError {
  const e = (data as { error?: Record<string, unknown> } | undefined)?.error;
  if (e && typeof e.code === 'string' && typeof e.message === 'string') {
    const problems = Array.isArray(e.problems) ? (e.problems as TollgateError['problems'][number][]) : undefined;
    const opts = {
      ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
      ...(problems ? { problems } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    };
    if (Object.hasOwn(ERRORS, e.code)) return new TollgateError(e.code as ErrorCode, e.message, opts);
    // A newer server's code this client does not know: keep what it said.
    return new TollgateError('TG_INTERNAL', `${e.code}: ${e.message}`, opts);
  }
  return tollgateError('TG_SERVER_UNREACHABLE', `${root} answered ${res.status} ${res.statusText} without a Tollgate error: is it a Tollgate server?`);
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs / 1000}s`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

