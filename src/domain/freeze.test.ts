import { describe, expect, it } from 'vitest';
import { activeFreeze, checkRecurring, nextFreezeChange } from './freeze.js';
import type { RecurringFreeze } from './model.js';

// The weekend freeze of DESIGN.md: Friday 16:00 Berlin time, for 64 hours (Monday 08:00 local).
const WEEKEND: RecurringFreeze = { cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' };
const at = (iso: string) => new Date(iso);
const window = (iso: string) => {
  const w = activeFreeze([WEEKEND], at(iso));
  return w && `${w.start.toISOString()}/${w.end.toISOString()}`;
};

describe('recurring freeze windows across daylight saving time (Europe/Berlin)', () => {
  it.each([
    // instant, the window open then (UTC), or none
    // The week before clocks go forward (CET, UTC+1): Friday 15:00Z to Monday 07:00Z.
    ['2026-03-20T14:59:59Z', undefined],
    ['2026-03-20T15:00:00Z', '2026-03-20T15:00:00.000Z/2026-03-23T07:00:00.000Z'],
    ['2026-03-23T06:59:59Z', '2026-03-20T15:00:00.000Z/2026-03-23T07:00:00.000Z'],
    ['2026-03-23T07:00:00Z', undefined],
    // Clocks go forward on Sunday 29 March: starts 16:00 CET (15:00Z), ends Monday 08:00 CEST (06:00Z).
    ['2026-03-27T15:00:00Z', '2026-03-27T15:00:00.000Z/2026-03-30T06:00:00.000Z'],
    ['2026-03-30T06:30:00Z', undefined],
    // The week after (CEST, UTC+2): Friday 14:00Z, which is 16:00 local; a UTC cron would say 15:00Z.
    ['2026-04-03T14:30:00Z', '2026-04-03T14:00:00.000Z/2026-04-06T06:00:00.000Z'],
    ['2026-04-03T13:59:59Z', undefined],
    // Clocks go back on Sunday 25 October: starts 16:00 CEST (14:00Z), ends Monday 08:00 CET (07:00Z).
    ['2026-10-23T14:00:00Z', '2026-10-23T14:00:00.000Z/2026-10-26T07:00:00.000Z'],
    ['2026-10-26T06:59:59Z', '2026-10-23T14:00:00.000Z/2026-10-26T07:00:00.000Z'],
    ['2026-10-26T07:00:00Z', undefined],
    // Midweek: no freeze.
    ['2026-03-25T12:00:00Z', undefined],
  ] as const)('at %s: %s', (instant, expected) => {
    expect(window(instant)).toBe(expected);
  });

  it('the next change is the next opening, or the end of the open window', () => {
    expect(nextFreezeChange([WEEKEND], at('2026-03-25T12:00:00Z'))).toBe(Date.parse('2026-03-27T15:00:00Z'));
    expect(nextFreezeChange([WEEKEND], at('2026-03-28T12:00:00Z'))).toBe(Date.parse('2026-03-30T06:00:00Z'));
    expect(nextFreezeChange([WEEKEND], at('2026-03-31T12:00:00Z'))).toBe(Date.parse('2026-04-03T14:00:00Z'));
  });

  it('windows longer than their period run together into one', () => {
    const daily: RecurringFreeze = { cron: '0 0 * * *', duration: '36h', timezone: 'UTC' };
    const w = activeFreeze([daily], at('2026-05-05T12:00:00Z'));
    expect(w?.start.toISOString()).toBe('2026-05-05T00:00:00.000Z');
    // Each day's window starts before the last one ends: frozen on and on (as far as the chain looks).
    expect(w!.end.getTime()).toBeGreaterThan(Date.parse('2026-05-06T12:00:00Z'));
  });

  it('one-off intervals and recurring windows together', () => {
    const freeze = ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z', WEEKEND];
    expect(activeFreeze(freeze, at('2026-12-24T10:00:00Z'))).toEqual({ start: at('2026-12-24T00:00:00Z'), end: at('2026-12-27T00:00:00Z') });
    // Friday 25 December 16:00 CET opens the weekend window, which ends later than the interval.
    expect(activeFreeze(freeze, at('2026-12-26T10:00:00Z'))?.end.toISOString()).toBe('2026-12-28T07:00:00.000Z');
  });

  it.each([
    [{ cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlni' }, 'unknown time zone "Europe/Berlni": write an IANA zone name, e.g. Europe/Berlin or UTC'],
    [{ cron: '0 16 * * FRI', duration: '64 hours', timezone: 'Europe/Berlin' }, 'invalid duration "64 hours": write a number and a unit, e.g. 64h, 2d or 1h30m'],
    [{ cron: '0 25 * * FRI', duration: '64h', timezone: 'Europe/Berlin' }, /^invalid cron expression "0 25 \* \* FRI": /],
    [{ cron: '0 16 * * FRI', duration: '64h', timezone: 'America/New_York' }, undefined],
  ] as const)('checks %j', (def, message) => {
    const got = checkRecurring(def);
    if (typeof message === 'object' && message !== null) expect(got).toMatch(message);
    else expect(got).toBe(message);
  });
});

describe('edges of a window', () => {
  it('of two windows open at once, the one that ends last; of two ending together, the first listed', () => {
    const freeze = ['2026-12-24T10:00:00Z/2026-12-24T14:00:00Z', '2026-12-24T11:00:00Z/2026-12-24T14:00:00Z', '2026-12-24T09:00:00Z/2026-12-24T13:00:00Z'];
    expect(activeFreeze(freeze, at('2026-12-24T12:00:00Z'))).toEqual({ start: at('2026-12-24T10:00:00Z'), end: at('2026-12-24T14:00:00Z') });
  });

  it('the next change after a window that opens exactly now is its end', () => {
    expect(nextFreezeChange(['2026-12-24T10:00:00Z/2026-12-24T14:00:00Z'], at('2026-12-24T10:00:00Z'))).toBe(Date.parse('2026-12-24T14:00:00Z'));
    expect(nextFreezeChange(['2026-12-24T10:00:00Z/2026-12-24T14:00:00Z'], at('2026-12-24T14:00:00Z'))).toBe(Infinity);
  });

  it('a window that opened before an earlier one closed is part of it: the freeze started with the first', () => {
    const daily: RecurringFreeze = { cron: '0 0 * * *', duration: '48h', timezone: 'UTC' };
    const w = activeFreeze([daily], at('2026-05-05T12:00:00Z'));
    expect(w?.start.toISOString()).toBe('2026-05-04T00:00:00.000Z');
    expect(w?.source).toBe('cron "0 0 * * *" in UTC for 48h');
  });

  it('back-to-back windows are one freeze, chained over at most 1000 occurrences', () => {
    const daily: RecurringFreeze = { cron: '0 0 * * *', duration: '24h', timezone: 'UTC' };
    const w = activeFreeze([daily], at('2026-05-05T12:00:00Z'));
    expect(w?.start.toISOString()).toBe('2026-05-05T00:00:00.000Z');
    // The window of 5 May and the next 1000 that each open as the one before closes.
    expect(w?.end.getTime()).toBe(Date.parse('2026-05-06T00:00:00Z') + 1000 * 86_400_000);
  });

  it('a duration ending in the hour the clocks skip comes out as the clocks show it', () => {
    // Sunday 29 March 2026, Berlin: 01:00 CET plus 2h30m on the local clock is 03:30, which is CEST (01:30Z).
    const w = activeFreeze([{ cron: '0 1 * * SUN', duration: '2h30m', timezone: 'Europe/Berlin' }], at('2026-03-29T01:00:00Z'));
    expect(w && [w.start.toISOString(), w.end.toISOString()]).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T01:30:00.000Z']);
  });

  it('a cron expression that never fires is refused', () => {
    expect(checkRecurring({ cron: '0 0 31 4 *', duration: '1h', timezone: 'UTC' })).toBe('the cron expression "0 0 31 4 *" never fires');
  });
});
