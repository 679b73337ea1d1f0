/**
 * Ed25519 keys in the one textual form Tollgate uses everywhere (roster, `keys show`, `--key`):
 * `ed25519:` + base64 of the SubjectPublicKeyInfo DER.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { tollgateError } from './errors.js';
import { memoByText } from './memo.js';

export const PUBLIC_KEY_PREFIX = 'ed25519:';

/** Formatted keys by key object: a server formats its own key on every checkpoint. */
const formatted = new WeakMap<KeyObject, string>();

export function formatPublicKey(key: KeyObject): string {
  let text = formatted.get(key);
  if (text === undefined) {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    text = PUBLIC_KEY_PREFIX + pub.export({ type: 'spki', format: 'der' }).toString('base64');
    formatted.set(key, text);
  }
  return text;
}

/**
 * Parses `ed25519:BASE64`; throws TG_KEY_INVALID for anything else. Parsed keys are kept by their
 * text (a key object is immutable), so verifying a sign-off does not parse the roster key again.
 */
export function parsePublicKey(text: string): KeyObject {
  return parseMemo(text);
}

const parseMemo = memoByText(4096, parseUncached);

function parseUncached(text: string): KeyObject {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PUBLIC_KEY_PREFIX)) {
    throw tollgateError('TG_KEY_INVALID', `not an Ed25519 public key: it must start with "${PUBLIC_KEY_PREFIX}"`);
  }
  try {
    const key = createPublicKey({ key: Buffer.from(trimmed.slice(PUBLIC_KEY_PREFIX.length), 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (err) {
    throw tollgateError('TG_KEY_INVALID', `not an Ed25519 public key (${(err as Error).message})`);
  }
}

/** Like parsePublicKey, but undefined instead of an error: for checks that must never throw. */
export function tryParsePublicKey(text: string): KeyObject | undefined {
  try {
    return parsePublicKey(text);
  } catch {
    return undefined;
  }
}

export function generateKeyPair(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: formatPublicKey(publicKey),
  };
}

export function loadPrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export function signBytes(privateKey: KeyObject, message: string | Uint8Array): string {
  return sign(null, Buffer.from(message), privateKey).toString('base64');
}

export function verifyBytes(publicKey: KeyObject, message: string | Uint8Array, signatureBase64: string): boolean {
  try {
    return verify(null, Buffer.from(message), publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}
