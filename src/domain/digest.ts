import { hash } from 'node:crypto';
import { createRequire } from 'node:module';

// canonicalize is CommonJS whose types declare an ES default export; load it as what it is.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string | undefined;

/** A content digest as written everywhere in Tollgate: `sha256:` and 64 lowercase hex digits. */
export type Digest = `sha256:${string}`;

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

// One-shot crypto.hash: about twice as fast as createHash().update().digest() for the short texts
// hashed here by the million (`audit verify` hashes every event and every row it vouches for).
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

export function digestBytes(data: string | Uint8Array): Digest {
  return `sha256:${sha256Hex(data)}`;
}

/**
 * Canonical JSON (RFC 8785, JCS) so that a digest or a signature depends only on content, never on
 * key order or whitespace; anyone can recompute it with any JCS library.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be canonicalized');
  return text;
}

export function digestOf(value: unknown): Digest {
  return digestBytes(canonicalJson(value));
}
