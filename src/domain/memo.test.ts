import { describe, expect, it } from 'vitest';
import { generateKeyPair, parsePublicKey } from './keys.js';
import { deepFreeze, digestOfFrozen, memoByText, parsedFrom, passedChecks, sourceText } from './memo.js';

describe('memoByText', () => {
  it('computes once per text and forgets the oldest past its limit', () => {
    let calls = 0;
    const length = memoByText(2, (t) => {
      calls++;
      return t.length;
    });
    expect([length('a'), length('a'), length('bb')]).toEqual([1, 1, 2]);
    expect(calls).toBe(2);
    length('a'); // below the limit nothing goes
    expect(calls).toBe(2);
    length('ccc'); // 'a' goes
    length('a');
    expect(calls).toBe(4);
  });

  it('does not keep a failure: the next call tries again', () => {
    let calls = 0;
    const parse = memoByText(8, (t) => {
      calls++;
      if (calls === 1) throw new Error('first time fails');
      return t;
    });
    expect(() => parse('x')).toThrow('first time fails');
    expect(parse('x')).toBe('x');
  });
});

describe('parsed public keys', () => {
  it('parses a roster key once and gives the same key object back', () => {
    const { publicKey } = generateKeyPair();
    expect(parsePublicKey(publicKey)).toBe(parsePublicKey(publicKey));
    expect(() => parsePublicKey('ed25519:bm90IGEga2V5')).toThrow(expect.objectContaining({ code: 'TG_KEY_INVALID' }));
  });
});

describe('deepFreeze and digestOfFrozen', () => {
  it('freezes nested objects and arrays', () => {
    const doc = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(doc.a.b[1])).toBe(true);
    // Text inside, and a cycle: each frozen once, not walked again.
    const loop: { name: string; self?: unknown } = { name: 'x' };
    loop.self = loop;
    expect(deepFreeze(loop)).toBe(loop);
    expect(Object.isFrozen(loop)).toBe(true);
    expect(() => {
      (doc.a.b as unknown[]).push(3);
    }).toThrow(TypeError);
  });

  it('digests a frozen object once, anything else every time', () => {
    let calls = 0;
    const digest = (o: object) => {
      calls++;
      return `d${JSON.stringify(o).length}`;
    };
    const frozen = deepFreeze({ x: 1 });
    expect(digestOfFrozen(frozen, digest)).toBe(digestOfFrozen(frozen, digest));
    expect(calls).toBe(1);
    const open = { x: 1 };
    digestOfFrozen(open, digest);
    digestOfFrozen(open, digest);
    expect(calls).toBe(3);
  });
});

describe('passedChecks', () => {
  it('holds the texts added, and forgets the oldest past its limit', () => {
    const passed = passedChecks(2);
    passed.add('a');
    passed.add('b');
    expect([passed.has('a'), passed.has('b'), passed.has('c')]).toEqual([true, true, false]);
    passed.add('c'); // 'a' goes
    expect([passed.has('a'), passed.has('b'), passed.has('c')]).toEqual([false, true, true]);
  });
});

describe('parsedFrom / sourceText', () => {
  it('gives back the text an object was recorded with, and nothing for any other object', () => {
    const text = '{"a":1}';
    const value = parsedFrom(JSON.parse(text) as object, text);
    expect(sourceText(value)).toBe(text);
    expect(sourceText(JSON.parse(text) as object)).toBeUndefined();
  });
});
