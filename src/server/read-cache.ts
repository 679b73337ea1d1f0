/**
 * The server's read cache: answers that only change when the store does (or when a known moment
 * passes) are kept in memory and reused, instead of reading and evaluating everything again per
 * request. Every entry belongs to the store's change marker at the time it was computed; when the
 * marker moves (any commit, by this process or another: a CLI on the same file, another replica on
 * the same PostgreSQL database), everything is dropped. An entry may also carry an `until` time
 * (a sign-off expiring, a freeze window opening) after which it is computed again.
 *
 * Only what is safe to share is kept: decisions per caller, the active policy, API-token identities
 * (their expiry is checked again on every hit; a revocation is a commit, so it takes effect at once).
 */
import type { Store } from '../store/store.js';

export interface ReadCache {
  /**
   * The value under `key`, computed under the store's change marker, or `compute()`d now. A
   * computation that throws is not kept. `until`: the time (ms) after which the value goes stale.
   */
  get<T>(key: string, now: number, compute: () => Promise<{ value: T; until?: number }>): Promise<T>;
}

/** The cache as one request sees it: the store's change marker is read once, at its first use. */
export interface ReadCaches {
  forRequest(): ReadCache;
  /** Entries kept now (for tests). */
  readonly size: number;
}

/** At most this many entries; past it the cache starts over (cheaper than LRU bookkeeping per hit). */
const MAX_ENTRIES = 10_000;

export function createReadCache(store: Store): ReadCaches {
  let marker: string | undefined;
  const entries = new Map<string, { value: unknown; until: number }>();
  /** Computations under way, by key, with the marker they were started under. */
  const computing = new Map<string, { marker: string; result: Promise<{ value: unknown; until: number }> }>();
  return {
    get size() {
      return entries.size;
    },
    forRequest(): ReadCache {
      let read: Promise<string | undefined> | undefined;
      return {
        async get<T>(key: string, now: number, compute: () => Promise<{ value: T; until?: number }>): Promise<T> {
          const current = await (read ??= store.changeMarker());
          if (current === undefined) return (await compute()).value;
          if (current !== marker) {
            // Another marker drops everything. (A request that read its marker just before a commit
            // may set an older one back: entries are then served only to requests that read that
            // same marker, whose own reads would have been no newer. Churn, never a stale answer.)
            entries.clear();
            marker = current;
          }
          const hit = entries.get(key);
          if (hit && now < hit.until) return hit.value as T;
          // Requests that arrive together (a burst of sign-offs after a commit dropped everything)
          // share the computation one of them started under the same marker, instead of each
          // reading and vouching the same token and policy again. A failure is not shared: each
          // request then computes for itself, as without the cache.
          const running = computing.get(key);
          if (running && running.marker === current) {
            const shared = await running.result.catch(() => undefined);
            if (shared && now < shared.until) return shared.value as T;
          }
          const result = compute().then(({ value, until = Infinity }) => ({ value, until }));
          computing.set(key, { marker: current, result });
          let settled: { value: T; until: number };
          try {
            settled = await result;
          } finally {
            if (computing.get(key)?.result === result) computing.delete(key);
          }
          const { value, until } = settled;
          // Kept only if nothing was committed meanwhile that the next reader would not see dropped.
          if (marker === current && now < until) {
            if (entries.size >= MAX_ENTRIES) entries.clear();
            entries.set(key, { value, until });
          }
          return value;
        },
      };
    },
  };
}

/** A cache that keeps nothing: every `get` computes. */
export const NO_CACHE: ReadCaches = {
  size: 0,
  forRequest: () => ({ get: async (_key, _now, compute) => (await compute()).value }),
};
