/**
 * A bounded memo for pure functions of a string: parsed keys, digests of stored text. The oldest
 * entry goes when the limit is reached (a Map keeps insertion order), so memory stays bounded
 * however many distinct inputs a long-running server sees.
 */
export function memoByText<T>(limit: number, fn: (text: string) => T): (text: string) => T {
  const memo = new Map<string, T>();
  return (text) => {
    const hit = memo.get(text);
    if (hit !== undefined) return hit;
    const value = fn(text);
    if (memo.size >= limit) memo.delete(memo.keys().next().value!);
    memo.set(text, value);
    return value;
  };
}

/** `value` and everything in it made read-only: what a memo hands out to many callers. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Digests of frozen objects, by identity: a frozen object's digest cannot change. */
const frozenDigests = new WeakMap<object, string>();

/** `digest(value)`, computed once per frozen object (and every time for any other). */
export function digestOfFrozen<O extends object, D extends string>(value: O, digest: (value: O) => D): D {
  if (!Object.isFrozen(value)) return digest(value);
  let d = frozenDigests.get(value) as D | undefined;
  if (d === undefined) {
    d = digest(value);
    frozenDigests.set(value, d);
  }
  return d;
}

/** The text objects were parsed from, for those whose reader recorded it (`parsedFrom`). */
const sources = new WeakMap<object, string>();

/** Records that `value` was parsed from `text` (and is not changed after): see `sourceText`. */
export function parsedFrom<T extends object>(value: T, text: string): T {
  sources.set(value, text);
  return value;
}

/** The text `value` was parsed from, if its reader recorded it. */
export function sourceText(value: object): string | undefined {
  return sources.get(value);
}

/**
 * A bounded set of texts for which a check passed: a check that is a pure function of the text need
 * not be run again on the same text. The oldest entry goes first past `limit`.
 */
export function passedChecks(limit: number): { has(text: string): boolean; add(text: string): void } {
  const passed = new Set<string>();
  return {
    has: (text) => passed.has(text),
    add(text) {
      if (passed.size >= limit) passed.delete(passed.values().next().value!);
      passed.add(text);
    },
  };
}
