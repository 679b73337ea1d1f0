/**
 * DSSE v1 envelopes (github.com/secure-systems-lab/dsse, envelope.md and protocol.md): the signature
 * is over PAE(payloadType, payload), never over the JSON of the envelope, so any DSSE verifier with
 * the public key accepts what Tollgate signs. Written by hand: the format is a few lines and the
 * npm implementations pull in a whole signing framework.
 */
import type { KeyObject } from 'node:crypto';
import { signBytes, verifyBytes } from '../domain/keys.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  readonly keyid: string;
  /** base64 of the raw signature bytes. */
  readonly sig: string;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  /** base64 (standard alphabet, padded) of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly DsseSignature[];
}

/**
 * Pre-Authentication Encoding: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as
 * ASCII decimal byte counts. Binding the type stops a payload being replayed as another type.
 */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  // The prefix, lengths and spaces are ASCII, which Buffer's default (UTF-8) writes as the same bytes.
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), Buffer.from(payload)]);
}

export function signEnvelope(payloadType: string, payload: Uint8Array, key: KeyObject, keyid: string): DsseEnvelope {
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid, sig: signBytes(key, pae(payloadType, payload)) }],
  };
}

/** The payload bytes, when at least one signature verifies with `publicKey`; otherwise undefined. */
export function openEnvelope(env: DsseEnvelope, publicKey: KeyObject): Buffer | undefined {
  if (typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) return undefined;
  // The spec allows standard or URL-safe base64, padded or not; anything else is refused, since
  // Node's decoder would silently skip characters it does not know.
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(env.payload)) return undefined;
  const payload = Buffer.from(env.payload.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const message = pae(env.payloadType, payload);
  return env.signatures.some((s) => typeof s?.sig === 'string' && verifyBytes(publicKey, message, s.sig)) ? payload : undefined;
}
