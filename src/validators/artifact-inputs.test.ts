import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReleaseManifest } from '../domain/model.js';
import { nameArtifactInputs, resolveArtifactInputs } from './artifact-inputs.js';
import { InputError } from './inputs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-artifacts-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.mkdirSync(path.join(dir, 'eval'));
fs.writeFileSync(path.join(dir, 'eval/metrics.json'), '{"auc": 0.91}');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const manifest: ReleaseManifest = {
  subject: 'fd',
  version: '1.0.0',
  risk: 'low',
  owner: 'alice',
  artifacts: [
    { name: 'eval-metrics', kind: 'other', path: 'eval/metrics.json', sha256: sha('{"auc": 0.91}') },
    { name: 'train-data', kind: 'dataset', uri: 's3://ml/train.parquet', sha256: 'a'.repeat(64) },
    { name: 'stale', kind: 'other', path: 'eval/metrics.json', sha256: sha('{"auc": 0.88}') },
  ],
};

describe('artifact:NAME inputs', () => {
  it('replaces each reference, at any depth, with the registered path, and names the recorded inputs back', async () => {
    const r = await resolveArtifactInputs({ current: 'artifact:eval-metrics', rules: ['auc >= 0.9'], nested: { list: ['artifact:eval-metrics', 'x.csv'] } }, manifest, dir);
    expect(r.with).toEqual({ current: 'eval/metrics.json', rules: ['auc >= 0.9'], nested: { list: ['eval/metrics.json', 'x.csv'] } });
    expect(nameArtifactInputs({ 'eval/metrics.json': 'sha256:1', 'x.csv': 'sha256:2' }, r.names)).toEqual({ 'artifact:eval-metrics': 'sha256:1', 'x.csv': 'sha256:2' });
  });

  it('leaves a block without references alone', async () => {
    const r = await resolveArtifactInputs({ report: 'reports/junit.xml' }, manifest, dir);
    expect(r.with).toEqual({ report: 'reports/junit.xml' });
    expect(r.names.size).toBe(0);
  });

  it.each([
    ['an unknown artifact', 'artifact:weights', /the release has no artifact "weights" \(artifacts: eval-metrics, train-data, stale\)/],
    ['an artifact with no local path', 'artifact:train-data', /has no local path \(it is at s3:\/\/ml\/train.parquet\)/],
    ['a file that is not the registered bytes', 'artifact:stale', /is not the registered artifact \(its digest is sha256:[0-9a-f]{64}, the release registered sha256:/],
  ])('refuses %s', async (_name, ref, message) => {
    await expect(resolveArtifactInputs({ current: ref }, manifest, dir)).rejects.toThrow(InputError);
    await expect(resolveArtifactInputs({ current: ref }, manifest, dir)).rejects.toThrow(message);
  });

  it('refuses a registered artifact whose file is missing here', async () => {
    await expect(resolveArtifactInputs({ current: 'artifact:eval-metrics' }, manifest, path.join(dir, 'eval'))).rejects.toThrow(/no file at/);
  });
});
