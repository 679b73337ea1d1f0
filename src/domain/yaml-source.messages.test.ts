/**
 * What validateYaml says for each kind of schema problem, and where: the message a YAML author reads
 * is the interface here, so each kind is pinned to its exact text and position (issue 13: the
 * mutation run showed these messages changed with no test noticing).
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TollgateError } from './errors.js';
import { formatPath, isPlainObject, loadYaml, parseBoundedDocument, validateYaml, valueAt, YAML_LIMITS, YamlBoundsError } from './yaml-source.js';

/** Every problem of `text` against `schema`, as `line:col message`. */
function problems(text: string, schema: z.ZodType, data?: unknown): string[] {
  const src = loadYaml(text, 'f.yaml');
  const result = validateYaml(src, schema, data === undefined ? {} : { data });
  if (result.ok) throw new Error(`expected problems with ${JSON.stringify(text)}`);
  return result.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
}

describe('validateYaml: bounds on numbers, lists and strings', () => {
  it('says at most / less than, at least / greater than, as the schema bounds it', () => {
    expect(problems('n: 12\n', z.object({ n: z.number().max(10) }))).toEqual(['1:4 n: must be at most 10']);
    expect(problems('n: 10\n', z.object({ n: z.number().lt(10) }))).toEqual(['1:4 n: must be less than 10']);
    expect(problems('n: -1\n', z.object({ n: z.number().min(0) }))).toEqual(['1:4 n: must be at least 0']);
    expect(problems('n: 0\n', z.object({ n: z.number().gt(0) }))).toEqual(['1:4 n: must be greater than 0']);
  });

  it('counts entries of a list and characters of a string, and calls a minimum of one "not empty"', () => {
    expect(problems('l: [1]\n', z.object({ l: z.array(z.number()).min(2) }))).toEqual(['1:4 l: needs at least 2 entries']);
    expect(problems('l: []\n', z.object({ l: z.array(z.number()).min(1) }))).toEqual(['1:4 l: must not be empty']);
    expect(problems('s: ab\n', z.object({ s: z.string().min(3) }))).toEqual(['1:4 s: must be at least 3 characters']);
    expect(problems('s: ""\n', z.object({ s: z.string().min(1) }))).toEqual(['1:4 s: must not be empty']);
    expect(problems('s: abcd\n', z.object({ s: z.string().max(3) }))).toEqual(['1:4 s: must be at most 3']);
  });
});

describe('validateYaml: unions', () => {
  const StringOrList = z.object({ v: z.union([z.string(), z.array(z.string())]) });

  it('names every kind the union takes when the value is of none of them', () => {
    expect(problems('v: 3\n', StringOrList)).toEqual(['1:4 v: expected a string or a list, got the integer 3']);
  });

  it('gives the problems of the one branch whose kind the value has, at their own positions', () => {
    expect(problems('v: [1]\n', StringOrList)).toEqual(['1:5 v[0]: expected a string, got the integer 1']);
    expect(problems('v: {a: 1}\n', z.object({ v: z.union([z.string(), z.strictObject({ b: z.number() })]) }))).toEqual([
      '1:4 v: missing required field "b"',
      '1:5 v: unknown field "a"',
    ]);
  });

  it('calls a JSON value "a plain value" and says what else it got', () => {
    expect(problems('v: !!binary aGVsbG8=\n', z.object({ v: z.json() }))).toEqual([
      '1:13 v: expected a plain value (string, number, true/false, null, list or map), got binary data',
    ]);
  });

  it('says "another value" when no branch names a kind', () => {
    expect(problems('v: c\n', z.object({ v: z.union([z.literal('a'), z.literal('b')]) }))).toEqual(['1:4 v: expected another value, got a string ("c")']);
  });

  it('two branches of the same kind: the union is named, not one branch', () => {
    const TwoMaps = z.object({ v: z.union([z.strictObject({ a: z.string() }), z.strictObject({ b: z.string() })]) });
    expect(problems('v: {c: 1}\n', TwoMaps)).toEqual(['1:4 v: expected another value, got a map']);
  });
});

describe('validateYaml: what a value is, in a YAML author\'s words', () => {
  const Str = z.object({ v: z.string() });
  const Num = z.object({ v: z.number() });

  it.each([
    ['v: true\n', 'true'],
    ['v: false\n', 'false'],
    ['v: .inf\n', 'Infinity'],
    ['v: -.inf\n', '-Infinity'],
    ['v: .nan\n', 'NaN'],
    ['v: 1.5\n', 'the number 1.5'],
    ['v: 7\n', 'the integer 7'],
    ['v: {a: 1}\n', 'a map'],
    ['v: [1]\n', 'a list'],
    ['v:\n', 'nothing (null)'],
  ])('%j is %s', (text, kind) => {
    expect(problems(text, Str)).toEqual([`1:${text === 'v:\n' ? 1 : 4} v: expected a string, got ${kind}`]);
  });

  it('quotes a string, cut at 40 characters', () => {
    expect(problems(`v: ${'x'.repeat(40)}\n`, Num)).toEqual([`1:4 v: expected a number, got a string ("${'x'.repeat(40)}")`]);
    expect(problems(`v: ${'x'.repeat(41)}\n`, Num)).toEqual([`1:4 v: expected a number, got a string ("${'x'.repeat(40)}…")`]);
  });

  it('names dates and binary data handed in as the data to check', () => {
    expect(problems('v: x\n', Str, { v: new Date(0) })).toEqual(['1:4 v: expected a string, got a date']);
    expect(problems('v: x\n', Str, { v: new Uint8Array(2) })).toEqual(['1:4 v: expected a string, got binary data']);
    expect(problems('v: x\n', Str, { v: 10n })).toEqual(['1:4 v: expected a string, got bigint']);
  });

  it('says which value a literal or an enum wanted, and what it got', () => {
    expect(problems('v: b\n', z.object({ v: z.literal('a') }))).toEqual(['1:4 v: must be "a", got "b"']);
    expect(problems('v: [1]\n', z.object({ v: z.enum(['a', 'b']) }))).toEqual(['1:4 v: must be one of "a", "b", got a list']);
    expect(problems('v: 3\n', z.object({ v: z.enum(['a', 'b']) }))).toEqual(['1:4 v: must be one of "a", "b", got the integer 3']);
  });

  it('says only what was wanted when nothing is there', () => {
    expect(problems('v: x\n', z.object({ v: z.literal('a') }), { v: undefined })).toEqual(['1:4 v: must be "a"']);
    expect(problems('v: x\n', z.object({ v: z.enum(['a', 'b']) }), { v: undefined })).toEqual(['1:4 v: must be one of "a", "b"']);
  });
});

describe('validateYaml: keys', () => {
  it('gives a key pattern\'s own message, at the key', () => {
    expect(problems('m: {Bad Key: 1}\n', z.object({ m: z.record(z.string().regex(/^[a-z]+$/), z.number()) }))).toEqual(['1:5 m["Bad Key"]: Invalid string: must match pattern /^[a-z]+$/']);
  });

  it('gives a custom key check\'s message, and a generic one otherwise', () => {
    const custom = z.object({ m: z.record(z.string().refine((k) => k.startsWith('x-'), 'keys start with x-'), z.number()) });
    expect(problems('m: {y: 1}\n', custom)).toEqual(['1:5 m.y: keys start with x-']);
    const numeric = z.object({ m: z.record(z.string().transform(Number).pipe(z.number().int()), z.number()) });
    expect(problems('m: {a: 1}\n', numeric)).toEqual(['1:5 m.a: this key is not allowed here']);
  });

  it('hints to quote only an empty field that follows a text value in the same map', () => {
    const Item = z.object({ items: z.array(z.strictObject({ id: z.union([z.string(), z.number()]) })) });
    expect(problems('items:\n  - { B, id: A }\n', Item)).toEqual(['2:7 items[0]: unknown field "B"']);
    expect(problems('items:\n  - { id: A, B: 2 }\n', Item)).toEqual(['2:14 items[0]: unknown field "B"']);
    expect(problems('items:\n  - { id: 1, B }\n', Item)).toEqual(['2:14 items[0]: unknown field "B"']);
    expect(problems('items:\n  - { id: A, B }\n', Item)).toEqual(['2:14 items[0]: unknown field "B" (a comma inside { } ends a value: if "B" belongs to id, quote it: id: "A, B")']);
  });

  it('a message with no place to name (the top of the file) is the text alone', () => {
    expect(problems('a: 1\n', z.strictObject({}))).toEqual(['1:1 unknown field "a"']);
    expect(problems('- 1\n', z.object({}), undefined)).toEqual(['1:1 expected a map, got a list']);
  });

  it('uses the caller\'s way of naming a path', () => {
    const src = loadYaml('a: {b: 1}\n', 'f.yaml');
    const r = validateYaml(src, z.object({ a: z.object({ b: z.string() }) }), { describe: (p) => `<${p.join('/')}>` });
    expect(r.ok ? [] : r.problems.map((p) => p.message)).toEqual(['<a/b>: expected a string, got the integer 1']);
    const blank = validateYaml(src, z.object({ a: z.object({ b: z.string() }) }), { describe: () => '' });
    expect(blank.ok ? [] : blank.problems.map((p) => p.message)).toEqual(['expected a string, got the integer 1']);
  });
});

describe('positions', () => {
  it('a path into a list past its end, or through a scalar, stops at the deepest node there is', () => {
    const src = loadYaml('l:\n  - a\n  - b\ns: text\n', 'f.yaml');
    expect(src.positionOf(['l', 5])).toEqual({ line: 2, col: 3 });
    expect(src.positionOf(['l', 'x'])).toEqual({ line: 2, col: 3 });
    expect(src.positionOf(['l', 1])).toEqual({ line: 3, col: 5 });
    expect(src.positionOf(['s', 'deeper', 'still'])).toEqual({ line: 4, col: 4 });
    expect(src.positionOf(['s'], { key: true })).toEqual({ line: 4, col: 1 });
    expect(src.positionOf(['nope'])).toEqual({ line: 1, col: 1 });
  });

  it('a key written with an empty value, or `~`, is found at the key only when empty', () => {
    const src = loadYaml('a:\nb: ~\nc: ""\n', 'f.yaml');
    expect(src.positionOf(['a'])).toEqual({ line: 1, col: 1 });
    expect(src.positionOf(['b'])).toEqual({ line: 2, col: 4 });
    expect(src.positionOf(['c'])).toEqual({ line: 3, col: 4 });
  });

  it('problemAt carries the file, the position and the path', () => {
    const src = loadYaml('l: [a, b]\n', 'f.yaml');
    expect(src.problemAt(['l', 1], 'bad')).toEqual({ file: 'f.yaml', line: 1, col: 8, path: 'l[1]', message: 'bad' });
  });

  it('scalarText: the text as written, or nothing for a collection or a missing path', () => {
    const src = loadYaml('q: "3.10"\nm: {a: 1}\nn: ~\n', 'f.yaml');
    expect(src.scalarText(['q'])).toBe('3.10');
    expect(src.scalarText(['m'])).toBeUndefined();
    expect(src.scalarText(['m', 'a'])).toBe('1');
    expect(src.scalarText(['m', 'b'])).toBeUndefined();
    expect(src.scalarText(['n'])).toBe('~');
  });
});

describe('paths and values', () => {
  it('formatPath: names that are identifiers are dotted, others quoted, symbols by their description', () => {
    expect(formatPath(['_a', 'b2', '2b', '0', 'a-b'])).toBe('_a.b2["2b"]["0"]["a-b"]');
    expect(formatPath([Symbol('s')])).toBe('["Symbol(s)"]');
    expect(formatPath([0, 'a'])).toBe('[0].a');
  });

  it('valueAt: a list index only within the list, a key only in a plain map and only its own', () => {
    expect(valueAt({ a: [1] }, ['a', 1])).toEqual({ found: false, value: undefined });
    expect(valueAt({ a: [1] }, ['a', 0])).toEqual({ found: true, value: 1 });
    expect(valueAt([5], ['0'])).toEqual({ found: false, value: undefined });
    expect(valueAt('abc', [0])).toEqual({ found: false, value: undefined });
    expect(valueAt({ a: 1 }, [0])).toEqual({ found: false, value: undefined });
    expect(valueAt({}, ['toString'])).toEqual({ found: false, value: undefined });
    expect(valueAt(new Map([['a', 1]]), ['a'])).toEqual({ found: false, value: undefined });
    expect(valueAt(7, [])).toEqual({ found: true, value: 7 });
  });

  it('isPlainObject: maps read from YAML, not lists, null, scalars or class instances', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject('x')).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject(Object.create(null))).toBe(false);
  });
});

describe('loadYaml: errors', () => {
  const refused = (text: string): TollgateError => {
    try {
      loadYaml(text, 'f.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(TollgateError);
      return err as TollgateError;
    }
    throw new Error('loadYaml accepted the text');
  };

  it('names a duplicated key however it is written', () => {
    expect(refused('"a b": 1\n"a b": 2\n').problems.map((p) => p.message)).toEqual(['YAML: duplicate key ""a b"": a key may appear once in a map']);
    expect(refused("'a': 1\n'a': 2\n").problems.map((p) => p.message)).toEqual(['YAML: duplicate key "\'a\'": a key may appear once in a map']);
    expect(refused('m: {k: 1, k: 2}\n').problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual(['1:11 YAML: duplicate key "k": a key may appear once in a map']);
  });

  it('an alias bomb is refused with the parser\'s reason, at the top of the file, as TG_YAML_SYNTAX', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => {
      const prev = String.fromCharCode(97 + i);
      return `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${prev}`).join(', ')}]`;
    })].join('\n');
    const err = refused(bomb);
    expect(err.code).toBe('TG_YAML_SYNTAX');
    expect(err.problems).toEqual([{ file: 'f.yaml', line: 1, col: 1, message: expect.stringMatching(/^YAML: .*alias/i) }]);
    expect(err.message).toBe(`f.yaml:1:1: ${err.problems[0]!.message}`);
  });

  it('a bound overstepped is one positioned problem whose message is the error\'s', () => {
    // `a`'s value is one level down, so the 64th bracket is the 65th level.
    const err = refused(`a:\n${'['.repeat(70)}`);
    expect(err.code).toBe('TG_YAML_SYNTAX');
    expect(err.problems).toEqual([{ file: 'f.yaml', line: 2, col: 65, message: 'YAML: collections nest too deep (more than 64 levels)' }]);
    // Lines after the offending one do not move it.
    expect(refused(`a:\n${'['.repeat(70)}\nb: 1\nc: 2\n`).problems[0]).toMatchObject({ line: 2, col: 65 });
  });

  it('takes a text of exactly the size limit, and names the bound error', () => {
    const text = `a: "${'x'.repeat(YAML_LIMITS.maxChars - 5)}"`;
    expect(text).toHaveLength(YAML_LIMITS.maxChars);
    expect(loadYaml(text, 'f.yaml').data).toEqual({ a: 'x'.repeat(YAML_LIMITS.maxChars - 5) });
    const err = (() => { try { parseBoundedDocument(`${text} `); } catch (e) { return e as YamlBoundsError; } return undefined; })();
    expect(err).toBeInstanceOf(YamlBoundsError);
    expect(err!.name).toBe('YamlBoundsError');
    expect(err!.offset).toBe(YAML_LIMITS.maxChars);
  });
});
