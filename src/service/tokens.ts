/**
 * API tokens: who a request to `tollgate serve` speaks for. A token is `tg_` and 32 random bytes
 * (base64url); it is shown once, and only its SHA-256 is stored, so a copy of the database does not
 * hand out working tokens. Creating and revoking a token are state changes like any other: each is
 * written with its audit event in one transaction (DESIGN.md rule 5). Neither the secret nor its hash
 * ever goes into the audit log or the server's log. Checking a token on a request is the server's
 * part (server/auth.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { parseDuration } from '../domain/duration.js';
import { tollgateError } from '../domain/errors.js';
import { NAME_PATTERN } from '../domain/policy-digests.js';
import type { ApiToken, StoreReader } from '../store/store.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';

export const TOKEN_PREFIX = 'tg_';
const SECRET_BYTES = 32;

/** What `token create` prints, once: the secret is not kept anywhere. */
export interface IssuedToken {
  readonly id: string;
  readonly user: string;
  readonly token: string;
  readonly expiresAt: string | null;
}

/** A token as listed: never the secret, never its hash. The same shape on both ends of the API. */
export interface TokenInfo {
  readonly id: string;
  readonly user: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

/** The SHA-256 (hex) of a token: what is stored and looked up, never the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Issues a token for `user`, lasting `expires` (`30d`, `12h`) or until revoked. The user need not be
 * in the roster yet (the roster is checked at every request), but must have a roster-shaped name.
 */
export async function createApiToken(
  deps: ServiceDeps,
  actor: string | undefined,
  user: string,
  expires?: string,
): Promise<IssuedToken> {
  if (!NAME_PATTERN.test(user)) throw tollgateError('TG_USAGE', `"${user}" is not a user name (letters, digits, dot, dash, underscore)`);
  const lifetime = expires !== undefined ? parseDuration(expires) : undefined;
  const token = TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
  const id = `tok_${randomBytes(6).toString('hex')}`;
  return change(deps, async ({ tx, now, at, vouch }) => {
    const expiresAt = lifetime !== undefined ? new Date(now.getTime() + lifetime).toISOString() : undefined;
    const record: ApiToken = { id, user, hash: hashToken(token), createdAt: at, createdBy: actor ?? 'local', ...(expiresAt ? { expiresAt } : {}) };
    await tx.insertToken(record, vouch('TokenCreated', actorOf(actor), { id, user, expiresAt: expiresAt ?? null }));
    return { id, user, token, expiresAt: expiresAt ?? null };
  });
}

/** Revokes a token by its id (not its secret); revoking a revoked token again changes nothing. */
export async function revokeApiToken(deps: ServiceDeps, actor: string | undefined, id: string): Promise<TokenInfo> {
  return change(deps, async ({ tx, at, vouch }) => {
    const before = (await tx.listTokens()).find((t) => t.id === id);
    // The store appends the event only when it revokes: revoking a revoked token records nothing.
    if (!before || !(await tx.revokeToken(id, at, vouch('TokenRevoked', actorOf(actor), { id, user: before.user })))) {
      throw tollgateError('TG_TOKEN_NOT_FOUND', `no API token has the id "${id}"`);
    }
    return tokenInfo({ ...before, revokedAt: before.revokedAt ?? at });
  });
}

/** Every API token, revoked and expired ones included, without its secret. */
export async function listApiTokens(store: StoreReader): Promise<TokenInfo[]> {
  return (await store.listTokens()).map(tokenInfo);
}

function tokenInfo(t: ApiToken): TokenInfo {
  return {
    id: t.id,
    user: t.user,
    createdAt: t.createdAt,
    createdBy: t.createdBy,
    expiresAt: t.expiresAt ?? null,
    revokedAt: t.revokedAt ?? null,
  };
}
