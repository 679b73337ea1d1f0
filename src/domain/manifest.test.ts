import { describe, expect, it } from 'vitest';
import { TollgateError, type ErrorCode } from './errors.js';
import { normalizeManifest, normalizeSha256, parseManifest, releaseDigest, type ManifestInput } from './manifest.js';
import type { ReleaseManifest } from './model.js';

const SHA_DATA = '9f2c'.repeat(16);
const SHA_CODE = '4e1d'.repeat(16);
const SHA_MODEL = 'ab12'.repeat(16);

/** DESIGN.md's example manifest, with real digests; the cases below edit it one line at a time. */
const BASE = `subject: fraud-detector
version: 2.4.0
risk: high                     # low | medium | high | critical
owner: alice
artifacts:
  - { name: model, kind: model, path: model/model.onnx }            # sha256 computed from the file
  - { name: train-data, kind: dataset, uri: "s3://ml/train.parquet", sha256: "${SHA_DATA}" }
  - { name: code, kind: code, uri: "git+https://git.example/fraud@4e1d", sha256: "sha256:${SHA_CODE.toUpperCase()}" }
lineage:
  - { from: [train-data, code], to: model, step: train }
testedIn: [dev]
dependencies: { python: 3.10, scikit-learn: "1.5.0" }
labels: { team: fraud }
`;

function edit(old: string, replacement: string, base = BASE): string {
  const at = base.indexOf(old);
  if (at < 0 || base.indexOf(old, at + 1) >= 0) throw new Error(`not exactly one ${JSON.stringify(old)} in the manifest`);
  return base.slice(0, at) + replacement + base.slice(at + old.length);
}

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

interface Case {
  readonly name: string;
  readonly text: string;
  readonly code: ErrorCode;
  /** The first problem as `line:col: message`. */
  readonly first: string;
}

const CASES: readonly Case[] = [
  {
    name: 'broken YAML',
    text: edit('testedIn: [dev]', 'testedIn: [dev'),
    code: 'TG_YAML_SYNTAX',
    first: '12:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'a missing owner',
    text: edit('owner: alice\n', ''),
    code: 'TG_MANIFEST_INVALID',
    first: '1:1: missing required field "owner"',
  },
  {
    name: 'an unknown risk',
    text: edit('risk: high ', 'risk: extreme '),
    code: 'TG_MANIFEST_INVALID',
    first: '3:7: risk: must be one of "low", "medium", "high", "critical", got "extreme"',
  },
  {
    name: 'an unknown field',
    text: edit('owner: alice\n', 'owner: alice\nowners: [bob]\n'),
    code: 'TG_MANIFEST_INVALID',
    first: '5:1: unknown field "owners"',
  },
  {
    name: 'a subject with capitals',
    text: edit('subject: fraud-detector', 'subject: Fraud-Detector'),
    code: 'TG_MANIFEST_INVALID',
    first: '1:10: subject: "Fraud-Detector" must start with a lowercase letter or digit and hold only a-z, 0-9, ".", "_" and "-"',
  },
  {
    name: 'a version with a space',
    text: edit('version: 2.4.0', 'version: 2.4 beta'),
    code: 'TG_MANIFEST_INVALID',
    first: '2:10: version: "2.4 beta" must start with a letter or digit and hold only letters, digits, ".", "+", "_" and "-"',
  },
  {
    name: 'no artifacts',
    text: edit(BASE.slice(BASE.indexOf('artifacts:'), BASE.indexOf('lineage:')), 'artifacts: []\n', edit('lineage:\n  - { from: [train-data, code], to: model, step: train }\n', '')),
    code: 'TG_MANIFEST_INVALID',
    first: '5:12: artifacts: must not be empty',
  },
  {
    name: 'an artifact with neither path nor uri',
    text: edit('{ name: model, kind: model, path: model/model.onnx }', '{ name: model, kind: model }'),
    code: 'TG_MANIFEST_INVALID',
    first: '6:5: artifact "model": give a path (a local file, digested when the release is created) or a uri with its sha256',
  },
  {
    name: 'an artifact with both path and uri',
    text: edit('{ name: model, kind: model, path: model/model.onnx }', '{ name: model, kind: model, path: model/model.onnx, uri: "s3://m/model.onnx" }'),
    code: 'TG_MANIFEST_INVALID',
    first: '6:62: artifact "model": give either a path or a uri, not both',
  },
  {
    name: 'a uri without sha256',
    text: edit(`uri: "s3://ml/train.parquet", sha256: "${SHA_DATA}" }`, 'uri: "s3://ml/train.parquet" }'),
    code: 'TG_MANIFEST_INVALID',
    first: '7:45: artifact "train-data": a uri needs a sha256 (Tollgate does not fetch remote artifacts to digest them)',
  },
  {
    name: 'a sha256 that is too short',
    text: edit(`sha256: "${SHA_DATA}"`, 'sha256: "9f2c"'),
    code: 'TG_MANIFEST_INVALID',
    first: '7:78: artifact "train-data", sha256: "9f2c" must be 64 hex digits (optionally after "sha256:")',
  },
  {
    name: 'an unknown artifact kind',
    text: edit('kind: dataset', 'kind: data'),
    code: 'TG_MANIFEST_INVALID',
    first: '7:31: artifact "train-data", kind: must be one of "model", "dataset", "code", "config", "infrastructure", "other", got "data"',
  },
  {
    name: 'a duplicate artifact name',
    text: edit('{ name: code, kind: code,', '{ name: model, kind: code,'),
    code: 'TG_MANIFEST_INVALID',
    first: '8:13: duplicate artifact name "model" (first at line 6)',
  },
  {
    name: 'lineage naming an unknown artifact',
    text: edit('from: [train-data, code]', 'from: [trian-data, code]'),
    code: 'TG_MANIFEST_INVALID',
    first: '10:14: lineage step 1: unknown artifact "trian-data" (artifacts: model, train-data, code)',
  },
  {
    name: 'lineage into an unknown artifact',
    text: edit('to: model, step', 'to: modle, step'),
    code: 'TG_MANIFEST_INVALID',
    first: '10:37: lineage step 1: unknown artifact "modle" (artifacts: model, train-data, code)',
  },
  {
    name: 'testedIn that is not a list of strings',
    text: edit('testedIn: [dev]', 'testedIn: dev'),
    code: 'TG_MANIFEST_INVALID',
    first: '11:11: testedIn: expected a list, got a string ("dev")',
  },
  {
    name: 'a dependency given as a map',
    text: edit('scikit-learn: "1.5.0"', 'scikit-learn: { version: "1.5.0" }'),
    code: 'TG_MANIFEST_INVALID',
    first: '12:45: dependencies["scikit-learn"]: expected a string, got a map',
  },
];

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
