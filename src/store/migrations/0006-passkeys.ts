/**
 * 0006: passkeys, and sign-offs signed with one (docs/passkeys.md). Frozen in time like every
 * migration.
 * - `passkeys`: a WebAuthn credential bound to a roster user. The public key twice: as the
 *   authenticator gave it (COSE, what @simplewebauthn/server verifies with) and as SubjectPublicKeyInfo
 *   DER (what node:crypto, and so `tollgate verify`, verifies with). `sign_count` is the
 *   authenticator's counter as last seen; `rp_id` and `origin` the relying party it was registered
 *   for. Vouched for like every row a decision reads: `audit_seq` names the event that wrote it last.
 * - `signoffs.signature_kind` (null: `ed25519`, every sign-off before this migration) and
 *   `signoffs.webauthn_json` (the assertion's authenticator data, client data, credential id and relying
 *   party). Both are left out of a row's digest while null, so the digests the log recorded for
 *   earlier rows still hold (store/vouched-rows.ts).
 * - PostgreSQL: the change-marker trigger of 0005 on the new table too.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function passkeys(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('passkeys')
        // The credential id, base64url, as the authenticator made it: unique across authenticators.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('cose_key', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'integer', (c) => c.notNull())
        .addColumn('sign_count', 'integer', (c) => c.notNull())
        .addColumn('transports_json', 'text', (c) => c.notNull())
        .addColumn('rp_id', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .addColumn('audit_seq', 'integer')
        .execute();
      await db.schema.createIndex('passkeys_user_idx').on('passkeys').column('user_name').execute();
      await db.schema.createIndex('passkeys_audit_seq_idx').on('passkeys').column('audit_seq').execute();
      await db.schema.alterTable('signoffs').addColumn('signature_kind', 'text').execute();
      await db.schema.alterTable('signoffs').addColumn('webauthn_json', 'text').execute();
      if (dialect === 'postgres') {
        await sql`create trigger passkeys_touch after insert or update or delete or truncate on passkeys for each statement execute function tollgate_touch()`.execute(db);
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') await sql`drop trigger passkeys_touch on passkeys`.execute(db);
      await db.schema.alterTable('signoffs').dropColumn('webauthn_json').execute();
      await db.schema.alterTable('signoffs').dropColumn('signature_kind').execute();
      await db.schema.dropTable('passkeys').execute();
    },
  };
}
