import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StatementCache } from './sqlite-store.js';

function db() {
  const sqlite = new BetterSqlite3(':memory:');
  sqlite.exec('create table t (n integer)');
  sqlite.prepare('insert into t (n) values (1), (2), (3)').run();
  return new StatementCache(sqlite);
}

describe('StatementCache', () => {
  it('prepares each SQL text once and hands the same statement back', () => {
    const cache = db();
    const a = cache.prepare('select n from t where n > ?');
    expect(cache.prepare('select n from t where n > ?')).toBe(a);
    expect(cache.prepare('select n from t where n < ?')).not.toBe(a);
    expect(a.all([1])).toEqual([{ n: 2 }, { n: 3 }]);
    expect(cache.size).toBe(2);
    cache.close();
  });

  it('gives a fresh statement while the cached one is still being iterated', () => {
    const cache = db();
    const sql = 'select n from t order by n';
    const outer = cache.prepare(sql);
    const seen: number[][] = [];
    for (const row of outer.iterate([]) as Iterable<{ n: number }>) {
      const inner = cache.prepare(sql);
      expect(inner).not.toBe(outer);
      seen.push([row.n, ...(inner.all([]) as { n: number }[]).map((r) => r.n)]);
    }
    expect(seen).toEqual([
      [1, 1, 2, 3],
      [2, 1, 2, 3],
      [3, 1, 2, 3],
    ]);
    // Done iterating: the cached statement is free again.
    expect(cache.prepare(sql)).toBe(outer);
    cache.close();
  });

  it('keeps at most LIMIT statements, dropping the oldest', () => {
    const cache = db();
    const first = cache.prepare('select 0');
    for (let i = 1; i <= StatementCache.LIMIT; i++) cache.prepare(`select ${i}`);
    expect(cache.size).toBe(StatementCache.LIMIT);
    expect(cache.prepare('select 0')).not.toBe(first);
    cache.close();
  });
});
