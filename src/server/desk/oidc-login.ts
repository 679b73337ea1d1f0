/**
 * Signing in to the review desk with an identity provider: the OpenID Connect authorization code
 * flow with PKCE, done by openid-client (discovery, the authorization URL, the code exchange and
 * its checks of state, nonce and the ID token's issuer and audience). The ID token is then checked
 * once more by the server's own OIDC verifier (oidc.ts), which maps it to a roster user exactly as
 * it does for a bearer token on the API: one mapping, whichever way the token arrived.
 *
 * The flow's state (PKCE verifier, state, nonce, where to go after) waits in a signed, HttpOnly
 * cookie for ten minutes: no table.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { OidcConfig, OidcIssuerConfig, OidcVerifier } from '../oidc.js';
import { readSealed, setSealed } from './session.js';

const STATE_COOKIE = 'tg_oidc';
const STATE_SECONDS = 600;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface OidcLogin {
  /** The issuers offered on the sign-in page, by their index in the configuration. */
  readonly providers: readonly { readonly index: number; readonly name: string }[];
  /** The provider's authorization URL to send the browser to; remembers the flow's secrets in a cookie. */
  start(req: FastifyRequest, reply: FastifyReply, index: number, next: string, now: Date): Promise<string>;
  /** The roster user the provider's answer proves, and where to go next; throws saying what failed. */
  finish(req: FastifyRequest, now: Date): Promise<{ user: string; next: string }>;
}

interface FlowState {
  readonly i: number;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly next: string;
  readonly redirect: string;
}

export function createOidcLogin(config: OidcConfig, verifier: OidcVerifier, publicOrigin: () => string): OidcLogin {
  const entries = config.issuers.map((entry, index) => ({ entry, index })).filter((e) => e.entry.login);
  const discovered = new Map<number, Promise<client.Configuration>>();

  function configOf(index: number, entry: OidcIssuerConfig): Promise<client.Configuration> {
    let found = discovered.get(index);
    if (!found) {
      const login = entry.login!;
      const url = new URL(entry.issuer);
      // Plain http only for a provider on this machine (tests, a local provider), as for JWKS URLs.
      const insecure = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
      found = client.discovery(url, login.clientId, login.clientSecret, login.clientSecret ? undefined : client.None(), insecure ? { execute: [client.allowInsecureRequests] } : undefined);
      // A failed discovery is tried again on the next sign-in, not remembered.
      found.catch(() => discovered.delete(index));
      discovered.set(index, found);
    }
    return found;
  }

  // The callback is on the server's public origin, where its cookies (the flow's state) live.
  const redirectOf = () => `${publicOrigin()}/login/oidc/callback`;

  return {
    providers: entries.map((e) => ({ index: e.index, name: e.entry.login!.name })),
    async start(req, reply, index, next, now) {
      const found = entries.find((e) => e.index === index);
      if (!found) throw new Error(`no identity provider ${index}`);
      const cfg = await configOf(index, found.entry);
      const verifierCode = client.randomPKCECodeVerifier();
      const state: FlowState = { i: index, verifier: verifierCode, state: client.randomState(), nonce: client.randomNonce(), next, redirect: redirectOf() };
      setSealed(req, reply, STATE_COOKIE, state, STATE_SECONDS, now);
      return client
        .buildAuthorizationUrl(cfg, {
          redirect_uri: state.redirect,
          scope: found.entry.login!.scope,
          code_challenge: await client.calculatePKCECodeChallenge(verifierCode),
          code_challenge_method: 'S256',
          state: state.state,
          nonce: state.nonce,
        })
        .toString();
    },
    async finish(req, now) {
      const flow = readSealed<FlowState>(req, STATE_COOKIE, now);
      if (!flow) throw new Error('the sign-in took too long or was started elsewhere; start it again');
      const found = entries.find((e) => e.index === flow.i);
      if (!found) throw new Error('the identity provider is no longer configured');
      const cfg = await configOf(flow.i, found.entry);
      const current = new URL(flow.redirect);
      current.search = new URL(req.url, 'http://x').search;
      const tokens = await client.authorizationCodeGrant(cfg, current, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
      if (!tokens.id_token) throw new Error('the identity provider sent no ID token');
      const identity = await verifier.verify(tokens.id_token, now);
      return { user: identity.user, next: flow.next };
    },
  };
}
