/**
 * The shared vocabulary of Tollgate as types (DESIGN.md, Vocabulary). Pure data: no I/O here.
 */
import type { Digest } from './digest.js';

export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

export const OUTCOMES = ['satisfied', 'missing', 'failed', 'errored', 'stale', 'expired', 'waived'] as const;
/**
 * `failed`: the policy said no; `errored`: the check could not run; kept apart on purpose. `waived`: not
 * met, but a role the gate's `waivers` names accepted the risk for this release until a time; it lets
 * the gate pass and never reads as `satisfied`.
 */
export type Outcome = (typeof OUTCOMES)[number];

export type RequirementKind = 'checklist' | 'signoff' | 'validation' | 'stage';

// ---------------------------------------------------------------- policy

export interface RosterEntry {
  readonly roles: readonly string[];
  /** `ed25519:` + base64 of the SubjectPublicKeyInfo DER. */
  readonly key: string;
}

export interface StageDef {
  readonly name: string;
  /** The release must have been promoted into this stage before. */
  readonly after?: string;
  /**
   * Windows during which nothing is promoted into the stage: ISO 8601 intervals `start/end`, or
   * recurring windows (a cron expression in a time zone, for a duration).
   */
  readonly freeze?: readonly FreezeDef[];
  /**
   * A duration (`24h`): the release must have held the `after` stage this long, without a break,
   * before it may enter this one.
   */
  readonly soak?: string;
  /** Roles that may promote into the stage; any roster member when absent. */
  readonly promoters?: readonly string[];
  /** Roles that may roll the stage back; any roster member when absent. */
  readonly rollback?: readonly string[];
  /** Roles that may clear a rollback's hold on a release (`release clear`); `release-manager` and `admin` when absent. */
  readonly clear?: readonly string[];
  /**
   * Break-glass: who may sign off a promotion into the stage despite a freeze or unmet requirements
   * (`promote --break-glass`), and the follow-up checklist such a promotion opens.
   */
  readonly breakGlass?: BreakGlassDef;
  /**
   * Hand-offs to deployment, run in order after a promotion into the stage commits (docs/handoff.md):
   * never part of the decision, and a failed one never undoes the promotion.
   */
  readonly handoff?: readonly HandoffDef[];
}

/** A stage's break-glass: the role whose sign-off lets a promotion past its gates, and what must follow. */
export interface BreakGlassDef {
  readonly role: string;
  /** Items to complete after a break-glass promotion (`tollgate check REL ITEM --to STAGE`). */
  readonly followUp?: readonly ChecklistItemDef[];
}

/** Set a field at a dotted path (`image.tag`, `images.0.newTag`) of a YAML file to a template. */
export interface HandoffYamlSet {
  readonly path: string;
  /** `{subject}`, `{version}`, `{stage}`, `{releaseDigest}`, `{artifact.NAME.sha256}` … are filled in. */
  readonly value: string;
}

/** GitOps: write the release to a file in a Git repository (or set one field of a YAML file there), commit and push. */
export interface HandoffGit {
  readonly git: {
    /** A path to a repository on this machine or a URL `git` can push to. */
    readonly repo: string;
    /** The branch to commit on; `main` when absent. */
    readonly branch?: string;
    /** The file inside the repository. */
    readonly file: string;
    /** When given, the file is an existing YAML file and only this field changes; otherwise the file is the release as JSON. */
    readonly set?: HandoffYamlSet;
  };
}

/** Run a program (no shell) with the release as JSON on its standard input. */
export interface HandoffCommand {
  readonly command: readonly string[];
  /** A duration; `60s` when absent. */
  readonly timeout?: string;
}

/** POST the release as JSON to a URL, or to a registered webhook (by id, signed with its secret). */
export interface HandoffWebhook {
  readonly webhook: string;
  readonly timeout?: string;
}

export type HandoffDef = HandoffGit | HandoffCommand | HandoffWebhook;
export type HandoffKind = 'git' | 'command' | 'webhook';
export const HANDOFF_OUTCOMES = ['succeeded', 'failed'] as const;
export type HandoffOutcome = (typeof HANDOFF_OUTCOMES)[number];

/**
 * The outcome of one hand-off of one promotion: the latest attempt. Vouched for by the audit log
 * (`HandoffRecorded`); a retry claims the row again.
 */
export interface HandoffRecord {
  /** `PROMOTION_ID/INDEX`: the promotion and the hand-off's place in its stage's list. */
  readonly id: string;
  readonly promotionId: string;
  readonly subject: string;
  readonly stage: string;
  readonly version: string;
  readonly releaseDigest: Digest;
  readonly index: number;
  readonly kind: HandoffKind;
  /** Where it went, for people: `git /srv/deploy.git main:deploy/prod.json`, the command line, the URL. */
  readonly target: string;
  /** The digest of the definition that ran (a retry under a changed policy runs the new one). */
  readonly definitionDigest: Digest;
  readonly outcome: HandoffOutcome;
  readonly attempts: number;
  /** Why it failed, bounded. */
  readonly error?: string;
  /** The commit a Git hand-off made (or found already there). */
  readonly commit?: string;
  readonly by: string;
  readonly at: string;
}

/** A recurring freeze window: from each time `cron` fires in `timezone`, for `duration` on the local clock. */
export interface RecurringFreeze {
  readonly cron: string;
  readonly duration: string;
  /** IANA zone name: `Europe/Berlin`, `America/New_York`, `UTC`. */
  readonly timezone: string;
}

/** A freeze window as the policy writes it: an interval `start/end`, or a recurring window. */
export type FreezeDef = string | RecurringFreeze;

export interface ChecklistItemDef {
  readonly id: string;
  readonly text?: string;
  /** `required`: a file or URL must be attached when the item is completed. */
  readonly evidence?: 'required' | 'optional';
  /** Roles allowed to complete the item; any roster member when absent. */
  readonly roles?: readonly string[];
  readonly when?: string;
}

export interface SignoffRuleDef {
  readonly role: string;
  readonly count: number;
  readonly when?: string;
  /**
   * Preconditions checked when the sign-off is given: these gates (by id) are satisfied for the
   * release at that moment, so a reviewer signs what the automated checks already passed.
   */
  readonly after?: readonly string[];
  /** Precondition: the release holds this stage when the sign-off is given. */
  readonly inStage?: string;
  /**
   * Evidence recorded after the sign-off (a new validation result, a checklist completion) makes it
   * `stale`. By default a sign-off keeps counting: it records the evidence it saw, and that is enough.
   */
  readonly staleOnNewEvidence?: boolean;
}

export interface ValidationDef {
  readonly id: string;
  readonly uses: string;
  readonly with?: Readonly<Record<string, unknown>>;
  readonly when?: string;
}

export interface GateDef {
  readonly id: string;
  readonly stage: string;
  readonly when?: string;
  readonly separationOfDuties?: boolean;
  /** A Go-style duration (`168h`, `30m`, `7d`) after which a sign-off no longer counts. */
  readonly expires?: string;
  readonly checklist?: readonly ChecklistItemDef[];
  readonly signoffs?: readonly SignoffRuleDef[];
  readonly validations?: readonly ValidationDef[];
  /** Roles that may waive a requirement of this gate for one release, with a reason and an expiry. */
  readonly waivers?: readonly string[];
}

export interface Policy {
  readonly apiVersion: 'tollgate/v1';
  readonly kind: 'Policy';
  readonly name: string;
  readonly roster: Readonly<Record<string, RosterEntry>>;
  readonly stages: readonly StageDef[];
  readonly gates: readonly GateDef[];
}

/**
 * The roster entry of `user`, or undefined. Own properties only: the roster is a plain object and
 * `--as constructor` or a token's user `toString` names no one, not a function of Object.prototype.
 * Every lookup of a user in a roster goes through here.
 */
export function rosterEntry(policy: Pick<Policy, 'roster'>, user: string): RosterEntry | undefined {
  return Object.hasOwn(policy.roster, user) ? policy.roster[user] : undefined;
}

/** A recorded version of a policy. */
export interface PolicyVersion {
  readonly version: number;
  readonly digest: Digest;
  readonly name: string;
  readonly policy: Policy;
  readonly source: string;
  readonly appliedAt: string;
  readonly appliedBy: string;
}

// ---------------------------------------------------------------- release

export const ARTIFACT_KINDS = ['model', 'dataset', 'code', 'config', 'infrastructure', 'other'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface Artifact {
  readonly name: string;
  readonly kind: ArtifactKind;
  readonly path?: string;
  readonly uri?: string;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
  readonly size?: number;
}

export interface LineageStep {
  readonly from: readonly string[];
  readonly to: string;
  readonly step?: string;
}

/** The normalized content of a release manifest; its canonical JSON digest is the release digest. */
export interface ReleaseManifest {
  readonly subject: string;
  readonly version: string;
  readonly risk: RiskTier;
  readonly owner: string;
  readonly artifacts: readonly Artifact[];
  readonly lineage?: readonly LineageStep[];
  readonly testedIn?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * An unplanned fix (a hotfix, a patch for an incident): counted by the rework rate of `tollgate
   * metrics` (docs/metrics.md). Absent on a planned release, so older manifests keep their digest.
   */
  readonly unplanned?: boolean;
  /**
   * When the change was committed (RFC 3339 with its zone): lead time counts from it instead of from
   * the release's creation (docs/metrics.md).
   */
  readonly commitTime?: string;
}

export interface Release {
  readonly subject: string;
  readonly version: string;
  readonly digest: Digest;
  readonly manifest: ReleaseManifest;
  readonly createdAt: string;
  readonly createdBy: string;
}

export function releaseName(r: { subject: string; version: string }): string {
  return `${r.subject}@${r.version}`;
}

// ---------------------------------------------------------------- evidence

export interface EvidenceAttachment {
  readonly name: string;
  readonly digest?: Digest;
  readonly size?: number;
  readonly uri?: string;
}

export interface ChecklistCompletion {
  readonly id: string;
  readonly releaseDigest: Digest;
  readonly stage: string;
  readonly gateId: string;
  readonly itemId: string;
  /** Digest of the item's definition when it was completed: a changed item makes it `stale`. */
  readonly itemDigest: Digest;
  readonly by: string;
  readonly at: string;
  readonly evidence?: EvidenceAttachment;
  readonly note?: string;
}

export type SignoffDecision = 'approve' | 'reject';

/** The roster role that may apply policies and manage tokens, webhooks and anyone's passkeys. */
export const ADMIN_ROLE = 'admin';

/** The exact fields a signer signs (canonical JSON); see `signoff.ts`. */
export interface SignoffPayload {
  readonly type: 'tollgate/signoff/v1';
  readonly release: string;
  readonly releaseDigest: Digest;
  readonly stage: string;
  readonly gate: string;
  readonly gateDigest: Digest;
  readonly role: string;
  readonly decision: SignoffDecision;
  readonly signer: string;
  readonly at: string;
  readonly comment?: string;
  /**
   * The digest of the evidence the signer saw (`evidenceSetDigest`: the release's checklist
   * completions and validation results for the stage). Signed with the rest, so what a reviewer
   * looked at is part of what they approved.
   */
  readonly evidenceDigest?: Digest;
}

/**
 * How a sign-off is signed: `ed25519` (the CLI, with the key the roster holds; the default, and what
 * a sign-off without a kind is) or `webauthn` (a passkey assertion in the browser, whose challenge is
 * the digest of the same payload; see `webauthn.ts`).
 */
export type SignatureKind = 'ed25519' | 'webauthn';

/**
 * A WebAuthn assertion over a sign-off, as the browser returned it (base64url, unchanged), with the
 * relying party the server checked it for. The signature is the sign-off's `signature`.
 */
export interface WebauthnAssertion {
  /** The passkey's credential id, base64url: which registered passkey signed. */
  readonly credentialId: string;
  readonly authenticatorData: string;
  readonly clientDataJSON: string;
  /** The RP ID the server was configured with (its public URL's host name). */
  readonly rpId: string;
  /** The origin the server was configured with (its public URL's origin). */
  readonly origin: string;
}

export interface Signoff extends SignoffPayload {
  readonly id: string;
  /** base64 Ed25519 signature over the canonical JSON of the payload; for `webauthn`, the assertion's signature, base64url. */
  readonly signature: string;
  /** Absent: `ed25519`. */
  readonly signatureKind?: SignatureKind;
  /** With `signatureKind: 'webauthn'`: the rest of the assertion. */
  readonly webauthn?: WebauthnAssertion;
}

/** A registered passkey's public key as a decision needs it: whose it is, and for which relying party. */
export interface PasskeyKey {
  /** The credential id, base64url. */
  readonly credentialId: string;
  readonly user: string;
  /** The public key as base64 of its SubjectPublicKeyInfo DER (EC P-256, Ed25519 or RSA). */
  readonly publicKey: string;
  readonly rpId: string;
}

/** The passkeys a decision may count sign-offs of, by credential id: registered, vouched for, not revoked then. */
export type PasskeyKeys = ReadonlyMap<string, PasskeyKey>;

export type ValidationStatus = 'passed' | 'failed' | 'errored';

export interface ValidationResult {
  readonly id: string;
  readonly releaseDigest: Digest;
  readonly stage: string;
  readonly gateId: string;
  readonly validationId: string;
  readonly validator: string;
  readonly validatorVersion: string;
  readonly definitionDigest: Digest;
  readonly status: ValidationStatus;
  /** One line with the measured value and the threshold. */
  readonly summary: string;
  readonly measurements: Readonly<Record<string, unknown>>;
  readonly thresholds: Readonly<Record<string, unknown>>;
  /** Digest of each input when it was read, keyed by the path or URI as written in `with`. */
  readonly inputs: Readonly<Record<string, Digest>>;
  readonly details?: unknown;
  readonly durationMs: number;
  readonly by: string;
  readonly at: string;
}

/** `waiver`: a requirement accepted as a risk; `break-glass`: a promotion allowed past its gates. */
export type ExceptionKind = 'waiver' | 'break-glass';

/**
 * The exact fields an exception sign-off's signer signs (canonical JSON; see exception.ts): a waiver
 * of one requirement of one gate until `expiresAt`, or a break-glass sign-off for one stage. Both are
 * bound to the release digest, name the role they are given in, and carry the reason.
 */
export interface ExceptionPayload {
  readonly type: 'tollgate/exception/v1';
  readonly kind: ExceptionKind;
  readonly release: string;
  readonly releaseDigest: Digest;
  readonly stage: string;
  readonly role: string;
  readonly signer: string;
  readonly at: string;
  readonly reason: string;
  /** Waiver: the gate, its definition when signed, and the requirement's id (`signoff:ROLE` for a sign-off rule). */
  readonly gate?: string;
  readonly gateDigest?: Digest;
  readonly requirement?: string;
  /** Waiver: until when it counts (exclusive), ISO 8601. */
  readonly expiresAt?: string;
}

/** A recorded waiver or break-glass sign-off, with its Ed25519 signature over the payload. */
export interface ExceptionSignoff extends ExceptionPayload {
  readonly id: string;
  /** base64 Ed25519 signature over the canonical JSON of the payload, by the roster key of `signer`. */
  readonly signature: string;
}

export interface EvidenceSet {
  readonly checklist: readonly ChecklistCompletion[];
  readonly signoffs: readonly Signoff[];
  readonly validations: readonly ValidationResult[];
  /** Waivers and break-glass sign-offs; absent when there are none (so records without them read as before). */
  readonly exceptions?: readonly ExceptionSignoff[];
}

// ---------------------------------------------------------------- promotion

export interface Promotion {
  readonly id: string;
  readonly subject: string;
  readonly stage: string;
  readonly version: string;
  readonly releaseDigest: Digest;
  readonly policyVersion: number;
  readonly policyDigest: Digest;
  readonly kind: 'promotion' | 'rollback';
  readonly by: string;
  readonly at: string;
  /** The version that held the stage before, if any. */
  readonly previousVersion?: string;
  readonly reason?: string;
  /** Present only on a break-glass promotion: what it went past, on whose sign-off, and why. */
  readonly breakGlass?: BreakGlassMark;
}

/** What marks a break-glass promotion (its row, its `ReleasePromoted` event, its attestation). */
export interface BreakGlassMark {
  readonly reason: string;
  /** The break-glass sign-off's id, who gave it and in which role. */
  readonly signoff: string;
  readonly signer: string;
  readonly role: string;
  /** The requirements that were not met, `gate/requirement outcome`, as `promote` lists them. */
  readonly unmet: readonly string[];
}

/**
 * What a rollback leaves behind: the release it took out of the stage is held out of that stage (and
 * of the stages whose order goes through it) until a person with a role the stage's `clear` names
 * lifts the hold with a reason. The promotion it undid counts as a failed change.
 */
export interface StageHold {
  /** The id of the rollback that made it (its promotion row). */
  readonly id: string;
  readonly subject: string;
  readonly stage: string;
  /** The release rolled back out of the stage. */
  readonly version: string;
  readonly releaseDigest: Digest;
  /** The promotion that was undone: a failed change. */
  readonly promotionId: string;
  readonly by: string;
  readonly at: string;
  readonly reason: string;
  readonly cleared?: { readonly by: string; readonly at: string; readonly reason: string };
}

// ---------------------------------------------------------------- incident

/**
 * Something went wrong with the release that holds a stage (`tollgate incident open SUBJECT --stage S
 * --reason T`): linked to that release and to the promotion that put it there, until someone resolves
 * it. Incidents feed the delivery metrics: the promotion counts as a failed change, and the time from
 * opening to resolving is a time to restore (docs/metrics.md).
 */
export interface Incident {
  readonly id: string;
  readonly subject: string;
  readonly stage: string;
  /** The release that held the stage when the incident was opened. */
  readonly version: string;
  readonly releaseDigest: Digest;
  /** The promotion (or rollback) that put that release into the stage. */
  readonly promotionId: string;
  readonly openedBy: string;
  readonly openedAt: string;
  readonly reason: string;
  readonly resolved?: { readonly by: string; readonly at: string; readonly note?: string };
}

// ---------------------------------------------------------------- decision

export interface RequirementResult {
  readonly id: string;
  readonly kind: RequirementKind;
  readonly outcome: Outcome;
  /** What holds and, when not satisfied, what to do and who can do it. */
  readonly reason: string;
  readonly text?: string;
  readonly role?: string;
  readonly count?: number;
  /** Sign-offs that count, by signer. */
  readonly signers?: readonly string[];
  /** Who can provide what is missing. */
  readonly canProvide?: readonly string[];
  /** When time alone will satisfy it (a soak still running), ISO 8601. */
  readonly allowedAt?: string;
  /** With outcome `waived`: the waiver that accepts it, and the outcome it has without the waiver. */
  readonly waiver?: RequirementWaiver;
}

/** A waiver as a decision shows it. */
export interface RequirementWaiver {
  readonly id: string;
  readonly by: string;
  readonly role: string;
  readonly reason: string;
  readonly at: string;
  readonly expiresAt: string;
  /** The requirement's outcome without the waiver. */
  readonly outcome: Outcome;
}

export interface GateResult {
  readonly id: string;
  readonly outcome: Outcome;
  readonly digest?: Digest;
  readonly requirements: readonly RequirementResult[];
}

export interface Decision {
  readonly release: string;
  readonly releaseDigest: Digest;
  readonly stage: string;
  readonly policy: { readonly name: string; readonly digest: Digest; readonly version?: number };
  readonly promotable: boolean;
  readonly evaluatedAt: string;
  readonly gates: readonly GateResult[];
  /** Gates of this stage whose `when` does not hold for this release. */
  readonly notApplicable: readonly string[];
  /** Hand-offs to deployment of the release's latest promotion into the stage, if any ran (status only). */
  readonly handoff?: readonly HandoffRecord[];
  /**
   * The follow-up items of the release's break-glass promotions into this stage, open or done
   * (exception.ts `FollowUp`); absent when it was never promoted there with break-glass.
   */
  readonly followUps?: readonly FollowUpItem[];
}

/** One follow-up item of a break-glass promotion, and whether it was completed since. */
export interface FollowUpItem {
  readonly stage: string;
  /** The break-glass promotion it follows. */
  readonly promotion: string;
  readonly item: string;
  readonly text?: string;
  readonly evidence?: 'required' | 'optional';
  readonly roles?: readonly string[];
  /** Absent while it is open. */
  readonly done?: { readonly by: string; readonly at: string; readonly evidence?: EvidenceAttachment };
}
