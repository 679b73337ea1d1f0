import { describe, expect, it } from 'vitest';
import { BASE, CASES, edit, SHA_CODE, SHA_DATA, SHA_MODEL } from '../../test/fixtures/manifest-cases.js';
import { TollgateError } from './errors.js';
import { normalizeManifest, normalizeSha256, parseManifest, releaseDigest, type ManifestInput } from './manifest.js';
import type { ReleaseManifest } from './model.js';

function failure(text: string): TollgateError {
  try {
    parseManifest(text, 'release.yaml');
  } catch (err) {
    if (err instanceof TollgateError) return err;
    throw err;
  }
  throw new Error('expected the manifest to be refused');
}

describe('parseManifest: a valid manifest', () => {
  it('parses DESIGN.md\'s example, leaving file digests to the caller', () => {
    const m = parseManifest(BASE, 'release.yaml');
    expect(m).toEqual({
      subject: 'fraud-detector',
      version: '2.4.0',
      risk: 'high',
      owner: 'alice',
      artifacts: [
        { name: 'model', kind: 'model', path: 'model/model.onnx' },
        { name: 'train-data', kind: 'dataset', uri: 's3://ml/train.parquet', sha256: SHA_DATA },
        { name: 'code', kind: 'code', uri: 'git+https://git.example/fraud@4e1d', sha256: SHA_CODE },
      ],
      lineage: [{ from: ['train-data', 'code'], to: 'model', step: 'train' }],
      testedIn: ['dev'],
      // Read as written: YAML alone would make 3.10 the number 3.1.
      dependencies: { python: '3.10', 'scikit-learn': '1.5.0' },
      labels: { team: 'fraud' },
    });
  });

  it.each([
    ['version: 2.10', '2.10'],
    ['version: 7', '7'],
    ['version: "2.4.0-rc.1+build.5"', '2.4.0-rc.1+build.5'],
  ])('reads %s as the string %s', (line, version) => {
    expect(parseManifest(edit('version: 2.4.0', line), 'release.yaml').version).toBe(version);
  });

  it('keeps only what is written', () => {
    const minimal = 'subject: s\nversion: "1"\nrisk: low\nowner: bob\nartifacts:\n  - { name: a, kind: other, path: a.bin }\n';
    expect(parseManifest(minimal, 'release.yaml')).toEqual({
      subject: 's',
      version: '1',
      risk: 'low',
      owner: 'bob',
      artifacts: [{ name: 'a', kind: 'other', path: 'a.bin' }],
    });
  });
});

describe('parseManifest: an invalid manifest', () => {
  it.each(CASES)('refuses $name', ({ text, code, first }) => {
    const err = failure(text);
    expect(err.code).toBe(code);
    const problem = err.problems[0];
    expect(problem?.file).toBe('release.yaml');
    const shown = `${problem?.line}:${problem?.col}: ${problem?.message}`;
    expect(shown).toBe(first);
    expect(err.message.split('\n')[0]).toBe(`release.yaml:${shown}`);
  });

  it('reports every problem at once', () => {
    const text = edit('owner: alice\n', '', edit('risk: high ', 'risk: huge ', edit('to: model, step', 'to: modle, step')));
    const err = failure(text);
    expect(err.problems.map((p) => `${p.line}:${p.col}`)).toEqual(['1:1', '3:7', '9:37']);
  });
});

describe('normalizeManifest and releaseDigest', () => {
  const input = (): ManifestInput => parseManifest(BASE, 'release.yaml');

  it('fills in the file digests the caller computed', () => {
    const m = normalizeManifest(input(), { model: { sha256: `sha256:${SHA_MODEL.toUpperCase()}`, size: 1234 } });
    expect(m.artifacts[0]).toEqual({ name: 'model', kind: 'model', path: 'model/model.onnx', sha256: SHA_MODEL, size: 1234 });
    expect(m.artifacts[1]?.sha256).toBe(SHA_DATA);
    expect(releaseDigest(m)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses a file that does not match the sha256 the manifest states', () => {
    const stated = edit('path: model/model.onnx }', `path: model/model.onnx, sha256: "${SHA_MODEL}" }`);
    const m = parseManifest(stated, 'release.yaml');
    expect(normalizeManifest(m, { model: { sha256: SHA_MODEL } }).artifacts[0]?.sha256).toBe(SHA_MODEL);
    expect(() => normalizeManifest(m, { model: { sha256: SHA_DATA } })).toThrow(/the file model\/model\.onnx has sha256 9f2c.*but the manifest says ab12/);
  });

  it('needs a digest for every local file', () => {
    expect(() => normalizeManifest(input(), {})).toThrow(expect.objectContaining({ code: 'TG_ARTIFACT_NOT_FOUND' }));
  });

  it('digests content, not layout, and every field counts', () => {
    const digests = { model: { sha256: SHA_MODEL } };
    const base = releaseDigest(normalizeManifest(input(), digests));
    const relaid = edit('risk: high                     # low | medium | high | critical\nowner: alice\n', 'owner: alice\nrisk: high\n');
    expect(releaseDigest(normalizeManifest(parseManifest(relaid, 'other.yaml'), digests))).toBe(base);
    expect(releaseDigest(normalizeManifest(input(), { model: { sha256: SHA_DATA } }))).not.toBe(base);
    expect(releaseDigest(normalizeManifest(parseManifest(edit('risk: high', 'risk: low'), 'x'), digests))).not.toBe(base);
  });

  it('treats an undefined field as absent', () => {
    const m: ReleaseManifest = normalizeManifest(input(), { model: { sha256: SHA_MODEL } });
    expect(releaseDigest({ ...m, labels: undefined })).toBe(releaseDigest(Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'labels')) as unknown as ReleaseManifest));
  });

  it('normalizes a sha256', () => {
    expect(normalizeSha256(`sha256:${SHA_MODEL.toUpperCase()}`)).toBe(SHA_MODEL);
  });
});

describe('unplanned and commitTime (delivery metrics)', () => {
  const digests = { model: { sha256: SHA_MODEL } };
  it('are optional: a manifest without them keeps the digest it had', () => {
    const plain = normalizeManifest(parseManifest(BASE, 'release.yaml'), digests);
    expect(Object.keys(plain)).not.toContain('unplanned');
    expect(Object.keys(plain)).not.toContain('commitTime');
    expect(releaseDigest({ ...plain, unplanned: undefined, commitTime: undefined } as ReleaseManifest)).toBe(releaseDigest(plain));
  });

  it('are read when given, and change the digest', () => {
    const text = `${BASE}unplanned: true\ncommitTime: 2026-12-01T09:30:00+01:00\n`;
    const m = normalizeManifest(parseManifest(text, 'release.yaml'), digests);
    expect(m).toMatchObject({ unplanned: true, commitTime: '2026-12-01T09:30:00+01:00' });
    expect(releaseDigest(m)).not.toBe(releaseDigest(normalizeManifest(parseManifest(BASE, 'release.yaml'), digests)));
  });

  it('refuses a commit time without its zone, and unplanned that is not a boolean', () => {
    expect(failure(`${BASE}commitTime: 2026-12-01T09:30:00\n`).message).toContain('must be an RFC 3339 time with its zone');
    expect(failure(`${BASE}unplanned: "yes"\n`).code).toBe('TG_MANIFEST_INVALID');
  });
});
