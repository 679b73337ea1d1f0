/**
 * The one implementation of `Store` over Kysely, shared by SQLite and PostgreSQL so that every query
 * is written once. What differs between the two is passed in by `sqlite-store.ts` and
 * `postgres-store.ts` (`KyselyStoreOptions`): how a write transaction begins, how writers take turns
 * in it, and how other processes' commits are noticed.
 *
 * The queries are in one file per role (`record-`, `audit-`, `token-`, `outbox-queries.ts`); this file
 * puts them together into the store and its transactions.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import { auditReads, auditWrites } from './audit-queries.js';
import type { SqlDialectName, WriteLocks } from './dialect.js';
import { outboxReads, outboxWrites } from './outbox-queries.js';
import type { ReadContext, WriteContext } from './query-context.js';
import { recordReads, recordWrites } from './record-queries.js';
import { vouchReads } from './vouch-queries.js';
import type { Database } from './schema.js';
import { TransactionLost, type Savepoints, type Store, type StoreReader, type StoreTx } from './store.js';
import { tokenReads, tokenWrites } from './token-queries.js';
import { passkeyReads, passkeyWrites } from './passkey-queries.js';

/** How a dialect plugs into the shared Kysely store. */
export interface KyselyStoreOptions {
  readonly dialect: SqlDialectName;
  /**
   * Runs `fn` in one write transaction and commits, or rolls back if it throws. SQLite takes the
   * write lock at the start (BEGIN IMMEDIATE); PostgreSQL uses an ordinary transaction, in which
   * writers take the advisory `locks`.
   */
  readonly begin: <T>(fn: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;
  /** How writers take turns inside those transactions. */
  readonly locks: WriteLocks;
  /** Releases the database; `db.destroy()` when absent. */
  readonly close?: () => Promise<void>;
  /**
   * What other processes' commits have changed, as a value that moves when they commit (SQLite:
   * `PRAGMA data_version`; PostgreSQL: the audit log's head, since every change appends to it).
   * This process's own commits are counted by the store itself. Absent: no change marker.
   */
  readonly externalVersion?: () => Promise<string>;
}

// Every role's queries, gathered once: the prototypes of the store's reader and of every `tx`. The
// types keep them complete: a method missing from a role's queries does not compile.
const READS: StoreReader & ThisType<ReadContext> = { ...recordReads, ...auditReads, ...tokenReads, ...passkeyReads, ...outboxReads, ...vouchReads };
/**
 * Savepoints open in each transaction's context. Names only need to be unique among open ones, so a
 * savepoint is named by its depth: a name of its own each time would be new SQL for every change of a
 * group, prepared afresh and crowding the statement cache of SQLite (`sqlite-store.ts`).
 */
const openSavepoints = new WeakMap<object, number>();
/** Savepoints: the same SQL on both dialects. */
const SAVEPOINTS: Savepoints & ThisType<WriteContext> = {
  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const depth = (openSavepoints.get(this) ?? 0) + 1;
    openSavepoints.set(this, depth);
    const name = sql.id(`tg_sp_${depth}`);
    try {
      await sql`savepoint ${name}`.execute(this.db);
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        // When the database already ended the transaction (SQLite does on SQLITE_FULL, IOERR…;
        // PostgreSQL refuses until ROLLBACK after a failed statement only outside savepoints) the
        // rollback fails too: then the transaction as a whole fails, with the first error.
        try {
          await sql`rollback to savepoint ${name}`.execute(this.db);
          await sql`release savepoint ${name}`.execute(this.db);
        } catch {
          throw new TransactionLost(err);
        }
        throw err;
      }
      await sql`release savepoint ${name}`.execute(this.db);
      return result;
    } finally {
      openSavepoints.set(this, depth - 1);
    }
  },
};
const WRITES: StoreTx & ThisType<WriteContext> = { ...READS, ...recordWrites, ...auditWrites, ...tokenWrites, ...passkeyWrites, ...outboxWrites, ...SAVEPOINTS };

/** A `Store` over a migrated Tollgate database (see `migrations/`). */
export function createKyselyStore(db: Kysely<Database>, opts: KyselyStoreOptions): Store {
  const { begin, locks, externalVersion } = opts;
  /** Set while a `transaction` callback runs, to catch use of the store instead of its `tx`. */
  const inTransaction = new AsyncLocalStorage<true>();
  /** Transactions this store has committed: its own part of the change marker. */
  let commits = 0;

  /**
   * Inside a transaction callback the store itself must not be used: on SQLite its one connection is
   * held by the transaction, so the call would wait forever; on PostgreSQL it would read outside the
   * transaction. A clear error beats a hang.
   */
  const outsideTransaction = (): void => {
    if (inTransaction.getStore()) {
      throw new Error('inside store.transaction(), read and write through its `tx`, not the store');
    }
  };

  return {
    ...guarded(READS, withContext(READS, { db }), outsideTransaction),
    dialect: opts.dialect,

    async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      outsideTransaction();
      const result = await inTransaction.run(true, () => begin((trx) => fn(withContext(WRITES, { db: trx, locks }))));
      // Counted once committed: a marker read before this point is older than the commit, so whatever
      // was cached under it is dropped at the next read.
      commits++;
      return result;
    },

    async changeMarker(): Promise<string | undefined> {
      if (!externalVersion || inTransaction.getStore()) return undefined;
      return `${await externalVersion()}/${commits}`;
    },

    async close(): Promise<void> {
      await (opts.close ? opts.close() : db.destroy());
    },
  };
}

/** `methods` over `context`: an object holding the context, with the methods as its prototype. */
function withContext<M extends object, C extends object>(methods: M & ThisType<C>, context: C): M {
  return Object.assign(Object.create(methods) as M, context);
}

/**
 * Each of `methods`, called on `target` after `check`. One wrapper over every method the reader has,
 * rather than a forwarding method per read, so that a read added to a role is guarded without
 * anyone having to remember to.
 */
function guarded<M extends object>(methods: M, target: M, check: () => void): M {
  const entries = Object.entries(methods) as [string, (...args: unknown[]) => unknown][];
  return Object.fromEntries(
    entries.map(([name, method]) => [
      name,
      (...args: unknown[]) => {
        check();
        return method.apply(target, args);
      },
    ]),
  ) as M;
}
