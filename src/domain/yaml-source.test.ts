import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TollgateError } from './errors.js';
import { formatPath, loadYaml, parseBoundedDocument, validateYaml, valueAt, YAML_LIMITS, YamlBoundsError } from './yaml-source.js';

const Schema = z.strictObject({
  name: z.string().min(1),
  items: z.array(z.strictObject({ id: z.string(), size: z.number().int().optional() })),
  mode: z.enum(['fast', 'slow']).optional(),
});

function syntaxProblems(text: string) {
  try {
    loadYaml(text, 'f.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).code).toBe('TG_YAML_SYNTAX');
    return (err as TollgateError).problems.map((p) => `${p.line}:${p.col} ${p.message}`);
  }
  throw new Error('expected a syntax error');
}

function schemaProblems(text: string) {
  const result = validateYaml(loadYaml(text, 'f.yaml'), Schema);
  if (result.ok) throw new Error('expected problems');
  return result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`);
}

describe('loadYaml', () => {
  it.each([
    ['a duplicate key', 'name: a\nitems: []\nname: b\n', ['3:1 YAML: duplicate key "name": a key may appear once in a map']],
    ['an unclosed flow sequence', 'name: a\nitems: [\n', ['3:1 YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['two documents', 'name: a\n---\nname: b\n', ['2:1 YAML: Source contains multiple documents; please use YAML.parseAllDocuments()']],
  ])('rejects %s with its position', (_, text, expected) => {
    expect(syntaxProblems(text)).toEqual(expected);
  });

  it('resolves aliases both in the data and in positions', () => {
    const src = loadYaml('base: &b { id: x, size: 1.5 }\nitems: [*b]\n', 'f.yaml');
    expect(src.data).toEqual({ base: { id: 'x', size: 1.5 }, items: [{ id: 'x', size: 1.5 }] });
    expect(src.positionOf(['items', 0, 'size'])).toEqual({ line: 1, col: 25 });
  });

  it('reads a scalar back as written', () => {
    const src = loadYaml('python: 3.10\nhex: 0x1F\nname: plain\n', 'f.yaml');
    expect(src.scalarText(['python'])).toBe('3.10');
    expect(src.scalarText(['hex'])).toBe('0x1F');
    expect(src.scalarText(['missing'])).toBeUndefined();
  });
});

describe('validateYaml', () => {
  it('returns the parsed value', () => {
    const result = validateYaml(loadYaml('name: a\nitems:\n  - { id: x }\n', 'f.yaml'), Schema);
    expect(result).toEqual({ ok: true, value: { name: 'a', items: [{ id: 'x' }] } });
  });

  it.each([
    ['an unknown key, at the key', 'name: a\nitems:\n  - id: x\n    sise: 2\n', ['f.yaml:4:5 items[0]: unknown field "sise"']],
    ['a missing field, at the map it is missing from', 'name: a\nitems:\n  - { size: 2 }\n', ['f.yaml:3:5 items[0]: missing required field "id"']],
    ['a missing top-level field', 'items: []\n', ['f.yaml:1:1 missing required field "name"']],
    ['a key with no value, at the key', 'name:\nitems: []\n', ['f.yaml:1:1 name: expected a string, got nothing (null)']],
    ['a wrong type, at the value', 'name: a\nitems:\n  - { id: x, size: 1.5 }\n', ['f.yaml:3:20 items[0].size: expected an integer, got the number 1.5']],
    ['a value outside an enum', 'name: a\nitems: []\nmode: quick\n', ['f.yaml:3:7 mode: must be one of "fast", "slow", got "quick"']],
    ['an empty file', '', ['f.yaml:1:1 the file is empty: expected a map']],
    ['a list instead of a map', '- a\n', ['f.yaml:1:1 expected a map, got a list']],
    // Issue 13: `text: A, B` in a flow map read as a field "B", with no hint to quote.
    ['a comma inside a { } value', 'name: a\nitems:\n  - { id: A, B }\n', ['f.yaml:3:14 items[0]: unknown field "B" (a comma inside { } ends a value: if "B" belongs to id, quote it: id: "A, B")']],
  ])('reports %s', (_, text, expected) => {
    expect(schemaProblems(text)).toEqual(expected);
  });

  it('reports every problem in reading order', () => {
    expect(schemaProblems('extra: 1\nitems:\n  - { id: 1 }\n  - { id: y, more: 2 }\n')).toEqual([
      'f.yaml:1:1 missing required field "name"',
      'f.yaml:1:1 unknown field "extra"',
      'f.yaml:3:11 items[0].id: expected a string, got the integer 1',
      'f.yaml:4:14 items[1]: unknown field "more"',
    ]);
  });
});

describe('duplicate keys', () => {
  it('names the key (issue 13: "Map keys must be unique" did not say which)', () => {
    expect(syntaxProblems('name: a\nitems: []\nname: b\n')).toEqual(['3:1 YAML: duplicate key "name": a key may appear once in a map']);
  });
});

describe('paths', () => {
  it.each([
    [['gates', 2, 'signoffs', 0, 'role'], 'gates[2].signoffs[0].role'],
    [['dependencies', 'scikit-learn'], 'dependencies["scikit-learn"]'],
    [[], ''],
  ])('%j reads %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });

  it('valueAt tells a missing field from a null one', () => {
    expect(valueAt({ a: null }, ['a'])).toEqual({ found: true, value: null });
    expect(valueAt({ a: null }, ['b'])).toEqual({ found: false, value: undefined });
    expect(valueAt({ a: [1, 2] }, ['a', 1])).toEqual({ found: true, value: 2 });
  });
});

describe('loadYaml limits', () => {
  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => {
      const prev = String.fromCharCode(97 + i);
      const cur = String.fromCharCode(98 + i);
      return `${cur}: &${cur} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
    })].join('\n');
    expect(() => loadYaml(bomb, 'f.yaml')).toThrow(expect.objectContaining({ code: 'TG_YAML_SYNTAX' }));
  });
});

describe('bounds (issue 13, finding 3)', () => {
  const refused = (text: string): TollgateError => {
    try {
      loadYaml(text, 'hostile.yaml');
    } catch (err) {
      return err as TollgateError;
    }
    throw new Error('loadYaml accepted the text');
  };

  it.each([
    ['50,000 [', '['.repeat(50_000)],
    ['400,000 "- "', '- '.repeat(400_000)],
    ['100,000 "{a: "', '{a: '.repeat(100_000)],
    ['65 nested block maps', Array.from({ length: 65 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
  ])('refuses collections nested deeper than the limit (%s) as TG_YAML_SYNTAX, positioned, without overflowing the stack', (_name, text) => {
    const err = refused(text);
    expect(err.code).toBe('TG_YAML_SYNTAX');
    expect(err.message).toMatch(/^hostile\.yaml:\d+:\d+: YAML: collections nest too deep \(more than 64 levels\)$/);
    expect(err.message).not.toMatch(/call stack/);
  });

  it('accepts nesting up to the limit', () => {
    const text = `${'['.repeat(YAML_LIMITS.maxDepth)}1${']'.repeat(YAML_LIMITS.maxDepth)}`;
    expect(loadYaml(text, 'deep.yaml').data).toBeDefined();
  });

  it('refuses a text over the size limit before parsing it', () => {
    const err = refused(`a: "${'x'.repeat(YAML_LIMITS.maxChars)}"`);
    expect(err.code).toBe('TG_YAML_SYNTAX');
    expect(err.message).toMatch(/too large/);
  });

  it('parseBoundedDocument throws YamlBoundsError with an offset, and still reports several documents', () => {
    expect(() => parseBoundedDocument('['.repeat(100))).toThrow(YamlBoundsError);
    expect(parseBoundedDocument('a: 1\n---\nb: 2\n').errors.map((e) => e.code)).toEqual(['MULTIPLE_DOCS']);
  });
});
