/**
 * Rows to the model: one function per table, from what the driver returns to the domain's types.
 * Absent optional fields come back absent (not `null`, not a key set to `undefined`), so a value read
 * back deep-equals the value written.
 */
import type { Digest } from '../domain/digest.js';
import type {
  ChecklistCompletion,
  PolicyVersion,
  Promotion,
  Release,
  SignatureKind,
  Signoff,
  ValidationResult,
  WebauthnAssertion,
} from '../domain/model.js';
import type {
  ApiTokensTable,
  AuditCheckpointsTable,
  AuditEventsTable,
  ChecklistCompletionsTable,
  PasskeysTable,
  PoliciesTable,
  PromotionsTable,
  ReleasesTable,
  SignoffsTable,
  ValidationResultsTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhooksTable,
} from './schema.js';
import type { ApiToken, AuditCheckpoint, AuditEvent, DeliveryAttempt, DeliveryStatus, Passkey, Webhook, WebhookDelivery } from './store.js';

export function toPolicyVersion(r: PoliciesTable): PolicyVersion {
  return {
    version: r.version,
    digest: r.digest as Digest,
    name: r.name,
    policy: JSON.parse(r.policy_json) as PolicyVersion['policy'],
    source: r.source,
    appliedAt: r.applied_at,
    appliedBy: r.applied_by,
  };
}

export function toRelease(r: ReleasesTable): Release {
  return {
    subject: r.subject,
    version: r.version,
    digest: r.digest as Digest,
    manifest: JSON.parse(r.manifest_json) as Release['manifest'],
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

export function toChecklist(r: ChecklistCompletionsTable): ChecklistCompletion {
  return {
    id: r.id,
    releaseDigest: r.release_digest as Digest,
    stage: r.stage,
    gateId: r.gate_id,
    itemId: r.item_id,
    itemDigest: r.item_digest as Digest,
    by: r.by_user,
    at: r.at,
    ...(r.evidence_json !== null ? { evidence: JSON.parse(r.evidence_json) as ChecklistCompletion['evidence'] } : {}),
    ...(r.note !== null ? { note: r.note } : {}),
  };
}

export function toSignoff(r: SignoffsTable): Signoff {
  return {
    id: r.id,
    type: r.type as Signoff['type'],
    release: r.release,
    releaseDigest: r.release_digest as Digest,
    stage: r.stage,
    gate: r.gate,
    gateDigest: r.gate_digest as Digest,
    role: r.role,
    decision: r.decision as Signoff['decision'],
    signer: r.signer,
    at: r.at,
    ...(r.comment !== null ? { comment: r.comment } : {}),
    ...(r.evidence_digest !== null ? { evidenceDigest: r.evidence_digest as Digest } : {}),
    signature: r.signature,
    // Older rows have neither column (null): Ed25519, as every sign-off was before passkeys.
    ...(r.signature_kind !== null && r.signature_kind !== undefined ? { signatureKind: r.signature_kind as SignatureKind } : {}),
    ...(r.webauthn_json !== null && r.webauthn_json !== undefined ? { webauthn: JSON.parse(r.webauthn_json) as WebauthnAssertion } : {}),
  };
}

export function toPasskey(r: PasskeysTable): Passkey {
  return {
    id: r.id,
    user: r.user_name,
    publicKey: r.public_key,
    coseKey: r.cose_key,
    algorithm: r.algorithm,
    signCount: r.sign_count,
    transports: JSON.parse(r.transports_json) as string[],
    rpId: r.rp_id,
    origin: r.origin,
    createdAt: r.created_at,
    createdBy: r.created_by,
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
    ...(r.revoked_by !== null ? { revokedBy: r.revoked_by } : {}),
  };
}

export function toValidation(r: ValidationResultsTable): ValidationResult {
  return {
    id: r.id,
    releaseDigest: r.release_digest as Digest,
    stage: r.stage,
    gateId: r.gate_id,
    validationId: r.validation_id,
    validator: r.validator,
    validatorVersion: r.validator_version,
    definitionDigest: r.definition_digest as Digest,
    status: r.status as ValidationResult['status'],
    summary: r.summary,
    measurements: JSON.parse(r.measurements_json) as ValidationResult['measurements'],
    thresholds: JSON.parse(r.thresholds_json) as ValidationResult['thresholds'],
    inputs: JSON.parse(r.inputs_json) as ValidationResult['inputs'],
    ...(r.details_json !== null ? { details: JSON.parse(r.details_json) as unknown } : {}),
    durationMs: Number(r.duration_ms),
    by: r.by_user,
    at: r.at,
  };
}

export function toPromotion(r: PromotionsTable): Promotion {
  return {
    id: r.id,
    subject: r.subject,
    stage: r.stage,
    version: r.version,
    releaseDigest: r.release_digest as Digest,
    policyVersion: r.policy_version,
    policyDigest: r.policy_digest as Digest,
    kind: r.kind as Promotion['kind'],
    by: r.by_user,
    at: r.at,
    ...(r.previous_version !== null ? { previousVersion: r.previous_version } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
  };
}

export function toAuditEvent(r: AuditEventsTable): AuditEvent {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    type: r.type,
    data: JSON.parse(r.data_json) as AuditEvent['data'],
    prev: r.prev,
    hash: r.hash,
  };
}

export function toCheckpoint(r: AuditCheckpointsTable): AuditCheckpoint {
  return {
    size: Number(r.size),
    head: r.head,
    at: r.at,
    signature: r.signature,
    keyId: r.key_id,
    root: r.root,
    note: r.note,
    frontier: JSON.parse(r.frontier_json) as string[],
  };
}

export function toToken(r: ApiTokensTable): ApiToken {
  return {
    id: r.id,
    user: r.user_name,
    hash: r.hash,
    createdAt: r.created_at,
    createdBy: r.created_by,
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
  };
}

export function toWebhook(r: WebhooksTable): Webhook {
  return {
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events_json) as string[],
    secret: r.secret,
    createdAt: r.created_at,
    createdBy: r.created_by,
    ...(r.removed_at !== null ? { removedAt: r.removed_at } : {}),
  };
}

export function toDelivery(r: WebhookDeliveriesTable): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    event: r.event_type,
    auditSeq: r.audit_seq,
    payload: r.payload,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    createdAt: r.created_at,
    nextAttemptAt: r.next_attempt_at,
    ...(r.lease_until !== null ? { leaseUntil: r.lease_until } : {}),
    ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at } : {}),
    ...(r.last_status !== null ? { lastStatus: r.last_status } : {}),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  };
}

export function toAttempt(r: WebhookAttemptsTable): DeliveryAttempt {
  return {
    deliveryId: r.delivery_id,
    attempt: r.attempt,
    at: r.at,
    durationMs: r.duration_ms,
    ...(r.status_code !== null ? { statusCode: r.status_code } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
  };
}
