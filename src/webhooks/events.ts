/**
 * Which audit events become webhook events, and what a delivery's body says. Webhooks are derived
 * from the audit log, not raised beside it: whatever is audited in a change's transaction is what its
 * subscribers hear about, with the audit event's sequence number and hash to cross-check.
 */
import { isAuditEventType, type AuditEvent } from '../audit/events.js';

/** The event types a webhook can subscribe to (`*`: all of them). */
export const WEBHOOK_EVENTS = ['signoff.requested', 'signoff.recorded', 'promotion.blocked', 'release.promoted', 'release.rolled_back', 'handoff.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
export const ALL_EVENTS = '*';

/**
 * The webhook events an audit event raises. Every audit event type is listed, and the `never` in
 * the default makes a new type that is not listed here fail to compile: each type is a decision,
 * not a silent "nothing". A blocked promotion that lacks sign-offs also asks for them: subscribers
 * of `signoff.requested` hear which.
 */
function typesOf(event: AuditEvent): WebhookEventType[] {
  // Events are read back as plain strings (see audit/events.ts); one this version does not write raises nothing.
  if (!isAuditEventType(event.type)) return [];
  const type = event.type;
  switch (type) {
    case 'SignoffRecorded':
      return ['signoff.recorded'];
    case 'ReleasePromoted':
      return ['release.promoted'];
    case 'ReleaseRolledBack':
      return ['release.rolled_back'];
    case 'HandoffRecorded': {
      // A failed hand-off to deployment is never silent: whoever watches for it hears at once.
      const handoffs = event.data.handoffs;
      return Array.isArray(handoffs) && handoffs.some((h) => (h as { outcome?: unknown }).outcome === 'failed') ? ['handoff.failed'] : [];
    }
    case 'PromotionBlocked': {
      const needed = event.data.signoffsNeeded;
      // An earlier event of the window already asked for these sign-offs (service/promote.ts): one notice is enough.
      const alreadyRequested = typeof event.data.signoffsRequestedBy === 'number';
      return Array.isArray(needed) && needed.length > 0 && !alreadyRequested ? ['promotion.blocked', 'signoff.requested'] : ['promotion.blocked'];
    }
    case 'PolicyApplied':
    case 'ReleaseCleared':
    case 'RequirementWaived':
    case 'BreakGlassSignedOff':
    // Incidents are opened and resolved by people who already know; a subscriber wanting them can be added later.
    case 'IncidentOpened':
    case 'IncidentResolved':
    case 'ReleaseCreated':
    case 'ChecklistItemCompleted':
    case 'ValidationRecorded':
    case 'ServerKeyRotated':
    case 'TokenCreated':
    case 'TokenRevoked':
    case 'PasskeyRegistered':
    case 'PasskeyRevoked':
    case 'WebhookCreated':
    case 'WebhookRemoved':
    case 'WebhookRedelivered':
    case 'AccessDenied':
      return [];
    default: {
      const unhandled: never = type;
      throw new Error(`audit event type ${String(unhandled)} has no webhook mapping`);
    }
  }
}

/** One webhook event: what a subscriber receives, before it is addressed to a subscription. */
export interface WebhookEvent {
  readonly type: WebhookEventType;
  readonly audit: AuditEvent;
}

export function webhookEventsOf(events: readonly AuditEvent[]): WebhookEvent[] {
  return events.flatMap((audit) => typesOf(audit).map((type) => ({ type, audit })));
}

export function subscribes(events: readonly string[], type: string): boolean {
  return events.includes(ALL_EVENTS) || events.includes(type);
}

/**
 * The JSON body of a delivery: `id` is the delivery's id, the same on every retry, so a receiver that
 * gets a delivery twice (at least once means that can happen) can tell.
 */
export function deliveryPayload(deliveryId: string, event: WebhookEvent): string {
  const { audit } = event;
  const data = { ...audit.data };
  // The signature's text and the rows' digests are in the audit log; a chat message or ticket does not need them.
  delete data.signature;
  delete data.rows;
  return JSON.stringify({
    id: deliveryId,
    type: event.type,
    at: audit.at,
    actor: audit.actor,
    data,
    audit: { seq: audit.seq, type: audit.type, hash: audit.hash },
  });
}
