/**
 * Queries of the write path compiled once per database instead of on every call. Kysely builds a tree
 * of operation nodes for a query and compiles it to SQL every time it runs, which cost more than
 * SQLite takes to run most of these (a sign-off runs each of them once or more). The SQL of each
 * depends only on the dialect, so it is compiled once per Kysely instance (its adapter: a
 * transaction shares its database's) and run again with the new parameters.
 */
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

const compiled = new WeakMap<object, Map<string, CompiledQuery<unknown>>>();

/**
 * The query `build()` makes, compiled once under `name` for `db`'s dialect, with `parameters` bound.
 * `build` must bind exactly `parameters`, in this order (checked when it is compiled: a query that
 * binds anything else would be run with the wrong values).
 */
export function compiledOnce<R>(db: Kysely<Database>, name: string, build: () => Compilable<R>, parameters: readonly unknown[]): CompiledQuery<R> {
  const adapter = db.getExecutor().adapter;
  let byName = compiled.get(adapter);
  if (!byName) compiled.set(adapter, (byName = new Map()));
  const known = byName.get(name) as CompiledQuery<R> | undefined;
  if (known) return { ...known, parameters };
  const query = build().compile();
  if (query.parameters.length !== parameters.length || query.parameters.some((p, i) => p !== parameters[i])) {
    throw new Error(`query ${name} binds ${JSON.stringify(query.parameters)}, not ${JSON.stringify(parameters)}`);
  }
  byName.set(name, query as CompiledQuery<unknown>);
  return query;
}
