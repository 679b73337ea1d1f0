/**
 * `http`: asks an external check service (a model-risk service, a red-team harness, a ticketing
 * system) whether the release may enter the stage.
 *
 * ```yaml
 * - { id: risk-review, uses: http, with: { url: "https://risk.example/api/check", timeout: 1m, retries: 3, headers: { X-Team: fraud } } }
 * ```
 *
 * The request is `POST url` with a JSON body
 * `{ "release": { "subject", "version", "digest", "risk" }, "stage", "gate", "validation" }`; the
 * answer must be `2xx` with a JSON body
 * `{ "status": "passed" | "failed" | "errored", "summary"?, "measurements"?, "thresholds"?, "details"? }`
 * (other fields are ignored).
 */
import * as z from 'zod';
import { digestBytes } from '../domain/digest.js';
import { describeDuration, DURATION_PATTERN, isValidDuration, parseDuration } from '../domain/duration.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------- with

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const HttpArgsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }).describe('The http(s) URL to POST {release, stage, gate, validation} to; the service answers {status: "passed", …}.'),
  timeout: z
    .string({ error: 'timeout must be a duration, e.g. 30s or 2m' })
    .refine(isValidDuration, { error: 'timeout must be a duration, e.g. 30s or 2m (units: ms, s, m, h, d)' })
    .meta({ pattern: DURATION_PATTERN })
    .default('30s')
    .describe('How long to wait for each attempt (default 30s).'),
  retries: z
    .number({ error: 'retries must be a whole number from 0 to 10' })
    .int({ error: 'retries must be a whole number from 0 to 10' })
    .min(0, { error: 'retries must be a whole number from 0 to 10' })
    .max(10, { error: 'retries must be a whole number from 0 to 10' })
    .default(2)
    .describe('How many times to try again after a failed attempt, 0 to 10 (default 2; backoff 0.5 s, doubling).'),
  headers: z
    .record(z.string(), z.string({ error: 'a header value must be a string' }), { error: 'headers must map header names to values' })
    .superRefine((h, ctx) => {
      for (const k of Object.keys(h)) if (!HEADER_NAME.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `${JSON.stringify(k)} is not an HTTP header name` });
    })
    .optional()
    .describe('HTTP headers to send, name: value.'),
});

/** The `with` block of `http`, after defaults. */
export type HttpArgs = z.output<typeof HttpArgsSchema>;

/** What the service must answer. Loose: a service may add fields of its own. */
const AnswerSchema = z.object({
  status: z.enum(['passed', 'failed', 'errored'], { error: 'status must be "passed", "failed" or "errored"' }),
  summary: z.string({ error: 'summary must be a string' }).optional(),
  measurements: z.record(z.string(), z.unknown(), { error: 'measurements must be an object' }).optional(),
  thresholds: z.record(z.string(), z.unknown(), { error: 'thresholds must be an object' }).optional(),
  details: z.unknown().optional(),
});

// ---------------------------------------------------------------- asking

/** The first retry waits this long, each next one twice as long (capped), so a restarting service has time to come back. */
export const BACKOFF_MS = 500;
const BACKOFF_MAX_MS = 8_000;
/** How much of an unexpected answer is kept as evidence. */
const BODY_KEPT = 2_048;

type Attempt =
  | { readonly kind: 'answer'; readonly status: number; readonly body: string }
  | { readonly kind: 'retryable'; readonly message: string }
  | { readonly kind: 'final'; readonly message: string; readonly status?: number; readonly body?: string };

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}…` : flat;
}

async function attempt(args: HttpArgs, body: string, timeoutMs: number, signal: AbortSignal): Promise<Attempt> {
  try {
    const res = await fetch(args.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...args.headers },
      body,
      // A redirected POST turns into a GET in fetch; better to ask for the final URL in the policy.
      redirect: 'manual',
      // The timeout covers reading the body too: a service that sends headers and then stalls is as stuck as one that never answers.
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    const text = await res.text();
    const said = text.trim() ? `: ${snippet(text)}` : '';
    if (res.status >= 500) return { kind: 'retryable', message: `HTTP ${res.status} from ${args.url}${said}` };
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get('location');
      return { kind: 'final', status: res.status, body: text, message: `HTTP ${res.status} from ${args.url}: redirected${to ? ` to ${to}` : ''}; write the final URL in the policy` };
    }
    if (res.status >= 400) return { kind: 'final', status: res.status, body: text, message: `HTTP ${res.status} from ${args.url}${said}` };
    return { kind: 'answer', status: res.status, body: text };
  } catch (err) {
    if (signal.aborted) return { kind: 'final', message: `cancelled while asking ${args.url}` };
    if ((err as Error).name === 'TimeoutError') return { kind: 'retryable', message: `no answer from ${args.url} within ${describeDuration(timeoutMs)}` };
    // fetch throws "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, a TLS error) in `cause`.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'retryable', message: `cannot reach ${args.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

// ---------------------------------------------------------------- judgement

/**
 * The `http` validator. The service's `status` becomes the result (its summary, measurements,
 * thresholds and details are kept; `details.answer` holds its details). Network errors, timeouts
 * (`timeout`, default 30s, per attempt) and 5xx answers are retried `retries` times (default 2)
 * after 0.5s, 1s, 2s…; after that, and at once on a 3xx or 4xx answer, a body that is not JSON or
 * not the shape above, the result is `errored` with what went wrong. The result's `inputs` bind it
 * to the digest of the answer's body, keyed by the URL.
 */
export const httpValidator: Validator<HttpArgs> = {
  name: 'http',
  version: '1',
  schema: HttpArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const { subject, version, digest } = ctx.release;
    const body = JSON.stringify({
      release: { subject, version, digest, risk: ctx.release.manifest.risk },
      stage: ctx.stage,
      gate: ctx.gateId,
      validation: ctx.validationId,
    });
    const timeoutMs = parseDuration(args.timeout);
    const failures: string[] = [];

    for (let n = 0; n <= args.retries; n++) {
      if (n > 0) {
        await sleep(Math.min(BACKOFF_MS * 2 ** (n - 1), BACKOFF_MAX_MS), ctx.signal);
        ctx.progress({ message: `retrying ${args.url} (${n} of ${args.retries}): ${failures.at(-1)}` });
      }
      if (ctx.signal.aborted) return errored(`cancelled while asking ${args.url}`, {}, { url: args.url, attempts: n, failures });
      const a = await attempt(args, body, timeoutMs, ctx.signal);
      const attempts = n + 1;
      if (a.kind === 'retryable') {
        failures.push(a.message);
        continue;
      }
      if (a.kind === 'final') {
        return errored(a.message, {}, { url: args.url, attempts, ...(a.status ? { httpStatus: a.status } : {}), ...(a.body ? { body: a.body.slice(0, BODY_KEPT) } : {}) });
      }

      const inputs = { [args.url]: digestBytes(a.body) };
      const evidence = { url: args.url, attempts, httpStatus: a.status };
      let json: unknown;
      try {
        json = JSON.parse(a.body);
      } catch {
        return errored(`the answer from ${args.url} is not JSON: ${snippet(a.body) || '(empty)'}`, inputs, { ...evidence, body: a.body.slice(0, BODY_KEPT) });
      }
      const parsed = AnswerSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
        return errored(`the answer from ${args.url} is not a check result: ${where}${issue.message}`, inputs, { ...evidence, body: a.body.slice(0, BODY_KEPT) });
      }
      const answer = parsed.data;
      return {
        status: answer.status,
        summary: answer.summary ?? `${new URL(args.url).host} answered ${answer.status}`,
        measurements: answer.measurements ?? {},
        thresholds: answer.thresholds ?? {},
        inputs,
        details: { ...evidence, ...(answer.details !== undefined ? { answer: answer.details } : {}) },
      };
    }
    const tries = args.retries + 1;
    return errored(`${failures.at(-1)} (${tries} attempt${tries === 1 ? '' : 's'})`, {}, { url: args.url, attempts: tries, failures });
  },
};
