/**
 * API tokens: kept by the SHA-256 of their secret, never the secret itself.
 */
import { compiledOnce } from './compiled-queries.js';
import type { ReadContext, WriteContext } from './query-context.js';
import { toToken } from './rows.js';
import type { ApiToken, TokenReader, TokenWriter, Vouch } from './store.js';
import { claimOf, fromToken, readFrom, vouched } from './vouched-rows.js';

export const tokenReads: TokenReader & ThisType<ReadContext> = {
  async findTokenByHash(hash: string): Promise<ApiToken | undefined> {
    const db = this.db;
    const [row] = (await db.executeQuery(compiledOnce(db, 'findTokenByHash', () => db.selectFrom('api_tokens').selectAll().where('hash', '=', hash), [hash]))).rows;
    return row && readFrom(toToken(row), 'api_tokens', row);
  },

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  },
};

export const tokenWrites: TokenWriter & ThisType<WriteContext> = {
  async insertToken(t: ApiToken, vouch?: Vouch): Promise<void> {
    const row = fromToken(t);
    await this.db.insertInto('api_tokens').values({ ...row, audit_seq: await vouched(vouch, [claimOf('api_tokens', row)]) }).execute();
  },

  async revokeToken(id: string, at: string, vouch?: Vouch): Promise<boolean> {
    const found = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!found) return false;
    if (found.revoked_at === null) {
      // The event vouches for the token as it is once revoked.
      const row = fromToken({ ...toToken(found), revokedAt: at });
      await this.db.updateTable('api_tokens').set({ revoked_at: at, audit_seq: await vouched(vouch, [claimOf('api_tokens', row)]) }).where('id', '=', id).execute();
    }
    return true;
  },
};
