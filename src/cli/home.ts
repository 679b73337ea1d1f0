/**
 * The home folder (`.tollgate/`): the SQLite database, the server key and private keys: users' own
 * in keys/, the example users' demo keys from `init` in demo-keys/. Private keys are written with mode
 * 0600 and never leave this folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { tollgateError } from '../domain/errors.js';
import { formatPublicKey, generateKeyPair, loadPrivateKey, parsePublicKey } from '../domain/keys.js';

export const SERVER_KEY_FILE = 'server.key';
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function keyDir(home: string): string {
  return path.join(home, 'keys');
}

function checkUserName(user: string): void {
  if (!USER_NAME.test(user)) throw tollgateError('TG_USAGE', `"${user}" is not a user name (letters, digits, dot, dash, underscore)`);
}

/** Writes a file that must stay private: created with mode 0600, refusing to overwrite. */
function writePrivate(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
}

export function createUserKey(home: string, user: string): { publicKey: string; file: string } {
  return createKeyPair(keyDir(home), user);
}

function createKeyPair(dir: string, user: string): { publicKey: string; file: string } {
  checkUserName(user);
  const file = path.join(dir, `${user}.key`);
  if (fs.existsSync(file)) throw tollgateError('TG_KEY_EXISTS', `${user} already has a key pair at ${file}`);
  const pair = generateKeyPair();
  writePrivate(file, pair.privateKeyPem);
  fs.writeFileSync(path.join(dir, `${user}.pub`), pair.publicKey + '\n');
  return { publicKey: pair.publicKey, file };
}

/**
 * The demo users' keys `init` makes for the example project, kept apart from real ones: every
 * example user's private key in one folder, so whoever has the folder can sign as any of them.
 */
export const DEMO_KEY_DIR = 'demo-keys';

const DEMO_README = `DEMO KEYS: for trying Tollgate on its example project only.

\`tollgate init\` made these key pairs for the example roster (alice, bob, carol, dave, ci) and put
every private key in this one folder, so that one person can walk a release through every role on
one machine. Whoever can read this folder can sign off as any of these users, and in local mode
\`--as\` is a claim, not a proof: nothing here keeps one person from acting as another.

For real use, each person creates their own key pair on their own machine
(\`tollgate keys create USER\`, kept in .tollgate/keys/) and the policy's roster names their public
key; people act through \`tollgate serve\` with their own API token or passkey. Remove this folder,
and these users from the roster, before anything real depends on the policy.
See docs/security.md.
`;

/** A demo key pair made by `init`, in DEMO_KEY_DIR with a README that says what it is. */
export function createDemoUserKey(home: string, user: string): { publicKey: string; file: string } {
  const dir = path.join(home, DEMO_KEY_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const readme = path.join(dir, 'README');
  if (!fs.existsSync(readme)) fs.writeFileSync(readme, DEMO_README);
  return createKeyPair(dir, user);
}

/** Where `user`'s private key is: their own (keys/) first, else a demo key from `init`; undefined if neither. */
export function findUserKey(home: string, user: string): { file: string; demo: boolean } | undefined {
  checkUserName(user);
  for (const [dir, demo] of [[keyDir(home), false], [path.join(home, DEMO_KEY_DIR), true]] as const) {
    const file = path.join(dir, `${user}.key`);
    if (fs.existsSync(file)) return { file, demo };
  }
  return undefined;
}

export function loadUserKey(home: string, user: string): KeyObject {
  const found = findUserKey(home, user);
  if (!found) throw tollgateError('TG_KEY_MISSING', `no private key for ${user} in ${keyDir(home)} (nor a demo key from init)`);
  return loadPrivateKey(fs.readFileSync(found.file, 'utf8'));
}

/**
 * `user`'s public key as this home holds it, from the private key or, without one, the `.pub` file
 * `keys create` wrote beside it; `demo` when it is a demo key from `init`.
 */
export function showUserKey(home: string, user: string): { publicKey: string; demo: boolean } {
  const found = findUserKey(home, user);
  if (found) return { publicKey: formatPublicKey(createPublicKey(loadPrivateKey(fs.readFileSync(found.file, 'utf8')))), demo: found.demo };
  for (const [dir, demo] of [[keyDir(home), false], [path.join(home, DEMO_KEY_DIR), true]] as const) {
    const pub = path.join(dir, `${user}.pub`);
    if (fs.existsSync(pub)) return { publicKey: formatPublicKey(parsePublicKey(fs.readFileSync(pub, 'utf8').trim())), demo };
  }
  throw tollgateError('TG_KEY_MISSING', `no key of ${user} in ${home}: create a key pair with \`tollgate keys create ${user}\``);
}

export function createServerKey(home: string): string {
  const pair = generateKeyPair();
  writePrivate(path.join(home, SERVER_KEY_FILE), pair.privateKeyPem);
  return pair.publicKey;
}

const ORIGIN_FILE = 'origin';

/**
 * The log's origin line in its checkpoints, chosen once at init and kept across key rotation:
 * `tollgate/` and a random id, so two homes' logs are never confused.
 */
export function createOrigin(home: string): string {
  const origin = `tollgate/${randomBytes(8).toString('hex')}`;
  fs.writeFileSync(path.join(home, ORIGIN_FILE), origin + '\n', { flag: 'wx' });
  return origin;
}

export function loadOrigin(home: string): string {
  const file = path.join(home, ORIGIN_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : 'tollgate/local';
}

const PREVIOUS_KEYS_DIR = 'server-keys';

/** Public keys the server used before its rotations, so their checkpoints stay verifiable. */
export function loadPreviousServerKeys(home: string): KeyObject[] {
  const dir = path.join(home, PREVIOUS_KEYS_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.pub'))
    .sort()
    .map((f) => parsePublicKey(fs.readFileSync(path.join(dir, f), 'utf8')));
}

/**
 * Replaces the server key: the new private key is written next to the old one first, `commit`
 * records the rotation (in the database), then the old public key is kept and the new key moved in.
 */
export async function rotateServerKeyFiles<T>(home: string, commit: (next: KeyObject) => Promise<T>): Promise<T> {
  const current = loadServerKey(home);
  const pair = generateKeyPair();
  const pending = path.join(home, `${SERVER_KEY_FILE}.next`);
  fs.rmSync(pending, { force: true });
  writePrivate(pending, pair.privateKeyPem);
  const result = await commit(loadPrivateKey(pair.privateKeyPem));
  const oldPublic = formatPublicKey(createPublicKey(current));
  fs.mkdirSync(path.join(home, PREVIOUS_KEYS_DIR), { recursive: true });
  fs.writeFileSync(path.join(home, PREVIOUS_KEYS_DIR, `${Date.now()}.pub`), oldPublic + '\n');
  fs.renameSync(pending, path.join(home, SERVER_KEY_FILE));
  return result;
}

export function loadServerKey(home: string): KeyObject {
  const file = path.join(home, SERVER_KEY_FILE);
  if (!fs.existsSync(file)) throw tollgateError('TG_NOT_INITIALIZED', `no Tollgate home at ${home} (missing ${SERVER_KEY_FILE})`);
  return loadPrivateKey(fs.readFileSync(file, 'utf8'));
}
