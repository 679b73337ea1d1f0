import { describe, expect, it } from 'vitest';
import { TollgateError } from './errors.js';
import { checkInterval, describeDuration, isUtcInstant, isValidDuration, parseDuration, parseInterval } from './duration.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('parseDuration', () => {
  it.each([
    ['45s', 45_000],
    ['30m', 30 * MIN],
    ['168h', 168 * HOUR],
    ['7d', 7 * 24 * HOUR],
    ['1h30m', 90 * MIN],
    ['1.5h', 90 * MIN],
    ['250ms', 250],
    ['1d12h', 36 * HOUR],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(isValidDuration(text)).toBe(true);
  });

  it.each(['', '7', 'h', '7 d', ' 7d', '7d ', '-1h', '7w', '1h-30m', '0s', '0h0m', '1.h', 'PT1H'])('rejects %j', (text) => {
    expect(isValidDuration(text)).toBe(false);
    expect(() => parseDuration(text)).toThrow(TollgateError);
  });

  it('says what a duration looks like', () => {
    expect(() => parseDuration('7x')).toThrow(/invalid duration "7x": write a number and a unit, e\.g\. 45s, 30m, 168h, 7d/);
    expect(() => parseDuration('0s')).toThrow(/longer than zero/);
  });
});

describe('describeDuration', () => {
  it.each([
    [7 * 24 * HOUR, '7d'],
    [168 * HOUR + 30 * MIN, '7d30m'],
    [90 * MIN, '1h30m'],
    [1500, '1s500ms'],
    [0, '0s'],
  ])('%i ms reads %s', (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
    if (ms > 0) expect(parseDuration(text)).toBe(ms);
  });
});

describe('parseInterval', () => {
  it('parses start/end with zones', () => {
    const w = parseInterval('2026-12-24T00:00:00Z/2026-12-27T00:00:00Z');
    expect(w.start.toISOString()).toBe('2026-12-24T00:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-12-27T00:00:00.000Z');
  });

  it('honours offsets and fractions', () => {
    const w = parseInterval('2026-12-24T01:00+01:00/2026-12-24T00:00:00.5Z');
    expect(w.start.toISOString()).toBe('2026-12-24T00:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-12-24T00:00:00.500Z');
  });

  it.each([
    ['2026-12-24T00:00:00Z', /START\/END/],
    ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z/2026-12-28T00:00:00Z', /START\/END/],
    ['2026-12-24/2026-12-27', /start "2026-12-24" is not a timestamp with a zone/],
    ['2026-12-24T00:00:00/2026-12-27T00:00:00Z', /start .* is not a timestamp with a zone/],
    ['2026-12-24T00:00:00Z/P3D', /end "P3D" is not a timestamp/],
    ['2026-02-30T00:00:00Z/2026-03-27T00:00:00Z', /start "2026-02-30T00:00:00Z" is not a timestamp/],
    ['2026-12-24T24:00:00Z/2026-12-27T00:00:00Z', /start .* is not a timestamp/],
    ['2026-12-27T00:00:00Z/2026-12-24T00:00:00Z', /the start must be before the end/],
    ['2026-12-24T00:00:00Z/2026-12-24T00:00:00Z', /the start must be before the end/],
  ])('rejects %s', (text, why) => {
    expect(() => parseInterval(text)).toThrow(why);
    expect(checkInterval(text)).toMatch(why);
  });

  it('checkInterval is quiet for a valid window', () => {
    expect(checkInterval('2026-12-24T00:00:00Z/2026-12-27T00:00:00Z')).toBeUndefined();
  });
});

describe('isUtcInstant', () => {
  it.each(['2026-12-24T09:00:00Z', '2026-12-24T09:00:00.123Z', '2028-02-29T23:59:59.999999Z'])('accepts %s', (t) => {
    expect(isUtcInstant(t)).toBe(true);
  });
  it.each(['2026-12-24T09:00:00', '2026-12-24T09:00:00+00:00', '2026-12-24T10:00:00+01:00', '2026-12-24 09:00:00Z', '2026-12-24T09:00Z', '2026-12-24', 'Thu, 24 Dec 2026 09:00:00 GMT', '2026-02-30T09:00:00Z', '2026-12-24T24:00:00Z', ''])(
    'refuses %j',
    (t) => {
      expect(isUtcInstant(t)).toBe(false);
    },
  );
});

describe('edges a stored or hand-written value can reach', () => {
  it('reads every digit of a fraction', () => {
    expect(parseDuration('1.25h')).toBe(4_500_000);
    expect(parseDuration('0.125s')).toBe(125);
  });

  it('refuses a value that is not a string with TG_USAGE, not a TypeError', () => {
    // An array of one string passes a RegExp test (it is read as its text): it must not get further.
    for (const bad of [['1h'], 60, null]) {
      expect(() => parseDuration(bad as unknown as string)).toThrow(expect.objectContaining({ code: 'TG_USAGE' }));
      expect(isValidDuration(bad as unknown as string)).toBe(false);
    }
    expect(() => parseInterval(['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z'] as unknown as string)).toThrow(
      expect.objectContaining({ code: 'TG_USAGE', message: 'invalid interval ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"]: it must be a string' }),
    );
  });

  it('describeDuration refuses what is not a duration', () => {
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => describeDuration(ms)).toThrow(new RangeError(`not a duration: ${ms}`));
  });

  it('isUtcInstant accepts only a string', () => {
    expect(isUtcInstant(['2026-12-24T09:00:00Z'])).toBe(false);
    expect(isUtcInstant({ toString: () => '2026-12-24T09:00:00Z' })).toBe(false);
  });
});
