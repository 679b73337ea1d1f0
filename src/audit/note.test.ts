import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emptyRoot, leafHash, rootFromLeafHashes } from './merkle.js';
import {
  formatCheckpointBody,
  noteKeyHash,
  openNote,
  parseCheckpointBody,
  signNote,
  verifierKeyString,
  verifyNote,
  type Checkpoint,
  type NoteFailure,
} from './note.js';

/** Builds Ed25519 KeyObjects from raw bytes: the DER prefixes of PKCS #8 and SPKI for Ed25519 (RFC 8410). */
const privateKeyFromSeed = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const publicKeyFromRaw = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });

/** Splits at the first `count` pluses only: the base64 at the end may hold '+' itself. */
function chop(text: string, count: number): string[] {
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf('+');
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...parts, rest];
}

describe("Go's golang.org/x/mod/sumdb/note test vector", () => {
  // From the package documentation and note_test.go; Ed25519 is deterministic, so our signature must
  // equal Go's byte for byte.
  const skey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
  const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const signed = `${text}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

  // PRIVATE+KEY+name+hash+base64(0x01 || 32-byte seed)
  const [priv, key, name, hash, key64] = chop(skey, 4) as [string, string, string, string, string];
  const seed = Buffer.from(key64, 'base64');
  const privateKey = privateKeyFromSeed(seed.subarray(1));
  // name+hash+base64(0x01 || 32-byte public key)
  const [vname, vhash, vkey64] = chop(vkey, 2) as [string, string, string];
  const vraw = Buffer.from(vkey64, 'base64');
  const publicKey = publicKeyFromRaw(vraw.subarray(1));

  it('decodes the Go key encodings', () => {
    expect([priv, key, name, hash]).toEqual(['PRIVATE', 'KEY', 'PeterNeumann', 'c74f20a3']);
    expect(seed[0]).toBe(0x01);
    expect(seed.length).toBe(33);
    expect([vname, vhash, vraw[0], vraw.length]).toEqual(['PeterNeumann', 'c74f20a3', 0x01, 33]);
    // The private key's public half is the published verifier key.
    expect(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
  });

  it('gives the same key hash and verifier key string', () => {
    expect(noteKeyHash('PeterNeumann', publicKey)).toBe(0xc74f20a3);
    expect(noteKeyHash('PeterNeumann', privateKey)).toBe(0xc74f20a3);
    expect(verifierKeyString('PeterNeumann', publicKey)).toBe(vkey);
  });

  it('signs to the same note, byte for byte', () => {
    expect(signNote(text, { name: 'PeterNeumann', privateKey })).toBe(signed);
  });

  it('opens the Go note', () => {
    expect(verifyNote(signed, [{ name: 'PeterNeumann', publicKey }])).toEqual({ ok: true, body: text, verifiedBy: ['PeterNeumann'] });
    expect(verifyNote(Buffer.from(signed, 'utf8'), [{ name: 'PeterNeumann', publicKey }])).toMatchObject({ ok: true, body: text });
  });

  it("opens the doubly-signed example, accepted by the one key it knows", () => {
    const doubly = `${signed}\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n`;
    expect(verifyNote(doubly, [{ name: 'PeterNeumann', publicKey }])).toEqual({ ok: true, body: text, verifiedBy: ['PeterNeumann'] });
  });

  it('is not a checkpoint, so openNote turns it down after verifying it', () => {
    const opened = openNote(signed, [{ name: 'PeterNeumann', publicKey }]);
    expect(opened).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

// ---------------------------------------------------------------------------------------------------

const log = generateKeyPairSync('ed25519');
const witness = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');

const LOG = 'tollgate.example/audit';
const logSigner = { name: LOG, privateKey: log.privateKey };
const logVerifier = { name: LOG, publicKey: log.publicKey };
const witnessSigner = { name: 'witness.example/w1', privateKey: witness.privateKey };
const witnessVerifier = { name: 'witness.example/w1', publicKey: witness.publicKey };

const root = rootFromLeafHashes(['a', 'b', 'c'].map((s) => leafHash(Buffer.from(s))));
const checkpoint: Checkpoint = { origin: LOG, size: 3, rootHash: root, extensions: [] };
// Written out rather than made with formatCheckpointBody: nothing under test runs while the file is
// collected (a mutant that breaks code run then fails the collection, which mutation testing cannot
// tell from a pass). The first test checks formatCheckpointBody gives exactly this.
const body = `${LOG}\n3\n${root.toString('base64')}\n`;

/** The reason a note was refused, or 'ok'. */
const outcome = (r: { ok: boolean; reason?: NoteFailure }): NoteFailure | 'ok' => (r.ok ? 'ok' : r.reason!);

describe('checkpoint bodies', () => {
  it('are origin, size and base64 root, one line each', () => {
    expect(formatCheckpointBody(checkpoint)).toBe(body);
  });

  it.each<[string, Checkpoint]>([
    ['three leaves', checkpoint],
    ['the empty tree', { origin: LOG, size: 0, rootHash: emptyRoot(), extensions: [] }],
    ['the largest exact size', { origin: LOG, size: Number.MAX_SAFE_INTEGER, rootHash: root, extensions: [] }],
    ['extension lines', { origin: LOG, size: 3, rootHash: root, extensions: ['— extension one', 'two: 2'] }],
    ['a non-ASCII origin', { origin: 'журнал.example/ü', size: 3, rootHash: root, extensions: [] }],
  ])('round trip: %s', (_, c) => {
    const parsed = parseCheckpointBody(formatCheckpointBody(c));
    expect(parsed).toEqual({ ok: true, checkpoint: { ...c, rootHash: Buffer.from(c.rootHash) } });
  });

  it("parses the spec's own example", () => {
    const parsed = parseCheckpointBody('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    expect(parsed).toMatchObject({ ok: true, checkpoint: { origin: 'example.com/behind-the-sofa', size: 20852163, extensions: [] } });
  });

  const b64 = root.toString('base64');
  /** 32 bytes take 43 base64 digits and '=': the last digit's 2 low bits are padding, zero when canonical. */
  const withPaddingBits = (text: string): string => {
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = ALPHABET.indexOf(text[42]!);
    expect(last & 3).toBe(0);
    const spoiled = `${text.slice(0, 42)}${ALPHABET[last | 1]}=`;
    // Same bytes for a lenient decoder: only a strict one can tell.
    expect(Buffer.from(spoiled, 'base64')).toEqual(Buffer.from(text, 'base64'));
    return spoiled;
  };
  it.each<[string, string, string]>([
    ['no final newline', `${LOG}\n3\n${b64}`, 'not a checkpoint: the last line does not end in a newline'],
    ['only two lines', `${LOG}\n3\n`, 'not a checkpoint: it has 2 line(s), and needs origin, tree size and root hash'],
    ['nothing at all', '', 'not a checkpoint: the last line does not end in a newline'],
    ['an empty origin', `\n3\n${b64}\n`, 'not a checkpoint: the origin (line 1) is empty'],
    ['a leading zero in the size', `${LOG}\n03\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "03" is not a decimal number without leading zeros'],
    ['a negative size', `${LOG}\n-3\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "-3" is not a decimal number without leading zeros'],
    ['a plus sign on the size', `${LOG}\n+3\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "+3" is not a decimal number without leading zeros'],
    ['a fractional size', `${LOG}\n3.0\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "3.0" is not a decimal number without leading zeros'],
    ['a size in exponent form', `${LOG}\n3e0\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "3e0" is not a decimal number without leading zeros'],
    ['a size in hex', `${LOG}\n0x3\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "0x3" is not a decimal number without leading zeros'],
    ['a space after the size', `${LOG}\n3 \n${b64}\n`, 'not a checkpoint: the tree size (line 2) "3 " is not a decimal number without leading zeros'],
    ['an empty size', `${LOG}\n\n${b64}\n`, 'not a checkpoint: the tree size (line 2) "" is not a decimal number without leading zeros'],
    ['a size beyond 2^53 - 1', `${LOG}\n9007199254740992\n${b64}\n`, 'not a checkpoint: the tree size 9007199254740992 is larger than this reader can count exactly'],
    ['an empty root hash', `${LOG}\n3\n\n`, 'not a checkpoint: the root hash (line 3) is not canonical standard base64'],
    ['a root hash that is not base64', `${LOG}\n3\n${'!'.repeat(44)}\n`, 'not a checkpoint: the root hash (line 3) is not canonical standard base64'],
    ['a root hash in base64url', `${LOG}\n3\n${root.toString('base64url')}\n`, 'not a checkpoint: the root hash (line 3) is not canonical standard base64'],
    ['a root hash without padding', `${LOG}\n3\n${b64.replace(/=+$/, '')}\n`, 'not a checkpoint: the root hash (line 3) is not canonical standard base64'],
    ['a root hash with non-zero padding bits', `${LOG}\n3\n${withPaddingBits(b64)}\n`, 'not a checkpoint: the root hash (line 3) is not canonical standard base64'],
    ['a root hash of 31 bytes', `${LOG}\n3\n${root.subarray(1).toString('base64')}\n`, 'not a checkpoint: the root hash is 31 bytes, not 32'],
    ['a root hash of 33 bytes', `${LOG}\n3\n${Buffer.concat([root, Buffer.of(0)]).toString('base64')}\n`, 'not a checkpoint: the root hash is 33 bytes, not 32'],
    ['an empty extension line', `${LOG}\n3\n${b64}\n\nextension\n`, 'not a checkpoint: line 4 is empty; extension lines must not be'],
    ['a blank line at the end', `${LOG}\n3\n${b64}\n\n`, 'not a checkpoint: line 4 is empty; extension lines must not be'],
    ['CRLF line endings', `${LOG}\r\n3\r\n${b64}\r\n`, 'not a checkpoint: it contains a control character other than newline'],
    ['a tab in the origin', `tollgate\t\n3\n${b64}\n`, 'not a checkpoint: it contains a control character other than newline'],
    ['a lone surrogate', `${LOG}\ud800\n3\n${b64}\n`, 'not a checkpoint: the text is not valid Unicode'],
  ])('refuse %s', (_, text, message) => {
    expect(parseCheckpointBody(text)).toEqual({ ok: false, reason: 'malformed', message });
  });

  it.each<[string, Partial<Checkpoint>, string]>([
    ['an empty origin', { origin: '' }, 'a checkpoint origin must be one non-empty line without control characters'],
    ['an origin with a newline', { origin: 'a\nb' }, 'a checkpoint origin must be one non-empty line without control characters'],
    ['a negative size', { size: -1 }, 'checkpoint size -1 is not a whole number of leaves'],
    ['a fractional size', { size: 1.5 }, 'checkpoint size 1.5 is not a whole number of leaves'],
    ['a root of 20 bytes', { rootHash: Buffer.alloc(20) }, 'a checkpoint root hash must be 32 bytes'],
    ['an empty extension line', { extensions: [''] }, 'checkpoint extension lines must be non-empty lines without control characters'],
    ['an extension with a newline', { extensions: ['a\nb'] }, 'checkpoint extension lines must be non-empty lines without control characters'],
  ])('will not format a checkpoint with %s', (_, change, message) => {
    expect(() => formatCheckpointBody({ ...checkpoint, ...change })).toThrow(new RangeError(message));
  });
});

describe('signed checkpoints', () => {
  it('round trip through sign and open', () => {
    const note = signNote(body, logSigner);
    expect(note.startsWith(`${body}\n\u2014 ${LOG} `)).toBe(true);
    const opened = openNote(note, [logVerifier]);
    expect(opened).toEqual({ ok: true, body, verifiedBy: [LOG], checkpoint: { ...checkpoint, rootHash: root } });
  });

  it('open from bytes as well as from text', () => {
    expect(outcome(openNote(Buffer.from(signNote(body, logSigner)), [logVerifier]))).toBe('ok');
  });

  it('turn down a note signed by another key under the same name: an unknown key', () => {
    const note = signNote(body, { name: LOG, privateKey: stranger.privateKey });
    const opened = openNote(note, [logVerifier]);
    expect(opened).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(opened.ok ? '' : opened.message).toContain(`${LOG}+`);
  });

  it("turn down another key's signature carrying the trusted key's hash: a bad signature", () => {
    // A forger can always copy the trusted key's name and hash; the signature itself must fail.
    const forged = signNote(body, { name: LOG, privateKey: stranger.privateKey });
    const line = forged.slice(forged.lastIndexOf('\u2014'));
    const raw = Buffer.from(line.slice(2 + LOG.length + 1, -1), 'base64');
    raw.writeUInt32BE(noteKeyHash(LOG, log.publicKey), 0);
    const note = `${body}\n\u2014 ${LOG} ${raw.toString('base64')}\n`;
    expect(outcome(openNote(note, [logVerifier]))).toBe('bad-signature');
  });

  it('turn down a body edited after signing', () => {
    const note = signNote(body, logSigner).replace(`${LOG}\n3\n`, `${LOG}\n4\n`);
    const opened = openNote(note, [logVerifier]);
    expect(opened).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(opened.ok ? '' : opened.message).toMatch(/changed after signing/);
  });

  it('turn down a note with no trusted keys given', () => {
    expect(outcome(openNote(signNote(body, logSigner), []))).toBe('unknown-key');
  });

  it('accept a note signed by a known and an unknown key, verified by the known one, in either order', () => {
    const stranger1 = { name: 'stranger.example', privateKey: stranger.privateKey };
    for (const signers of [[logSigner, stranger1], [stranger1, logSigner]]) {
      const note = signNote(body, signers);
      expect(note.split('\n\u2014 ').length).toBe(3);
      expect(openNote(note, [logVerifier])).toMatchObject({ ok: true, verifiedBy: [LOG] });
    }
  });

  it('list every known key that signed, a cosigning witness included', () => {
    const note = signNote(body, [logSigner, witnessSigner]);
    expect(openNote(note, [logVerifier, witnessVerifier])).toMatchObject({ ok: true, verifiedBy: [LOG, witnessSigner.name] });
    expect(openNote(note, [witnessVerifier])).toMatchObject({ ok: true, verifiedBy: [witnessSigner.name] });
  });

  it('turn down the whole note when any known signature fails, even beside a good one', () => {
    const good = signNote(body, logSigner);
    const bad = signNote(body.replace('\n3\n', '\n4\n'), witnessSigner);
    const note = good + bad.slice(bad.lastIndexOf('\u2014'));
    expect(outcome(openNote(note, [logVerifier]))).toBe('ok');
    expect(outcome(openNote(note, [logVerifier, witnessVerifier]))).toBe('bad-signature');
  });

  it('count a repeated signature line once', () => {
    const note = signNote(body, logSigner);
    const twice = note + note.slice(note.lastIndexOf('\u2014'));
    expect(openNote(twice, [logVerifier])).toMatchObject({ ok: true, verifiedBy: [LOG] });
  });

  it('keep blank lines inside a body: the signatures start after the last one', () => {
    const text = 'first paragraph\n\nsecond paragraph\n';
    expect(verifyNote(signNote(text, logSigner), [logVerifier])).toEqual({ ok: true, body: text, verifiedBy: [LOG] });
  });

  it('turn down a body that verifies but is not a checkpoint', () => {
    const note = signNote(`${LOG}\n03\n${root.toString('base64')}\n`, logSigner);
    const opened = openNote(note, [logVerifier]);
    expect(opened).toMatchObject({ ok: false, reason: 'malformed' });
    expect(opened.ok ? '' : opened.message).toMatch(/leading zeros/);
  });
});

describe('malformed notes', () => {
  interface Signed {
    note: string;
    sigLine: string;
    sig64: string;
  }
  // Signed inside each test (see `body` above).
  const signed = (): Signed => {
    const note = signNote(body, logSigner);
    const sigLine = note.slice(note.lastIndexOf('\u2014'));
    return { note, sigLine, sig64: sigLine.slice(2 + LOG.length + 1, -1) };
  };

  it.each<[string, (s: Signed) => string | Uint8Array]>([
    ['an empty note', () => ''],
    ['a body alone', () => body],
    ['no blank line before the signature', ({ sigLine }) => `${body}${sigLine}`],
    ['a signature line without its newline', ({ note }) => note.slice(0, -1)],
    ['a blank line and no signature', () => `${body}\n`],
    ['a hyphen instead of the em dash', ({ sig64 }) => `${body}\n- ${LOG} ${sig64}\n`],
    ['an en dash instead of the em dash', ({ sig64 }) => `${body}\n\u2013 ${LOG} ${sig64}\n`],
    ['no space after the em dash', ({ sig64 }) => `${body}\n\u2014${LOG} ${sig64}\n`],
    ['a name without a signature', () => `${body}\n\u2014 ${LOG}\n`],
    ['a name and a space without a signature', () => `${body}\n\u2014 ${LOG} \n`],
    ['a signature that is not base64', ({ sig64 }) => `${body}\n\u2014 ${LOG} ${sig64.replace(/.$/, '!')}\n`],
    ['a signature in base64url', ({ sig64 }) => `${body}\n\u2014 ${LOG} ${Buffer.from(sig64, 'base64').toString('base64url')}\n`],
    ['a signature of four bytes: a key hash and nothing signed', ({ sig64 }) => `${body}\n\u2014 ${LOG} ${Buffer.from(sig64, 'base64').subarray(0, 4).toString('base64')}\n`],
    ['a name with a plus', ({ sig64 }) => `${body}\n\u2014 ${LOG}+x ${sig64}\n`],
    ['two spaces after the name', ({ sig64 }) => `${body}\n\u2014 ${LOG}  ${sig64}\n`],
    ['CRLF line endings', ({ note }) => note.replace(/\n/g, '\r\n')],
    ['a NUL in the body', ({ note }) => note.replace('\n3\n', '\n3\u0000\n')],
    ['a lone surrogate', ({ note }) => note.replace('\n3\n', '\n3\udc00\n')],
    ['bytes that are not UTF-8', ({ note }) => Buffer.concat([Buffer.from(note), Buffer.of(0xff, 0x0a)])],
    ['101 signatures', ({ sigLine }) => `${body}\n${sigLine.repeat(101)}`],
  ])('turn down %s', (_, make) => {
    const opened = openNote(make(signed()), [logVerifier]);
    expect(opened).toMatchObject({ ok: false, reason: 'malformed' });
    expect(opened.ok ? '' : opened.message).toMatch(/^malformed note: /);
  });

  it('read up to 100 signatures', () => {
    expect(outcome(openNote(`${body}\n${signed().sigLine.repeat(100)}`, [logVerifier]))).toBe('ok');
  });
});

describe('signing and keys', () => {
  it.each(['', 'has space', 'has+plus', 'new\nline', 'tab\tname', 'nbsp\u00a0name'])('refuse the key name %j', (name) => {
    expect(() => signNote(body, { name, privateKey: log.privateKey })).toThrow(TypeError);
    expect(() => noteKeyHash(name, log.publicKey)).toThrow(TypeError);
    expect(() => verifierKeyString(name, log.publicKey)).toThrow(TypeError);
    expect(() => openNote(signNote(body, logSigner), [{ name, publicKey: log.publicKey }])).toThrow(TypeError);
  });

  it('refuse bodies that cannot be signed', () => {
    expect(() => signNote('no newline', logSigner)).toThrow(RangeError);
    expect(() => signNote('', logSigner)).toThrow(RangeError);
    expect(() => signNote('carriage\r\nreturn\n', logSigner)).toThrow(RangeError);
    expect(() => signNote(body, [])).toThrow(RangeError);
  });

  it('refuse keys that are not Ed25519, or not private for signing', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signNote(body, { name: LOG, privateKey: ec.privateKey })).toThrow(TypeError);
    expect(() => signNote(body, { name: LOG, privateKey: log.publicKey })).toThrow(TypeError);
    expect(() => noteKeyHash(LOG, ec.publicKey)).toThrow(TypeError);
    expect(() => openNote(signNote(body, logSigner), [{ name: LOG, publicKey: ec.publicKey }])).toThrow(TypeError);
  });

  it('accept the same trusted key listed twice', () => {
    // Two *different* keys under one name and key hash are refused (TypeError), but making that
    // collision takes ~2^32 key generations, so only the harmless duplicate is tested.
    expect(outcome(openNote(signNote(body, logSigner), [logVerifier, logVerifier]))).toBe('ok');
  });

  it('hash the key as signed-note says: SHA-256(name || "\\n" || 0x01 || key)[:4], shown in the verifier key', () => {
    // Recomputed from the SPKI DER, whose last 32 bytes are the raw key (the module reads the JWK).
    const raw = log.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const want = createHash('sha256').update(`${LOG}\n`).update(Buffer.of(0x01)).update(raw).digest().readUInt32BE(0);
    expect(noteKeyHash(LOG, log.publicKey)).toBe(want);
    expect(noteKeyHash(LOG, log.privateKey)).toBe(want);
    expect(verifierKeyString(LOG, log.publicKey)).toBe(`${LOG}+${want.toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.of(1), raw]).toString('base64')}`);
  });
});
