/**
 * The home folder (`.tollgate/`): the SQLite database, the server key and the users' private keys.
 * Private keys are written with mode 0600 and never leave this folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { tollgateError } from '../domain/errors.js';
import { generateKeyPair, loadPrivateKey } from '../domain/keys.js';

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

export function loadServerKey(home: string): KeyObject {
  const file = path.join(home, SERVER_KEY_FILE);
  if (!fs.existsSync(file)) throw tollgateError('TG_NOT_INITIALIZED', `no Tollgate home at ${home} (missing ${SERVER_KEY_FILE})`);
  return loadPrivateKey(fs.readFileSync(file, 'utf8'));
}
