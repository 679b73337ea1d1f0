import { describe, expect, it } from 'vitest';
import { DIGEST_PATTERN, canonicalJson, digestBytes, digestOf, sha256Hex } from './digest.js';

describe('digests', () => {
  it('hash text and bytes with SHA-256 in lowercase hex', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(sha256Hex('abc')).toBe(abc);
    expect(sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(abc);
    expect(digestBytes('abc')).toBe(`sha256:${abc}`);
  });

  it('write canonical JSON (RFC 8785): sorted keys, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, 'x', null], c: { z: 1e21, y: 0.5 } })).toBe('{"a":[true,"x",null],"b":1,"c":{"y":0.5,"z":1e+21}}');
    expect(digestOf({ b: 1, a: 2 })).toBe(digestBytes('{"a":2,"b":1}'));
  });

  it('refuse a value JSON cannot hold', () => {
    expect(() => canonicalJson(undefined)).toThrow(new TypeError('value cannot be canonicalized'));
    expect(() => digestOf(() => 1)).toThrow('value cannot be canonicalized');
  });

  it('recognise a digest only whole: prefix, 64 lowercase hex digits, nothing around', () => {
    const hex = 'a'.repeat(64);
    expect(DIGEST_PATTERN.test(`sha256:${hex}`)).toBe(true);
    for (const text of [hex, `sha256:${hex.slice(1)}`, `sha256:${hex}0`, `xsha256:${hex}`, `sha256:${'A'.repeat(64)}`, `sha256:${'g'.repeat(64)}`, `sha256:${hex}\n`]) {
      expect(DIGEST_PATTERN.test(text), text).toBe(false);
    }
  });
});
