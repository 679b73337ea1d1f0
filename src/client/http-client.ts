/**
 * The Client over the HTTP API of `tollgate serve`: remote mode (`--server URL`, token in
 * TOLLGATE_TOKEN). Each method is one request (http-transport.ts), and an error answer comes back as
 * the same TollgateError the local client throws.
 */
import type { Decision, ExceptionSignoff, Signoff, SignoffPayload, ValidationResult } from '../domain/model.js';
import type { ExceptionDraft } from '../service/exception.js';
import { tollgateError } from '../domain/errors.js';
import type { ApplyPolicyResult } from '../service/apply-policy.js';
import type { CheckResult } from '../service/check.js';
import type { CreateReleaseResult } from '../service/create-release.js';
import type { PromoteResult } from '../service/promote.js';
import type { ReleaseDetail, ReleaseSummary } from '../service/read-release.js';
import type { RollbackResult } from '../service/rollback.js';
import type { HandoffRetryResult } from '../service/handoff.js';
import type { ClearResult } from '../service/clear-hold.js';
import type { SignoffDraft } from '../service/signoff.js';
import type { ValidationPlan } from '../service/validate.js';
import type { AuditVerifyResult } from '../service/verify-audit.js';
import type { DsseEnvelope } from '../audit/dsse.js';
import type { AuditLogPage, DeliveryMetrics, IncidentInfo, PolicyDetail, PolicyDiff, PolicyListEntry } from '../service/use-cases.js';
import type { Client, PolicyInfo, ReleaseEvidence } from './client.js';
import { createTransport, seg, type HttpOptions } from './http-transport.js';
import { pushAll } from '../domain/bounded.js';

export type HttpClientOptions = HttpOptions;

/** A Client that talks to `tollgate serve`. `close()` has nothing to release. */
export function createHttpClient(opts: HttpClientOptions): Client {
  const call = createTransport(opts);

  return {
    applyPolicy: (source, file) => call<ApplyPolicyResult>('POST', '/api/policies', { body: { source, file } }),
    activePolicy: async () => (await call<{ policy: PolicyInfo | null }>('GET', '/api/policy')).policy ?? undefined,
    listPolicies: async () => (await call<{ policies: PolicyListEntry[] }>('GET', '/api/policies')).policies,
    showPolicy: (version) => call<PolicyDetail>('GET', `/api/policies/${version === undefined ? 'active' : seg(String(version))}`),
    diffPolicy: (source, file) => call<PolicyDiff>('POST', '/api/policies/diff', { body: { source, file } }),
    createRelease: (manifest) => call<CreateReleaseResult>('POST', '/api/releases', { body: manifest }),
    listReleases: async (filter = {}) => (await call<{ releases: ReleaseSummary[] }>('GET', '/api/releases', { query: { subject: filter.subject } })).releases,
    showRelease: (ref) => call<ReleaseDetail>('GET', `/api/releases/${seg(ref)}`),
    status: (ref, stage) => call<Decision>('GET', `/api/releases/${seg(ref)}/status`, { query: { stage } }),
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
        pushAll(out, (await call<{ signoffs: Signoff[] }>('POST', `/api/releases/${seg(ref)}/signoffs`, { body: { signoffs: list } })).signoffs);
      }
      return out;
    },
    draftException: (req) => {
      const { release, ...body } = req;
      return call<ExceptionDraft>('POST', `/api/releases/${seg(release)}/exception-drafts`, { body });
    },
    recordException: (signed) => call<ExceptionSignoff>('POST', `/api/releases/${seg(signed.release)}/exceptions`, { body: signed }),
    planValidations: (ref, stage, only) => call<ValidationPlan>('GET', `/api/releases/${seg(ref)}/validation-plan`, { query: { stage, only } }),
    recordValidations: async (ref, results, inputs = []) => {
      const copies = inputs.map((c) => ({ digest: c.digest, content: Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength).toString('base64') }));
      return (await call<{ results: ValidationResult[] }>('POST', `/api/releases/${seg(ref)}/validations`, { body: { results, ...(copies.length > 0 ? { inputs: copies } : {}) } })).results;
    },
    blob: async (digest) => {
      const { blob } = await call<{ blob: { content: string } | null }>('GET', `/api/blobs/${seg(digest)}`);
      return blob ? new Uint8Array(Buffer.from(blob.content, 'base64')) : undefined;
    },
    baselineMetrics: async (subject, ref) =>
      (await call<{ baseline: { release: string; metrics: Record<string, unknown> } | null }>('GET', `/api/subjects/${seg(subject)}/baselines/${seg(ref)}`))
        .baseline ?? undefined,
    evidence: (ref) => call<ReleaseEvidence>('GET', `/api/releases/${seg(ref)}/evidence`),
    promote: (ref, stage, o = {}) =>
      call<PromoteResult>('POST', `/api/releases/${seg(ref)}/promotions`, { body: { stage, ...(o.breakGlass ? { breakGlass: { reason: o.breakGlass.reason } } : {}) } }),
    rollback: (subject, stage, reason) => call<RollbackResult>('POST', `/api/subjects/${seg(subject)}/rollbacks`, { body: { stage, reason } }),
    clearHold: (ref, stage, reason) => call<ClearResult>('POST', `/api/releases/${seg(ref)}/clearances`, { body: { stage, reason } }),
    openIncident: (subject, stage, reason) => call<IncidentInfo>('POST', `/api/subjects/${seg(subject)}/incidents`, { body: { stage, reason } }),
    resolveIncident: (id, note) => call<IncidentInfo>('POST', `/api/incidents/${seg(id)}/resolutions`, { body: note !== undefined ? { note } : {} }),
    listIncidents: async (filter = {}) =>
      (
        await call<{ incidents: IncidentInfo[] }>('GET', '/api/incidents', {
          query: { subject: filter.subject, open: filter.open !== undefined ? String(filter.open) : undefined },
        })
      ).incidents,
    metrics: (q = {}) => call<DeliveryMetrics>('GET', '/api/metrics', { query: { subject: q.subject, since: q.since, stage: q.stage } }),
    retryHandoffs: (ref, stage) => call<HandoffRetryResult>('POST', `/api/releases/${seg(ref)}/handoff-retries`, { body: { stage } }),
    auditVerify: (o = {}) => call<AuditVerifyResult>('POST', '/api/audit/verify', { body: o.since !== undefined ? { since: o.since } : {} }),
    auditLog: async (q) =>
      call<AuditLogPage>('GET', '/api/audit/events', {
        query: {
          type: q.type,
          subject: q.subject,
          actor: q.actor,
          since: q.since,
          after: q.after !== undefined ? String(q.after) : undefined,
          limit: q.limit !== undefined ? String(q.limit) : undefined,
        },
      }),
    auditCheckpoint: async () =>
      (await call<{ checkpoint: { size: number; root: string; at: string; note: string } | null }>('GET', '/api/audit/checkpoint')).checkpoint ?? undefined,
    serverKey: () => call<{ publicKey: string }>('GET', '/api/server-key'),
    attest: (ref, stage) => call<DsseEnvelope>('GET', `/api/releases/${seg(ref)}/attestations/${seg(stage)}`),
    close: async () => {},
  };
}
