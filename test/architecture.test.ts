import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Dependencies point inward (STYLE.md rule 1): the pure domain imports nothing from the edges.
const SRC = path.resolve(import.meta.dirname, '../src');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

function layerOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

const FORBIDDEN: Record<string, string[]> = {
  domain: ['store', 'service', 'server', 'cli', 'client', 'audit', 'validators'],
  validators: ['store', 'service', 'server', 'cli', 'client', 'audit'],
  audit: ['store', 'service', 'server', 'cli', 'client'],
  store: ['service', 'server', 'cli', 'client'],
  service: ['server', 'cli', 'client'],
  client: ['cli', 'server'],
  report: ['store', 'service', 'server', 'cli', 'client', 'validators', 'audit'],
  webhooks: ['service', 'server', 'cli', 'client'],
};

describe('architecture', () => {
  const files = filesUnder(SRC).filter((f) => !f.endsWith('.test.ts'));

  it('finds the source files it checks', () => {
    expect(files.filter((f) => layerOf(f) === 'domain').length).toBeGreaterThan(5);
  });

  it.each(Object.entries(FORBIDDEN))('%s imports none of its outer layers', (layer, outer) => {
    const bad = files
      .filter((f) => layerOf(f) === layer)
      .flatMap((f) =>
        importsOf(f)
          .filter((spec) => spec.startsWith('.'))
          .map((spec) => ({ f, target: layerOf(path.resolve(path.dirname(f), spec)) }))
          .filter(({ target }) => outer.includes(target))
          .map(({ f, target }) => `${path.relative(SRC, f)} imports ${target}/`),
      );
    expect(bad).toEqual([]);
  });

  it('domain uses no I/O modules', () => {
    const io = ['node:fs', 'fs', 'node:fs/promises', 'node:child_process', 'node:net', 'node:http', 'better-sqlite3', 'kysely'];
    const bad = files
      .filter((f) => layerOf(f) === 'domain')
      .flatMap((f) => importsOf(f).filter((spec) => io.includes(spec)).map((spec) => `${path.relative(SRC, f)} imports ${spec}`));
    expect(bad).toEqual([]);
  });

  it('would catch a forbidden import (the check itself works)', () => {
    const fake = path.join(SRC, 'domain', 'fake.ts');
    expect(layerOf(path.resolve(path.dirname(fake), '../store/store.js'))).toBe('store');
    expect(importsOf(path.join(SRC, 'service', 'promote.ts'))).toContain('../domain/evaluate.js');
  });
});
