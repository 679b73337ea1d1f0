/**
 * Durations (`expires: 168h`, `--expires 30d`) and freeze windows (`start/end`). Written by hand:
 * the forms are tiny, and a library would accept more than the policy reference promises.
 */
import { tollgateError } from './errors.js';

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
/** {@link isValidDuration} as a JSON Schema pattern (for editors): units, and a digit that is not 0. */
export const DURATION_PATTERN = `^(?=.*[1-9])${DURATION.source.slice(1)}`;
const EXAMPLES = 'e.g. 45s, 30m, 168h, 7d or 1h30m (units: ms, s, m, h, d)';

/**
 * Parses a Go-style duration with days added: `45s`, `30m`, `168h`, `7d`, `1h30m`, `1.5h`.
 * Returns milliseconds. Throws TG_USAGE for anything else, and for zero: nothing in Tollgate
 * lasts no time, so a zero is a typo.
 */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw tollgateError('TG_USAGE', `invalid duration ${JSON.stringify(text)}: write a number and a unit, ${EXAMPLES}`);
  if (ms <= 0) throw tollgateError('TG_USAGE', `invalid duration ${JSON.stringify(text)}: it must be longer than zero`);
  return ms;
}

/** True when {@link parseDuration} accepts the text. */
export function isValidDuration(text: string): boolean {
  const ms = tryParseDuration(text);
  return ms !== undefined && ms > 0;
}

/** Milliseconds as the shortest duration text that parses back to them: `7d`, `1h30m`, `1500ms`. */
export function describeDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration: ${ms}`);
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const satisfies readonly Unit[]) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}

/** A freeze window: promotions into the stage are refused from `start` (inclusive) to `end` (exclusive). */
export interface Interval {
  readonly start: Date;
  readonly end: Date;
}

// A full timestamp with a zone: a window without one would freeze at a different moment on every
// machine that reads it.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** The form {@link parseInterval} reads, as a JSON Schema pattern (for editors; the order of start and end it cannot check). */
export const INTERVAL_PATTERN = `^${TIMESTAMP.source.slice(1, -1)}/${TIMESTAMP.source.slice(1, -1)}$`;

/**
 * Parses an ISO 8601 interval `start/end`, both full timestamps with a zone
 * (`2026-12-24T00:00:00Z/2026-12-27T00:00:00Z`), start before end. Throws TG_USAGE otherwise.
 */
export function parseInterval(text: string): Interval {
  const fail = (why: string): never => {
    throw tollgateError('TG_USAGE', `invalid interval ${JSON.stringify(text)}: ${why}`);
  };
  if (typeof text !== 'string') return fail('it must be a string');
  const parts = text.split('/');
  if (parts.length !== 2) return fail('write it as START/END, e.g. 2026-12-24T00:00:00Z/2026-12-27T00:00:00Z');
  const [startText = '', endText = ''] = parts;
  const start = parseTimestamp(startText) ?? fail(`the start ${JSON.stringify(startText)} is not a timestamp with a zone, e.g. 2026-12-24T00:00:00Z`);
  const end = parseTimestamp(endText) ?? fail(`the end ${JSON.stringify(endText)} is not a timestamp with a zone, e.g. 2026-12-27T00:00:00Z`);
  if (start.getTime() >= end.getTime()) fail('the start must be before the end');
  return { start, end };
}

/** The message {@link parseInterval} would throw, or undefined when the text is a valid interval. */
export function checkInterval(text: string): string | undefined {
  try {
    parseInterval(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function tryParseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || !DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(PART)) ms += Number(n) * UNIT_MS[unit as Unit];
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
}

/** RFC 3339 in UTC, as `toISOString` writes it (seconds required, fraction optional, `Z`). */
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/**
 * Whether `text` is an instant written as RFC 3339 in UTC (`2026-12-24T09:00:00Z`) that exists. A
 * time from outside (a submitted sign-off's `at`) must be: `Date.parse` reads a time without a zone
 * as local time, so its instant, and a sign-off's expiry, would depend on where it is evaluated.
 */
export function isUtcInstant(text: unknown): text is string {
  return typeof text === 'string' && UTC_INSTANT.test(text) && parseTimestamp(text) !== undefined;
}

function parseTimestamp(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0'] = m;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date accepts 2026-02-30 and rolls it over into March; a freeze window with a day that does not
  // exist is a typo, so the fields must be in range on their own.
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return date;
}
