import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import type { ReleaseManifest } from './model.js';
import { RFC3339, SUBJECT_PATTERN, VERSION_PATTERN, dropUndefined, normalizeSha256, releaseDigest } from './release-digest.js';

describe('release digest', () => {
  it('is the digest of the manifest with its undefined fields left out', () => {
    const manifest = { subject: 's', version: '1', owner: undefined, artifacts: [{ name: 'm', sha256: 'a', uri: undefined }] } as unknown as ReleaseManifest;
    expect(releaseDigest(manifest)).toBe(digestOf({ subject: 's', version: '1', artifacts: [{ name: 'm', sha256: 'a' }] }));
  });

  it('drops undefined fields at every depth, keeps null, and leaves other objects whole', () => {
    const when = new Date(0);
    expect(dropUndefined({ a: undefined, b: null, c: [{ d: undefined, e: 1 }, 2], f: { g: { h: undefined } } })).toEqual({ b: null, c: [{ e: 1 }, 2], f: { g: {} } });
    expect(Object.keys(dropUndefined({ a: undefined, b: 0 }))).toEqual(['b']);
    expect(Object.keys(dropUndefined([{ a: undefined }])[0]!)).toEqual([]);
    expect(dropUndefined(when)).toBe(when);
    expect(dropUndefined(null)).toBeNull();
    expect(dropUndefined('x')).toBe('x');
  });

  it('normalises a sha256 to lowercase hex without the prefix', () => {
    expect(normalizeSha256('sha256:ABcd')).toBe('abcd');
    expect(normalizeSha256('ABcd')).toBe('abcd');
    expect(normalizeSha256('xsha256:ab')).toBe('xsha256:ab');
  });

  it('takes a subject, a version and a time only whole', () => {
    expect(['fraud-detector', 'a', '0.b_c-d'].map((s) => SUBJECT_PATTERN.test(s))).toEqual([true, true, true]);
    expect(['Fraud', '-a', '.a', 'a b', 'a/b', 'a\n', ''].map((s) => SUBJECT_PATTERN.test(s))).toEqual([false, false, false, false, false, false, false]);
    expect(['2.4.0', '2024.06.1', '2.4.0-rc.1+build.5', 'V1_x'].map((s) => VERSION_PATTERN.test(s))).toEqual([true, true, true, true]);
    expect(['-1', '.1', '1 2', '1/2', '1\n', ''].map((s) => VERSION_PATTERN.test(s))).toEqual([false, false, false, false, false, false]);
    expect(['2026-03-01T09:00:00Z', '2026-03-01T09:00:00.123+02:00', '2026-03-01T09:00:00-05:30'].map((s) => RFC3339.test(s))).toEqual([true, true, true]);
    expect(
      ['2026-03-01T09:00:00', '2026-03-01 09:00:00Z', 'x2026-03-01T09:00:00Z', '2026-03-01T09:00:00Zx', '2026-03-01T09:00:00.Z', '2026-03-01T09:00:00+0200', '26-03-01T09:00:00Z'].map((s) =>
        RFC3339.test(s),
      ),
    ).toEqual([false, false, false, false, false, false, false]);
  });
});
