/**
 * The home folder (`.tollgate/`): the SQLite database, the server key and the users' private keys.
 * Private keys are written with mode 0600 and never leave this folder.
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
  checkUserName(user);
  const file = path.join(keyDir(home), `${user}.key`);
  if (fs.existsSync(file)) throw tollgateError('TG_KEY_EXISTS', `${user} already has a key pair at ${file}`);
  const pair = generateKeyPair();
  writePrivate(file, pair.privateKeyPem);
  fs.writeFileSync(path.join(keyDir(home), `${user}.pub`), pair.publicKey + '\n');
  return { publicKey: pair.publicKey, file };
}

export function loadUserKey(home: string, user: string): KeyObject {
  checkUserName(user);
  const file = path.join(keyDir(home), `${user}.key`);
  if (!fs.existsSync(file)) throw tollgateError('TG_KEY_MISSING', `no private key for ${user} at ${file}`);
  return loadPrivateKey(fs.readFileSync(file, 'utf8'));
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
