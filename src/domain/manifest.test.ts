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

/** Every problem of a refused manifest, as `line:col: message`. */
function problems(text: string): string[] {
  return failure(text).problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

const HEAD = 'subject: s\nversion: "1"\nrisk: low\nowner: bob\n';

describe('parseManifest: every problem, with where it is', () => {
  it('names an empty subject and a uri without a scheme', () => {
    expect(problems(edit('subject: fraud-detector', 'subject: ""'))).toEqual(['1:10: subject: must not be empty']);
    expect(problems(`${HEAD}artifacts:\n  - { name: a, kind: other, uri: "not a uri", sha256: "${SHA_DATA}" }\n`)).toEqual([
      '6:34: artifact "a", uri: "not a uri" is not a URI with a scheme, e.g. s3://bucket/key or git+https://host/repo@commit',
    ]);
  });

  it('refuses a manifest that is a list, once', () => {
    expect(problems('- a\n- b\n')).toEqual(['1:1: expected a map, got a list']);
  });

  it('reads a label or dependency YAML takes for a boolean or a number as written', () => {
    const m = parseManifest(`${HEAD}artifacts:\n  - { name: a, kind: other, path: a.bin }\nlabels: { beta: True, n: 0x1F }\ndependencies: { torch: 2.10 }\n`, 'release.yaml');
    expect(m.labels).toEqual({ beta: 'True', n: '0x1F' });
    expect(m.dependencies).toEqual({ torch: '2.10' });
  });

  it('names an artifact without a usable name by its place', () => {
    const text = `${HEAD}artifacts:\n  - x\n  - { name: "", kind: other }\n  - { name: 5, kind: other, path: p }\n  - { kind: other }\n  - { kind: other }\n`;
    expect(problems(text)).toEqual([
      '6:5: artifact 1: expected a map, got a string ("x")',
      '7:5: artifact 2: give a path (a local file, digested when the release is created) or a uri with its sha256',
      '7:13: artifact 2, name: must not be empty',
      '8:13: artifact 3, name: expected a string, got the integer 5',
      '9:5: artifact 4: missing required field "name"',
      '9:5: artifact 4: give a path (a local file, digested when the release is created) or a uri with its sha256',
      '10:5: artifact 5: missing required field "name"',
      '10:5: artifact 5: give a path (a local file, digested when the release is created) or a uri with its sha256',
    ]);
  });

  it('names by place an artifact whose name is not text, and only lineage steps as steps', () => {
    expect(problems(`${HEAD}artifacts:\n  - { name: 5, kind: other }\ntestedIn: [dev, 5]\nlineage: 5\n`)).toEqual([
      '6:5: artifact 1: give a path (a local file, digested when the release is created) or a uri with its sha256',
      '6:13: artifact 1, name: expected a string, got the integer 5',
      '7:17: testedIn[1]: expected a string, got the integer 5',
      '8:10: lineage: expected a list, got the integer 5',
    ]);
  });

  it('points a duplicate name at the line of the first name', () => {
    const text = `${HEAD}artifacts:\n  - kind: other\n    name: a\n    path: a\n  - kind: other\n    path: b\n    name: a\n`;
    expect(problems(text)).toEqual(['11:11: duplicate artifact name "a" (first at line 7)']);
  });

  it('checks each lineage step, skipping what the schema already reports', () => {
    expect(problems(`${HEAD}artifacts: []\nlineage:\n  - { from: [x], to: y }\n`)).toEqual([
      '5:12: artifacts: must not be empty',
      '7:14: lineage step 1: unknown artifact "x" (artifacts: none)',
      '7:22: lineage step 1: unknown artifact "y" (artifacts: none)',
    ]);
    const text = `${HEAD}artifacts:\n  - { name: a, kind: other, path: a.bin }\nlineage:\n  - ~\n  - { from: ["", 5, a], to: "" }\n  - { from: a, to: 5 }\n  - { from: [a], to: a }\n  - { from: [], to: a }\n`;
    expect(problems(text)).toEqual([
      '8:5: lineage step 1: expected a map, got nothing (null)',
      '9:14: lineage step 2, from[0]: must not be empty',
      '9:18: lineage step 2, from[1]: expected a string, got the integer 5',
      '9:29: lineage step 2, to: must not be empty',
      '10:13: lineage step 3, from: expected a list, got a string ("a")',
      '10:20: lineage step 3, to: expected a string, got the integer 5',
      '11:22: lineage step 4: artifact "a" cannot be made from itself',
      '12:13: lineage step 5, from: must not be empty',
    ]);
  });
});

describe('normalizeManifest: the words of each refusal', () => {
  it('names the artifact, its file and both digests', () => {
    const input = (): ManifestInput => parseManifest(BASE, 'release.yaml');
    expect(() => normalizeManifest(input(), {})).toThrow(expect.objectContaining({ code: 'TG_ARTIFACT_NOT_FOUND', message: 'artifact "model": no digest of its file model/model.onnx' }));
    const stated = parseManifest(edit('path: model/model.onnx }', `path: model/model.onnx, sha256: "${SHA_MODEL}" }`), 'release.yaml');
    let err: unknown;
    try {
      normalizeManifest(stated, { model: { sha256: SHA_DATA } });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'TG_MANIFEST_INVALID',
      message: `artifact "model": the file model/model.onnx has sha256 ${SHA_DATA}, but the manifest says ${SHA_MODEL}`,
      hint: 'The file changed since the manifest was written: restore the file or update its sha256.',
    });
  });

  it('refuses a remote artifact without its sha256, however the input was made', () => {
    const input = { ...parseManifest(BASE, 'release.yaml'), artifacts: [{ name: 'data', kind: 'dataset', uri: 's3://b/k' }] } as ManifestInput;
    expect(() => normalizeManifest(input, {})).toThrow(expect.objectContaining({ code: 'TG_MANIFEST_INVALID', message: 'artifact "data": a uri needs a sha256' }));
  });
});
