/**
 * The database failing underneath a command, in Tollgate's codes: a full disk, an I/O error, a
 * PostgreSQL server that went away or is shutting down. Both drivers report these as their own
 * errors (better-sqlite3's `SqliteError` with `code: 'SQLITE_FULL'`, pg's `DatabaseError` with a
 * SQLSTATE, or a socket error); without this they reached people as `TG_INTERNAL: disk I/O error`.
 *
 * Nothing is half-written when this happens: the change's transaction is rolled back by the
 * database (or never committed), and its audit event goes with it (DESIGN.md rule 5).
 */
import { tollgateError, type TollgateError } from '../domain/errors.js';

// PostgreSQL SQLSTATEs: class 53 (insufficient resources) and the ways a connection ends.
const PG_FULL = new Set(['53100']); // disk_full
const PG_GONE = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const SOCKET_GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The TollgateError for a storage failure, or undefined when `err` is not one. */
export function storageFailure(err: unknown): TollgateError | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') {
    // pg reports a connection that ended mid-query without a code.
    if (/Connection terminated|connection is closed|Client has encountered a connection error/i.test(err.message)) {
      return tollgateError('TG_DATABASE_UNAVAILABLE', `the PostgreSQL connection was lost: ${err.message}; nothing of this change was written`);
    }
    return undefined;
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || PG_FULL.has(code)) {
    return tollgateError('TG_STORAGE_FULL', `the disk holding the database is full (${code}); nothing of this change was written`);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'EIO' || code === 'EROFS') {
    return tollgateError('TG_STORAGE_ERROR', `the database could not be read or written: ${err.message} (${code}); nothing of this change was written`);
  }
  if (PG_GONE.has(code) || SOCKET_GONE.has(code)) {
    return tollgateError('TG_DATABASE_UNAVAILABLE', `the PostgreSQL database is not reachable: ${err.message} (${code}); nothing of this change was written`);
  }
  return undefined;
}
