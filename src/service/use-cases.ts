/**
 * Tollgate's use cases as one set of operations acting for one user. The CLI's local mode wraps it
 * (client/local-client.ts) and every `/api` route of `tollgate serve` runs it as the token's user
 * (server/app.ts), so a command answers the same in local and in remote mode (DESIGN.md rule 6).
 */
import { createPublicKey } from 'node:crypto';
import type { DsseEnvelope } from '../audit/dsse.js';
import type { Decision, EvidenceSet, ExceptionPayload, ExceptionSignoff, HandoffRecord, Promotion, ReleaseManifest, Signoff, SignoffPayload, ValidationResult } from '../domain/model.js';
import { applyPolicy, type ApplyPolicyResult } from './apply-policy.js';
import { completeItem, type CheckInput, type CheckResult } from './check.js';
import { createRelease, type CreateReleaseResult } from './create-release.js';
import type { ServiceDeps } from './deps.js';
import { activePolicy, requirePolicy, requireRelease } from './lookup.js';
import { promote, type PromoteOptions, type PromoteResult } from './promote.js';
import { draftException, recordException, type ExceptionDraft, type ExceptionRequest } from './exception.js';
import { handOff, retryHandoffs, type HandoffRetryResult } from './handoff.js';
import { listReleases, showRelease, type ReleaseDetail, type ReleaseSummary } from './read-release.js';
import { rollback, type RollbackResult } from './rollback.js';
import { clearHold, type ClearResult } from './clear-hold.js';
import { draftSignoffs, recordSignoffs, type SignoffDraft, type SignoffRequest } from './signoff.js';
import { decide, decideWithHorizon } from './status.js';
import { baselineMetrics, planValidations, recordValidations, requireValidator, type InputCopy, type NewValidationResult, type ValidationPlan } from './validate.js';
import { DIGEST_PATTERN, type Digest } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import { formatPublicKey } from '../domain/keys.js';
import { verifyAudit, type AuditVerifyResult } from './verify-audit.js';
import { auditLog, type AuditLogFilter, type AuditLogPage as DeskAuditLogPage } from './audit-log.js';
import { vouchPolicy } from './vouch.js';
import type { PolicyVersion } from '../domain/model.js';
import {
  listPasskeysAs,
  passkeyRegistrationOptions,
  passkeySignoffOptions,
  recordPasskeySignoff,
  registerPasskey,
  revokePasskey,
  type AuthenticationResponseJSON,
  type PasskeyInfo,
  type PasskeySignoffRequest,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  type RelyingParty,
} from './passkeys.js';
import { diffPolicy, listPolicies, showPolicy, type PolicyDetail, type PolicyDiff, type PolicyListEntry } from './policy-history.js';
import { readAuditLog, type AuditLogPage, type AuditLogQuery } from './read-audit.js';
import { listIncidents, openIncident, resolveIncident, type IncidentInfo } from './incidents.js';
import { deliveryMetrics, type DeliveryMetrics, type MetricsQuery } from './metrics.js';

export type { AuditLogPage, AuditLogQuery, DeliveryMetrics, IncidentInfo, MetricsQuery, PolicyDetail, PolicyDiff, PolicyListEntry };

export interface PolicyInfo {
  readonly name: string;
  readonly version: number;
  readonly digest: string;
  readonly appliedAt: string;
  readonly appliedBy: string;
  /** Stage names in the order the policy lists them. */
  readonly stages: readonly string[];
}

export interface ReleaseEvidence {
  readonly release: ReleaseDetail;
  readonly evidence: EvidenceSet;
}

/** Every operation the CLI and the API offer, each acting as the user it was created for. */
export interface UseCases {
  applyPolicy(source: string, file: string): Promise<ApplyPolicyResult>;
  activePolicy(): Promise<PolicyInfo | undefined>;
  /** Every recorded policy version, newest first. */
  listPolicies(): Promise<PolicyListEntry[]>;
  /** One version's text and parsed policy; the active one when `version` is undefined. */
  showPolicy(version?: number): Promise<PolicyDetail>;
  /** Which releases would change outcome in which stages, and which sign-offs would go stale, were `source` applied; writes nothing. */
  diffPolicy(source: string, file: string): Promise<PolicyDiff>;
  createRelease(manifest: ReleaseManifest): Promise<CreateReleaseResult>;
  listReleases(filter?: { subject?: string }): Promise<ReleaseSummary[]>;
  showRelease(ref: string): Promise<ReleaseDetail>;
  status(ref: string, stage: string): Promise<Decision>;
  check(input: CheckInput): Promise<CheckResult>;
  draftSignoffs(req: SignoffRequest): Promise<SignoffDraft>;
  recordSignoffs(signed: readonly (SignoffPayload & { signature: string })[]): Promise<Signoff[]>;
  /** The payload of a waiver or break-glass sign-off for the caller to sign (nothing recorded). */
  draftException(req: ExceptionRequest): Promise<ExceptionDraft>;
  /** Records the caller's signed waiver or break-glass sign-off. */
  recordException(signed: ExceptionPayload & { signature: string }): Promise<ExceptionSignoff>;
  /** The validations to run for a stage; refuses a caller who may not submit results. */
  planValidations(ref: string, stage: string, only?: string): Promise<ValidationPlan>;
  /** Records results; `inputs` are copies of small input files (InputCopy) kept for reports and attestations. */
  recordValidations(ref: string, results: readonly NewValidationResult[], inputs?: readonly InputCopy[]): Promise<ValidationResult[]>;
  /** Stored bytes (evidence files, copies of validation inputs) by digest; undefined when none are stored. */
  blob(digest: string): Promise<Uint8Array | undefined>;
  baselineMetrics(subject: string, ref: string): Promise<{ release: string; metrics: Record<string, unknown> } | undefined>;
  /** Everything recorded for a release: evidence and promotions, for reports. */
  evidence(ref: string): Promise<ReleaseEvidence>;
  promote(ref: string, stage: string, opts?: PromoteOptions): Promise<PromoteResult>;
  rollback(subject: string, stage: string, reason: string): Promise<RollbackResult>;
  /** Lifts the hold a rollback put on the release for the stage. */
  clearHold(ref: string, stage: string, reason: string): Promise<ClearResult>;
  /** Opens an incident on the release that holds the stage of the subject now. */
  openIncident(subject: string, stage: string, reason: string): Promise<IncidentInfo>;
  resolveIncident(id: string, note?: string): Promise<IncidentInfo>;
  /** Incidents, oldest first; `open` for the unresolved ones only. */
  listIncidents(filter?: { subject?: string; open?: boolean }): Promise<IncidentInfo[]>;
  /** Delivery metrics from the audit log (docs/metrics.md). */
  metrics(query?: MetricsQuery): Promise<DeliveryMetrics>;
  /** Runs again the hand-offs to deployment of the release in the stage that have not succeeded. */
  retryHandoffs(ref: string, stage: string): Promise<HandoffRetryResult>;
  auditVerify(opts?: { since?: string }): Promise<AuditVerifyResult>;
  /** One page of the audit log's events that match the query, oldest first. */
  auditLog(query: AuditLogQuery): Promise<AuditLogPage>;
  /** The newest signed checkpoint of the audit log. */
  auditCheckpoint(): Promise<{ size: number; root: string; at: string; note: string } | undefined>;
  /** The public key of the server key, which signs checkpoints and attestations (`keys show --server`). */
  serverKey(): Promise<{ publicKey: string }>;
  /** The DSSE-signed attestation of the release's promotion into the stage. */
  attest(ref: string, stage: string): Promise<DsseEnvelope>;
}

/** The use cases the review desk adds for its pages (the CLI's Client does not offer them). */
export interface DeskUseCases extends UseCases {
  /** One page of the audit log, newest first, filtered (the review desk's /audit). */
  deskAuditLog(filter?: AuditLogFilter): Promise<DeskAuditLogPage>;
  /** A recorded policy version whole (the active one without a number), vouched for by the audit log. */
  policy(version?: number): Promise<PolicyVersion | undefined>;
  /**
   * The decision as anyone would see it, not as the user would meet it promoting (`status` counts the
   * user as the promoter, whose own sign-offs do not count under separation of duties): what a
   * reviewer's page shows.
   */
  decision(ref: string, stage: string): Promise<Decision>;
  /**
   * The decision (as anyone sees it, or as the user would meet it promoting) and until when it holds
   * if nothing is recorded meanwhile (ms; Infinity when nothing is due): for caching a page.
   */
  decisionUntil(ref: string, stage: string, asPromoter: boolean): Promise<{ decision: Decision; horizon: number }>;
}

/** The use cases over `deps` acting as `actor`, with the review desk's reads. */
export function createDeskUseCases(deps: ServiceDeps, actor: string | undefined): DeskUseCases {
  return {
    ...createUseCases(deps, actor),
    decision: (ref, stage) => decide(deps.store, ref, stage, deps.now()),
    decisionUntil: (ref, stage, asPromoter) => decideWithHorizon(deps.store, ref, stage, deps.now(), asPromoter ? actor : undefined),
    deskAuditLog: (filter) => auditLog(deps.store, filter),
    policy: async (version) => {
      if (version === undefined) return activePolicy(deps.store);
      const p = await deps.store.policyVersion(version);
      return p && vouchPolicy(deps.store, p);
    },
  };
}

function withHandoff<T extends object>(result: T, handoff: readonly HandoffRecord[]): T & { handoff?: readonly HandoffRecord[] } {
  return handoff.length > 0 ? { ...result, handoff } : result;
}

/**
 * The hand-offs of a committed move. Should running or recording them fail unexpectedly (the database
 * gone between the two transactions), the move still happened and is reported: the failure comes back
 * as a failed entry of the answer, never as an error that would read as "not promoted".
 */
async function handOffSafely(deps: ServiceDeps, promotion: Promotion): Promise<HandoffRecord[]> {
  try {
    return await handOff(deps, promotion);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return [
      {
        id: `${promotion.id}/*`,
        promotionId: promotion.id,
        subject: promotion.subject,
        stage: promotion.stage,
        version: promotion.version,
        releaseDigest: promotion.releaseDigest,
        index: -1,
        kind: 'command',
        target: 'the hand-offs',
        definitionDigest: promotion.policyDigest,
        outcome: 'failed',
        attempts: 0,
        error: `could not run or record the hand-offs: ${message.slice(0, 500)} (nothing is recorded: run \`tollgate handoff retry ${promotion.subject}@${promotion.version} --stage ${promotion.stage}\`)`,
        by: promotion.by,
        at: deps.now().toISOString(),
      },
    ];
  }
}

/** The use cases over `deps`, acting as `actor` (undefined: nobody named, as in `init`). */
export function createUseCases(deps: ServiceDeps, actor: string | undefined): UseCases {
  return {
    applyPolicy: (source, file) => applyPolicy(deps, actor, source, file),
    activePolicy: async () => {
      const p = await activePolicy(deps.store);
      return p && { name: p.name, version: p.version, digest: p.digest, appliedAt: p.appliedAt, appliedBy: p.appliedBy, stages: p.policy.stages.map((s) => s.name) };
    },
    listPolicies: () => listPolicies(deps.store),
    showPolicy: (version) => showPolicy(deps.store, version),
    diffPolicy: (source, file) => diffPolicy(deps.store, source, file, deps.now()),
    createRelease: (manifest) => createRelease(deps, actor, manifest),
    listReleases: (filter) => listReleases(deps.store, filter),
    showRelease: (ref) => showRelease(deps.store, ref),
    status: (ref, stage) => decide(deps.store, ref, stage, deps.now(), actor),
    check: (input) => completeItem(deps, actor, input),
    draftSignoffs: (req) => draftSignoffs(deps.store, actor, req, deps.now()),
    recordSignoffs: (signed) => recordSignoffs(deps, actor, signed),
    draftException: (req) => draftException(deps.store, actor, req, deps.now()),
    recordException: (signed) => recordException(deps, actor, signed),
    planValidations: async (ref, stage, only) => {
      // Refuse before anything runs: a long validation whose results would be refused helps nobody.
      requireValidator((await requirePolicy(deps.store)).policy, actor);
      return planValidations(deps.store, ref, stage, only);
    },
    recordValidations: (ref, results, inputs) => recordValidations(deps, actor, ref, results, inputs),
    blob: async (digest) => {
      if (!DIGEST_PATTERN.test(digest)) throw tollgateError('TG_USAGE', `"${digest}" is not a digest: expected sha256: and 64 lowercase hex digits`);
      return deps.store.blob(digest as Digest);
    },
    baselineMetrics: (subject, ref) => baselineMetrics(deps.store, subject, ref),
    evidence: async (ref) => {
      const release = await requireRelease(deps.store, ref);
      return { release: await showRelease(deps.store, ref), evidence: await deps.store.evidence(release.digest) };
    },
    // The hand-offs run after the move has committed, whatever becomes of them (service/handoff.ts).
    promote: async (ref, stage, opts) => {
      const result = await promote(deps, actor, ref, stage, opts);
      return result.promotion ? withHandoff(result, await handOffSafely(deps, result.promotion)) : result;
    },
    rollback: async (subject, stage, reason) => {
      const result = await rollback(deps, actor, subject, stage, reason);
      return withHandoff(result, await handOffSafely(deps, result.promotion));
    },
    clearHold: (ref, stage, reason) => clearHold(deps, actor, ref, stage, reason),
    openIncident: (subject, stage, reason) => openIncident(deps, actor, subject, stage, reason),
    resolveIncident: (id, note) => resolveIncident(deps, actor, id, note),
    listIncidents: (filter) => listIncidents(deps.store, filter),
    metrics: (query) => deliveryMetrics(deps.store, query ?? {}, deps.now()),
    retryHandoffs: (ref, stage) => retryHandoffs(deps, actor, ref, stage),
    auditVerify: (opts) => verifyAudit(deps.store, deps.serverKey, { ...opts, keys: deps.previousKeys ?? [] }),
    auditLog: (query) => readAuditLog(deps.store, query, deps.now()),
    auditCheckpoint: async () => {
      const c = await deps.store.latestCheckpoint();
      return c && { size: c.size, root: c.root, at: c.at, note: c.note };
    },
    serverKey: async () => ({ publicKey: formatPublicKey(createPublicKey(deps.serverKey)) }),
    // Loaded when asked for: it builds (and parses) attestations, which no decision needs.
    attest: async (ref, stage) => (await import('./attest.js')).attest(deps, ref, stage),
  };
}

/**
 * Passkeys and passkey sign-offs, acting for one signed-in user: what the review desk's pages and
 * the passkey API routes call. Kept apart from `UseCases` because they need a browser (a WebAuthn
 * ceremony): the CLI's clients do not offer them, except listing and revoking (client/admin.ts).
 */
export interface PasskeyUseCases {
  /** Registration options for the user; keep `challenge` (in the session) for `register`. */
  registrationOptions(rp: Pick<RelyingParty, 'id' | 'name'>): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: string }>;
  register(req: { response: RegistrationResponseJSON; expectedChallenge: string; rp: Pick<RelyingParty, 'id' | 'origin'> }): Promise<{ credentialId: string }>;
  /** Everyone's passkeys for an admin, else the user's own; `user` narrows (TG_NOT_ALLOWED for someone else's without admin). */
  list(user?: string): Promise<PasskeyInfo[]>;
  /** Revokes a passkey: an admin's right, or its owner's. */
  revoke(credentialId: string): Promise<PasskeyInfo>;
  /** The user's sign-off as WebAuthn request options and the exact payload the assertion will sign. */
  signoffOptions(req: Omit<PasskeySignoffRequest, 'signer'>): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; draft: SignoffPayload }>;
  /** Records the user's passkey sign-off: the same result as `recordSignoffs`. */
  recordSignoff(req: { draft: SignoffPayload; response: AuthenticationResponseJSON; rp: Pick<RelyingParty, 'id' | 'origin'> }): Promise<Signoff[]>;
}

/** The passkey use cases over `deps`, acting as `actor` (the signed-in user). */
export function createPasskeyUseCases(deps: ServiceDeps, actor: string | undefined): PasskeyUseCases {
  const me = (): string => {
    if (!actor) throw tollgateError('TG_IDENTITY_REQUIRED', 'passkeys belong to a signed-in roster member');
    return actor;
  };
  return {
    registrationOptions: async (rp) => passkeyRegistrationOptions(deps, { user: me(), rp }),
    register: async (req) => registerPasskey(deps, { user: me(), ...req }),
    list: (user) => listPasskeysAs(deps, actor, user),
    revoke: (credentialId) => revokePasskey(deps, { actor, credentialId }),
    signoffOptions: async (req) => passkeySignoffOptions(deps, { ...req, signer: me() }),
    recordSignoff: async (req) => recordPasskeySignoff(deps, { ...req, actor: me() }),
  };
}
