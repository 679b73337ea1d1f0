/**
 * 0004: an index on sign-off signatures, so that recording a sign-off can tell in one lookup whether
 * that very signed sign-off is already recorded (a client's retry), however many the release has.
 * Frozen in time like every migration.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function signoffSignature(_dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('signoffs_signature_idx').on('signoffs').column('signature').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('signoffs_signature_idx').execute();
    },
  };
}
