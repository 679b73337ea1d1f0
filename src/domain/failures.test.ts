import { describe, expect, it } from 'vitest';
import { fileFailure, storageFailure } from './failures.js';

/** An Error with the fields the drivers and node:fs put on it. */
function failure(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

function seen(err: ReturnType<typeof storageFailure>): [string, string, number] | undefined {
  return err && [err.code, err.message, err.exit];
}

describe('storageFailure: the database failing underneath a command', () => {
  it('names a full disk, from SQLite, node and PostgreSQL, and says nothing was written', () => {
    for (const code of ['SQLITE_FULL', 'ENOSPC', '53100']) {
      expect(seen(storageFailure(failure('database or disk is full', { code })))).toEqual([
        'TG_STORAGE_FULL',
        `the disk holding the database is full (${code}); nothing of this change was written`,
        1,
      ]);
    }
  });

  it('names a file that is not a database as bad input', () => {
    expect(seen(storageFailure(failure('file is not a database', { code: 'SQLITE_NOTADB' })))).toEqual([
      'TG_DATABASE_INVALID',
      'the database file cannot be used: file is not a database (SQLITE_NOTADB)',
      2,
    ]);
    expect(seen(storageFailure(failure('unable to open database file', { code: 'SQLITE_CANTOPEN' })))).toEqual([
      'TG_DATABASE_INVALID',
      'the database file cannot be used: unable to open database file (SQLITE_CANTOPEN)',
      2,
    ]);
  });

  it('names a database file whose folder does not exist', () => {
    const err = failure('Cannot open database because the directory does not exist', { code: 'SQLITE_CANTOPEN' });
    expect(seen(storageFailure(err))).toEqual(['TG_DATABASE_INVALID', 'the database file cannot be created: its folder does not exist', 2]);
    // The words must open the message: the same words later in it are some other failure.
    expect(storageFailure(failure('x: Cannot open database because the directory does not exist'))).toBeUndefined();
  });

  it('names an I/O error of SQLite or the file system', () => {
    for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'EIO', 'EROFS']) {
      expect(seen(storageFailure(failure('disk I/O error', { code })))).toEqual([
        'TG_STORAGE_ERROR',
        `the database could not be read or written: disk I/O error (${code}); nothing of this change was written`,
        1,
      ]);
    }
    expect(storageFailure(failure('x', { code: 'X_SQLITE_IOERR' }))).toBeUndefined();
  });

  it('names a PostgreSQL server that went away, by SQLSTATE or socket error', () => {
    for (const code of ['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']) {
      expect(seen(storageFailure(failure('gone', { code })))).toEqual([
        'TG_DATABASE_UNAVAILABLE',
        `the PostgreSQL database is not reachable: gone (${code}); nothing of this change was written`,
        1,
      ]);
    }
  });

  it('names a connection pg lost mid-query, which has no code', () => {
    for (const message of ['Connection terminated unexpectedly', 'Client was closed: connection is closed', 'CLIENT HAS ENCOUNTERED A CONNECTION ERROR and is not queryable']) {
      expect(seen(storageFailure(failure(message)))).toEqual([
        'TG_DATABASE_UNAVAILABLE',
        `the PostgreSQL connection was lost: ${message}; nothing of this change was written`,
        1,
      ]);
    }
  });

  it('leaves every other error alone', () => {
    expect(storageFailure('SQLITE_FULL')).toBeUndefined();
    expect(storageFailure({ code: 'SQLITE_FULL', message: 'full' })).toBeUndefined();
    expect(storageFailure(failure('no such table: x'))).toBeUndefined();
    expect(storageFailure(failure('constraint', { code: 'SQLITE_CONSTRAINT' }))).toBeUndefined();
    expect(storageFailure(failure('Connection terminated', { code: 42 }))).toEqual(expect.objectContaining({ code: 'TG_DATABASE_UNAVAILABLE' }));
    expect(storageFailure(failure('duplicate key', { code: '23505' }))).toBeUndefined();
  });
});

describe('fileFailure: a file the caller named that cannot be used', () => {
  it('names the path as given, without the suffix of an atomic write, and the cause in words', () => {
    const cases: [string, string, string][] = [
      ['ENOENT', 'open', 'cannot write out/report.html: no such file or folder (ENOENT)'],
      ['EACCES', 'write', 'cannot write out/report.html: permission denied (EACCES)'],
      ['EPERM', 'rename', 'cannot write out/report.html: permission denied (EPERM)'],
      ['EISDIR', 'mkdir', 'cannot write out/report.html: it is a folder (EISDIR)'],
      ['ENOTDIR', 'copyfile', 'cannot write out/report.html: a part of the path is not a folder (ENOTDIR)'],
      ['EROFS', 'stat', 'cannot use out/report.html: read-only file system (EROFS)'],
      ['ENAMETOOLONG', 'lstat', 'cannot use out/report.html: name too long (ENAMETOOLONG)'],
      ['ELOOP', 'read', 'cannot use out/report.html: name too long (ELOOP)'],
    ];
    for (const [code, syscall, message] of cases) {
      const err = storageOrFile(code, syscall);
      expect([err?.code, err?.message, err?.exit]).toEqual(['TG_FILE_ACCESS', message, 2]);
    }
  });

  it('keeps a path that only looks like a temporary one', () => {
    expect(fileFailure(failure('x', { code: 'ENOENT', syscall: 'open', path: 'a.1.tmp.html' }))?.message).toBe('cannot write a.1.tmp.html: no such file or folder (ENOENT)');
    expect(fileFailure(failure('x', { code: 'ENOENT', syscall: 'open', path: 'a.x.tmp' }))?.message).toBe('cannot write a.x.tmp: no such file or folder (ENOENT)');
  });

  it('leaves other errors, and errors without a path, alone', () => {
    expect(fileFailure('ENOENT')).toBeUndefined();
    expect(fileFailure(failure('x', { code: 'ENOENT', syscall: 'open' }))).toBeUndefined();
    expect(fileFailure(failure('x', { code: 'EBUSY', syscall: 'open', path: 'a' }))).toBeUndefined();
    expect(fileFailure(failure('x', { code: 1, syscall: 'open', path: 'a' }))).toBeUndefined();
  });
});

function storageOrFile(code: string, syscall: string) {
  return fileFailure(failure('name too long', { code, syscall, path: 'out/report.html.12345.tmp' }));
}
