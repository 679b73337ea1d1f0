import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedSchemaPath, schemaReference, withModeline } from './files.js';

describe('withModeline', () => {
  it('adds the line to a file without one, and keeps the rest byte for byte', () => {
    expect(withModeline('a: 1\n', 'x.json')).toBe('# yaml-language-server: $schema=x.json\na: 1\n');
  });

  it('replaces a modeline already there (the example project\'s), once, in the file\'s line endings', () => {
    const text = '# yaml-language-server: $schema=../../schemas/policy.schema.json\n# a comment\na: 1\n';
    expect(withModeline(text, 'y.json')).toBe('# yaml-language-server: $schema=y.json\n# a comment\na: 1\n');
    expect(withModeline('# yaml-language-server: $schema=old.json\r\na: 1\r\n', 'y.json')).toBe('# yaml-language-server: $schema=y.json\r\na: 1\r\n');
  });

  it('leaves a modeline that is not the first line alone', () => {
    expect(withModeline('a: 1\n# yaml-language-server: $schema=old.json\n', 'y.json')).toBe('# yaml-language-server: $schema=y.json\na: 1\n# yaml-language-server: $schema=old.json\n');
  });
});

describe('schemaReference', () => {
  const projectDir = path.resolve('/work/project');

  it('names the installed copy relative to the file\'s folder', () => {
    expect(schemaReference('policy', { projectDir, dir: projectDir, version: '1.2.3', installed: true })).toBe('node_modules/tollgate/schemas/policy.schema.json');
    expect(schemaReference('contract', { projectDir, dir: path.join(projectDir, 'contracts', 'eu'), version: '1.2.3', installed: true })).toBe('../../node_modules/tollgate/schemas/contract.schema.json');
    expect(installedSchemaPath('manifest')).toBe('node_modules/tollgate/schemas/manifest.schema.json');
  });

  it('names this version on unpkg when Tollgate is not installed in the project', () => {
    expect(schemaReference('manifest', { projectDir, dir: path.join(projectDir, 'x'), version: '1.2.3', installed: false })).toBe('https://unpkg.com/tollgate@1.2.3/schemas/manifest.schema.json');
  });
});
