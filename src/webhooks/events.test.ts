import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../audit/events.js';
import { AUDIT_EVENT_TYPES } from '../audit/events.js';
import { webhookEventsOf, type WebhookEventType } from './events.js';

function event(type: string, data: Record<string, unknown> = {}): AuditEvent {
  return { seq: 7, at: '2026-11-30T09:00:00.000Z', actor: 'user:dave', type, data, prev: 'p', hash: 'h' };
}

// What each audit event type raises; typed by the vocabulary, so a new type needs a row here too.
const RAISES: Record<AuditEventType, WebhookEventType[]> = {
  PolicyApplied: [],
  ReleaseCleared: [],
  RequirementWaived: [],
  BreakGlassSignedOff: [],
  IncidentOpened: [],
  IncidentResolved: [],
  HandoffRecorded: [],
  ReleaseCreated: [],
  ChecklistItemCompleted: [],
  ValidationRecorded: [],
  SignoffRecorded: ['signoff.recorded'],
  ReleasePromoted: ['release.promoted'],
  PromotionBlocked: ['promotion.blocked'],
  ReleaseRolledBack: ['release.rolled_back'],
  ServerKeyRotated: [],
  TokenCreated: [],
  TokenRevoked: [],
  PasskeyRegistered: [],
  PasskeyRevoked: [],
  WebhookCreated: [],
  WebhookRemoved: [],
  WebhookRedelivered: [],
  AccessDenied: [],
};

describe('webhookEventsOf', () => {
  it.each(AUDIT_EVENT_TYPES)('handles %s', (type) => {
    const audit = event(type);
    expect(webhookEventsOf([audit])).toEqual(RAISES[type].map((t) => ({ type: t, audit })));
  });

  it('asks for sign-offs when a blocked promotion lacks them', () => {
    const audit = event('PromotionBlocked', { signoffsNeeded: [{ gate: 'approvals', role: 'security', outcome: 'missing' }] });
    expect(webhookEventsOf([audit]).map((e) => e.type)).toEqual(['promotion.blocked', 'signoff.requested']);
    expect(webhookEventsOf([event('PromotionBlocked', { signoffsNeeded: [] })]).map((e) => e.type)).toEqual(['promotion.blocked']);
  });

  it('tells of a failed hand-off to deployment, and of none that succeeded', () => {
    const failed = event('HandoffRecorded', { handoffs: [{ index: 0, outcome: 'succeeded' }, { index: 1, outcome: 'failed', error: 'exit code 1' }] });
    expect(webhookEventsOf([failed]).map((e) => e.type)).toEqual(['handoff.failed']);
    expect(webhookEventsOf([event('HandoffRecorded', { handoffs: [{ index: 0, outcome: 'succeeded' }] })])).toEqual([]);
  });

  it('raises nothing for a type read back that this version does not write', () => {
    expect(webhookEventsOf([event('ReleaseArchived'), event('releasepromoted')])).toEqual([]);
  });

  it('keeps the order of the audit events', () => {
    const events = [event('ReleasePromoted'), event('TokenCreated'), event('SignoffRecorded')];
    expect(webhookEventsOf(events).map((e) => e.type)).toEqual(['release.promoted', 'signoff.recorded']);
  });
});
