import { describe, expect, it } from 'vitest';
import { recordDigest } from '../domain/records.js';
import { rowDigest } from './vouched-rows.js';

describe('rowDigest, kept by the row as stored', () => {
  const row = { version: 3, name: 'p', source: 'stages: []\n', digest: 'sha256:' + 'a'.repeat(64), applied_at: '2026-01-01T00:00:00.000Z', audit_seq: 7, note: null };
  const { audit_seq: _seq, ...columns } = row;

  it('is the digest of the columns, on the first read and on every later one', () => {
    const expected = recordDigest('policies', columns);
    expect(rowDigest('policies', row)).toBe(expected);
    expect(rowDigest('policies', { ...row })).toBe(expected);
  });

  it('moves with any change to any column, after the row was digested', () => {
    rowDigest('policies', row);
    for (const [k, v] of Object.entries(columns)) {
      const changed = { ...row, [k]: typeof v === 'number' ? v + 1 : v === null ? 'x' : `${v} ` };
      expect(rowDigest('policies', changed), k).not.toBe(rowDigest('policies', row));
      expect(rowDigest('policies', changed), k).toBe(recordDigest('policies', Object.fromEntries(Object.entries(changed).filter(([c]) => c !== 'audit_seq'))));
    }
  });

  it('tells a table from another with the same columns', () => {
    expect(rowDigest('releases', row)).not.toBe(rowDigest('policies', row));
  });
});
