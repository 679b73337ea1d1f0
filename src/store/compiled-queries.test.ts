import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledOnce } from './compiled-queries.js';
import type { Database } from './schema.js';

describe('compiledOnce', () => {
  let db: Kysely<Database>;
  afterEach(async () => db.destroy());

  function open(): Kysely<Database> {
    const sqlite = new BetterSqlite3(':memory:');
    sqlite.exec("create table api_tokens (id text, hash text); insert into api_tokens values ('t1', 'h1'), ('t2', 'h2')");
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }

  it('runs the query compiled the first time with the parameters of each call, in and out of a transaction', async () => {
    db = open();
    const find = (on: Kysely<Database>, hash: string) =>
      on.executeQuery(compiledOnce(on, 'test:token', () => on.selectFrom('api_tokens').select('id').where('hash', '=', hash), [hash]));
    expect((await find(db, 'h1')).rows).toEqual([{ id: 't1' }]);
    expect((await find(db, 'h2')).rows).toEqual([{ id: 't2' }]);
    expect(await db.transaction().execute(async (trx) => (await find(trx, 'h1')).rows)).toEqual([{ id: 't1' }]);
  });

  it('refuses a query that binds other parameters than it is given', () => {
    db = open();
    expect(() => compiledOnce(db, 'test:limit', () => db.selectFrom('api_tokens').select('id').where('hash', '=', 'h1').limit(1), ['h1'])).toThrow(
      'query test:limit binds ["h1",1], not ["h1"]',
    );
  });
});
