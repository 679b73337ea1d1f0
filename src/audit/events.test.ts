import { describe, expect, it } from 'vitest';
import { actorOf, AUDIT_EVENT_TYPES, eventSubject, isAuditEventType } from './events.js';

/** Verbs after the past participle that still make one past-tense name: `ReleaseRolledBack`. */
const PARTICLES = ['Back', 'Out', 'Up', 'Off', 'Down', 'Over'];

describe('audit event vocabulary', () => {
  it.each(AUDIT_EVENT_TYPES)('%s is past-tense PascalCase', (type) => {
    expect(type).toMatch(/^(?:[A-Z][a-z]+)+$/);
    const words = type.match(/[A-Z][a-z]+/g)!;
    const verb = PARTICLES.includes(words.at(-1)!) ? words.at(-2)! : words.at(-1)!;
    expect(words.length, 'a subject and a verb').toBeGreaterThanOrEqual(2);
    expect(verb).toMatch(/ed$/);
  });

  it('lists each type once', () => {
    expect(new Set(AUDIT_EVENT_TYPES).size).toBe(AUDIT_EVENT_TYPES.length);
  });

  it('tells the types it writes from any other string a row may hold', () => {
    expect(AUDIT_EVENT_TYPES.every(isAuditEventType)).toBe(true);
    for (const other of ['ReleaseDeleted', 'releasePromoted', 'ReleasePromoted ', '']) expect(isAuditEventType(other)).toBe(false);
  });

  it('names the actor of a change: the user, or the system when nobody is named', () => {
    expect(actorOf('alice')).toBe('user:alice');
    expect(actorOf(undefined)).toBe('system');
    expect(actorOf('')).toBe('system');
  });
});

describe('eventSubject', () => {
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['a subject', { subject: 'fraud-detector', release: 'other@1' }, 'fraud-detector'],
    ['a release, up to its last @', { release: 'fraud-detector@2.4.0' }, 'fraud-detector'],
    ['a scoped subject', { release: '@team/model@1.0.0' }, '@team/model'],
    ['a release without a version', { release: 'fraud-detector' }, undefined],
    ['a release that starts with its only @', { release: '@1.0.0' }, undefined],
    ['a subject that is not text', { subject: 7, release: 'fraud-detector@1' }, 'fraud-detector'],
    ['a release that is not text', { release: ['fraud-detector@1'] }, undefined],
    ['neither', { id: 'tok-1' }, undefined],
  ])('%s', (_why, data, subject) => {
    expect(eventSubject({ data })).toBe(subject);
  });
});
