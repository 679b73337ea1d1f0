/**
 * Opens the store a database URL names: `postgres://…` (or `postgresql://…`) for PostgreSQL, anything
 * else for the SQLite file at that path. The one place the CLI and `serve` decide which store to use
 * (DESIGN.md: `--database URL`, the SQLite file in the home folder by default, or `postgres://…`).
 */
import { createSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';
import { tollgateError } from '../domain/errors.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

export function isPostgresUrl(url: string): boolean {
  return POSTGRES_URL.test(url);
}

/**
 * A PostgreSQL URL may carry `schema=NAME` among its query parameters: Tollgate's tables then live in
 * that schema (created if missing), so several Tollgate databases can share one PostgreSQL database.
 * The parameter is taken out before the URL reaches node-postgres, which does not know it.
 */
export function splitPostgresUrl(url: string): { url: string; schema?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw tollgateError('TG_USAGE', `--database ${redact(url)} is not a valid PostgreSQL URL; expected postgres://user@host:5432/database`);
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw tollgateError('TG_USAGE', `schema=${schema} in --database is not a plain PostgreSQL name (letters, digits, underscore; at most 63)`);
  }
  return { url: parsed.toString(), ...(schema !== undefined ? { schema } : {}) };
}

/** Opens (migrating if need be) the store at `url`; a database that cannot be reached is TG_DATABASE_UNAVAILABLE. */
export async function openStore(url: string, opts: { poolSize?: number } = {}): Promise<Store> {
  if (!isPostgresUrl(url)) return createSqliteStore(url);
  const { url: connection, schema } = splitPostgresUrl(url);
  // Imported here, not above: node-postgres is not loaded by a CLI run on the SQLite file (issue 9).
  const { createPostgresStore } = await import('./postgres-store.js');
  try {
    return await createPostgresStore(connection, { ...(schema !== undefined ? { schema } : {}), ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}) });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw tollgateError('TG_DATABASE_UNAVAILABLE', `cannot open the PostgreSQL database ${redact(url)}: ${reason}`);
  }
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
