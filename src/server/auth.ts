/**
 * Who a request to `tollgate serve` speaks for: the bearer token of its `Authorization` header, an
 * API token (`tg_…`, issued by service/tokens.ts and stored only as a hash) or an OIDC token
 * (oidc.ts). Both kinds are checked here, so a request's identity has one way in whichever kind of
 * token proves it.
 */
import { tollgateError } from '../domain/errors.js';
import { hashToken, TOKEN_PREFIX } from '../service/tokens.js';
import type { StoreReader } from '../store/store.js';
import type { OidcVerifier } from './oidc.js';

/** Who an authenticated request speaks for. */
export interface TokenIdentity {
  readonly user: string;
  readonly tokenId: string;
  /** A stored API token's expiry, when it has one (OIDC tokens carry none here). */
  readonly expiresAt?: string;
}

/** A compact JWT: three base64url parts (the signature empty for `alg: none`, which the verifier then refuses). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The identity an `Authorization` header proves, or TG_TOKEN_INVALID. Every failure has the same code
 * (a client cannot tell an unknown token from a revoked one by the code) and a message that says
 * which, without repeating the token. A bearer value shaped like a JWT, not a `tg_` token, is an
 * OIDC token: `oidc` verifies it (see oidc.ts), and a server without one says so.
 */
export async function authenticate(store: Pick<StoreReader, 'findTokenByHash'>, authorization: string | undefined, now: Date, oidc?: OidcVerifier): Promise<TokenIdentity> {
  if (authorization === undefined || authorization === '') {
    throw tollgateError('TG_TOKEN_INVALID', 'this request needs an API token: send `Authorization: Bearer <token>`');
  }
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  if (!match) throw tollgateError('TG_TOKEN_INVALID', 'the Authorization header must be `Bearer <token>`');
  const secret = match[1]!;
  if (!secret.startsWith(TOKEN_PREFIX) && JWT_SHAPE.test(secret)) {
    if (!oidc) {
      throw tollgateError('TG_TOKEN_INVALID', 'this server accepts no OIDC tokens (no --oidc configuration)', {
        hint: 'Send an API token from `tollgate token create USER`, or ask the operator to start the server with `--oidc FILE` (docs/oidc.md).',
      });
    }
    return oidc.verify(secret, now);
  }
  const token = secret.startsWith(TOKEN_PREFIX) ? await store.findTokenByHash(hashToken(secret)) : undefined;
  if (!token) throw tollgateError('TG_TOKEN_INVALID', 'the API token is not known to this server');
  if (token.revokedAt !== undefined) throw tollgateError('TG_TOKEN_INVALID', `the API token ${token.id} was revoked at ${token.revokedAt}`);
  if (token.expiresAt !== undefined && Date.parse(token.expiresAt) <= now.getTime()) {
    throw tollgateError('TG_TOKEN_INVALID', `the API token ${token.id} expired at ${token.expiresAt}`);
  }
  return { user: token.user, tokenId: token.id, ...(token.expiresAt !== undefined ? { expiresAt: token.expiresAt } : {}) };
}
