/**
 * The database failing underneath a command, in Tollgate's codes: a full disk, an I/O error, a
 * PostgreSQL server that went away or is shutting down. Both drivers report these as their own
 * errors (better-sqlite3's `SqliteError` with `code: 'SQLITE_FULL'`, pg's `DatabaseError` with a
 * SQLSTATE, or a socket error); without this they reached people as `TG_INTERNAL: disk I/O error`.
 *
 * Nothing is half-written when this happens: the change's transaction is rolled back by the
 * database (or never committed), and its audit event goes with it (DESIGN.md rule 5).
 */
import { tollgateError, type TollgateError } from './errors.js';

// PostgreSQL SQLSTATEs: class 53 (insufficient resources) and the ways a connection ends.
const PG_FULL = new Set(['53100']); // disk_full
const PG_GONE = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const SOCKET_GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The TollgateError for a storage failure, or undefined when `err` is not one. */
export function storageFailure(err: unknown): TollgateError | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (/^Cannot open database because the directory does not exist/.test(err.message)) {
    return tollgateError('TG_DATABASE_INVALID', `the database file cannot be created: its folder does not exist`);
  }
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
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CANTOPEN') {
    // `--database report.html`: a file that is not a database, or a path that cannot be one.
    return tollgateError('TG_DATABASE_INVALID', `the database file cannot be used: ${err.message} (${code})`);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO' || code === 'EROFS') {
    return tollgateError('TG_STORAGE_ERROR', `the database could not be read or written: ${err.message} (${code}); nothing of this change was written`);
  }
  if (PG_GONE.has(code) || SOCKET_GONE.has(code)) {
    return tollgateError('TG_DATABASE_UNAVAILABLE', `the PostgreSQL database is not reachable: ${err.message} (${code}); nothing of this change was written`);
  }
  return undefined;
}

const FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS', 'ENAMETOOLONG', 'ELOOP']);

/**
 * A file the caller named that cannot be written or read (`report -o /proc/x.html`, an output folder
 * that does not exist): bad input with its cause (exit 2), not TG_INTERNAL. Names the path as given,
 * without the temporary suffix of an atomic write.
 */
export function fileFailure(err: unknown): TollgateError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, syscall, path: file } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !FILE_ERRORS.has(code) || typeof file !== 'string') return undefined;
  const shown = file.replace(/\.\d+\.tmp$/, '');
  const verb = syscall === 'open' || syscall === 'write' || syscall === 'rename' || syscall === 'mkdir' || syscall === 'copyfile' ? 'write' : 'use';
  const why = code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : code === 'ENOTDIR' ? 'a part of the path is not a folder' : code === 'EROFS' ? 'read-only file system' : err.message;
  return tollgateError('TG_FILE_ACCESS', `cannot ${verb} ${shown}: ${why} (${code})`);
}
