/**
 * The embedded store: one SQLite file (better-sqlite3), the default for local mode.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import type { WriteLocks } from './dialect.js';
import { createKyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations/index.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * Opens (creating if need be) the SQLite database at `file`, brings its schema up to date and returns
 * a `Store` over it. `:memory:` gives a private in-memory database, for tests.
 */
export async function createSqliteStore(file: string): Promise<Store> {
  const sqlite = new BetterSqlite3(file);
  try {
    // Wait up to 10 s for another process's write lock instead of failing at once. Set first, since
    // switching the journal mode itself needs the lock.
    sqlite.pragma('busy_timeout = 10000');
    // WAL: readers never block the writer nor the writer the readers, across CLI processes and `serve`.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) });
    const dataVersion = sqlite.prepare('pragma data_version').pluck();
    await migrateToLatest(db, 'sqlite');
    return createKyselyStore(db, {
      dialect: 'sqlite',
      // Kysely gives a transaction the one connection for its whole duration, and waits for it to be
      // free before starting another: concurrent `transaction()` calls in one process run one after
      // the other, and so do plain reads issued while a transaction is open.
      begin: (fn) => db.transaction().execute(fn),
      locks: SQLITE_LOCKS,
      close: () => db.destroy(),
      // Moves when another connection (a CLI process, another server) commits to the file; a
      // synchronous read of the same connection, so no query has to wait its turn.
      externalVersion: async () => String(dataVersion.get()),
    });
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

/**
 * SQLite takes no locks of its own, and needs none: every transaction begins IMMEDIATE (below), so it
 * holds the database's one write lock from its first statement to its end. Writers already take
 * turns, whatever they write; and SQLite has no row locks, nor a claim another writer could be
 * holding at the same time.
 */
const SQLITE_LOCKS: WriteLocks = {
  serialize: async () => {},
  lockStage: async () => {},
  skipLocked: (select) => select,
};

/**
 * Kysely's SQLite dialect, with transactions that start with BEGIN IMMEDIATE.
 *
 * A plain (deferred) BEGIN takes only a read lock and upgrades it at the first write. When two CLI
 * processes on one file do that at once, say both read the audit head and then append, the second
 * upgrade cannot wait for the first (its snapshot would be stale), so SQLite fails it with SQLITE_BUSY
 * (SQLITE_BUSY_SNAPSHOT), busy_timeout or not. BEGIN IMMEDIATE takes the write lock at the start, where
 * busy_timeout does apply: the processes take turns instead of failing. Every Tollgate transaction
 * writes, so nothing is lost by locking early.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #sqlite: BetterSqlite3.Database;

  readonly #statements: StatementCache;

  constructor(sqlite: BetterSqlite3.Database) {
    const statements = new StatementCache(sqlite);
    super({ database: statements });
    this.#sqlite = sqlite;
    this.#statements = statements;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#sqlite, this.#statements);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #sqlite: BetterSqlite3.Database;

  constructor(sqlite: BetterSqlite3.Database, statements: StatementCache) {
    super({ database: statements });
    this.#sqlite = sqlite;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY
    // at commit…); a second ROLLBACK would then throw and hide the error that caused it.
    if (!this.#sqlite.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}

/**
 * SQLite's DDL is transactional, though Kysely's adapter says otherwise to be safe. Saying so lets the
 * migrator run all pending migrations in one (immediate) transaction: a failed migration leaves
 * nothing behind, and two processes opening a new file at once do not both try to create the tables.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Prepared statements kept by their SQL. Kysely prepares every query it runs, and preparing costs
 * more than running most of Tollgate's (a sign-off's ~20 queries are the same SQL every time). The
 * queries' texts are few (values are bound, never spliced in), but the cache is bounded anyway. A
 * statement still being iterated (a streamed read) is busy: another use of the same SQL meanwhile
 * gets a fresh statement.
 */
export class StatementCache implements SqliteDatabase {
  static readonly LIMIT = 500;
  readonly #sqlite: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(sqlite: BetterSqlite3.Database) {
    this.#sqlite = sqlite;
  }

  prepare(sql: string): SqliteStatement {
    const cached = this.#statements.get(sql);
    if (cached && !cached.busy) return cached;
    const statement = this.#sqlite.prepare(sql);
    if (!cached) {
      if (this.#statements.size >= StatementCache.LIMIT) this.#statements.delete(this.#statements.keys().next().value!);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** How many statements are kept (for tests). */
  get size(): number {
    return this.#statements.size;
  }

  close(): void {
    this.#statements.clear();
    this.#sqlite.close();
  }
}
