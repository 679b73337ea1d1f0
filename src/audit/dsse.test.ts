import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IN_TOTO_PAYLOAD_TYPE, openEnvelope, pae, signEnvelope } from './dsse.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

describe('DSSE v1', () => {
  it('PAE matches the specification byte for byte', () => {
    // protocol.md's example: PAE("http://example.com/HelloWorld", "hello world")
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString('utf8')).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    // Lengths count bytes, not characters.
    expect(pae('t', Buffer.from('é', 'utf8')).toString('utf8')).toBe('DSSEv1 1 t 2 é');
  });

  it('signs the PAE: a verifier using node:crypto alone and a hand-built PAE accepts it', () => {
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [] }));
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, privateKey, 'k1');
    expect(Object.keys(env).sort()).toEqual(['payload', 'payloadType', 'signatures']);
    expect(env.signatures[0]!.keyid).toBe('k1');
    const body = Buffer.from(env.payload, 'base64');
    const handMade = Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${body.length} ${body.toString('binary')}`, 'binary');
    expect(verify(null, handMade, createPublicKey(privateKey), Buffer.from(env.signatures[0]!.sig, 'base64'))).toBe(true);
    expect(openEnvelope(env, publicKey)?.equals(statement)).toBe(true);
  });

  it('accepts URL-safe and unpadded base64, as the envelope spec allows', () => {
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('{"a":1}~~'), privateKey, 'k1');
    const urlSafe = env.payload.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(openEnvelope({ ...env, payload: urlSafe }, publicKey)?.toString()).toBe('{"a":1}~~');
  });

  it('refuses a changed payload, a changed type, another key and characters outside base64', () => {
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('{"a":1}'), privateKey, 'k1');
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(openEnvelope({ ...env, payload: Buffer.from('{"a":2}').toString('base64') }, publicKey)).toBeUndefined();
    expect(openEnvelope({ ...env, payloadType: 'application/json' }, publicKey)).toBeUndefined();
    expect(openEnvelope(env, other)).toBeUndefined();
    expect(openEnvelope({ ...env, payload: `${env.payload.slice(0, 4)}!${env.payload.slice(4)}` }, publicKey)).toBeUndefined();
    expect(openEnvelope({ ...env, signatures: [] }, publicKey)).toBeUndefined();
  });
});

describe('DSSE v1: what openEnvelope refuses without throwing', () => {
  it('names the in-toto payload type', () => {
    expect(IN_TOTO_PAYLOAD_TYPE).toBe('application/vnd.in-toto+json');
  });

  it('refuses an envelope whose parts have the wrong types', () => {
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('{"a":1}'), privateKey, 'k1');
    expect(openEnvelope({ ...env, payload: 7 } as never, publicKey)).toBeUndefined();
    expect(openEnvelope({ ...env, payloadType: 7 } as never, publicKey)).toBeUndefined();
    expect(openEnvelope({ ...env, signatures: { 0: env.signatures[0] } } as never, publicKey)).toBeUndefined();
    expect(openEnvelope({ ...env, signatures: [{ keyid: 'k1', sig: 7 }] } as never, publicKey)).toBeUndefined();
  });

  it('skips signature entries that are not signatures, and opens with the one that verifies', () => {
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('{"a":1}'), privateKey, 'k1');
    expect(openEnvelope({ ...env, signatures: [null, { keyid: 'x' }, ...env.signatures] } as never, publicKey)?.toString()).toBe('{"a":1}');
  });

  it('reads both characters of URL-safe base64', () => {
    // 0xfb 0xff 0xfe encodes as "-__-" in base64url ("+//+" in standard base64).
    const bytes = Buffer.from([0xfb, 0xff, 0xbe, 0xfb, 0xff, 0xfe]);
    const env = signEnvelope('application/octet-stream', bytes, privateKey, 'k1');
    const urlSafe = env.payload.replace(/\+/g, '-').replace(/\//g, '_');
    expect(urlSafe).toMatch(/-/);
    expect(urlSafe).toMatch(/_/);
    expect(openEnvelope({ ...env, payload: urlSafe }, publicKey)?.equals(bytes)).toBe(true);
  });
});
