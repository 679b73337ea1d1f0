/**
 * A server fixture for the API tests: a template database (policy, releases, evidence, promotions,
 * tokens of every kind) built once, and copied for each test that changes state, so every request
 * meets the same known state. OIDC tokens come from a test identity provider whose keys are in a
 * JWKS file next to the template, so no test of the table goes to the network.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair as generateJoseKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from 'jose';
import { createLocalClient } from '../src/client/local-client.js';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import { signSignoff } from '../src/domain/signoff.js';
import { createApp, type ServerConfig } from '../src/server/app.js';
import { createOidcVerifier, loadOidcConfig, type OidcConfig } from '../src/server/oidc.js';
import { createApiToken, revokeApiToken } from '../src/service/tokens.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { createWebhook } from '../src/service/webhooks.js';
import { relyingPartyOf } from '../src/service/passkeys.js';
import { createPasskeyUseCases } from '../src/service/use-cases.js';
import { createSoftAuthenticator } from './helpers/soft-authenticator.js';
import type { NewValidationResult } from '../src/service/validate.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { KEYS, POLICY, SUBJECT, manifest, type SuiteUser } from './client-suite.js';

export const V1 = `${SUBJECT}@1.0.0`;
export const V2 = `${SUBJECT}@2.0.0`;

/**
 * Who calls: no token, broken tokens, a user outside the roster, one user per role, and OIDC tokens
 * of the test issuer: expired, for another audience, and a CI job's mapped to the roster's `ci`.
 */
export const IDENTITIES = [
  'none',
  'malformed',
  'unknown',
  'expired',
  'revoked',
  'outsider',
  'admin',
  'owner',
  'ml-engineer',
  'security',
  'release-manager',
  'validator',
  'oidc-expired',
  'oidc-wrong-audience',
  'oidc-validator',
] as const;
export type Identity = (typeof IDENTITIES)[number];

/** The roster user behind each identity that has one (owner: alice, who owns the releases). */
export const USER_OF: Partial<Record<Identity, SuiteUser | 'mallory'>> = {
  outsider: 'mallory',
  admin: 'root',
  owner: 'alice',
  'ml-engineer': 'bob',
  security: 'carol',
  'release-manager': 'dave',
  validator: 'ci',
};

/** The test identity provider's issuer, the audience the server wants, and the CI job's subject. */
export const OIDC_ISSUER = 'https://ci.tollgate.test';
export const OIDC_AUDIENCE = 'tollgate';
export const OIDC_CI_SUBJECT = 'repo:acme/fraud-detector:ref:refs/heads/main';
/** A subject the configuration maps to mallory, who is not in the roster. */
export const OIDC_OUTSIDER_SUBJECT = 'repo:acme/fraud-detector:ref:refs/heads/experiment';

/** An identity provider for tests: a key pair, its public half as a JWKS, and a signer. */
export interface TestIssuer {
  readonly issuer: string;
  readonly alg: 'ES256' | 'RS256' | 'EdDSA';
  readonly kid: string;
  readonly jwks: JSONWebKeySet;
  /**
   * A JWT of this issuer: `iss`, `aud` (OIDC_AUDIENCE), `iat` and `exp` (10 minutes) from `now`,
   * overridden by `claims` (`{ exp: undefined }` leaves `exp` out).
   */
  sign(claims?: JWTPayload, now?: Date): Promise<string>;
}

export async function createTestIssuer(issuer: string, opts: { alg?: TestIssuer['alg']; kid?: string } = {}): Promise<TestIssuer> {
  const alg = opts.alg ?? 'ES256';
  const kid = opts.kid ?? `key-${randomBytes(4).toString('hex')}`;
  const { publicKey, privateKey } = await generateJoseKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    issuer,
    alg,
    kid,
    jwks: { keys: [jwk] },
    sign: (claims = {}, now = new Date()) => signWith(privateKey, alg, kid, { iss: issuer, aud: OIDC_AUDIENCE, ...times(now, 600), ...claims }),
  };
}

function times(now: Date, lifetimeS: number): { iat: number; exp: number } {
  const iat = Math.floor(now.getTime() / 1000);
  return { iat, exp: iat + lifetimeS };
}

function signWith(key: CryptoKey, alg: string, kid: string, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
}

export interface Template {
  readonly file: string;
  readonly serverKeyPem: string;
  /** The Authorization header of each identity (none: absent). */
  readonly headers: Readonly<Record<Identity, string | undefined>>;
  /** A spare token id for DELETE /api/tokens/:id. */
  readonly spareTokenId: string;
  /** A webhook (with one delivery in its log) for DELETE /api/webhooks/:id and its deliveries. */
  readonly spareWebhookId: string;
  /** One of that webhook's deliveries, for its redelivery. */
  readonly spareDeliveryId: string;
  /** A passkey of carol's, for DELETE /api/passkeys/:id. */
  readonly sparePasskeyId: string;
  readonly dir: string;
  /** The test identity provider `serve` trusts, and its configuration as loaded from `<dir>/oidc.yaml`. */
  readonly oidcIssuer: TestIssuer;
  readonly oidc: OidcConfig;
}

export interface Served {
  readonly app: FastifyInstance;
  readonly deps: ServiceDeps;
  /** The copy's SQLite file: open it again to write as another process would. */
  readonly file: string;
  close(): Promise<void>;
}

function depsOver(store: ServiceDeps['store'], serverKeyPem: string): ServiceDeps {
  // Webhooks here point at example.com hosts the sandbox cannot resolve (the guard has its own tests).
  return { store, serverKey: loadPrivateKey(serverKeyPem), origin: 'tollgate/api-test', now: () => new Date(), allowPrivateWebhooks: true };
}

/** Results as `tollgate validate` submits them: every planned validation passed. */
export async function passingResults(deps: ServiceDeps, ref: string, stage: string): Promise<NewValidationResult[]> {
  const plan = await createLocalClient(deps, 'ci').planValidations(ref, stage);
  return plan.items.map((item) => ({
    releaseDigest: plan.release.digest,
    stage: item.stage,
    gateId: item.gateId,
    validationId: item.validationId,
    validator: item.uses,
    validatorVersion: '1.0.0',
    definitionDigest: item.definitionDigest,
    status: 'passed',
    summary: 'passed',
    measurements: item.uses === 'metrics' ? { metrics: { accuracy: 0.9 } } : {},
    thresholds: {},
    inputs: {},
    durationMs: 1,
  }));
}

/** Carol's sign-off of V1 for production, signed now, ready to POST. */
export async function carolSignoff(deps: ServiceDeps): Promise<unknown[]> {
  const draft = await createLocalClient(deps, 'carol').draftSignoffs({ release: V1, stage: 'production', role: 'security', decision: 'approve' });
  return draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.carol.privateKeyPem)) }));
}

/**
 * V1 in staging with bob's and carol's sign-offs for production (promotable by anyone who did not
 * sign); V2 in staging after it (so staging can be rolled back); tokens for every identity.
 */
export async function buildTemplate(): Promise<Template> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-api-'));
  const file = path.join(dir, 'template.db');
  const serverKeyPem = generateKeyPair().privateKeyPem;
  const store = await createSqliteStore(file);
  const deps = depsOver(store, serverKeyPem);
  const as = (u: string) => createLocalClient(deps, u);
  await as('root').applyPolicy(POLICY, 'tollgate.yaml');
  for (const [v, ref] of [['1.0.0', V1], ['2.0.0', V2]] as const) {
    await as('alice').createRelease(manifest(v));
    await as('alice').check({ release: ref, stage: 'staging', item: 'datasets-listed', evidence: { kind: 'url', uri: 'https://docs.example/datasets' } });
    await as('dave').check({ release: ref, stage: 'staging', item: 'alerts-tested' });
    await as('ci').recordValidations(ref, await passingResults(deps, ref, 'staging'));
    await as('dave').promote(ref, 'staging');
  }
  // Subscribed before the sign-offs, so its delivery log has their two deliveries.
  const webhook = await createWebhook(deps, 'root', { url: 'https://hooks.example.com/tollgate', events: ['signoff.recorded'] });
  for (const [user, role] of [['bob', 'ml-engineer'], ['carol', 'security']] as const) {
    const draft = await as(user).draftSignoffs({ release: V1, stage: 'production', role, decision: 'approve' });
    await as(user).recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS[user].privateKeyPem)) })));
  }

  const headers: Record<string, string | undefined> = { none: undefined, malformed: 'Basic cm9vdDpyb290', unknown: `Bearer tg_${randomBytes(32).toString('base64url')}` };
  for (const [identity, user] of Object.entries(USER_OF)) headers[identity] = `Bearer ${(await createApiToken(deps, undefined, user)).token}`;
  const revoked = await createApiToken(deps, undefined, 'dave');
  await revokeApiToken(deps, undefined, revoked.id);
  headers.revoked = `Bearer ${revoked.token}`;
  // Issued in January 2025 for 30 days, through the use case (so the log vouches for it): long expired.
  const expired = await createApiToken({ ...deps, now: () => new Date('2025-01-01T00:00:00.000Z') }, undefined, 'dave', '30d');
  headers.expired = `Bearer ${expired.token}`;
  const spare = await createApiToken(deps, undefined, 'bob');
  // A passkey of carol's, for DELETE /api/passkeys/:id (registered by a software authenticator).
  const rp = relyingPartyOf('https://desk.tollgate.test');
  const authenticator = createSoftAuthenticator({ rpId: rp.id, origin: rp.origin });
  const { challenge } = await createPasskeyUseCases(deps, 'carol').registrationOptions(rp);
  const passkey = await createPasskeyUseCases(deps, 'carol').register({ response: authenticator.register(challenge), expectedChallenge: challenge, rp });
  const [delivery] = await store.webhookDeliveries({ webhookId: webhook.id });
  await store.close();

  // OIDC: the issuer's JWKS in a file beside the configuration, as an operator would set it up.
  const oidcIssuer = await createTestIssuer(OIDC_ISSUER);
  fs.writeFileSync(path.join(dir, 'ci-jwks.json'), JSON.stringify(oidcIssuer.jwks));
  fs.writeFileSync(
    path.join(dir, 'oidc.yaml'),
    [
      'issuers:',
      `  - issuer: ${OIDC_ISSUER}`,
      `    audience: ${OIDC_AUDIENCE}`,
      '    jwks: ci-jwks.json',
      '    users:',
      `      "${OIDC_CI_SUBJECT}": ci`,
      `      "${OIDC_OUTSIDER_SUBJECT}": mallory`,
      '',
    ].join('\n'),
  );
  const oidc = loadOidcConfig(path.join(dir, 'oidc.yaml'));
  const hour = 3600;
  headers['oidc-validator'] = `Bearer ${await oidcIssuer.sign({ sub: OIDC_CI_SUBJECT })}`;
  headers['oidc-expired'] = `Bearer ${await oidcIssuer.sign({ sub: OIDC_CI_SUBJECT }, new Date(Date.now() - 2 * hour * 1000))}`;
  headers['oidc-wrong-audience'] = `Bearer ${await oidcIssuer.sign({ sub: OIDC_CI_SUBJECT, aud: 'another-service' })}`;
  return { file, serverKeyPem, headers: headers as Template['headers'], spareTokenId: spare.id, spareWebhookId: webhook.id, spareDeliveryId: delivery!.id, sparePasskeyId: passkey.credentialId, dir, oidcIssuer, oidc };
}

let copies = 0;

/**
 * A fresh copy of the template, served by a new app (never listening: `app.inject`) that trusts the
 * template's OIDC issuer; `config` adds to that or replaces it (`{ oidc: undefined }`: no OIDC).
 */
export async function serve(t: Template, config: ServerConfig = {}): Promise<Served> {
  const file = path.join(t.dir, `copy-${++copies}.db`);
  fs.copyFileSync(t.file, file);
  const store = await createSqliteStore(file);
  const deps = depsOver(store, t.serverKeyPem);
  const app = createApp(deps, { oidc: createOidcVerifier(t.oidc), ...config });
  await app.ready();
  return {
    app,
    deps,
    file,
    close: async () => {
      await app.close();
      await store.close();
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}-wal`, { force: true });
      fs.rmSync(`${file}-shm`, { force: true });
    },
  };
}
