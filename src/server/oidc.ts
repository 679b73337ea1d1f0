/**
 * OIDC bearer tokens: a CI job (or any workload with an identity provider) proves who it is with a
 * short-lived JWT its provider signs, instead of a long-lived `tg_` API token stored as a secret.
 * The server trusts only the issuers its OIDC configuration (`tollgate serve --oidc FILE`) names,
 * each with the audience its tokens must carry, where its signing keys (JWKS) are, and which claim
 * names the user; the roster then decides what that user may do, as for an API token.
 *
 * The JWT and JWK work (signatures, key sets, claim checks, fetching and caching a remote JWKS) is
 * jose's: nothing of it is written by hand here. What is ours: the configuration file, the choice
 * of issuer, the claim-to-user mapping, and a message per failure that says which check failed
 * without repeating the token. Every failure is TG_TOKEN_INVALID (401), like a bad API token; only
 * a JWKS the server cannot fetch is the server's problem (TG_INTERNAL, 500), not the caller's.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import * as z from 'zod';
import { TollgateError, tollgateError, type Problem } from '../domain/errors.js';
import { withJsonSchemaForm } from '../domain/json-schema-form.js';
import { NAME_PATTERN } from '../domain/policy-digests.js';
import { formatProblems, loadYaml, validateYaml } from '../domain/yaml-source.js';

/** Signature algorithms an issuer may use: asymmetric only (a shared secret would let the server mint tokens). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

// Defaults, one table:   setting            default
//                        claim              sub (the subject names the workload)
//                        algorithms         RS256, ES256, EdDSA (what CI providers sign with)
//                        clock tolerance    30 s (clocks of CI runners and servers drift a little)
//                        JWKS fetch         5 s timeout; jose caches the set 10 min, refetches on an unknown key id
const DEFAULT_CLAIM = 'sub';
const DEFAULT_ALGORITHMS: readonly OidcAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];
const CLOCK_TOLERANCE_S = 30;
/**
 * The longest an OIDC token may be valid: its `exp` at most this far from now, and from its `iat`
 * when it has one. CI tokens live minutes; a token that claims to be good for ages (`exp: 1e20`)
 * would be a stolen credential that never dies (issue 13, finding 9).
 */
export const OIDC_MAX_LIFETIME_S = 24 * 3600;
const JWKS_TIMEOUT_MS = 5000;

/** Where an issuer's signing keys are: fetched from a URL, or read once from a file. */
export type OidcKeySource = { readonly url: string } | { readonly file?: string; readonly keys: JSONWebKeySet };

/** One trusted issuer, as loaded: defaults filled in, the JWKS file already read. */
export interface OidcIssuerConfig {
  /** The exact `iss` its tokens carry. */
  readonly issuer: string;
  /** Tokens must carry one of these in `aud`. */
  readonly audience: readonly string[];
  readonly jwks: OidcKeySource;
  /** The claim whose value names the user. */
  readonly claim: string;
  /** Claim value → roster user; without it the claim value itself is the user name. */
  readonly users?: Readonly<Record<string, string>>;
  readonly algorithms: readonly OidcAlgorithm[];
  /** Offered on the review desk's sign-in page (authorization code + PKCE) when given. */
  readonly login?: OidcLoginConfig;
}

/** How the review desk signs people in with an issuer: its OAuth client at the provider. */
export interface OidcLoginConfig {
  /** The client id registered at the provider; its ID tokens carry it as `aud`, so `audience` lists it. */
  readonly clientId: string;
  /** For a confidential client (sent as client_secret_post); a public client uses PKCE alone. */
  readonly clientSecret?: string;
  /** The button text: "Sign in with NAME" (default: the issuer's host). */
  readonly name: string;
  /** Scopes asked for (default `openid`). */
  readonly scope: string;
}

/** The OIDC configuration of `tollgate serve`: the issuers it trusts. */
export interface OidcConfig {
  /** The file it was read from, for messages. */
  readonly file?: string;
  readonly issuers: readonly OidcIssuerConfig[];
}

/** Who a verified OIDC token speaks for (the same shape as an API token's identity). */
export interface OidcIdentity {
  readonly user: string;
  /** `oidc:` + issuer + `#` + the token's `jti` (or its `sub`): names the token in logs, never its content. */
  readonly tokenId: string;
}

export interface OidcVerifier {
  /** The issuers it trusts, in configuration order. */
  readonly issuers: readonly string[];
  /** The identity a JWT proves at `now`, or TG_TOKEN_INVALID saying which check failed. */
  verify(jwt: string, now: Date): Promise<OidcIdentity>;
}

/** Options for {@link createOidcVerifier}. */
export interface OidcVerifierOptions {
  /** How long to wait for a remote JWKS (default 5000 ms). */
  readonly jwksTimeoutMs?: number;
}

// ---------------------------------------------------------------- configuration file

const NAME_RULE = 'must be a roster user name: a letter or digit, then letters, digits, ".", "_" and "-"';
const userName = z.string().regex(NAME_PATTERN, NAME_RULE);
const nonEmpty = z.string().min(1);

/** A URL scheme at the start (`https://`): anything else in `jwks` is a file path. */
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a `jwks` URL is refused, or undefined. Plain http only on this machine (tests, a local provider). */
function checkJwksUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a valid URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return `${JSON.stringify(text)} must be an https:// URL (plain http only for localhost), or a file path`;
}

const audienceList = z.array(nonEmpty).min(1);

const IssuerSchema = z
  .strictObject({
    issuer: nonEmpty.describe('The issuer, compared exactly with the token\'s `iss` (no trailing-slash guessing); each issuer may be listed once.'),
    // One audience or a list; a single string is read as a list of one, so that a missing audience
    // is reported as missing rather than as neither of two shapes.
    audience: withJsonSchemaForm(
      z
        .preprocess((v) => (typeof v === 'string' ? [v] : v), audienceList)
        .describe('The token\'s `aud` must hold one of these (a string or a list). Ask your provider for a token with this audience, so that a token minted for another service is no good here.'),
      z.union([nonEmpty, audienceList]),
    ),
    jwks: nonEmpty
      .superRefine((v, ctx) => {
        const problem = URL_LIKE.test(v) ? checkJwksUrl(v) : undefined;
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      // A URL must be https (http only for localhost); anything without a scheme is a file path.
      .meta({ pattern: String.raw`^(?![A-Za-z][A-Za-z0-9+.-]*://)|^https://|^http://(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/?#]|$)` })
      .describe('Where the issuer\'s public keys are: an https:// URL (plain http:// only for localhost), or a file holding a JSON Web Key Set ({"keys": [ … ]}), relative to this file; a file must hold public keys only.'),
    claim: nonEmpty.optional().describe('The claim whose value names the user (default sub); it must be a string.'),
    users: z
      .record(nonEmpty, userName)
      .optional()
      .describe('Maps claim values to roster users. Without it the claim value itself is the user name; with it, a value not in the map is refused.'),
    algorithms: z
      .array(z.enum(OIDC_ALGORITHMS))
      .min(1)
      .optional()
      .describe(`Signature algorithms accepted for this issuer (default [${DEFAULT_ALGORITHMS.join(', ')}]): any of ${OIDC_ALGORITHMS.join(', ')}. Shared-secret algorithms and none are never accepted.`),
    login: z
      .strictObject({
        clientId: nonEmpty.describe('The client id registered at the provider; its ID tokens carry it as aud, so audience must list it too.'),
        clientSecret: nonEmpty.optional().describe('For a confidential client (sent as client_secret_post); a public client uses PKCE alone.'),
        name: nonEmpty.optional().describe('The button text: "Sign in with NAME" (default: the issuer\'s host).'),
        scope: nonEmpty.optional().describe('The scopes asked for (default openid).'),
      })
      .optional()
      .describe('Offers "Sign in with NAME" on the review desk (authorization code flow with PKCE). Register PUBLIC_URL/login/oidc/callback as the client\'s redirect URI.'),
  })
  .describe('One trusted issuer of OIDC tokens.');

export const OidcConfigSchema = z
  .strictObject({ issuers: z.array(IssuerSchema).min(1).describe('The issuers whose tokens the server trusts.') })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.issuers.forEach((entry, i) => {
      if (seen.has(entry.issuer)) ctx.addIssue({ code: 'custom', path: ['issuers', i, 'issuer'], message: `the issuer ${JSON.stringify(entry.issuer)} is listed twice` });
      seen.add(entry.issuer);
      // The ID token of a desk sign-in is checked like any OIDC token: its audience is the client id.
      if (entry.login && !entry.audience.includes(entry.login.clientId)) {
        ctx.addIssue({ code: 'custom', path: ['issuers', i, 'login', 'clientId'], message: `the login client id ${JSON.stringify(entry.login.clientId)} must also be listed in audience (its ID tokens carry it as aud)` });
      }
    });
  })
  .meta({
    title: 'Tollgate OIDC configuration (oidc.yaml)',
    description: 'The OIDC issuers `tollgate serve` trusts (--oidc FILE, TOLLGATE_OIDC or <home>/oidc.yaml): docs/oidc.md.',
  });

/**
 * Reads an OIDC configuration (YAML or JSON) and every JWKS file it names (relative to it). A file
 * that is missing is TG_FILE_NOT_FOUND, bad YAML TG_YAML_SYNTAX, and anything else wrong TG_USAGE
 * with every problem as `file:line:col`: the server refuses to start rather than trust less or more
 * than the file says.
 */
export function loadOidcConfig(file: string): OidcConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw tollgateError('TG_FILE_NOT_FOUND', `cannot read the OIDC configuration ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const src = loadYaml(text, file);
  const validated = validateYaml(src, OidcConfigSchema);
  if (!validated.ok) throw invalidConfig(validated.problems);
  const problems: Problem[] = [];
  const issuers = validated.value.issuers.map((entry, i): OidcIssuerConfig => {
    let jwks: OidcKeySource = { url: entry.jwks };
    if (!URL_LIKE.test(entry.jwks)) {
      const jwksFile = path.resolve(path.dirname(file), entry.jwks);
      const read = readJwksFile(jwksFile);
      if (typeof read === 'string') problems.push(src.problemAt(['issuers', i, 'jwks'], `issuers[${i}].jwks: ${read}`));
      else jwks = { file: jwksFile, keys: read };
    }
    return Object.freeze({
      issuer: entry.issuer,
      audience: Object.freeze([...entry.audience]),
      jwks,
      claim: entry.claim ?? DEFAULT_CLAIM,
      ...(entry.users ? { users: Object.freeze({ ...entry.users }) } : {}),
      algorithms: Object.freeze([...(entry.algorithms ?? DEFAULT_ALGORITHMS)]),
      ...(entry.login
        ? {
            login: Object.freeze({
              clientId: entry.login.clientId,
              ...(entry.login.clientSecret !== undefined ? { clientSecret: entry.login.clientSecret } : {}),
              name: entry.login.name ?? hostOf(entry.issuer),
              scope: entry.login.scope ?? 'openid',
            }),
          }
        : {}),
    });
  });
  if (problems.length > 0) throw invalidConfig(problems);
  return Object.freeze({ file, issuers: Object.freeze(issuers) });
}

function hostOf(issuer: string): string {
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}

function invalidConfig(problems: Problem[]): TollgateError {
  return tollgateError('TG_USAGE', formatProblems(problems), {
    problems,
    hint: 'Fix the OIDC configuration (--oidc, TOLLGATE_OIDC or <home>/oidc.yaml) at the position shown; docs/oidc.md describes every field.',
  });
}

/** A JWKS file's keys, or why they cannot be used. Public keys only: a private key has no place on the server. */
function readJwksFile(file: string): JSONWebKeySet | string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `the JWKS file ${file} does not exist` : `cannot read the JWKS file ${file} (${code ?? (err as Error).message})`;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `the JWKS file ${file} is not JSON: ${(err as Error).message}`;
  }
  const keys = (data as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return `the JWKS file ${file} must hold a JSON Web Key Set: {"keys": [ … ]} with at least one key`;
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null || typeof (key as { kty?: unknown }).kty !== 'string') return `key ${i} of the JWKS file ${file} is not a JSON Web Key (no "kty")`;
    if ('d' in key || (key as { kty: string }).kty === 'oct') return `key ${i} of the JWKS file ${file} is a private or secret key: the server needs only public keys`;
  }
  try {
    createLocalJWKSet(data as JSONWebKeySet);
  } catch (err) {
    return `the JWKS file ${file} is not a valid JSON Web Key Set: ${(err as Error).message}`;
  }
  return data as JSONWebKeySet;
}

// ---------------------------------------------------------------- verification

const HINT = 'Send a fresh OIDC token (JWT) from an issuer, and for an audience, that the server\'s OIDC configuration names; docs/oidc.md says what each message means.';

function invalid(message: string): TollgateError {
  return tollgateError('TG_TOKEN_INVALID', message, { hint: HINT });
}

/** A value from the token, shown in a message: quoted and cut short, since the caller chose it. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function isoOf(seconds: unknown): string {
  // Beyond ±8.64e15 ms a Date is invalid (exp: 1e20), and toISOString would throw.
  const at = typeof seconds === 'number' ? new Date(seconds * 1000) : undefined;
  return at !== undefined && Number.isFinite(at.getTime()) ? at.toISOString() : 'an invalid time';
}

/** Raised by a remote key set that could not be fetched: the server's problem, not the token's. */
class JwksUnavailable extends Error {}

/** Errors of a key set that are about the token (no key for its `kid`/`alg`); any other is about the fetch. */
function aboutTheToken(err: unknown): boolean {
  return err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported;
}

function keySetOf(entry: OidcIssuerConfig, timeoutMs: number): JWTVerifyGetKey {
  if (!('url' in entry.jwks)) return createLocalJWKSet(entry.jwks.keys);
  const remote = createRemoteJWKSet(new URL(entry.jwks.url), { timeoutDuration: timeoutMs });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (aboutTheToken(err)) throw err;
      throw new JwksUnavailable(`${err instanceof errors.JWKSTimeout ? `no answer within ${timeoutMs} ms` : (err as Error).message}`, { cause: err });
    }
  };
}

/**
 * A verifier over a loaded configuration. Remote key sets are fetched on first use and cached by
 * jose, so create one verifier per server and keep it.
 */
export function createOidcVerifier(config: OidcConfig, opts: OidcVerifierOptions = {}): OidcVerifier {
  const timeoutMs = opts.jwksTimeoutMs ?? JWKS_TIMEOUT_MS;
  const byIssuer = new Map(config.issuers.map((entry) => [entry.issuer, { entry, keys: keySetOf(entry, timeoutMs) }]));

  async function verify(jwt: string, now: Date): Promise<OidcIdentity> {
    // Unverified, only to choose the issuer's keys and settings; nothing else is read before the signature holds.
    let unverified: JWTPayload;
    try {
      decodeProtectedHeader(jwt);
      unverified = decodeJwt(jwt);
    } catch {
      throw invalid('the OIDC token is not a well-formed JWT (header.payload.signature, base64url-encoded JSON)');
    }
    if (typeof unverified.iss !== 'string') throw invalid('the OIDC token names no issuer ("iss" claim)');
    const trusted = byIssuer.get(unverified.iss);
    if (!trusted) {
      // The trusted issuers are not listed: an unauthenticated caller need not learn them.
      throw invalid(`the OIDC token's issuer ${shown(unverified.iss)} is not one this server trusts`);
    }
    const { entry, keys } = trusted;
    const from = `the OIDC token of ${entry.issuer}`;
    let payload: JWTPayload;
    try {
      payload = await verifyWith(jwt, keys, {
        issuer: entry.issuer,
        audience: [...entry.audience],
        algorithms: [...entry.algorithms],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: now,
        // A token without an expiry would be good forever: refused.
        requiredClaims: ['exp'],
      });
    } catch (err) {
      throw refusal(err, from, entry, unverified, jwt);
    }
    const exp = payload.exp!;
    if (exp - now.getTime() / 1000 > OIDC_MAX_LIFETIME_S + CLOCK_TOLERANCE_S) {
      throw invalid(`${from} expires at ${isoOf(exp)}, more than 24 hours from now; only short-lived tokens are accepted`);
    }
    if (typeof payload.iat === 'number' && exp - payload.iat > OIDC_MAX_LIFETIME_S) {
      throw invalid(`${from} is valid for more than 24 hours (from "iat" to "exp"); only short-lived tokens are accepted`);
    }
    const value = payload[entry.claim];
    if (value === undefined) throw invalid(`${from} has no "${entry.claim}" claim, which names the user`);
    if (typeof value !== 'string') throw invalid(`${from} has a "${entry.claim}" claim that is not a string`);
    let user = value;
    if (entry.users) {
      if (!Object.hasOwn(entry.users, value)) {
        throw invalid(`${from} has ${entry.claim} ${shown(value)}, which the OIDC configuration's \`users\` does not map to a roster user`);
      }
      user = entry.users[value]!;
    } else if (!NAME_PATTERN.test(value)) {
      throw invalid(`${from} has ${entry.claim} ${shown(value)}, which is not a roster user name (letters, digits, ".", "_" and "-"); map it to one with \`users\` in the OIDC configuration`);
    }
    const id = typeof payload.jti === 'string' ? payload.jti : typeof payload.sub === 'string' ? payload.sub : value;
    return { user, tokenId: `oidc:${entry.issuer}#${id}` };
  }

  return Object.freeze({ issuers: Object.freeze([...byIssuer.keys()]), verify });
}

/**
 * jwtVerify over a key set. A set whose keys carry no `kid` can hold several that fit the token's
 * algorithm; jose then hands the candidates back, and the token is good if one of them verifies it.
 */
async function verifyWith(jwt: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(jwt, keys, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err as errors.JWKSMultipleMatchingKeys & AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(jwt, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** jose's error as our refusal: which check failed, in words, never the token itself. */
function refusal(err: unknown, from: string, entry: OidcIssuerConfig, unverified: JWTPayload, jwt: string): Error {
  if (err instanceof JwksUnavailable) {
    return tollgateError('TG_INTERNAL', `the server could not fetch the signing keys (JWKS) of ${entry.issuer}: ${err.message}`, {
      hint: 'The identity provider\'s JWKS URL did not answer as expected; try again later, and check the server\'s network and its OIDC configuration.',
    });
  }
  if (err instanceof errors.JWTExpired) return invalid(`${from} expired at ${isoOf(unverified.exp)}`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'invalid') return invalid(`${from} has a "${err.claim}" claim that is not a number of seconds since 1970`);
    switch (err.claim) {
      case 'aud': {
        const wanted = entry.audience.map((a) => shown(a)).join(' or ');
        if (unverified.aud === undefined) return invalid(`${from} names no audience ("aud" claim); it must be ${wanted}`);
        return invalid(`${from} is for the audience ${shown(unverified.aud)}, not ${wanted}`);
      }
      case 'nbf':
        return invalid(`${from} is not valid before ${isoOf(unverified.nbf)}`);
      case 'exp':
        return invalid(`${from} has no expiry ("exp" claim); only tokens that expire are accepted`);
      default:
        return invalid(`${from} failed the check of its "${err.claim}" claim (${err.reason})`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(jwt).alg;
    } catch {
      alg = undefined;
    }
    return invalid(`${from} is signed with ${shown(alg ?? 'no algorithm')}, which this server does not accept for it (accepted: ${entry.algorithms.join(', ')})`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid(`${from} has a signature that does not verify with the issuer's keys (JWKS)`);
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JOSENotSupported) {
    return invalid(`${from} names a signing key (kid, alg) that is not in the issuer's key set (JWKS)`);
  }
  if (err instanceof errors.JOSEError) return invalid(`${from} is not a valid JWT: ${err.message}`);
  // Not jose's verdict on the token (a bug, or the runtime): the app logs it and answers 500.
  return err instanceof Error ? err : new Error(String(err));
}
