/**
 * Array helpers that work on any length. `Math.max(...values)` and `target.push(...items)` pass every
 * element as an argument on the stack, and throw `RangeError: Maximum call stack size exceeded` past
 * roughly a hundred thousand of them: a large validation result made `report` fail forever that way
 * (issue 13). Use these wherever the length comes from data rather than from the code.
 */

/** The largest of `values` and `floor` (`-Infinity` when both are empty); NaN is skipped. */
export function maxOf(values: Iterable<number>, floor = -Infinity): number {
  let max = floor;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** The smallest of `values` and `ceiling` (`Infinity` when both are empty); NaN is skipped. */
export function minOf(values: Iterable<number>, ceiling = Infinity): number {
  let min = ceiling;
  for (const v of values) if (v < min) min = v;
  return min;
}

/** Appends every item to `target`, one at a time; returns `target`. */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/**
 * How much a validation result may record: its `measurements` and its `details` each up to 1 MiB of
 * JSON (UTF-8), its summary up to 4,096 characters. A result is read whole by every decision that
 * shows it, by `report` and the review desk, and goes into attestations; the limits keep those
 * bounded. `validate` shrinks what a validator returns to fit (see validators/run.ts); the service
 * refuses a submitted result that does not (TG_RESULT_INVALID).
 */
export const RESULT_LIMITS = Object.freeze({ measurementsBytes: 1024 * 1024, detailsBytes: 1024 * 1024, summaryChars: 4096 });

/** The size of `value` as JSON, in UTF-8 bytes (0 for undefined). */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  // Stryker disable next-line StringLiteral: 'utf8' is Buffer.byteLength's default; written for the reader
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}
