/**
 * Freeze windows of a stage: one-off intervals (`start/end`, duration.ts) and recurring ones, a cron
 * expression read in an IANA time zone plus a duration (`{ cron: "0 16 * * FRI", duration: 64h,
 * timezone: Europe/Berlin }`). Pure: the policy's windows and a time in, the window open at that time
 * (or the next moment one opens or closes) out.
 *
 * Cron occurrences come from croner, which reads the expression in the zone (so "16:00 on Friday" is
 * 16:00 local before and after a change of daylight saving time). The duration is added on the local
 * clock, not as elapsed time: Friday 16:00 plus 64h is Monday 08:00 local in every week, also in the
 * week the clocks change, which is what a person writing "the weekend freeze" means.
 */
import { Cron } from 'croner';
import { isValidDuration, parseDuration, parseInterval } from './duration.js';
import type { FreezeDef, RecurringFreeze } from './model.js';

/** A window in which nothing is promoted into the stage: from `start` (inclusive) to `end` (exclusive). */
export interface FreezeWindow {
  readonly start: Date;
  readonly end: Date;
  /** For a recurring window, how the policy wrote it: `cron "…" in ZONE for DURATION`. */
  readonly source?: string;
}

/** At most this many occurrences are chained into one window (windows longer than their period). */
const MAX_CHAIN = 1000;

/** The freeze window open at `now`, if any (the one that ends last, when several are). */
export function activeFreeze(freeze: readonly FreezeDef[], now: Date): FreezeWindow | undefined {
  let found: FreezeWindow | undefined;
  for (const def of freeze) {
    const w = typeof def === 'string' ? intervalWindow(def) : recurringWindowAt(def, now);
    if (w && w.start <= now && now < w.end && (!found || w.end > found.end)) found = w;
  }
  return found;
}

/** The first moment after `now` at which a window of `freeze` opens or closes; Infinity when none will. */
export function nextFreezeChange(freeze: readonly FreezeDef[], now: Date): number {
  const t = now.getTime();
  let next = Infinity;
  const consider = (at: number): void => {
    if (at > t && at < next) next = at;
  };
  for (const def of freeze) {
    if (typeof def === 'string') {
      const { start, end } = parseInterval(def);
      consider(start.getTime());
      consider(end.getTime());
      continue;
    }
    // recurringWindowAt gives only a window open at `now`.
    const open = recurringWindowAt(def, now);
    if (open) consider(open.end.getTime());
    const upcoming = cronOf(def).nextRun(now);
    if (upcoming) consider(upcoming.getTime());
  }
  return next;
}

/** How a recurring window reads in a message. */
export function describeRecurring(def: RecurringFreeze): string {
  return `cron "${def.cron}" in ${def.timezone} for ${def.duration}`;
}

/** Why a recurring freeze is not valid (bad cron, unknown zone, bad duration), or undefined. */
export function checkRecurring(def: RecurringFreeze): string | undefined {
  if (!isTimeZone(def.timezone)) return `unknown time zone ${JSON.stringify(def.timezone)}: write an IANA zone name, e.g. Europe/Berlin or UTC`;
  if (!isValidDuration(def.duration)) return `invalid duration ${JSON.stringify(def.duration)}: write a number and a unit, e.g. 64h, 2d or 1h30m`;
  try {
    if (cronOf(def).nextRun(new Date(0)) === null) return `the cron expression ${JSON.stringify(def.cron)} never fires`;
  } catch (err) {
    return `invalid cron expression ${JSON.stringify(def.cron)}: ${(err as Error).message}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- internals

function intervalWindow(text: string): FreezeWindow {
  const { start, end } = parseInterval(text);
  return { start, end };
}

function cronOf(def: RecurringFreeze): Cron {
  // Stryker disable next-line BooleanLiteral: no function is given, so nothing is scheduled either way; `paused` says so
  return new Cron(def.cron, { timezone: def.timezone, paused: true });
}

/**
 * The window of `def` that is open at `now` (occurrences whose windows overlap are one window), or
 * undefined. An occurrence at `o` is open until `end(o)`; the latest occurrence that can still be
 * open started after `now` minus the longest a window can last (the duration plus an hour of
 * daylight saving time).
 */
function recurringWindowAt(def: RecurringFreeze, now: Date): FreezeWindow | undefined {
  const cron = cronOf(def);
  const span = parseDuration(def.duration) + 3_600_000;
  let occurrence = cron.nextRun(new Date(now.getTime() - span - 1));
  let window: { start: Date; end: Date } | undefined;
  for (let i = 0; occurrence && occurrence <= now && i < MAX_CHAIN; i++) {
    const end = endOf(def, occurrence);
    if (window && occurrence <= window.end) window = { start: window.start, end: end > window.end ? end : window.end };
    else if (end > now) window = { start: occurrence, end };
    else window = undefined;
    occurrence = cron.nextRun(occurrence);
  }
  // An open window may go on past `now` into the occurrences after it.
  for (let i = 0; window && occurrence && occurrence <= window.end && i < MAX_CHAIN; i++) {
    const end = endOf(def, occurrence);
    if (end > window.end) window = { start: window.start, end };
    occurrence = cron.nextRun(occurrence);
  }
  // Every window kept above ends after `now` (one that ended is dropped), and chaining only extends it.
  return window ? { ...window, source: describeRecurring(def) } : undefined;
}

/** The end of the window that opens at `start`: the duration added on the zone's local clock. */
function endOf(def: RecurringFreeze, start: Date): Date {
  const wall = start.getTime() + offsetOf(def.timezone, start) + parseDuration(def.duration);
  return new Date(wallToInstant(def.timezone, wall));
}

/** Milliseconds the zone's local clock is ahead of UTC at `at`. */
function offsetOf(zone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  // Stryker disable next-line OptionalChaining: formatToParts with these options always gives each of these parts
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instant at which the zone's clock shows `wall` (a local time written as if it were UTC). Two
 * passes settle the offset; a local time the clocks skip (02:30 on the night they go forward) comes
 * out an hour later, as the clocks show it.
 */
function wallToInstant(zone: string, wall: number): number {
  const first = wall - offsetOf(zone, new Date(wall));
  return wall - offsetOf(zone, new Date(first));
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
    // Stryker disable next-line BlockStatement: an empty catch returns undefined, which callers read as false too
  } catch {
    return false;
  }
}
