/**
 * API tokens: kept by the SHA-256 of their secret, never the secret itself.
 */
import type { Kysely } from 'kysely';
import { toToken } from './rows.js';
import type { Database } from './schema.js';
import type { ApiToken, TokenReader, TokenWriter } from './store.js';

/** The reads, on `db`: the store's own connection or a write transaction's. */
export function createTokenReader(db: Kysely<Database>): TokenReader {
  return {
    async findTokenByHash(hash: string): Promise<ApiToken | undefined> {
      const row = await db.selectFrom('api_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row && toToken(row);
    },

    async listTokens(): Promise<ApiToken[]> {
      const rows = await db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toToken);
    },
  };
}

/** The writes, on a write transaction's connection `db`. */
export function createTokenWriter(db: Kysely<Database>): TokenWriter {
  return {
    async insertToken(t: ApiToken): Promise<void> {
      await db
        .insertInto('api_tokens')
        .values({
          id: t.id,
          user_name: t.user,
          hash: t.hash,
          created_at: t.createdAt,
          created_by: t.createdBy,
          expires_at: t.expiresAt ?? null,
          revoked_at: t.revokedAt ?? null,
        })
        .execute();
    },

    async revokeToken(id: string, at: string): Promise<boolean> {
      const row = await db.selectFrom('api_tokens').select('revoked_at').where('id', '=', id).executeTakeFirst();
      if (!row) return false;
      if (row.revoked_at === null) await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
      return true;
    },
  };
}
