/**
 * What differs between the SQL dialects the store runs on, in a file of its own: the migrations
 * (built per dialect) and the store both name the dialects, and neither has to import the other for
 * it; and the shared store (`kysely-store.ts`) is told here what each dialect's writers lock, instead
 * of asking which dialect it is on.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * How writers take turns, given by `sqlite-store.ts` and `postgres-store.ts`. Each takes the write
 * transaction's own connection (`trx`), and each lock lasts until that transaction ends.
 */
export interface WriteLocks {
  /**
   * Makes concurrent writers of one kind take turns: appending to the audit log (`audit`), or
   * numbering the next policy version or promotion (`policies`, `promotions`).
   */
  serialize(trx: Kysely<Database>, kind: 'audit' | 'policies' | 'promotions'): Promise<void>;
  /** Makes promotions into one stage of one subject take turns. */
  lockStage(trx: Kysely<Database>, subject: string, stage: string): Promise<void>;
  /** `select`, locking the rows it returns and passing over rows another transaction has locked. */
  skipLocked<DB, TB extends keyof DB, O>(select: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
}
