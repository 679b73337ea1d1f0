/**
 * The shapes of the API's requests, as zod schemas: the same schema validates a request and describes
 * it in `/openapi.json`, so the two cannot disagree. Objects are strict (an unknown field is refused,
 * not ignored: a typo must not silently drop a value), strings are bounded. Rules that need the store
 * (is this a known release, does the user hold the role) stay in the service layer, so the local and
 * the HTTP client answer them alike.
 */
import * as z from 'zod';
import { DIGEST_PATTERN } from '../domain/digest.js';
import { RFC3339, SUBJECT_PATTERN, VERSION_PATTERN } from '../domain/release-digest.js';
import { ARTIFACT_KINDS, RISK_TIERS } from '../domain/model.js';
import { NAME_PATTERN } from '../domain/policy-digests.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The most bytes one evidence file may have; its base64 text is a third larger. */
export const MAX_EVIDENCE_BYTES = 10 * MiB;

/** Request body limits (Fastify's `bodyLimit`), one table. */
export const BODY_LIMITS = {
  /** Every route that does not say otherwise. */
  default: 1 * MiB,
  /** A checklist completion carrying an evidence file as base64, with room for the JSON around it. */
  evidence: Math.ceil((MAX_EVIDENCE_BYTES * 4) / 3) + 64 * KiB,
  /** Validation results: measurements and details of many columns or slices. */
  validations: 10 * MiB,
} as const;

/** A short name: a stage, role, gate, item or validation id, a user. */
export const Name = z.string().min(1).max(200);
/** Free text a person writes: a note, a comment, a reason. */
export const Text = z.string().max(10 * KiB);
export const Digest = z.string().regex(DIGEST_PATTERN, 'must be sha256: followed by 64 lowercase hex digits');
/** `SUBJECT@VERSION`; its form is checked by the service, which names the rule (TG_RELEASE_REF_INVALID). */
export const ReleaseRef = z.string().min(1).max(400);

// ---------------------------------------------------------------- path parameters

export const RefParams = z.strictObject({ ref: ReleaseRef });
export const RefStageParams = z.strictObject({ ref: ReleaseRef, stage: Name });
export const SubjectParams = z.strictObject({ subject: Name });
export const SubjectRefParams = z.strictObject({ subject: Name, ref: ReleaseRef });
export const IdParams = z.strictObject({ id: Name });

/** A WebAuthn credential id: base64url, as the authenticator made it (the router takes path parts of up to 500 characters). */
export const PasskeyIdParams = z.strictObject({ id: z.string().min(1).max(500).regex(/^[A-Za-z0-9_-]+$/, 'must be a credential id: base64url') });
export const PasskeysQuery = z.strictObject({ user: Name.optional() });

// ---------------------------------------------------------------- bodies and queries

export const ApplyPolicyBody = z.strictObject({
  /** The policy YAML as written. */
  source: z.string().max(1 * MiB),
  /** The file name problems are reported against (`tollgate.yaml:3:7`). */
  file: z.string().min(1).max(1 * KiB),
});

/** A policy version number, or `active`. */
export const PolicyVersionParams = z.strictObject({ version: z.string().regex(/^([1-9][0-9]{0,9}|active)$/, 'must be a version number or "active"') });

/** `GET /api/audit/events`: every filter optional (see service/read-audit.ts). */
export const AuditEventsQuery = z.strictObject({
  type: Name.optional(),
  subject: Name.optional(),
  actor: Name.optional(),
  /** A date, a time with its zone, or a duration back from now (`24h`). */
  since: Name.optional(),
  /** The `next` of the previous page. */
  after: z.coerce.number().int().min(0).optional(),
  /** 1 to 1000; default 100. */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const ManifestText = z.string().min(1).max(1 * KiB);

const Artifact = z.strictObject({
  name: ManifestText,
  kind: z.enum(ARTIFACT_KINDS),
  path: ManifestText.optional(),
  uri: z.string().min(1).max(4 * KiB).optional(),
  sha256: Sha256Hex,
  size: z.number().int().min(0).optional(),
});

/**
 * A normalized release manifest (every artifact with its sha256), as `tollgate release create`
 * sends it after digesting the local files. Its canonical JSON is the release digest.
 */
export const ReleaseManifestBody = z
  .strictObject({
    subject: z.string().max(200).regex(SUBJECT_PATTERN, 'must start with a lowercase letter or digit and hold only a-z, 0-9, ".", "_" and "-"'),
    version: z.string().max(200).regex(VERSION_PATTERN, 'must start with a letter or digit and hold only letters, digits, ".", "+", "_" and "-"'),
    risk: z.enum(RISK_TIERS),
    owner: ManifestText,
    artifacts: z.array(Artifact).min(1).max(1000),
    lineage: z
      .array(z.strictObject({ from: z.array(ManifestText).min(1).max(1000), to: ManifestText, step: ManifestText.optional() }))
      .max(1000)
      .optional(),
    testedIn: z.array(ManifestText).max(100).optional(),
    dependencies: z.record(ManifestText, z.string().max(1 * KiB)).optional(),
    labels: z.record(ManifestText, z.string().max(1 * KiB)).optional(),
    unplanned: z.boolean().optional(),
    commitTime: z.string().max(100).regex(RFC3339, 'must be an RFC 3339 time with its zone, e.g. 2026-12-01T09:30:00Z').optional(),
  })
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    m.artifacts.forEach((a, i) => {
      if (names.has(a.name)) ctx.addIssue({ code: 'custom', path: ['artifacts', i, 'name'], message: `artifact name "${a.name}" is used twice` });
      names.add(a.name);
      if (a.path === undefined && a.uri === undefined) ctx.addIssue({ code: 'custom', path: ['artifacts', i], message: 'an artifact needs a path or a uri' });
    });
    m.lineage?.forEach((step, i) => {
      for (const n of [...step.from, step.to]) {
        if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['lineage', i], message: `lineage names an unknown artifact "${n}"` });
      }
    });
  });

export const ListReleasesQuery = z.strictObject({ subject: Name.optional() });


export const StatusQuery = z.strictObject({ stage: Name });

/**
 * An evidence file name: a plain file name. The service keeps only a base name anyway; a name with a
 * path in it is refused here so that a client that sends one learns it.
 */
const EvidenceName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => !/[/\\]/.test(n), 'must be a file name, without "/" or "\\"')
  .refine((n) => n !== '.' && n !== '..', 'must be a file name, not "." or ".."')
  .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), 'must not contain control characters');

export const CheckBody = z.strictObject({
  stage: Name,
  item: Name,
  evidence: z
    .discriminatedUnion('kind', [
      z.strictObject({
        kind: z.literal('file'),
        name: EvidenceName,
        /** The file's bytes, base64 (standard alphabet, padded). */
        content: z.base64().max(BODY_LIMITS.evidence),
      }),
      z.strictObject({ kind: z.literal('url'), uri: z.string().min(1).max(4 * KiB) }),
    ])
    .optional(),
  note: Text.optional(),
});

export const SignoffDraftBody = z.strictObject({
  stage: Name,
  role: Name,
  decision: z.enum(['approve', 'reject']),
  comment: Text.optional(),
});

const SignedSignoff = z.strictObject({
  type: z.literal('tollgate/signoff/v1'),
  release: ReleaseRef,
  releaseDigest: Digest,
  stage: Name,
  gate: Name,
  gateDigest: Digest,
  role: Name,
  decision: z.enum(['approve', 'reject']),
  signer: Name,
  at: z.string().min(1).max(100),
  comment: Text.optional(),
  /** The digest of the evidence the signer saw, signed with the rest. */
  evidenceDigest: Digest.optional(),
  /** base64 Ed25519 signature over the payload's canonical JSON. */
  signature: z.base64().max(1 * KiB),
});

export const RecordSignoffsBody = z.strictObject({ signoffs: z.array(SignedSignoff).min(1).max(100) });

export const ValidationPlanQuery = z.strictObject({ stage: Name, only: Name.optional() });

const NewValidationResult = z.strictObject({
  releaseDigest: Digest,
  stage: Name,
  gateId: Name,
  validationId: Name,
  validator: Name,
  validatorVersion: Name,
  definitionDigest: Digest,
  status: z.enum(['passed', 'failed', 'errored']),
  summary: Text,
  measurements: z.record(z.string(), z.unknown()),
  thresholds: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string().min(1).max(4 * KiB), Digest),
  details: z.unknown().optional(),
  durationMs: z.number().min(0).max(1e12),
});

export const RecordValidationsBody = z.strictObject({
  results: z.array(NewValidationResult).max(1000),
  /** Copies of small input files, kept with the results (service/validate.ts: MAX_INPUT_COPY_BYTES). */
  inputs: z.array(z.strictObject({ digest: Digest, content: z.base64().max(Math.ceil((256 * KiB * 4) / 3) + 4) })).max(256).optional(),
});

export const BlobParams = z.strictObject({ digest: Digest });

export const PromoteBody = z.strictObject({
  stage: Name,
  /** `promote --break-glass --reason T`: past a freeze or unmet requirements, on a break-glass sign-off. */
  breakGlass: z.strictObject({ reason: Text }).optional(),
});

export const ExceptionDraftBody = z.strictObject({
  stage: Name,
  role: Name,
  kind: z.enum(['waiver', 'break-glass']),
  reason: Text,
  /** Waiver: `GATE/REQUIREMENT`. */
  waive: z.string().min(3).max(300).optional(),
  /** Waiver: a duration, at most 90d. */
  expires: z.string().min(1).max(50).optional(),
});

export const SignedException = z.strictObject({
  type: z.literal('tollgate/exception/v1'),
  kind: z.enum(['waiver', 'break-glass']),
  release: ReleaseRef,
  releaseDigest: Digest,
  stage: Name,
  role: Name,
  signer: Name,
  at: z.string().min(1).max(100),
  reason: Text,
  gate: Name.optional(),
  gateDigest: Digest.optional(),
  requirement: z.string().min(1).max(300).optional(),
  expiresAt: z.string().min(1).max(100).optional(),
  /** base64 Ed25519 signature over the payload's canonical JSON. */
  signature: z.base64().max(1 * KiB),
});

export const RollbackBody = z.strictObject({ stage: Name, reason: Text });

export const ClearBody = z.strictObject({ stage: Name, reason: Text });

export const OpenIncidentBody = z.strictObject({ stage: Name, reason: Text });

export const ResolveIncidentBody = z.strictObject({ note: Text.optional() });

/** `GET /api/incidents`: `open=true` for the unresolved ones only. */
export const IncidentsQuery = z.strictObject({ subject: Name.optional(), open: z.enum(['true', 'false']).optional() });

/** `GET /api/metrics` (see service/metrics.ts). */
export const MetricsQuery = z.strictObject({
  subject: Name.optional(),
  /** A date, a time with its zone, or a duration back from now (`30d`), as for the audit log. */
  since: Name.optional(),
  /** The stage the DORA figures are about; the policy's last stage when absent. */
  stage: Name.optional(),
});
export const HandoffRetryBody = z.strictObject({ stage: Name });

export const AuditVerifyBody = z.strictObject({
  /** A checkpoint note kept elsewhere (`tollgate audit checkpoint`): the log must extend it. */
  since: z.string().max(64 * KiB).optional(),
});

export const CreateTokenBody = z.strictObject({
  user: z.string().max(200).regex(NAME_PATTERN, 'must be a roster name: letters, digits, ".", "_" and "-"'),
  /** How long the token lasts: `30d`, `12h`; none: until revoked. */
  expires: z.string().min(1).max(50).optional(),
});

export const Empty = z.strictObject({});

export const CreateWebhookBody = z.strictObject({
  url: z.string().min(1).max(2 * KiB),
  /** Event types, or `*` for all; checked against the known ones by the service. */
  events: z.array(z.string().min(1).max(100)).min(1).max(20),
  /** The HMAC key (16 characters or more); generated when absent. */
  secret: z.string().min(16).max(500).optional(),
  /** `json` (default), `slack` or `teams`; checked by the service (TG_WEBHOOK_FORMAT_UNKNOWN), as locally. */
  format: z.string().min(1).max(40).optional(),
});

export const DeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  /** 1 to 1000; default 100. */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
