/**
 * Every migration, in order, as a static list (no directory scanning: the list is bundled and checked
 * by the compiler). Append new migrations; never edit or reorder old ones.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialectName } from '../dialect.js';
import { initial } from './0001-initial.js';
import { tokens } from './0002-tokens.js';
import { webhooks } from './0003-webhooks.js';
import { signoffSignature } from './0004-signoff-signature.js';
import { vouchedState } from './0005-vouched-state.js';
import { passkeys } from './0006-passkeys.js';
import { stageHolds } from './0007-stage-holds.js';
import { incidents } from './0008-incidents.js';
import { breakGlass } from './0009-break-glass.js';
import { handoffs } from './0010-handoffs.js';
import { webhookFormat } from './0011-webhook-format.js';

// A factory per migration, because a few column types (bytes) are spelled differently per dialect.
const MIGRATIONS: ReadonlyArray<readonly [name: string, make: (dialect: SqlDialectName) => Migration]> = [
  ['0001-initial', initial],
  ['0002-tokens', tokens],
  ['0003-webhooks', webhooks],
  ['0004-signoff-signature', signoffSignature],
  ['0005-vouched-state', vouchedState],
  ['0006-passkeys', passkeys],
  ['0007-stage-holds', stageHolds],
  ['0008-incidents', incidents],
  ['0009-break-glass', breakGlass],
  ['0010-handoffs', handoffs],
  ['0011-webhook-format', webhookFormat],
];

/** A Kysely migration provider that returns the static list for `dialect`. */
export function createMigrationProvider(dialect: SqlDialectName): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return Object.fromEntries(MIGRATIONS.map(([name, make]) => [name, make(dialect)]));
    },
  };
}

/**
 * Brings the database up to the latest migration; throws the first migration error. On PostgreSQL
 * pass the `schema` the tables live in: Kysely's migrator otherwise decides whether its bookkeeping
 * table exists by looking for that name in every schema of the database, so a second Tollgate schema
 * in one database would find the first one's table and skip creating its own.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: SqlDialectName, opts: { schema?: string } = {}): Promise<void> {
  if (await upToDate(db, opts.schema)) return;
  const migrator = new Migrator({
    db,
    provider: createMigrationProvider(dialect),
    ...(opts.schema !== undefined ? { migrationTableSchema: opts.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/**
 * Whether every migration, and nothing else, is already recorded: then there is nothing to do, and
 * one read replaces the migrator's introspection, lock table and transaction (a CLI command opens
 * the store every time it runs). Anything else (a new file, a pending or an unknown migration, no
 * bookkeeping table yet) goes to the migrator, which decides and reports as always.
 */
async function upToDate(db: Kysely<any>, schema: string | undefined): Promise<boolean> {
  try {
    const table = schema === undefined ? sql.table('kysely_migration') : sql.table(`${schema}.kysely_migration`);
    const { rows } = await sql<{ name: string }>`select name from ${table} order by name`.execute(db);
    return rows.length === MIGRATIONS.length && rows.every((r, i) => r.name === MIGRATIONS[i]![0]);
  } catch {
    return false;
  }
}
