/**
 * `init` in a folder that already has a tollgate.yaml (issue 13: it wrote the example's release.yaml,
 * contracts, data and model beside the user's files): only the home, unless `--example`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';

afterAll(() => removeProjects());

const OWN = 'apiVersion: tollgate/v1\nkind: Policy\nname: mine\nroster: {}\nstages: [{ name: staging }]\ngates: []\n';

it('beside an existing tollgate.yaml, init writes only .tollgate/ and keeps the file', () => {
  const p = createProject({ init: false });
  p.write('tollgate.yaml', OWN);
  const r = p.run(['init', '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.json().files).toEqual([]);
  expect(fs.readdirSync(p.dir).sort()).toEqual(['.tollgate', 'tollgate.yaml']);
  expect(p.read('tollgate.yaml')).toBe(OWN);
  expect(fs.existsSync(path.join(p.home, 'server.key'))).toBe(true);
  expect(p.run(['init']).stderr + p.run(['init']).stdout).toMatch(/already holds a Tollgate home/);
});

it('with --example, it writes the example files beside it too, and still keeps the tollgate.yaml', () => {
  const p = createProject({ init: false });
  p.write('tollgate.yaml', OWN);
  const r = p.run(['init', '--example', '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.json().files).toEqual(expect.arrayContaining(['release.yaml', 'contracts/tx.yaml']));
  expect(r.json().files).not.toContain('tollgate.yaml');
  expect(p.read('tollgate.yaml')).toBe(OWN);
});
