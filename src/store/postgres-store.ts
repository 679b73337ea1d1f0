/**
 * The scale-out store: PostgreSQL (node-postgres pool), for several `serve` processes sharing one
 * database. Every query is the shared Kysely store's; this file only opens the pool, brings the schema
 * up to date and says how a write transaction begins and how writers take turns in it.
 */
import { CompiledQuery, Kysely, PostgresDialect, sql, type DatabaseIntrospector, type TableMetadata } from 'kysely';
import pg from 'pg';
import type { WriteLocks } from './dialect.js';
import { createKyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations/index.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /**
   * The schema that holds Tollgate's tables, created if missing and put alone on every connection's
   * `search_path`. Default: the connection's own `search_path` (usually `public`).
   */
  readonly schema?: string;
  /** The most connections the pool opens. Default: 10 (node-postgres's default). */
  readonly poolSize?: number;
}

/**
 * Key of the session advisory lock held while migrating: every process opening the database takes
 * turns, so two of them starting on a fresh database do not both create the tables. A one-bigint key
 * ("TGMIGRAT"), which PostgreSQL keeps apart from the two-int keys the store itself locks with.
 */
const MIGRATION_LOCK_KEY = '6072351004394340692';

/** Namespace of the store's advisory locks (the first key of the two-int form): "TGAT". */
const LOCK_NAMESPACE = 0x54474154;

/**
 * Writers take turns by transaction-scoped advisory locks, released when the transaction ends. Unlike
 * a row lock, one works before the first row exists (the first promotion into a stage, the first
 * audit event). The keys are hashed names in the store's own namespace.
 */
const POSTGRES_LOCKS: WriteLocks = {
  serialize: (trx, kind) => advisoryXactLock(trx, kind),
  // JSON keeps the key unambiguous (`a/b` + `c` vs `a` + `b/c`); PostgreSQL text cannot hold NUL.
  lockStage: (trx, subject, stage) => advisoryXactLock(trx, JSON.stringify(['stage', subject, stage])),
  // A delivery another replica is claiming is passed over, not waited for: replicas share the outbox.
  skipLocked: (select) => select.forUpdate().skipLocked(),
};

async function advisoryXactLock(trx: Kysely<Database>, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int4, hashtext(${key}))`.execute(trx);
}

/**
 * Connects to the PostgreSQL database at `url` (`postgres://user@host:5432/db`), brings its schema up
 * to date and returns a `Store` over it. Safe to call from several processes at once.
 */
export async function createPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<Store> {
  const { schema, poolSize } = opts;
  if (schema !== undefined && (schema === '' || schema.includes('\0'))) {
    throw new Error(`createPostgresStore: schema must be a non-empty name, got ${JSON.stringify(schema)}`);
  }
  if (poolSize !== undefined && !(Number.isInteger(poolSize) && poolSize >= 1)) {
    throw new Error(`createPostgresStore: poolSize must be a whole number of at least 1, got ${poolSize}`);
  }

  const pool = new pg.Pool({ connectionString: url, types: TYPES, ...(poolSize !== undefined ? { max: poolSize } : {}) });
  // An idle connection that breaks (the server restarted, a proxy timed it out) is dropped by the
  // pool, which then emits 'error'; unheard, that event would end the process. The next query opens
  // a new connection and reports any lasting problem to its caller.
  pool.on('error', () => {});
  // The same for a connection that breaks while checked out but between queries (inside a transaction,
  // the webhook dispatcher's claim): pg emits 'error' on the client, and unheard that ends the process.
  // Its holder learns of it from its next query, which fails (TG_DATABASE_UNAVAILABLE).
  pool.on('connect', (client) => void client.on('error', () => {}));

  // SET takes no bind parameters, hence the quoted identifier in the text.
  const setSearchPath = schema === undefined ? undefined : CompiledQuery.raw(`set search_path to ${pg.escapeIdentifier(schema)}`);
  const db = new Kysely<Database>({
    dialect: new OwnSchemaPostgresDialect({
      pool,
      // Once per new connection, before Kysely hands it out, so no query ever runs elsewhere.
      ...(setSearchPath ? { onCreateConnection: async (connection) => void (await connection.executeQuery(setSearchPath)) } : {}),
    }),
  });
  try {
    await migrate(db, schema);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return createKyselyStore(db, {
    dialect: 'postgres',
    // READ COMMITTED, said explicitly in case the server's default is stricter, because the store's
    // advisory locks rely on it: each statement sees what was committed before it started, so the
    // statement after `pg_advisory_xact_lock` sees everything the previous holder committed (PostgreSQL
    // makes a commit visible before it releases the locks). Under REPEATABLE READ or SERIALIZABLE the
    // snapshot would date from before the wait, and two writers would read the same audit head.
    begin: (fn) => db.transaction().setIsolationLevel('read committed').execute(fn),
    locks: POSTGRES_LOCKS,
    // Kysely ends the pool, closing every connection.
    close: () => db.destroy(),
    // A counter that every write to the record and the audit log moves (statement triggers, migration
    // 0005), whoever writes: another replica's commit, or a row changed behind Tollgate's back, which
    // must then be read again and refused rather than served from a cache. It is a row updated in the
    // writing transaction, so its new value is visible exactly when that commit is. One lookup by
    // key, shared by the callers that arrive while it is being asked.
    externalVersion: coalesce(async () => {
      const { rows } = await sql<{ n: number }>`select n from tollgate_changes where id = 1`.execute(db);
      return String(rows[0]?.n ?? 0);
    }),
  });
}

/**
 * One query answering many callers without ever answering one with a result older than its call:
 * a caller that arrives while a query is out waits for the next one, sent once that one returns, and
 * shares it with everyone else who arrived meanwhile. Under load that is one round trip per batch of
 * requests instead of one per request, and every answer still reflects every commit made before
 * its caller asked.
 */
function coalesce(query: () => Promise<string>): () => Promise<string> {
  let running: Promise<string> | undefined;
  let queued: Promise<string> | undefined;
  const start = (): Promise<string> => {
    const p = query().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };
  return () => {
    if (!running) return start();
    queued ??= running.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  };
}

/**
 * PostgreSQL as Kysely speaks it, but with an introspector that looks only at the tables of the
 * connection's own schema. Kysely's migrator asks the introspector whether its bookkeeping tables
 * exist, and Kysely's own introspector reads every column of every schema in the database, calling
 * `pg_get_serial_sequence` on each: when another schema is dropped at that moment (another Tollgate
 * database in the same PostgreSQL database being removed, or parallel tests), the query fails with
 * `schema "…" does not exist` and this store could not open. The migrator needs only the table names.
 */
class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    const tables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ name: string; schema: string; is_view: boolean }>`
        select c.relname as name, ns.nspname as schema, c.relkind = 'v' as is_view
        from pg_catalog.pg_class c join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
        where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p')`.execute(db);
      return rows.map((r) => ({ name: r.name, schema: r.schema, isView: r.is_view, columns: [] }));
    };
    return {
      getSchemas: async () => [{ name: (await currentSchema(db)) }],
      getTables: tables,
      getMetadata: async () => ({ tables: await tables() }),
    };
  }
}

/** Creates the schema if need be and runs the pending migrations, one process at a time. */
async function migrate(db: Kysely<Database>, schema: string | undefined): Promise<void> {
  // A session lock on one connection, rather than a transaction-scoped one: Kysely's migrator runs its
  // own transaction, and the lock must also cover its bookkeeping tables, created before it.
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::int8)`.execute(conn);
    try {
      if (schema !== undefined) {
        // Look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even
        // when the schema is there, which a least-privileged account given its schema may lack.
        const found = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(conn);
        if (found.rows.length === 0) await sql`create schema ${sql.id(schema)}`.execute(conn);
      }
      await migrateToLatest(conn, 'postgres', { schema: schema ?? (await currentSchema(conn)) });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::int8)`.execute(conn);
    }
  });
}

async function currentSchema(conn: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(conn);
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new Error('no schema on the search_path of the PostgreSQL connection exists: create one, or pass a schema to Tollgate');
  }
  return schema;
}

/**
 * node-postgres returns BIGINT (int8) as a string, since it may not fit a JS number. Tollgate's
 * integer columns are 32-bit and come back as numbers already; this covers the int8 results of
 * expressions (`count(*)`, `sum`), and fails loudly rather than round a number it cannot hold.
 * Passed to this pool only: `pg.types.setTypeParser` would change every pool in the process.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`PostgreSQL returned ${text}, beyond the integers a JS number holds exactly`);
  return n;
}
