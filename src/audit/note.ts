/**
 * Checkpoints as signed notes, the form transparency logs exchange tree heads in: C2SP `signed-note`
 * (c2sp.org/signed-note) carrying a C2SP `tlog-checkpoint` body (c2sp.org/tlog-checkpoint), byte for
 * byte as Go's golang.org/x/mod/sumdb/note writes and reads them. Pure functions (no I/O).
 *
 * Why this form rather than our own: any tlog tool or witness can read and cosign a Tollgate
 * checkpoint, and an auditor can check one with the Go `note` package and nothing of ours.
 *
 * A note is text that must be ignored unless a trusted key signed it, so `openNote` hands back the
 * body only after a known key's signature verified. Nothing in a note makes these functions throw:
 * they answer `{ ok: false, reason, message }`. They throw only for arguments that are our own
 * mistakes (an invalid key name, a key that is not Ed25519, a body that cannot be signed).
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { HASH_SIZE } from './merkle.js';

/** A tree head in tlog-checkpoint form (c2sp.org/tlog-checkpoint, "Note text"). */
export interface Checkpoint {
  /** Identifies the log; non-empty, conventionally a schema-less URL (`tollgate.example/audit`). */
  readonly origin: string;
  /** Number of leaves in the tree. Sizes beyond 2^53 - 1 are refused rather than rounded. */
  readonly size: number;
  /** The RFC 9162 / RFC 6962 Merkle tree root at `size`: 32 bytes. */
  readonly rootHash: Uint8Array;
  /** Opaque, non-empty lines after the root hash; the spec advises against using them. */
  readonly extensions: readonly string[];
}

/** Signs notes: the key name that goes on the signature line, and the Ed25519 private key. */
export interface NoteSigner {
  readonly name: string;
  readonly privateKey: KeyObject;
}

/** A trusted key: notes signed by it under this name verify. */
export interface NoteVerifier {
  readonly name: string;
  readonly publicKey: KeyObject;
}

/**
 * Why a note was turned down:
 * - `malformed`: not a signed note, or its body is not a checkpoint (the message says what is wrong);
 * - `unknown-key`: well-formed, but no signature is by a key we were given;
 * - `bad-signature`: a signature by a key we were given does not verify (forged, or the text changed).
 */
export type NoteFailure = 'malformed' | 'unknown-key' | 'bad-signature';

export interface NoteRejection {
  readonly ok: false;
  readonly reason: NoteFailure;
  /** In words a person can act on. */
  readonly message: string;
}

/** A note whose signatures by known keys all verified (at least one). */
export interface VerifiedNote {
  readonly ok: true;
  /** The signed text, final newline included. */
  readonly body: string;
  /** Names of the known keys whose signatures verified, in the order of the signature lines. */
  readonly verifiedBy: readonly string[];
}

/** A verified note whose body is a well-formed checkpoint. */
export interface OpenedCheckpoint extends VerifiedNote {
  readonly checkpoint: Checkpoint;
}

/** Signature type byte of Ed25519 in the key hash and the verifier key (signed-note, "Signature types"). */
const ED25519 = 0x01;
/** Em dash U+2014 and a space: the start of every signature line (signed-note, "Format"). */
const SIGNATURE_PREFIX = '\u2014 ';
/** signed-note asks verifiers to cap signatures (at least 16); Go's note package stops at 100. */
const MAX_SIGNATURES = 100;

/**
 * The checkpoint's note body (tlog-checkpoint, "Note text"): origin, decimal size, base64 root hash,
 * then any extension lines, each ending in a newline. Throws a RangeError for a checkpoint that could
 * not be parsed back (our own mistake, never the reader's).
 */
export function formatCheckpointBody(c: Checkpoint): string {
  if (!isLine(c.origin)) throw new RangeError('a checkpoint origin must be one non-empty line without control characters');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new RangeError(`checkpoint size ${c.size} is not a whole number of leaves`);
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== HASH_SIZE) {
    throw new RangeError(`a checkpoint root hash must be ${HASH_SIZE} bytes`);
  }
  for (const line of c.extensions) {
    if (!isLine(line)) throw new RangeError('checkpoint extension lines must be non-empty lines without control characters');
  }
  const lines = [c.origin, String(c.size), Buffer.from(c.rootHash).toString('base64'), ...c.extensions];
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * Parses a checkpoint body strictly (tlog-checkpoint, "Note text"): at least three lines, each ending
 * in a newline and none empty; the size in decimal without leading zeros; the root hash in canonical
 * standard base64 of exactly 32 bytes. A checkpoint that can be read two ways is a checkpoint two
 * parties can disagree about, so anything else is refused.
 */
export function parseCheckpointBody(text: string): { readonly ok: true; readonly checkpoint: Checkpoint } | NoteRejection {
  const bad = (message: string): NoteRejection => ({ ok: false, reason: 'malformed', message: `not a checkpoint: ${message}` });
  if (typeof text !== 'string' || !isWellFormed(text)) return bad('the text is not valid Unicode');
  if (!text.endsWith('\n')) return bad('the last line does not end in a newline');
  if (CONTROL.test(text)) return bad('it contains a control character other than newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) return bad(`it has ${lines.length} line(s), and needs origin, tree size and root hash`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') return bad('the origin (line 1) is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
    return bad(`the tree size (line 2) "${sizeText}" is not a decimal number without leading zeros`);
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) return bad(`the tree size ${sizeText} is larger than this reader can count exactly`);
  const rootHash = decodeBase64(rootText);
  if (rootHash === undefined) return bad('the root hash (line 3) is not canonical standard base64');
  if (rootHash.length !== HASH_SIZE) return bad(`the root hash is ${rootHash.length} bytes, not ${HASH_SIZE}`);
  const empty = extensions.indexOf('');
  if (empty >= 0) return bad(`line ${empty + 4} is empty; extension lines must not be`);
  return { ok: true, checkpoint: { origin, size, rootHash, extensions } };
}

/**
 * Signs a note body with one or more keys (signed-note, "Format" and "Ed25519 signatures"): the body,
 * a blank line, then for each signer `— NAME BASE64(key hash || Ed25519 signature over the body)`.
 * The body must end in a newline and hold no control characters but newlines; throws otherwise.
 */
export function signNote(body: string, signers: NoteSigner | readonly NoteSigner[]): string {
  const list: readonly NoteSigner[] = Array.isArray(signers) ? signers : [signers as NoteSigner];
  if (list.length === 0) throw new RangeError('a note needs at least one signature');
  if (body === '' || !body.endsWith('\n')) throw new RangeError('a note body must end in a newline');
  if (!isWellFormed(body) || CONTROL.test(body)) {
    throw new RangeError('a note body must be valid Unicode without control characters other than newline');
  }
  const bytes = Buffer.from(body, 'utf8');
  const lines = list.map(({ name, privateKey }) => {
    checkKeyName(name);
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError(`the key for "${name}" is not an Ed25519 private key`);
    }
    const hash = signerKeyHash(name, privateKey);
    const signature = sign(null, bytes, privateKey);
    return `${SIGNATURE_PREFIX}${name} ${Buffer.concat([hash, signature]).toString('base64')}\n`;
  });
  return `${body}\n${lines.join('')}`;
}

/**
 * Opens a signed note (signed-note, "Format" and "Signatures"), the way Go's `note.Open` does:
 * the note must be valid UTF-8 without control characters but newline; the body runs up to the last
 * blank line; each signature line is `— NAME BASE64`. Signatures by keys not in `verifiers` (matched
 * by name and key hash) are skipped, as the spec requires; a signature by a known key that does not
 * verify rejects the whole note; at least one known key must have signed.
 *
 * Accepts bytes too, so a note read from a file or a response is checked as the bytes it was.
 * Throws a TypeError only for a bad `verifiers` list (two different keys under one name and key
 * hash, an invalid name, a key that is not Ed25519): that is configuration, not the note.
 */
export function verifyNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): VerifiedNote | NoteRejection {
  const known = verifierMap(verifiers);
  const malformed = (message: string): NoteRejection => ({ ok: false, reason: 'malformed', message: `malformed note: ${message}` });

  let text: string;
  if (typeof note === 'string') {
    if (!isWellFormed(note)) return malformed('the text is not valid Unicode');
    text = note;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      return malformed('the bytes are not valid UTF-8');
    }
  }
  if (CONTROL.test(text)) return malformed('it contains a control character other than newline');

  // The body may itself hold blank lines: the signatures start after the last one.
  const split = text.lastIndexOf('\n\n');
  if (split < 0) return malformed('there is no blank line before the signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) return malformed('the signature lines must end in a newline');

  const bodyBytes = Buffer.from(body, 'utf8');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return malformed(`it has ${lines.length} signatures; at most ${MAX_SIGNATURES} are read`);

  const verifiedBy: string[] = [];
  const seen = new Set<string>();
  const unknown: string[] = [];
  for (const [i, line] of lines.entries()) {
    const where = `signature line ${i + 1}`;
    if (!line.startsWith(SIGNATURE_PREFIX)) return malformed(`${where} does not start with an em dash and a space`);
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const encoded = space < 0 ? '' : rest.slice(space + 1);
    if (!isKeyName(name)) return malformed(`${where} has an invalid key name`);
    const raw = decodeBase64(encoded);
    // 4 bytes of key hash and at least one of signature.
    if (raw === undefined || raw.length < 5) return malformed(`${where} does not hold a base64 key hash and signature`);
    const keyHash = raw.readUInt32BE(0);
    const id = `${name}+${hex8(keyHash)}`;

    const verifier = known.get(id);
    if (verifier === undefined) {
      // An unknown key may share a name or a key hash with a known one, not both (signed-note,
      // "Signatures"): it is someone else's signature, ignored.
      unknown.push(id);
      continue;
    }
    // A known key's repeated signature adds nothing; Go drops it too.
    if (seen.has(id)) continue;
    seen.add(id);
    let valid: boolean;
    try {
      valid = verify(null, bodyBytes, verifier.publicKey, raw.subarray(4));
    } catch {
      valid = false;
    }
    if (!valid) {
      return {
        ok: false,
        reason: 'bad-signature',
        message: `the signature by ${id} does not verify: the note was changed after signing, or the signature was forged`,
      };
    }
    verifiedBy.push(name);
  }

  if (verifiedBy.length === 0) {
    const names = [...new Set(unknown)].join(', ');
    return {
      ok: false,
      reason: 'unknown-key',
      message: `no signature is by a trusted key: the note is signed by ${names}, and the trusted keys are ${[...known.keys()].join(', ') || 'none'}`,
    };
  }
  return { ok: true, body, verifiedBy };
}

/**
 * Opens a signed checkpoint: `verifyNote`, then `parseCheckpointBody` on the verified body. The body
 * is read only once a trusted key's signature covers it, as signed-note requires.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedCheckpoint | NoteRejection {
  const opened = verifyNote(note, verifiers);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointBody(opened.body);
  if (!parsed.ok) return parsed;
  return { ...opened, checkpoint: parsed.checkpoint };
}

/**
 * The key hash (key ID) of an Ed25519 key under a name, as a uint32: the first four bytes, big-endian,
 * of SHA-256(name || "\n" || 0x01 || 32-byte public key) (signed-note, "Ed25519 signatures").
 */
export function noteKeyHash(name: string, publicKey: KeyObject): number {
  checkKeyName(name);
  return keyHashBytes(name, rawPublicKey(publicKey)).readUInt32BE(0);
}

/**
 * The verifier key in Go's `note` text form, `NAME+HASH+BASE64(0x01 || public key)` with HASH as
 * eight lowercase hex digits: what `note.NewVerifier` takes, and what to publish for auditors.
 */
export function verifierKeyString(name: string, publicKey: KeyObject): string {
  checkKeyName(name);
  const raw = rawPublicKey(publicKey);
  const hash = keyHashBytes(name, raw).readUInt32BE(0);
  return `${name}+${hex8(hash)}+${Buffer.concat([Buffer.of(ED25519), raw]).toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------------

/** ASCII control characters other than newline, which signed notes must not contain. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

/** One non-empty line that a note may carry. */
function isLine(s: unknown): s is string {
  return typeof s === 'string' && s !== '' && !s.includes('\n') && !CONTROL.test(s) && isWellFormed(s);
}

/**
 * Key names (signed-note, "Format"): non-empty, no Unicode space and no '+'. White_Space is the
 * property Go's unicode.IsSpace tests, newlines included; control characters could not be written
 * into a note at all.
 */
function isKeyName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !/[\p{White_Space}+]/u.test(name) && !CONTROL.test(name) && isWellFormed(name);
}

function checkKeyName(name: string): void {
  if (!isKeyName(name)) {
    throw new TypeError(`key name ${JSON.stringify(name)} is invalid: it must be non-empty, without spaces, newlines or '+'`);
  }
}

/** JS strings may hold lone surrogates, which have no UTF-8 form: such text cannot have been signed. */
function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/**
 * Standard base64 (RFC 4648 §4) in its one canonical spelling, or undefined. Buffer.from(…, 'base64')
 * alone skips invalid characters and accepts base64url, so one note could be read two ways.
 */
function decodeBase64(s: string): Buffer | undefined {
  if (s.length === 0 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

/** The 32-byte Ed25519 public key (RFC 8032 encoding) of a KeyObject, private or public. */
function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`signed notes here use Ed25519 keys, not ${pub.asymmetricKeyType ?? 'a secret key'}`);
  }
  const x = pub.export({ format: 'jwk' }).x;
  const raw = Buffer.from(x ?? '', 'base64url');
  if (raw.length !== 32) throw new TypeError('the Ed25519 public key is not 32 bytes');
  return raw;
}

/**
 * The key hash of a signer, kept per private key and name: a server signs a checkpoint note with its
 * one key on every change, and deriving and exporting the public key each time cost more than the hash.
 */
const signerHashes = new WeakMap<KeyObject, Map<string, Buffer>>();

function signerKeyHash(name: string, privateKey: KeyObject): Buffer {
  let byName = signerHashes.get(privateKey);
  if (!byName) signerHashes.set(privateKey, (byName = new Map()));
  let hash = byName.get(name);
  if (!hash) byName.set(name, (hash = keyHashBytes(name, rawPublicKey(createPublicKey(privateKey)))));
  return hash;
}

function keyHashBytes(name: string, rawKey: Uint8Array): Buffer {
  return createHash('sha256').update(`${name}\n`).update(Buffer.of(ED25519)).update(rawKey).digest().subarray(0, 4);
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Known keys by `name+hash`; two different keys under one id would make every note ambiguous. */
function verifierMap(verifiers: readonly NoteVerifier[]): Map<string, { readonly publicKey: KeyObject }> {
  const map = new Map<string, { readonly publicKey: KeyObject; readonly der: string }>();
  for (const { name, publicKey } of verifiers) {
    checkKeyName(name);
    const raw = rawPublicKey(publicKey);
    const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
    const id = `${name}+${hex8(keyHashBytes(name, raw).readUInt32BE(0))}`;
    const der = raw.toString('base64');
    const before = map.get(id);
    if (before !== undefined && before.der !== der) {
      throw new TypeError(`two different trusted keys share the name and key hash ${id}; remove one`);
    }
    map.set(id, { publicKey: pub, der });
  }
  return map;
}
