/**
 * The one interface the CLI talks to (DESIGN.md, Shape): a local implementation over the service
 * layer, and later an HTTP one for `--server URL`, so commands never know which they use.
 */
import type { Decision, Promotion, ReleaseManifest, Signoff, SignoffPayload, ValidationResult } from '../domain/model.js';
import type { ApplyPolicyResult } from '../service/apply-policy.js';
import type { CheckInput, CheckResult } from '../service/check.js';
import type { CreateReleaseResult } from '../service/create-release.js';
import type { PromoteResult } from '../service/promote.js';
import type { ReleaseDetail, ReleaseSummary } from '../service/read-release.js';
import type { RollbackResult } from '../service/rollback.js';
import type { SignoffDraft, SignoffRequest } from '../service/signoff.js';
import type { NewValidationResult, ValidationPlan } from '../service/validate.js';
import type { AuditVerifyResult } from '../service/verify-audit.js';
import type { DsseEnvelope } from '../audit/dsse.js';

export interface PolicyInfo {
  readonly name: string;
  readonly version: number;
  readonly digest: string;
  readonly appliedAt: string;
  readonly appliedBy: string;
  /** Stage names in the order the policy lists them. */
  readonly stages: readonly string[];
}

export interface Client {
  applyPolicy(source: string, file: string): Promise<ApplyPolicyResult>;
  activePolicy(): Promise<PolicyInfo | undefined>;
  createRelease(manifest: ReleaseManifest): Promise<CreateReleaseResult>;
  listReleases(filter?: { subject?: string }): Promise<ReleaseSummary[]>;
  showRelease(ref: string): Promise<ReleaseDetail>;
  status(ref: string, stage: string): Promise<Decision>;
  check(input: CheckInput): Promise<CheckResult>;
  draftSignoffs(req: SignoffRequest): Promise<SignoffDraft>;
  recordSignoffs(signed: readonly (SignoffPayload & { signature: string })[]): Promise<Signoff[]>;
  /** The validations to run for a stage; refuses a caller who may not submit results. */
  planValidations(ref: string, stage: string, only?: string): Promise<ValidationPlan>;
  recordValidations(ref: string, results: readonly NewValidationResult[]): Promise<ValidationResult[]>;
  baselineMetrics(subject: string, ref: string): Promise<{ release: string; metrics: Record<string, unknown> } | undefined>;
  /** Everything recorded for a release: evidence and promotions, for reports. */
  evidence(ref: string): Promise<ReleaseEvidence>;
  promote(ref: string, stage: string): Promise<PromoteResult>;
  rollback(subject: string, stage: string, reason: string): Promise<RollbackResult>;
  auditVerify(opts?: { since?: string }): Promise<AuditVerifyResult>;
  /** The newest signed checkpoint of the audit log. */
  auditCheckpoint(): Promise<{ size: number; root: string; at: string; note: string } | undefined>;
  /** The DSSE-signed attestation of the release's promotion into the stage. */
  attest(ref: string, stage: string): Promise<DsseEnvelope>;
  close(): Promise<void>;
}

export interface ReleaseEvidence {
  readonly release: ReleaseDetail;
  readonly evidence: import('../domain/model.js').EvidenceSet;
}

export type { Promotion };
