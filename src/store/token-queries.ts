/**
 * API tokens: kept by the SHA-256 of their secret, never the secret itself.
 */
import type { ReadContext, WriteContext } from './query-context.js';
import { toToken } from './rows.js';
import type { ApiToken, TokenReader, TokenWriter } from './store.js';

export const tokenReads: TokenReader & ThisType<ReadContext> = {
  async findTokenByHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && toToken(row);
  },

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  },
};

export const tokenWrites: TokenWriter & ThisType<WriteContext> = {
  async insertToken(t: ApiToken): Promise<void> {
    await this.db
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
    const row = await this.db.selectFrom('api_tokens').select('revoked_at').where('id', '=', id).executeTakeFirst();
    if (!row) return false;
    if (row.revoked_at === null) await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
    return true;
  },
};
