import { describe, expect, it } from 'vitest';
import { generateKeyPair, parsePublicKey } from './keys.js';
import { deepFreeze, digestOfFrozen, memoByText } from './memo.js';

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
