/**
 * Kysely table types of the Tollgate database, as `src/store/migrations/` creates it. One schema for
 * SQLite and PostgreSQL, so only portable column types are used: JSON is kept as TEXT (written and
 * read by the store, never queried inside), times as ISO 8601 TEXT (they sort as text), integers fit
 * in 32 bits. Columns are snake_case; a field named `by` is stored as `by_user` because `BY` is a
 * reserved word that hand-written SQL would trip over.
 */

/** Every recorded policy version; `version` counts 1, 2, … in the order of `policy apply`. */
export interface PoliciesTable {
  version: number;
  digest: string;
  name: string;
  /** The YAML as applied, for display and for `policy show`. */
  source: string;
  policy_json: string;
  applied_at: string;
  applied_by: string;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

/** Releases, immutable: `(subject, version)` names exactly one digest. */
export interface ReleasesTable {
  digest: string;
  subject: string;
  version: string;
  manifest_json: string;
  created_at: string;
  created_by: string;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

/** Content-addressed bytes (evidence files, reports); `content` is BLOB on SQLite, BYTEA on PostgreSQL. */
export interface BlobsTable {
  digest: string;
  content: Uint8Array;
  size: number;
}

export interface ChecklistCompletionsTable {
  id: string;
  release_digest: string;
  stage: string;
  gate_id: string;
  item_id: string;
  item_digest: string;
  by_user: string;
  at: string;
  /** JSON of an `EvidenceAttachment`. */
  evidence_json: string | null;
  note: string | null;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

/** Every `SignoffPayload` field, so the signature can be checked again from the row alone. */
export interface SignoffsTable {
  id: string;
  type: string;
  release: string;
  release_digest: string;
  stage: string;
  gate: string;
  gate_digest: string;
  role: string;
  decision: string;
  signer: string;
  at: string;
  comment: string | null;
  signature: string;
  /** The signed digest of the evidence the signer saw (migration 0005). */
  evidence_digest: string | null;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
  /** `webauthn` for a passkey sign-off; null: `ed25519` (migration 0006). */
  signature_kind: string | null;
  /** JSON of the `WebauthnAssertion` of a passkey sign-off (migration 0006). */
  webauthn_json: string | null;
}

/** Passkeys (migration 0006): WebAuthn credentials bound to roster users. */
export interface PasskeysTable {
  /** The credential id, base64url. */
  id: string;
  user_name: string;
  /** base64 SubjectPublicKeyInfo DER. */
  public_key: string;
  /** base64url COSE_Key, as the authenticator gave it. */
  cose_key: string;
  /** COSE algorithm identifier (-7 ES256, -8 EdDSA, -257 RS256). */
  algorithm: number;
  sign_count: number;
  transports_json: string;
  rp_id: string;
  origin: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
  /** The audit event that wrote the row last. */
  audit_seq: number | null;
}

export interface ValidationResultsTable {
  id: string;
  release_digest: string;
  stage: string;
  gate_id: string;
  validation_id: string;
  validator: string;
  validator_version: string;
  definition_digest: string;
  status: string;
  summary: string;
  measurements_json: string;
  thresholds_json: string;
  inputs_json: string;
  details_json: string | null;
  duration_ms: number;
  by_user: string;
  at: string;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

/** Promotions and rollbacks; `seq` orders them even when two share the same `at`. */
export interface PromotionsTable {
  id: string;
  seq: number;
  subject: string;
  stage: string;
  version: string;
  release_digest: string;
  policy_version: number;
  policy_digest: string;
  kind: string;
  by_user: string;
  at: string;
  previous_version: string | null;
  reason: string | null;
  /** JSON of a `BreakGlassMark` on a break-glass promotion (migration 0009); null otherwise. */
  break_glass_json: string | null;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

/** The one release that holds each stage of each subject (DESIGN.md, rule 4). */
export interface StageHoldersTable {
  subject: string;
  stage: string;
  version: string;
  release_digest: string;
  promotion_id: string;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

export interface AuditEventsTable {
  seq: number;
  at: string;
  actor: string;
  type: string;
  /** Canonical JSON of the event's data, the same text its hash covers. */
  data_json: string;
  prev: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  size: number;
  head: string;
  at: string;
  signature: string;
  key_id: string;
  root: string;
  note: string;
  frontier_json: string;
}

/** API tokens (migration 0002): only the SHA-256 of each secret is kept. */
export interface ApiTokensTable {
  id: string;
  /** `user` is reserved in PostgreSQL. */
  user_name: string;
  hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
}

/** Webhook subscriptions (migration 0003). */
export interface WebhooksTable {
  id: string;
  url: string;
  events_json: string;
  secret: string;
  created_at: string;
  created_by: string;
  removed_at: string | null;
  /** The audit event that wrote the row last (migration 0005); null for rows written before it. */
  audit_seq: number | null;
  /** `json`, `slack` or `teams` (migration 0011); null for rows written before it, read as `json`. */
  format: string | null;
}

/** The webhook outbox (migration 0003): one row per subscription per event. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_type: string;
  audit_seq: number;
  payload: string;
  status: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string;
  lease_until: string | null;
  delivered_at: string | null;
  last_status: number | null;
  last_error: string | null;
}

/** The delivery log (migration 0003): one row per try. */
export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** The log's Merkle tree as its complete subtrees (migration 0005): 32-byte SHA-256 each. */
export interface AuditNodesTable {
  level: number;
  idx: number;
  hash: Uint8Array;
}

/** The whole database, as Kysely sees it. */
/** Rollback holds (migration 0007): a release held out of a stage until cleared. */
export interface StageHoldsTable {
  /** The rollback's promotion id. */
  id: string;
  subject: string;
  stage: string;
  version: string;
  release_digest: string;
  /** The promotion the rollback undid. */
  promotion_id: string;
  by_user: string;
  at: string;
  reason: string;
  cleared_by: string | null;
  cleared_at: string | null;
  clear_reason: string | null;
  /** The audit event that wrote the row last: the rollback, then the clearance. */
  audit_seq: number | null;
}

/** Waivers and break-glass sign-offs (migration 0009): every `ExceptionPayload` field, so the signature can be checked from the row. */
export interface ExceptionSignoffsTable {
  id: string;
  type: string;
  kind: string;
  release: string;
  release_digest: string;
  stage: string;
  role: string;
  signer: string;
  at: string;
  reason: string;
  gate: string | null;
  gate_digest: string | null;
  requirement: string | null;
  expires_at: string | null;
  signature: string;
  audit_seq: number | null;
}

/** Incidents (migration 0008): linked to the release holding a stage, open until resolved. */
export interface IncidentsTable {
  id: string;
  subject: string;
  stage: string;
  version: string;
  release_digest: string;
  /** The promotion (or rollback) that put the release into the stage. */
  promotion_id: string;
  opened_by: string;
  opened_at: string;
  reason: string;
  resolved_by: string | null;
  resolved_at: string | null;
  resolve_note: string | null;
  /** The audit event that wrote the row last: the opening, then the resolution. */
  audit_seq: number | null;
}

/** One hand-off of a promotion, its latest attempt (migration 0010). */
export interface HandoffsTable {
  /** `PROMOTION_ID/INDEX`. */
  id: string;
  promotion_id: string;
  subject: string;
  stage: string;
  version: string;
  release_digest: string;
  idx: number;
  kind: string;
  target: string;
  definition_digest: string;
  outcome: string;
  attempts: number;
  error: string | null;
  commit_id: string | null;
  by_user: string;
  at: string;
  /** The audit event that wrote the row last: the latest attempt's `HandoffRecorded`. */
  audit_seq: number | null;
}

export interface Database {
  policies: PoliciesTable;
  releases: ReleasesTable;
  blobs: BlobsTable;
  checklist_completions: ChecklistCompletionsTable;
  signoffs: SignoffsTable;
  validation_results: ValidationResultsTable;
  promotions: PromotionsTable;
  stage_holders: StageHoldersTable;
  stage_holds: StageHoldsTable;
  exception_signoffs: ExceptionSignoffsTable;
  incidents: IncidentsTable;
  handoffs: HandoffsTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_nodes: AuditNodesTable;
  api_tokens: ApiTokensTable;
  webhooks: WebhooksTable;
  passkeys: PasskeysTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
