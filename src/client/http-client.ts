/**
 * The Client over the HTTP API of `tollgate serve`: remote mode (`--server URL`, token in
 * TOLLGATE_TOKEN). Each method is one request; the server answers errors as `{error: {code, message,
 * hint, problems?, details?}}` and they come back here as the same TollgateError the local client
 * throws (same code, same exit; a refused promotion carries its decision in `details`).
 */
import type { Decision, Signoff, SignoffPayload, ValidationResult } from '../domain/model.js';
import { ERRORS, TollgateError, tollgateError, type ErrorCode } from '../domain/errors.js';
import type { ApplyPolicyResult } from '../service/apply-policy.js';
import type { CheckResult } from '../service/check.js';
import type { CreateReleaseResult } from '../service/create-release.js';
import { inputKeys, type InputProbe } from '../service/inputs.js';
import type { PromoteResult } from '../service/promote.js';
import type { ReleaseDetail, ReleaseSummary } from '../service/read-release.js';
import type { RollbackResult } from '../service/rollback.js';
import type { SignoffDraft } from '../service/signoff.js';
import type { ValidationPlan } from '../service/validate.js';
import type { IssuedToken, TokenInfo } from '../service/tokens.js';
import type { AuditVerifyResult } from '../service/verify-audit.js';
import type { CreatedWebhook, DeliveryInfo, NewWebhook, WebhookInfo } from '../service/webhooks.js';
import type { DsseEnvelope } from '../audit/dsse.js';
import type { Client, PolicyInfo, ReleaseEvidence } from './client.js';

export interface HttpClientOptions {
  /** The server's base URL: `http://tollgate.internal:7480`. */
  readonly url: string;
  /** An API token (`tollgate token create USER`); every API request needs one. */
  readonly token?: string;
  /** The fetch to use; the global one by default. */
  readonly fetch?: typeof fetch;
  /**
   * Digests of validation inputs as they are here (the CLI hashes files in its folder): sent with
   * `status` and `promote` so the server can tell stale results, as the local client does.
   */
  readonly probe?: InputProbe;
  /** How long one request may take, in ms (default 5 minutes: validation uploads and promotions). */
  readonly timeoutMs?: number;
}

interface Request {
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
}

const seg = encodeURIComponent;

type Call = <T>(method: 'GET' | 'POST' | 'DELETE', path: string, req?: Request) => Promise<T>;

/** One JSON request to the server, its error answer turned back into the TollgateError it stands for. */
function createTransport(opts: HttpClientOptions): Call {
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

  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, req: Request = {}): Promise<T> {
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

/** A Client that talks to `tollgate serve`. `close()` has nothing to release. */
export function createHttpClient(opts: HttpClientOptions): Client {
  const call = createTransport(opts);

  /** The caller's view of validation inputs, for `status` and `promote` (only with a probe). */
  async function currentInputs(ref: string): Promise<Record<string, string | null> | undefined> {
    if (!opts.probe) return undefined;
    const { evidence } = await call<ReleaseEvidence>('GET', `/api/releases/${seg(ref)}/evidence`);
    const keys = inputKeys(evidence);
    if (keys.length === 0) return undefined;
    return Object.fromEntries(await opts.probe(keys));
  }

  return {
    applyPolicy: (source, file) => call<ApplyPolicyResult>('POST', '/api/policies', { body: { source, file } }),
    activePolicy: async () => (await call<{ policy: PolicyInfo | null }>('GET', '/api/policy')).policy ?? undefined,
    createRelease: (manifest) => call<CreateReleaseResult>('POST', '/api/releases', { body: manifest }),
    listReleases: async (filter = {}) => (await call<{ releases: ReleaseSummary[] }>('GET', '/api/releases', { query: { subject: filter.subject } })).releases,
    showRelease: (ref) => call<ReleaseDetail>('GET', `/api/releases/${seg(ref)}`),
    status: async (ref, stage) => {
      const inputs = await currentInputs(ref);
      return call<Decision>('GET', `/api/releases/${seg(ref)}/status`, {
        query: { stage, inputs: inputs !== undefined ? JSON.stringify(inputs) : undefined },
      });
    },
    check: (input) => {
      const e = input.evidence;
      const evidence =
        e === undefined
          ? undefined
          : e.kind === 'file'
            ? { kind: 'file', name: e.name, content: Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength).toString('base64') }
            : { kind: 'url', uri: e.uri };
      return call<CheckResult>('POST', `/api/releases/${seg(input.release)}/checklist`, {
        body: { stage: input.stage, item: input.item, ...(evidence ? { evidence } : {}), ...(input.note !== undefined ? { note: input.note } : {}) },
      });
    },
    draftSignoffs: (req) =>
      call<SignoffDraft>('POST', `/api/releases/${seg(req.release)}/signoff-drafts`, {
        body: { stage: req.stage, role: req.role, decision: req.decision, ...(req.comment !== undefined ? { comment: req.comment } : {}) },
      }),
    recordSignoffs: async (signed) => {
      if (signed.length === 0) throw tollgateError('TG_USAGE', 'no sign-off to record');
      // One request per release (a draft is always of one release, so normally one request).
      const byRelease = new Map<string, (SignoffPayload & { signature: string })[]>();
      for (const s of signed) byRelease.set(s.release, [...(byRelease.get(s.release) ?? []), s]);
      const out: Signoff[] = [];
      for (const [ref, list] of byRelease) {
        out.push(...(await call<{ signoffs: Signoff[] }>('POST', `/api/releases/${seg(ref)}/signoffs`, { body: { signoffs: list } })).signoffs);
      }
      return out;
    },
    planValidations: (ref, stage, only) => call<ValidationPlan>('GET', `/api/releases/${seg(ref)}/validation-plan`, { query: { stage, only } }),
    recordValidations: async (ref, results) =>
      (await call<{ results: ValidationResult[] }>('POST', `/api/releases/${seg(ref)}/validations`, { body: { results } })).results,
    baselineMetrics: async (subject, ref) =>
      (await call<{ baseline: { release: string; metrics: Record<string, unknown> } | null }>('GET', `/api/subjects/${seg(subject)}/baselines/${seg(ref)}`))
        .baseline ?? undefined,
    evidence: (ref) => call<ReleaseEvidence>('GET', `/api/releases/${seg(ref)}/evidence`),
    promote: async (ref, stage) => {
      const inputs = await currentInputs(ref);
      return call<PromoteResult>('POST', `/api/releases/${seg(ref)}/promotions`, { body: { stage, ...(inputs !== undefined ? { inputs } : {}) } });
    },
    rollback: (subject, stage, reason) => call<RollbackResult>('POST', `/api/subjects/${seg(subject)}/rollbacks`, { body: { stage, reason } }),
    auditVerify: (o = {}) => call<AuditVerifyResult>('POST', '/api/audit/verify', { body: o.since !== undefined ? { since: o.since } : {} }),
    auditCheckpoint: async () =>
      (await call<{ checkpoint: { size: number; root: string; at: string; note: string } | null }>('GET', '/api/audit/checkpoint')).checkpoint ?? undefined,
    attest: (ref, stage) => call<DsseEnvelope>('GET', `/api/releases/${seg(ref)}/attestations/${seg(stage)}`),
    close: async () => {},
  };
}

/** API token administration over the API (`tollgate token … --server URL`); the caller needs the admin role. */
export interface TokenAdmin {
  create(user: string, expires?: string): Promise<IssuedToken>;
  revoke(id: string): Promise<TokenInfo>;
  list(): Promise<TokenInfo[]>;
}

export function createHttpTokenAdmin(opts: HttpClientOptions): TokenAdmin {
  const call = createTransport(opts);
  return {
    create: (user, expires) => call('POST', '/api/tokens', { body: { user, ...(expires !== undefined ? { expires } : {}) } }),
    revoke: (id) => call('DELETE', `/api/tokens/${seg(id)}`),
    list: async () => (await call<{ tokens: TokenInfo[] }>('GET', '/api/tokens')).tokens,
  };
}

/** Webhook administration: the same operations over the local home or over the API (admin role). */
export interface WebhookAdmin {
  create(w: NewWebhook): Promise<CreatedWebhook>;
  remove(id: string): Promise<WebhookInfo>;
  list(): Promise<WebhookInfo[]>;
  deliveries(filter: { webhookId?: string; status?: DeliveryInfo['status']; limit?: number }): Promise<DeliveryInfo[]>;
  redeliver(deliveryId: string): Promise<DeliveryInfo>;
}

export function createHttpWebhookAdmin(opts: HttpClientOptions): WebhookAdmin {
  const call = createTransport(opts);
  return {
    create: (w) => call('POST', '/api/webhooks', { body: w }),
    remove: (id) => call('DELETE', `/api/webhooks/${seg(id)}`),
    list: async () => (await call<{ webhooks: WebhookInfo[] }>('GET', '/api/webhooks')).webhooks,
    deliveries: async ({ webhookId, status, limit }) => {
      const query = { ...(status !== undefined ? { status } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) };
      const path = webhookId !== undefined ? `/api/webhooks/${seg(webhookId)}/deliveries` : '/api/webhook-deliveries';
      return (await call<{ deliveries: DeliveryInfo[] }>('GET', path, { query })).deliveries;
    },
    redeliver: (id) => call('POST', `/api/webhook-deliveries/${seg(id)}/redeliveries`, { body: {} }),
  };
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

