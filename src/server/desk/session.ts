/**
 * Review desk sessions without a session table: the signed-in user and an expiry in a cookie that the
 * server signs (HMAC, @fastify/cookie's signer) with a key derived from the server key. Every replica
 * holding the same home derives the same key, so any of them accepts the cookie; rotating the server
 * key signs everyone out. The cookie is HttpOnly (page script never sees it), SameSite=Lax, Secure
 * when the request came over TLS, and expires; the roster is checked again on every request, so a
 * person taken off the roster is out at their next click.
 */
import { hkdfSync, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'tg_session';

/** How the person signed in: an API token, or an OIDC identity provider. */
export type SignInMethod = 'token' | 'oidc';

export interface Session {
  readonly user: string;
  readonly via: SignInMethod;
  /** Milliseconds since 1970 after which the cookie is refused. */
  readonly expires: number;
  /**
   * The stored API token (`tok_…`) the person signed in with, checked again on every request so that
   * revoking the token ends the session at the next click; absent for an OIDC sign-in.
   */
  readonly token?: string;
}

/** Keys for the desk, each derived from the server key for one purpose (HKDF-SHA256). */
export function deskKey(serverKey: KeyObject, purpose: 'session' | 'csrf' | 'state'): Buffer {
  const ikm = serverKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', ikm, 'tollgate review desk', `tollgate desk ${purpose} v1`, 32));
}

function encode(s: Session): string {
  return Buffer.from(JSON.stringify({ u: s.user, v: s.via, e: s.expires, ...(s.token !== undefined ? { t: s.token } : {}) })).toString('base64url');
}

function decode(text: string): Session | undefined {
  try {
    const o = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { u?: unknown; v?: unknown; e?: unknown; t?: unknown };
    if (typeof o.u !== 'string' || (o.v !== 'token' && o.v !== 'oidc') || typeof o.e !== 'number') return undefined;
    if (o.t !== undefined && typeof o.t !== 'string') return undefined;
    return { user: o.u, via: o.v, expires: o.e, ...(typeof o.t === 'string' ? { token: o.t } : {}) };
  } catch {
    return undefined;
  }
}

/** Cookie attributes shared by every desk cookie. */
export function cookieOptions(req: FastifyRequest, maxAgeSeconds: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: req.protocol === 'https', signed: true, maxAge: maxAgeSeconds };
}

export function setSession(req: FastifyRequest, reply: FastifyReply, s: Session, now: Date): void {
  void reply.setCookie(SESSION_COOKIE, encode(s), cookieOptions(req, Math.max(1, Math.floor((s.expires - now.getTime()) / 1000))));
}

export function clearSession(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** The session the request's cookie proves at `now`, or undefined (none, forged, expired). */
export function readSession(req: FastifyRequest, now: Date): Session | undefined {
  const raw = req.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = req.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  const s = decode(unsigned.value);
  return s && s.expires > now.getTime() ? s : undefined;
}

/** A short-lived signed value (OIDC state and PKCE verifier, a passkey challenge) kept in its own cookie. */
export function setSealed(req: FastifyRequest, reply: FastifyReply, name: string, value: unknown, maxAgeSeconds: number, now: Date): void {
  const body = Buffer.from(JSON.stringify({ value, e: now.getTime() + maxAgeSeconds * 1000 })).toString('base64url');
  void reply.setCookie(name, body, cookieOptions(req, maxAgeSeconds));
}

export function readSealed<T>(req: FastifyRequest, name: string, now: Date): T | undefined {
  const raw = req.cookies[name];
  if (!raw) return undefined;
  const unsigned = req.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  try {
    const o = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as { value: T; e: number };
    return typeof o.e === 'number' && o.e > now.getTime() ? o.value : undefined;
  } catch {
    return undefined;
  }
}
