/**
 * Every migration, in order, as a static list (no directory scanning: the list is bundled and checked
 * by the compiler). Append new migrations; never edit or reorder old ones.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialectName } from '../dialect.js';
import { initial } from './0001-initial.js';
import { tokens } from './0002-tokens.js';
import { webhooks } from './0003-webhooks.js';
import { signoffSignature } from './0004-signoff-signature.js';
import { vouchedState } from './0005-vouched-state.js';
import { passkeys } from './0006-passkeys.js';

// A factory per migration, because a few column types (bytes) are spelled differently per dialect.
const MIGRATIONS: ReadonlyArray<readonly [name: string, make: (dialect: SqlDialectName) => Migration]> = [
  ['0001-initial', initial],
  ['0002-tokens', tokens],
  ['0003-webhooks', webhooks],
  ['0004-signoff-signature', signoffSignature],
  ['0005-vouched-state', vouchedState],
  ['0006-passkeys', passkeys],
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
