/**
 * `init` points the files it writes at their JSON Schemas (issue 14): tollgate.yaml, release.yaml and
 * the contracts start with `# yaml-language-server: $schema=…`, the project's node_modules/tollgate
 * copy when Tollgate is installed there, else this version's copy on unpkg. The line is a comment:
 * the files still parse, and `policy check` reports positions in the file as it is, modeline included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';

afterAll(() => removeProjects());

const REPO = path.resolve(import.meta.dirname, '..');
const EXAMPLE = path.join(REPO, 'examples/project');
const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };

/** The files init writes that a schema describes, with that schema's file. */
const DESCRIBED = [
  ['tollgate.yaml', 'policy.schema.json'],
  ['release.yaml', 'manifest.schema.json'],
  ['contracts/tx.yaml', 'contract.schema.json'],
] as const;

const MODELINE = /^# yaml-language-server: \$schema=(\S+)\n/;

/** A file's text without its first line (the modeline). */
const body = (text: string): string => text.replace(MODELINE, '');

function schemaOf(file: string): object {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', file), 'utf8')) as object;
}

describe('init without Tollgate in the project\'s node_modules (installed globally, or npx)', () => {
  const p = createProject();

  it.each(DESCRIBED)('%s starts with a modeline naming this version\'s %s on unpkg, then the example', (rel, schema) => {
    const text = p.read(rel);
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=https://unpkg.com/tollgate@${version}/schemas/${schema}`);
    expect(fs.existsSync(path.join(REPO, 'schemas', schema))).toBe(true);
    const example = body(fs.readFileSync(path.join(EXAMPLE, rel), 'utf8'));
    if (rel === 'tollgate.yaml') expect(body(text)).toBe(example.replace(/\$\{(\w+)\}/g, (_, user: string) => p.init.users[user]));
    else expect(body(text)).toBe(example);
  });

  it('writes no modeline into files no schema describes', () => {
    expect(p.read('data/reference.csv')).not.toMatch(/yaml-language-server/);
    expect(p.init.files).toEqual(expect.arrayContaining(['tollgate.yaml', 'release.yaml', 'contracts/tx.yaml', 'data/reference.csv']));
  });

  it('the files still parse: init applied the policy, it checks clean, and the release registers', () => {
    expect(p.init.policy).toMatchObject({ version: 1 });
    const check = p.run(['policy', 'check', '--json']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const created = p.run(['release', 'create', 'release.yaml', '--as', 'alice', '--json']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    expect(created.json().release).toBe('fraud-detector@2.4.0');
  });

  it('the policy init wrote, with its real keys, is valid by the schema it names', () => {
    const ajv = new Ajv2020({ allErrors: true, strictTypes: false, strictRequired: false, strictTuples: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schemaOf('policy.schema.json'));
    expect(validate(parseYaml(p.read('tollgate.yaml'))), JSON.stringify(validate.errors)).toBe(true);
  });

  it('policy check reports the line and column in the file as written, modeline included', () => {
    const text = p.read('tollgate.yaml').replace('expires: 168h', 'expires: soon');
    p.write('bad.yaml', text);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('expires: soon')) + 1;
    const col = lines[line - 1]!.indexOf('soon') + 1;
    expect(line).toBeGreaterThan(1);
    const r = p.run(['policy', 'check', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^bad\\.yaml:${line}:${col}: gate "approvals", expires: invalid duration "soon"`));
  });
});

describe('init with Tollgate installed in the project (npm install tollgate)', () => {
  const p = createProject({ init: false });
  // What `npm install` leaves: the package's files under node_modules/tollgate.
  fs.cpSync(path.join(REPO, 'schemas'), path.join(p.dir, 'node_modules/tollgate/schemas'), { recursive: true });
  const r = p.run(['init', '--json']);

  it('succeeds', () => {
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it.each(DESCRIBED)('%s names node_modules/tollgate/schemas/%s relative to its own folder, and that file is there', (rel, schema) => {
    const ref = MODELINE.exec(p.read(rel))?.[1];
    expect(ref).toBe(`${rel.includes('/') ? '../' : ''}node_modules/tollgate/schemas/${schema}`);
    const target = path.resolve(path.dirname(path.join(p.dir, rel)), ref!);
    expect(fs.readFileSync(target, 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'schemas', schema), 'utf8'));
  });
});

describe('init beside an existing tollgate.yaml', () => {
  it('leaves the person\'s own file as it is, and gives the example files it writes (--example) their modelines', () => {
    const p = createProject({ init: false });
    const own = 'apiVersion: tollgate/v1\nkind: Policy\nname: mine\nroster: {}\nstages: [{ name: staging }]\ngates: []\n';
    p.write('tollgate.yaml', own);
    const r = p.run(['init', '--example', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(p.read('tollgate.yaml')).toBe(own);
    expect(p.read('release.yaml')).toMatch(MODELINE);
    expect(p.read('contracts/tx.yaml')).toMatch(MODELINE);
  });
});
