/**
 * Passkeys: WebAuthn credentials bound to roster users, each row vouched for by the event that
 * registered it, revoked it or last moved its signature counter (a passkey sign-off).
 */
import type { ReadContext, WriteContext } from './query-context.js';
import { toPasskey } from './rows.js';
import type { Passkey, PasskeyReader, PasskeyWriter, Vouch } from './store.js';
import { claimOf, fromPasskey, vouched } from './vouched-rows.js';

export const passkeyReads: PasskeyReader & ThisType<ReadContext> = {
  async findPasskey(id: string): Promise<Passkey | undefined> {
    const row = await this.db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPasskey(row);
  },

  async listPasskeys(filter: { user?: string; ids?: readonly string[] } = {}): Promise<Passkey[]> {
    if (filter.ids !== undefined && filter.ids.length === 0) return [];
    let q = this.db.selectFrom('passkeys').selectAll();
    if (filter.user !== undefined) q = q.where('user_name', '=', filter.user);
    if (filter.ids !== undefined) q = q.where('id', 'in', [...filter.ids]);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toPasskey);
  },
};

export const passkeyWrites: PasskeyWriter & ThisType<WriteContext> = {
  async insertPasskey(p: Passkey, vouch?: Vouch): Promise<void> {
    const row = fromPasskey(p);
    await this.db.insertInto('passkeys').values({ ...row, audit_seq: await vouched(vouch, [claimOf('passkeys', row)]) }).execute();
  },

  async revokePasskey(id: string, at: string, by: string, vouch?: Vouch): Promise<boolean> {
    const found = await this.db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!found) return false;
    if (found.revoked_at === null) {
      // The event vouches for the passkey as it is once revoked.
      const row = fromPasskey({ ...toPasskey(found), revokedAt: at, revokedBy: by });
      await this.db
        .updateTable('passkeys')
        .set({ revoked_at: at, revoked_by: by, audit_seq: await vouched(vouch, [claimOf('passkeys', row)]) })
        .where('id', '=', id)
        .execute();
    }
    return true;
  },
};
