/**
 * OIDC bearer tokens: the verifier against real keys and real JWTs (jose signs, nothing is mocked),
 * its key sets from a file and over real HTTP, the configuration file's errors, and the same tokens
 * through the app, where the roster decides what their user may do exactly as for an API token.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TollgateError } from '../src/domain/errors.js';
import { createOidcVerifier, loadOidcConfig, type OidcConfig, type OidcIssuerConfig } from '../src/server/oidc.js';
import { CASES as cases, CI, MAIN, VALID as valid } from './fixtures/oidc-cases.js';
import {
  buildTemplate,
  createTestIssuer,
  OIDC_AUDIENCE,
  OIDC_CI_SUBJECT,
  OIDC_ISSUER,
  OIDC_OUTSIDER_SUBJECT,
  passingResults,
  serve,
  V1,
  type Template,
  type TestIssuer,
} from './server-fixture.js';

// A fixed clock: every token below is signed relative to it, and the verifier is asked at it.
const NOW = new Date('2030-01-01T12:00:00.000Z');
const SECONDS = Math.floor(NOW.getTime() / 1000);

let dir: string;
let ci: TestIssuer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-oidc-'));
  ci = await createTestIssuer(CI);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function issuerConfig(over: Partial<OidcIssuerConfig> = {}): OidcIssuerConfig {
  return { issuer: CI, audience: [OIDC_AUDIENCE], jwks: { keys: ci.jwks }, claim: 'sub', users: { [MAIN]: 'ci' }, algorithms: ['RS256', 'ES256', 'EdDSA'], ...over };
}

function configOf(...issuers: OidcIssuerConfig[]): OidcConfig {
  return { issuers: issuers.length > 0 ? issuers : [issuerConfig()] };
}

/** The TG_TOKEN_INVALID a token is refused with; its message must not carry the token. */
async function refusal(config: OidcConfig, jwt: string, now = NOW): Promise<string> {
  const err = await createOidcVerifier(config)
    .verify(jwt, now)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(TollgateError);
  const e = err as TollgateError;
  expect(e.code).toBe('TG_TOKEN_INVALID');
  expect(e.status).toBe(401);
  expect(e.message).not.toContain(jwt);
  expect(e.message).not.toContain(jwt.split('.')[2] || jwt.split('.')[1]);
  expect(e.hint).toContain('docs/oidc.md');
  return e.message;
}

describe('the OIDC verifier', () => {
  it('names the user by the `users` map, and the token by issuer and jti', async () => {
    const jwt = await ci.sign({ sub: MAIN, jti: 'run-42' }, NOW);
    expect(await createOidcVerifier(configOf()).verify(jwt, NOW)).toEqual({ user: 'ci', tokenId: `oidc:${CI}#run-42` });
  });

  it('takes the claim value itself as the user without a map, and names the token by sub without a jti', async () => {
    const verifier = createOidcVerifier(configOf(issuerConfig({ users: undefined })));
    expect(await verifier.verify(await ci.sign({ sub: 'ci' }, NOW), NOW)).toEqual({ user: 'ci', tokenId: `oidc:${CI}#ci` });
  });

  it('reads the user from another claim, and accepts any of several audiences', async () => {
    const verifier = createOidcVerifier(configOf(issuerConfig({ claim: 'actor', users: undefined, audience: ['other', OIDC_AUDIENCE] })));
    const jwt = await ci.sign({ sub: MAIN, actor: 'dave', aud: ['x', OIDC_AUDIENCE] }, NOW);
    expect((await verifier.verify(jwt, NOW)).user).toBe('dave');
  });

  it('picks the issuer by the token', async () => {
    const other = await createTestIssuer('https://idp.example', { alg: 'RS256' });
    const config = configOf(issuerConfig(), issuerConfig({ issuer: other.issuer, jwks: { keys: other.jwks }, users: undefined }));
    const verifier = createOidcVerifier(config);
    expect(verifier.issuers).toEqual([CI, other.issuer]);
    expect((await verifier.verify(await other.sign({ sub: 'bob' }, NOW), NOW)).user).toBe('bob');
    expect((await verifier.verify(await ci.sign({ sub: MAIN }, NOW), NOW)).user).toBe('ci');
  });

  it('accepts EdDSA keys', async () => {
    const ed = await createTestIssuer(CI, { alg: 'EdDSA' });
    const verifier = createOidcVerifier(configOf(issuerConfig({ jwks: { keys: ed.jwks } })));
    expect((await verifier.verify(await ed.sign({ sub: MAIN }, NOW), NOW)).user).toBe('ci');
  });

  it('tries every key of a set without key ids', async () => {
    const { exportJWK, generateKeyPair } = await import('jose');
    const pairs = [await generateKeyPair('ES256'), await generateKeyPair('ES256')];
    const keys = { keys: await Promise.all(pairs.map(async (p) => ({ ...(await exportJWK(p.publicKey)), alg: 'ES256' }))) };
    const verifier = createOidcVerifier(configOf(issuerConfig({ jwks: { keys } })));
    const sign = (key: CryptoKey) => new SignJWT({ iss: CI, aud: OIDC_AUDIENCE, sub: MAIN, exp: SECONDS + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(key);
    for (const pair of pairs) expect((await verifier.verify(await sign(pair.privateKey), NOW)).user).toBe('ci');
    const stranger = await generateKeyPair('ES256');
    expect(await refusal(configOf(issuerConfig({ jwks: { keys } })), await sign(stranger.privateKey))).toMatch(/signature that does not verify/);
  });

  it('allows 30 seconds of clock skew, and no more', async () => {
    const justExpired = await ci.sign({ sub: MAIN, exp: SECONDS - 20 }, NOW);
    expect((await createOidcVerifier(configOf()).verify(justExpired, NOW)).user).toBe('ci');
    expect(await refusal(configOf(), await ci.sign({ sub: MAIN, exp: SECONDS - 40 }, NOW))).toContain('expired');
  });

  it('refuses a token valid for more than 24 hours: exp 1e20, or exp - iat over a day (issue 13, finding 9)', async () => {
    expect(await refusal(configOf(), await ci.sign({ sub: MAIN, exp: 1e20 }, NOW))).toMatch(/expires at an invalid time, more than 24 hours from now/);
    expect(await refusal(configOf(), await ci.sign({ sub: MAIN, exp: SECONDS + 25 * 3600 }, NOW))).toMatch(/more than 24 hours from now; only short-lived tokens are accepted$/);
    expect(await refusal(configOf(), await ci.sign({ sub: MAIN, iat: SECONDS - 3600, exp: SECONDS + 24 * 3600 }, NOW))).toMatch(/is valid for more than 24 hours \(from "iat" to "exp"\)/);
    // A day exactly is fine.
    expect((await createOidcVerifier(configOf()).verify(await ci.sign({ sub: MAIN, iat: SECONDS, exp: SECONDS + 24 * 3600 }, NOW), NOW)).user).toBe('ci');
  });

  // Each failure: the token, and what its message must say.
  const failures: { name: string; token: () => Promise<string>; says: RegExp; config?: () => OidcConfig }[] = [
    { name: 'an unknown issuer', token: () => ci.sign({ sub: MAIN, iss: 'https://evil.example' }, NOW), says: /^the OIDC token's issuer "https:\/\/evil\.example" is not one this server trusts$/ },
    { name: 'no issuer', token: () => ci.sign({ sub: MAIN, iss: undefined }, NOW), says: /names no issuer/ },
    { name: 'another audience', token: () => ci.sign({ sub: MAIN, aud: 'someone-else' }, NOW), says: /is for the audience "someone-else", not "tollgate"/ },
    { name: 'no audience', token: () => ci.sign({ sub: MAIN, aud: undefined }, NOW), says: /names no audience \("aud" claim\); it must be "tollgate"/ },
    { name: 'an expired token', token: () => ci.sign({ sub: MAIN, exp: SECONDS - 3600 }, NOW), says: /of https:\/\/token\.actions\.example expired at 2030-01-01T11:00:00\.000Z/ },
    { name: 'a token not valid yet', token: () => ci.sign({ sub: MAIN, nbf: SECONDS + 600 }, NOW), says: /is not valid before 2030-01-01T12:10:00\.000Z/ },
    { name: 'a token without expiry', token: () => ci.sign({ sub: MAIN, exp: undefined }, NOW), says: /has no expiry/ },
    { name: 'an expiry that is not a time', token: () => ci.sign({ sub: MAIN, exp: 'tomorrow' as unknown as number }, NOW), says: /"exp" claim that is not a number/ },
    {
      name: 'a signature by another key with the same key id',
      token: async () => (await createTestIssuer(CI, { kid: ci.kid })).sign({ sub: MAIN }, NOW),
      says: /signature that does not verify with the issuer's keys/,
    },
    { name: 'a key id the JWKS does not hold', token: async () => (await createTestIssuer(CI)).sign({ sub: MAIN }, NOW), says: /names a signing key \(kid, alg\) that is not in the issuer's key set/ },
    { name: 'a tampered payload', token: async () => tamper(await ci.sign({ sub: 'someone' }, NOW), { sub: MAIN }), says: /signature that does not verify/ },
    { name: 'alg none', token: async () => new UnsecuredJWT({ iss: CI, aud: OIDC_AUDIENCE, sub: MAIN, exp: SECONDS + 60 }).encode(), says: /is signed with "none", which this server does not accept for it \(accepted: RS256, ES256, EdDSA\)/ },
    {
      name: 'HS256 (a shared secret)',
      token: () => new SignJWT({ iss: CI, aud: OIDC_AUDIENCE, sub: MAIN, exp: SECONDS + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32).fill(7)),
      says: /is signed with "HS256", which this server does not accept/,
    },
    {
      name: 'an algorithm the issuer is not configured for',
      token: () => ci.sign({ sub: MAIN }, NOW),
      config: () => configOf(issuerConfig({ algorithms: ['RS256'] })),
      says: /is signed with "ES256", which this server does not accept for it \(accepted: RS256\)/,
    },
    { name: 'a missing claim', token: () => ci.sign({ sub: MAIN }, NOW), config: () => configOf(issuerConfig({ claim: 'actor' })), says: /has no "actor" claim, which names the user/ },
    { name: 'a claim that is not a string', token: () => ci.sign({ sub: MAIN, actor: 7 }, NOW), config: () => configOf(issuerConfig({ claim: 'actor' })), says: /"actor" claim that is not a string/ },
    {
      name: 'a claim value the map does not name',
      token: () => ci.sign({ sub: 'repo:acme/fraud:ref:refs/heads/feature' }, NOW),
      says: /has sub "repo:acme\/fraud:ref:refs\/heads\/feature", which the OIDC configuration's `users` does not map to a roster user/,
    },
    {
      name: 'a map key inherited from Object.prototype',
      token: () => ci.sign({ sub: '__proto__' }, NOW),
      says: /does not map to a roster user/,
    },
    {
      name: 'a claim value that is not a user name',
      token: () => ci.sign({ sub: MAIN }, NOW),
      config: () => configOf(issuerConfig({ users: undefined })),
      says: /has sub "repo:acme\/fraud:ref:refs\/heads\/main", which is not a roster user name/,
    },
    { name: 'not a JWT at all', token: async () => 'abc.def.ghi', says: /is not a well-formed JWT/ },
  ];

  it.each(failures)('refuses $name, saying which', async ({ token, says, config }) => {
    expect(await refusal(config?.() ?? configOf(), await token())).toMatch(says);
  });
});

/** The token with its payload changed and its signature kept. */
function tamper(jwt: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = jwt.split('.') as [string, string, string];
  const changed = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...claims };
  return `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
}

describe('a JWKS served over HTTP', () => {
  let server: http.Server;
  let requests = 0;
  let answer: 'jwks' | 'error' | 'silence' = 'jwks';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests++;
      if (answer === 'silence') return; // never answers: the verifier's timeout must end the wait
      if (answer === 'error') return void res.writeHead(502).end('bad gateway');
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(ci.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const url = (p = '/.well-known/jwks') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${p}`;

  it('fetches the key set once and verifies tokens with it', async () => {
    answer = 'jwks';
    const before = requests;
    const verifier = createOidcVerifier(configOf(issuerConfig({ jwks: { url: url() } })));
    expect((await verifier.verify(await ci.sign({ sub: MAIN }, NOW), NOW)).user).toBe('ci');
    expect((await verifier.verify(await ci.sign({ sub: MAIN, jti: '2' }, NOW), NOW)).user).toBe('ci');
    expect(requests - before).toBe(1);
    expect(await refusal(configOf(issuerConfig({ jwks: { url: url() } })), await ci.sign({ sub: MAIN, aud: 'x' }, NOW))).toContain('audience');
  });

  it('loads a configuration whose jwks is a URL', async () => {
    answer = 'jwks';
    const file = path.join(dir, 'remote.yaml');
    fs.writeFileSync(file, `issuers:\n  - issuer: ${CI}\n    audience: [tollgate]\n    jwks: ${url()}\n    users: { "${MAIN}": ci }\n`);
    const config = loadOidcConfig(file);
    expect(config.issuers[0]!.jwks).toEqual({ url: url() });
    expect((await createOidcVerifier(config).verify(await ci.sign({ sub: MAIN }, NOW), NOW)).user).toBe('ci');
  });

  it('answers 500 (the server\'s problem, not the token\'s) when the JWKS cannot be fetched', async () => {
    answer = 'error';
    const err = await createOidcVerifier(configOf(issuerConfig({ jwks: { url: url('/broken') } })))
      .verify(await ci.sign({ sub: MAIN }, NOW), NOW)
      .catch((e: unknown) => e as TollgateError);
    expect(err).toMatchObject({ code: 'TG_INTERNAL', status: 500 });
    expect((err as TollgateError).message).toContain(`could not fetch the signing keys (JWKS) of ${CI}`);
  });

  it('gives up on a JWKS that does not answer in time', async () => {
    answer = 'silence';
    const verifier = createOidcVerifier(configOf(issuerConfig({ jwks: { url: url('/slow') } })), { jwksTimeoutMs: 200 });
    const started = Date.now();
    const err = await verifier.verify(await ci.sign({ sub: MAIN }, NOW), NOW).catch((e: unknown) => e as TollgateError);
    expect(err).toMatchObject({ code: 'TG_INTERNAL' });
    expect((err as TollgateError).message).toContain('no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the OIDC configuration file', () => {
  let n = 0;
  /** Writes `text` as a configuration (and a JWKS file beside it) and loads it. */
  function load(text: string, ext = 'yaml'): OidcConfig {
    const sub = path.join(dir, `c${++n}`);
    fs.mkdirSync(path.join(sub, 'keys'), { recursive: true });
    fs.writeFileSync(path.join(sub, 'keys', 'ci.json'), JSON.stringify(ci.jwks));
    const file = path.join(sub, `oidc.${ext}`);
    fs.writeFileSync(file, text);
    return loadOidcConfig(file);
  }

  function loadError(text: string): TollgateError {
    try {
      load(text);
    } catch (err) {
      expect(err).toBeInstanceOf(TollgateError);
      return err as TollgateError;
    }
    throw new Error('the configuration loaded');
  }


  it('reads a JWKS file relative to itself, and fills in the defaults', async () => {
    const config = load([...valid, '    users:', `      "${MAIN}": ci`].join('\n'));
    expect(config.issuers[0]).toMatchObject({ issuer: CI, audience: ['tollgate'], claim: 'sub', algorithms: ['RS256', 'ES256', 'EdDSA'], users: { [MAIN]: 'ci' } });
    expect(config.issuers[0]!.jwks).toMatchObject({ file: expect.stringMatching(/keys\/ci\.json$/), keys: ci.jwks });
    expect(Object.isFrozen(config)).toBe(true);
    expect((await createOidcVerifier(config).verify(await ci.sign({ sub: MAIN }, NOW), NOW)).user).toBe('ci');
  });

  it('reads JSON too', () => {
    const config = load(JSON.stringify({ issuers: [{ issuer: CI, audience: ['a', 'b'], jwks: 'keys/ci.json', claim: 'actor', algorithms: ['ES256'] }] }), 'json');
    expect(config.issuers[0]).toMatchObject({ audience: ['a', 'b'], claim: 'actor', algorithms: ['ES256'] });
    expect(config.issuers[0]!.users).toBeUndefined();
  });

  it.each(cases)('refuses $name, naming the file and the place', ({ text, says, code }) => {
    const err = loadError(text.join('\n'));
    expect(err.code).toBe(code ?? 'TG_USAGE');
    expect(err.exit).toBe(2);
    expect(err.message).toMatch(says);
  });

  it('refuses a JWKS file that is not a key set, or holds a private key', async () => {
    const sub = path.join(dir, 'bad-jwks');
    fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, 'oidc.yaml');
    fs.writeFileSync(file, [...valid.slice(0, 3), '    jwks: jwks.json'].join('\n'));
    const { exportJWK, generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const bad: [string, RegExp][] = [
      ['not json', /is not JSON/],
      ['{"keys": []}', /must hold a JSON Web Key Set: \{"keys": \[ … \]\} with at least one key/],
      [JSON.stringify({ keys: [await exportJWK(privateKey)] }), /key 0 of the JWKS file .* is a private or secret key: the server needs only public keys/],
      [JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), /is a private or secret key/],
    ];
    for (const [content, says] of bad) {
      fs.writeFileSync(path.join(sub, 'jwks.json'), content);
      expect(() => loadOidcConfig(file)).toThrow(says);
    }
  });

  it('says so when the configuration file itself is missing', () => {
    const missing = path.join(dir, 'nope.yaml');
    expect(() => loadOidcConfig(missing)).toThrow(expect.objectContaining({ code: 'TG_FILE_NOT_FOUND', message: expect.stringContaining(missing) }));
  });
});

describe('OIDC tokens through the app', () => {
  let template: Template;

  beforeAll(async () => {
    template = await buildTemplate();
  });

  afterAll(() => {
    fs.rmSync(template.dir, { recursive: true, force: true });
  });

  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  it('lets a CI job mapped to ci read the policy and record validations, as ci\'s API token does', async () => {
    const s = await serve(template);
    try {
      const jwt = await template.oidcIssuer.sign({ sub: OIDC_CI_SUBJECT, jti: 'run-7' });
      const policy = await s.app.inject({ method: 'GET', url: '/api/policy', headers: bearer(jwt) });
      expect(policy.statusCode, policy.body).toBe(200);
      const ref = encodeURIComponent(V1);
      const plan = await s.app.inject({ method: 'GET', url: `/api/releases/${ref}/validation-plan?stage=staging`, headers: bearer(jwt) });
      expect(plan.statusCode, plan.body).toBe(200);
      const results = await passingResults(s.deps, V1, 'staging');
      const recorded = await s.app.inject({ method: 'POST', url: `/api/releases/${ref}/validations`, headers: bearer(jwt), payload: { results } });
      expect(recorded.statusCode, recorded.body).toBe(201);
      // Recorded as ci, the roster user, like any other of ci's changes.
      const last = (await s.deps.store.auditEvents()).at(-1)!;
      expect(last.actor).toBe('user:ci');
      expect(JSON.stringify(await s.deps.store.auditEvents())).not.toContain(jwt);
      // The API token of ci works alongside, with the same answer.
      const byToken = await s.app.inject({ method: 'GET', url: '/api/policy', headers: { authorization: template.headers.validator! } });
      expect(byToken.statusCode).toBe(200);
      expect(byToken.json()).toEqual(policy.json());
    } finally {
      await s.close();
    }
  });

  it('refuses a roster outsider (403), an expired token and another audience (401), saying which', async () => {
    const s = await serve(template);
    try {
      const get = async (jwt: string) => {
        const res = await s.app.inject({ method: 'GET', url: '/api/policy', headers: bearer(jwt) });
        const error = res.json().error as { code: string; message: string };
        expect(error.message).not.toContain(jwt);
        return [res.statusCode, error.code, error.message] as const;
      };
      const outsider = await get(await template.oidcIssuer.sign({ sub: OIDC_OUTSIDER_SUBJECT }));
      expect(outsider.slice(0, 2)).toEqual([403, 'TG_USER_UNKNOWN']);
      expect(outsider[2]).toContain('"mallory" is not in the roster');
      const expired = await get(await template.oidcIssuer.sign({ sub: OIDC_CI_SUBJECT }, new Date(Date.now() - 3600_000)));
      expect(expired.slice(0, 2)).toEqual([401, 'TG_TOKEN_INVALID']);
      expect(expired[2]).toMatch(new RegExp(`^the OIDC token of ${OIDC_ISSUER} expired at `));
      const audience = await get(await template.oidcIssuer.sign({ sub: OIDC_CI_SUBJECT, aud: 'grafana' }));
      expect(audience.slice(0, 2)).toEqual([401, 'TG_TOKEN_INVALID']);
      expect(audience[2]).toContain('is for the audience "grafana", not "tollgate"');
    } finally {
      await s.close();
    }
  });

  it('says that a server without OIDC configuration accepts no OIDC tokens, and still takes API tokens', async () => {
    const s = await serve(template, { oidc: undefined });
    try {
      const jwt = await template.oidcIssuer.sign({ sub: OIDC_CI_SUBJECT });
      const res = await s.app.inject({ method: 'GET', url: '/api/policy', headers: bearer(jwt) });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatchObject({ code: 'TG_TOKEN_INVALID', message: 'this server accepts no OIDC tokens (no --oidc configuration)' });
      expect((await s.app.inject({ method: 'GET', url: '/api/policy', headers: { authorization: template.headers.validator! } })).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('keeps the API token messages for tg_ tokens and other bearer values', async () => {
    const s = await serve(template);
    try {
      for (const value of ['tg_unknown', 'not-a-jwt', 'a.b']) {
        const res = await s.app.inject({ method: 'GET', url: '/api/policy', headers: bearer(value) });
        expect(res.json().error).toMatchObject({ code: 'TG_TOKEN_INVALID', message: 'the API token is not known to this server' });
      }
    } finally {
      await s.close();
    }
  });

  it('never writes an OIDC token to the server log', async () => {
    const { Writable } = await import('node:stream');
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const s = await serve(template, { logger: { level: 'trace', stream } });
    try {
      const good = await template.oidcIssuer.sign({ sub: OIDC_CI_SUBJECT });
      const bad = await template.oidcIssuer.sign({ sub: OIDC_CI_SUBJECT, aud: 'x' });
      for (const jwt of [good, bad]) await s.app.inject({ method: 'GET', url: '/api/policy', headers: bearer(jwt) });
      expect(lines.length).toBeGreaterThan(0);
      for (const jwt of [good, bad]) expect(lines.join('')).not.toContain(jwt.split('.')[2]);
    } finally {
      await s.close();
    }
  });
});
