/**
 * A server fixture for the API tests: a template database (policy, releases, evidence, promotions,
 * tokens of every kind) built once, and copied for each test that changes state, so every request
 * meets the same known state.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLocalClient } from '../src/client/local-client.js';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import { signSignoff } from '../src/domain/signoff.js';
import { createApp, type ServerConfig } from '../src/server/app.js';
import { createApiToken, hashToken, revokeApiToken } from '../src/server/tokens.js';
import type { ServiceDeps } from '../src/service/deps.js';
import type { NewValidationResult } from '../src/service/validate.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { KEYS, POLICY, SUBJECT, manifest, type SuiteUser } from './client-suite.js';

export const V1 = `${SUBJECT}@1.0.0`;
export const V2 = `${SUBJECT}@2.0.0`;

/** Who calls: no token, broken tokens, a user outside the roster, and one user per role. */
export const IDENTITIES = ['none', 'malformed', 'unknown', 'expired', 'revoked', 'outsider', 'admin', 'owner', 'ml-engineer', 'security', 'release-manager', 'validator'] as const;
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

export interface Template {
  readonly file: string;
  readonly serverKeyPem: string;
  /** The Authorization header of each identity (none: absent). */
  readonly headers: Readonly<Record<Identity, string | undefined>>;
  /** A spare token id for DELETE /api/tokens/:id. */
  readonly spareTokenId: string;
  readonly dir: string;
}

export interface Served {
  readonly app: FastifyInstance;
  readonly deps: ServiceDeps;
  close(): Promise<void>;
}

function depsOver(store: ServiceDeps['store'], serverKeyPem: string): ServiceDeps {
  return { store, serverKey: loadPrivateKey(serverKeyPem), origin: 'tollgate/api-test', now: () => new Date() };
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
  for (const [user, role] of [['bob', 'ml-engineer'], ['carol', 'security']] as const) {
    const draft = await as(user).draftSignoffs({ release: V1, stage: 'production', role, decision: 'approve' });
    await as(user).recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS[user].privateKeyPem)) })));
  }

  const headers: Record<string, string | undefined> = { none: undefined, malformed: 'Basic cm9vdDpyb290', unknown: `Bearer tg_${randomBytes(32).toString('base64url')}` };
  for (const [identity, user] of Object.entries(USER_OF)) headers[identity] = `Bearer ${(await createApiToken(deps, undefined, user)).token}`;
  const revoked = await createApiToken(deps, undefined, 'dave');
  await revokeApiToken(deps, undefined, revoked.id);
  headers.revoked = `Bearer ${revoked.token}`;
  const expired = `tg_${randomBytes(32).toString('base64url')}`;
  await store.transaction((tx) =>
    tx.insertToken({ id: 'tok_expired', user: 'dave', hash: hashToken(expired), createdAt: '2025-01-01T00:00:00.000Z', createdBy: 'test', expiresAt: '2025-01-31T00:00:00.000Z' }),
  );
  headers.expired = `Bearer ${expired}`;
  const spare = await createApiToken(deps, undefined, 'bob');
  await store.close();
  return { file, serverKeyPem, headers: headers as Template['headers'], spareTokenId: spare.id, dir };
}

let copies = 0;

/** A fresh copy of the template, served by a new app (never listening: `app.inject`). */
export async function serve(t: Template, config: ServerConfig = {}): Promise<Served> {
  const file = path.join(t.dir, `copy-${++copies}.db`);
  fs.copyFileSync(t.file, file);
  const store = await createSqliteStore(file);
  const deps = depsOver(store, t.serverKeyPem);
  const app = createApp(deps, config);
  await app.ready();
  return {
    app,
    deps,
    close: async () => {
      await app.close();
      await store.close();
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}-wal`, { force: true });
      fs.rmSync(`${file}-shm`, { force: true });
    },
  };
}
