/**
 * Rows to the model: one function per table, from what the driver returns to the domain's types.
 * Absent optional fields come back absent (not `null`, not a key set to `undefined`), so a value read
 * back deep-equals the value written.
 */
import { deepFreeze, memoByText, parsedFrom } from '../domain/memo.js';
import type { Digest } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import type { VouchedTable } from '../domain/records.js';
import type {
  ChecklistCompletion,
  ExceptionSignoff,
  HandoffRecord,
  Incident,
  PolicyVersion,
  Promotion,
  StageHold,
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
  ExceptionSignoffsTable,
  HandoffsTable,
  IncidentsTable,
  PasskeysTable,
  PoliciesTable,
  PromotionsTable,
  StageHoldsTable,
  ReleasesTable,
  SignoffsTable,
  ValidationResultsTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhooksTable,
} from './schema.js';
import type { ApiToken, AuditCheckpoint, AuditEvent, DeliveryAttempt, DeliveryStatus, Passkey, Webhook, WebhookDelivery, WebhookFormat } from './store.js';

/**
 * Policies and manifests, parsed once per text and frozen: every request reads the active policy and
 * its release, and a frozen document's digest is computed once too (service/vouch.ts).
 */
const parsedDocument = memoByText(256, (text) => deepFreeze(JSON.parse(text) as unknown));

export function toPolicyVersion(r: PoliciesTable): PolicyVersion {
  return {
    version: r.version,
    digest: r.digest as Digest,
    name: r.name,
    policy: storedDocument('policies', String(r.version), 'policy_json', r.policy_json) as PolicyVersion['policy'],
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
    manifest: storedDocument('releases', r.digest, 'manifest_json', r.manifest_json) as Release['manifest'],
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
    ...(r.evidence_json !== null ? { evidence: stored('checklist_completions', r.id, 'evidence_json', r.evidence_json) as ChecklistCompletion['evidence'] } : {}),
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
    ...(r.webauthn_json !== null && r.webauthn_json !== undefined ? { webauthn: stored('signoffs', r.id, 'webauthn_json', r.webauthn_json) as WebauthnAssertion } : {}),
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
    transports: stored('passkeys', r.id, 'transports_json', r.transports_json) as string[],
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
    measurements: stored('validation_results', r.id, 'measurements_json', r.measurements_json) as ValidationResult['measurements'],
    thresholds: stored('validation_results', r.id, 'thresholds_json', r.thresholds_json) as ValidationResult['thresholds'],
    inputs: stored('validation_results', r.id, 'inputs_json', r.inputs_json) as ValidationResult['inputs'],
    ...(r.details_json !== null ? { details: stored('validation_results', r.id, 'details_json', r.details_json) } : {}),
    durationMs: Number(r.duration_ms),
    by: r.by_user,
    at: r.at,
  };
}

export function toStageHold(r: StageHoldsTable): StageHold {
  return {
    id: r.id,
    subject: r.subject,
    stage: r.stage,
    version: r.version,
    releaseDigest: r.release_digest as Digest,
    promotionId: r.promotion_id,
    by: r.by_user,
    at: r.at,
    reason: r.reason,
    ...(r.cleared_at !== null ? { cleared: { by: r.cleared_by ?? '', at: r.cleared_at, reason: r.clear_reason ?? '' } } : {}),
  };
}

export function toIncident(r: IncidentsTable): Incident {
  return {
    id: r.id,
    subject: r.subject,
    stage: r.stage,
    version: r.version,
    releaseDigest: r.release_digest as Digest,
    promotionId: r.promotion_id,
    openedBy: r.opened_by,
    openedAt: r.opened_at,
    reason: r.reason,
    ...(r.resolved_at !== null
      ? { resolved: { by: r.resolved_by ?? '', at: r.resolved_at, ...(r.resolve_note !== null ? { note: r.resolve_note } : {}) } }
      : {}),
  };
}

export function toHandoff(r: HandoffsTable): HandoffRecord {
  return {
    id: r.id,
    promotionId: r.promotion_id,
    subject: r.subject,
    stage: r.stage,
    version: r.version,
    releaseDigest: r.release_digest as Digest,
    // PostgreSQL's driver may hand back integers as numbers or text depending on the type; both are numbers here.
    index: Number(r.idx),
    kind: r.kind as HandoffRecord['kind'],
    target: r.target,
    definitionDigest: r.definition_digest as Digest,
    outcome: r.outcome as HandoffRecord['outcome'],
    attempts: Number(r.attempts),
    ...(r.error !== null ? { error: r.error } : {}),
    ...(r.commit_id !== null ? { commit: r.commit_id } : {}),
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
    ...(r.break_glass_json !== null && r.break_glass_json !== undefined
      ? { breakGlass: stored('promotions', r.id, 'break_glass_json', r.break_glass_json) as Promotion['breakGlass'] }
      : {}),
  };
}

export function toException(r: ExceptionSignoffsTable): ExceptionSignoff {
  return {
    id: r.id,
    type: r.type as ExceptionSignoff['type'],
    kind: r.kind as ExceptionSignoff['kind'],
    release: r.release,
    releaseDigest: r.release_digest as Digest,
    stage: r.stage,
    role: r.role,
    signer: r.signer,
    at: r.at,
    reason: r.reason,
    ...(r.gate !== null ? { gate: r.gate } : {}),
    ...(r.gate_digest !== null ? { gateDigest: r.gate_digest as Digest } : {}),
    ...(r.requirement !== null ? { requirement: r.requirement } : {}),
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    signature: r.signature,
  };
}

export function toAuditEvent(r: AuditEventsTable): AuditEvent {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    type: r.type,
    data: eventData(r.data_json),
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
    frontier: frontierOf(r.frontier_json),
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
    events: stored('webhooks', r.id, 'events_json', r.events_json) as string[],
    secret: r.secret,
    createdAt: r.created_at,
    createdBy: r.created_by,
    ...(r.removed_at !== null ? { removedAt: r.removed_at } : {}),
    ...(r.format !== null ? { format: r.format as WebhookFormat } : {}),
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

/**
 * A JSON column of a vouched row, parsed. Tollgate only ever writes JSON there, so text that does not
 * parse was written by something else: the row is refused as tampered (TG_STATE_TAMPERED naming it),
 * as it would be for any other change, rather than failing the read with a parser's message.
 */
/** A policy or manifest as stored: parsed once per text and frozen, or refused as tampered (see `stored`). */
function storedDocument(table: VouchedTable, key: string, column: string, text: string): unknown {
  try {
    return parsedDocument(text);
  } catch {
    return stored(table, key, column, text);
  }
}

function stored(table: VouchedTable, key: string, column: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const reason = `its ${column} is not JSON: it was changed after it was written`;
    throw tollgateError('TG_STATE_TAMPERED', `${table} ${key} is not what the audit log vouches for (edited): ${reason}`, {
      details: { rows: [{ table, key, what: 'edited', reason }] },
    });
  }
}

/**
 * An event's data. Text that does not parse was not written by Tollgate (it stores canonical JSON);
 * it is read as a value that carries the text and no claim, so the event's hash, recomputed over it,
 * no longer matches: `audit verify` names the event, and a decision refuses the rows it vouched for.
 */
function eventData(text: string): AuditEvent['data'] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { unreadable: text };
  }
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? parsedFrom(data as AuditEvent['data'], text) : { unreadable: text };
}

/** A checkpoint's frontier; text that is not a list of hashes reads as none, which audit verify reports. */
function frontierOf(text: string): string[] {
  try {
    const list = JSON.parse(text) as unknown;
    return Array.isArray(list) && list.every((h) => typeof h === 'string') ? list : [];
  } catch {
    return [];
  }
}
