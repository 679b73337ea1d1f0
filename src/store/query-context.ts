/**
 * What the queries of each role (`*-queries.ts`) run on. They are written as methods over `this`, a
 * context, so that `kysely-store.ts` can gather them once onto one prototype: the store's reader,
 * and each transaction, is then only an object holding its context, made in two field stores.
 */
import type { Kysely } from 'kysely';
import type { WriteLocks } from './dialect.js';
import type { Database } from './schema.js';

/** Reads run on a connection: the store's own, or a write transaction's. */
export interface ReadContext {
  readonly db: Kysely<Database>;
}

/** Writes run on a write transaction's connection, taking the dialect's locks where writers must take turns. */
export interface WriteContext extends ReadContext {
  readonly locks: WriteLocks;
}
