import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

// `release verify`: the step a deploy job runs before it ships, comparing the files it is about to
// ship with the digests the release registered (DESIGN.md, command line).
describe('tollgate release verify (the real binary)', () => {
  let project: Project;
  const REL = 'fraud-detector@2.4.0';

  beforeAll(() => {
    project = createProject();
    const created = project.run(['release', 'create', 'release.yaml', '--as', 'alice', '--json']);
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(removeProjects);

  it('exits 0 when the local model is the registered one, and says the remote artifacts were not checked', () => {
    const r = project.run(['release', 'verify', REL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.ok).toBe(true);
    expect(out.release).toBe(REL);
    expect(out.artifacts.map((a: any) => [a.name, a.outcome])).toEqual([
      ['model', 'match'],
      ['train-data', 'skipped'],
      ['code', 'skipped'],
    ]);
    const human = project.run(['release', 'verify', REL]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/✔ model model\/model.onnx sha256:[0-9a-f]{64}/);
    expect(human.stdout).toMatch(/1 of 3 artifacts match the registered digests/);
  });

  it('catches a one-byte change in an artifact file: exit 4, TG_ARTIFACT_MISMATCH, naming the artifact and both digests', () => {
    const copy = project.clone();
    const file = path.join(copy.dir, 'model/model.onnx');
    const bytes = fs.readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(file, bytes);
    const r = copy.run(['release', 'verify', REL, '--json']);
    expect(r.code).toBe(4);
    const out = r.json();
    expect(out.ok).toBe(false);
    expect(out.error.code).toBe('TG_ARTIFACT_MISMATCH');
    const model = out.artifacts.find((a: any) => a.name === 'model');
    expect(model.outcome).toBe('mismatch');
    expect(model.actual).not.toBe(model.expected);
    expect(out.error.message).toContain(`model: model/model.onnx is ${model.actual}, the release registered ${model.expected}`);
    const human = copy.run(['release', 'verify', REL]);
    expect(human.code).toBe(4);
    expect(human.stdout).toMatch(/✘ model: model\/model.onnx is sha256:/);
    expect(human.stdout).toMatch(/error TG_ARTIFACT_MISMATCH/);
  });

  it('reads manifest paths under --dir, and checks remote artifacts given with --artifact NAME=PATH', () => {
    const ship = path.join(project.dir, 'ship');
    fs.mkdirSync(path.join(ship, 'model'), { recursive: true });
    fs.copyFileSync(path.join(project.dir, 'model/model.onnx'), path.join(ship, 'model/model.onnx'));
    project.write('downloads/train.parquet', 'not the training data');
    const r = project.run(['release', 'verify', REL, '--dir', 'ship', '--artifact', 'train-data=downloads/train.parquet', '--json']);
    expect(r.code).toBe(4);
    const out = r.json();
    expect(out.artifacts.map((a: any) => [a.name, a.outcome])).toEqual([
      ['model', 'match'],
      ['train-data', 'mismatch'],
      ['code', 'skipped'],
    ]);
  });

  it('names a missing file as a mismatch (exit 4)', () => {
    const r = project.run(['release', 'verify', REL, '--dir', 'nowhere-else', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_FILE_NOT_FOUND');
    fs.mkdirSync(path.join(project.dir, 'empty'), { recursive: true });
    const missing = project.run(['release', 'verify', REL, '--dir', 'empty', '--json']);
    expect(missing.code).toBe(4);
    expect(missing.json().artifacts[0]).toMatchObject({ name: 'model', outcome: 'missing', actual: null });
  });

  it.each([
    [['--artifact', 'nonsense'], /expected NAME=PATH/],
    [['--artifact', 'weights=model/model.onnx'], /"weights", not artifacts of the release \(artifacts: model, train-data, code\)/],
    [['--artifact', 'model=a', '--artifact', 'model=b'], /--artifact model is given twice/],
  ])('refuses bad --artifact %j with TG_USAGE (exit 2)', (args, message) => {
    const r = project.run(['release', 'verify', REL, ...args, '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_USAGE');
    expect(r.json().error.message).toMatch(message);
  });

  it('refuses to say "verified" when no artifact could be checked', () => {
    const copy = project.clone();
    copy.write('remote.yaml', 'subject: remote\nversion: 1.0.0\nrisk: low\nowner: alice\nartifacts:\n  - { name: model, kind: model, uri: "s3://m/model.onnx", sha256: "' + 'a'.repeat(64) + '" }\n');
    expect(copy.run(['release', 'create', 'remote.yaml', '--as', 'alice']).code).toBe(0);
    const r = copy.run(['release', 'verify', 'remote@1.0.0', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.message).toMatch(/give the files with --artifact NAME=PATH/);
  });
});
