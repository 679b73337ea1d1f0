import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PUBLIC_KEY_PREFIX, formatPublicKey, generateKeyPair, loadPrivateKey, parsePublicKey, signBytes, tryParsePublicKey, verifyBytes } from './keys.js';

describe('Ed25519 keys in their textual form', () => {
  it('write a public key as ed25519: and the base64 of its SPKI DER, the same from the private key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const text = formatPublicKey(publicKey);
    expect(text).toBe(PUBLIC_KEY_PREFIX + publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
    expect(PUBLIC_KEY_PREFIX).toBe('ed25519:');
    expect(formatPublicKey(privateKey)).toBe(text);
    expect(formatPublicKey(privateKey)).toBe(text);
  });

  it('sign with a generated pair and verify with its roster key, and nothing else', () => {
    const pair = generateKeyPair();
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const signature = signBytes(loadPrivateKey(pair.privateKeyPem), 'release r');
    const key = parsePublicKey(`  ${pair.publicKey}\n`);
    expect(formatPublicKey(key)).toBe(pair.publicKey);
    expect(verifyBytes(key, 'release r', signature)).toBe(true);
    expect(verifyBytes(key, new TextEncoder().encode('release r'), signature)).toBe(true);
    expect(verifyBytes(key, 'release s', signature)).toBe(false);
    expect(verifyBytes(parsePublicKey(generateKeyPair().publicKey), 'release r', signature)).toBe(false);
  });

  it('answer false, not throw, for a signature that cannot be checked', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const { publicKey: x25519 } = generateKeyPairSync('x25519');
    expect(verifyBytes(publicKey, 'm', '')).toBe(false);
    expect(() => verifyBytes(x25519, 'm', 'AAAA')).not.toThrow();
    expect(verifyBytes(x25519, 'm', 'AAAA')).toBe(false);
  });

  it('refuse anything but an Ed25519 public key, saying why', () => {
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(() => parsePublicKey('ssh-ed25519 AAAA')).toThrow(expect.objectContaining({ code: 'TG_KEY_INVALID', message: 'not an Ed25519 public key: it must start with "ed25519:"' }));
    expect(() => parsePublicKey(`ed25519:${x25519}`)).toThrow(expect.objectContaining({ code: 'TG_KEY_INVALID', message: 'not an Ed25519 public key (a x25519 key)' }));
    expect(() => parsePublicKey('ed25519:AAAA')).toThrow(expect.objectContaining({ code: 'TG_KEY_INVALID', message: expect.stringMatching(/^not an Ed25519 public key \(.+\)$/) }));
    expect(tryParsePublicKey('ed25519:AAAA')).toBeUndefined();
    const { publicKey } = generateKeyPair();
    expect(tryParsePublicKey(publicKey)).toBe(parsePublicKey(publicKey));
  });
});
