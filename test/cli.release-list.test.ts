/** `release list` prints newest first, as its help and DESIGN.md say (issue 13: it printed oldest first). */
import { afterAll, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';

afterAll(() => removeProjects());

it('release list: newest first, in text and JSON', () => {
  const p = createProject();
  const manifest = p.read('release.yaml');
  for (const [n, at] of [[1, '2026-12-01T09:00:00Z'], [2, '2026-12-01T10:00:00Z'], [3, '2026-12-01T11:00:00Z']] as const) {
    p.write(`r${n}.yaml`, manifest.replace('version: 2.4.0', `version: 1.${n}.0`));
    expect(p.run(['release', 'create', `r${n}.yaml`, '--as', 'alice'], { env: { TOLLGATE_NOW: at } }).code).toBe(0);
  }
  const json = p.run(['release', 'list', '--json']).json();
  expect(json.releases.map((r: any) => r.release)).toEqual(['fraud-detector@1.3.0', 'fraud-detector@1.2.0', 'fraud-detector@1.1.0']);
  const text = p.run(['release', 'list']).stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
  expect(text).toEqual(['fraud-detector@1.3.0', 'fraud-detector@1.2.0', 'fraud-detector@1.1.0']);
});

it('release show lists the evidence (DESIGN.md; issue 13: --json had none), in text and JSON', () => {
  const p = createProject();
  expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
  expect(p.run(['check', 'fraud-detector@2.4.0', 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']).code).toBe(0);
  const shown = p.run(['release', 'show', 'fraud-detector@2.4.0', '--json']).json();
  expect(shown.evidence.checklist).toEqual([
    expect.objectContaining({ stage: 'staging', item: 'datasets-listed', by: 'alice', evidence: expect.objectContaining({ name: 'datasets.md' }) }),
  ]);
  expect(shown.evidence.signoffs).toEqual([]);
  expect(shown.evidence.validations).toEqual([]);
  expect(p.run(['release', 'show', 'fraud-detector@2.4.0']).stdout).toMatch(/evidence:\n\s+staging\/\S+: datasets-listed completed by alice at \S+ with datasets\.md/);
});
