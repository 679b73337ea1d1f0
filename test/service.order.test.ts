// Of a signer's sign-offs (or an item's completions) that share a time, the one recorded last is the
// last one read, so it is the one that counts: on SQLite and PostgreSQL, whatever their random ids.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import { signSignoff } from '../src/domain/signoff.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { draftSignoffs, recordSignoffs } from '../src/service/signoff.js';
import { decide } from '../src/service/status.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

const KEYS = { root: generateKeyPair(), alice: generateKeyPair(), bob: generateKeyPair() };
const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: order
roster:
  root: { roles: [admin], key: "${KEYS.root.publicKey}" }
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
stages:
  - name: staging
gates:
  - id: approvals
    stage: staging
    signoffs:
      - { role: ml-engineer, count: 1 }
`;

const pgUrl = process.env.TOLLGATE_TEST_PG;
const schemas: string[] = [];
const opens: [string, () => Promise<Store>][] = [['SQLite', () => createSqliteStore(':memory:')]];
if (pgUrl) {
  opens.push([
    'PostgreSQL',
    () => {
      const schema = `tollgate_test_${randomUUID().replaceAll('-', '')}`;
      schemas.push(schema);
      return createPostgresStore(pgUrl, { schema });
    },
  ]);
}
afterAll(async () => {
  if (!pgUrl || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  await client.end();
});

describe.each(opens)('order of evidence that shares a time, on %s', (_name, open) => {
  it('reads sign-offs in the order they were recorded, and counts the last one', async () => {
    const now = new Date('2026-12-01T09:00:00Z');
    const store = await open();
    const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => now };
    await applyPolicy(deps, 'root', POLICY, 'tollgate.yaml');
    await createRelease(deps, 'alice', { subject: 'scorer', version: '1.0.0', risk: 'low', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', path: 'm.bin', sha256: 'b'.repeat(64) }] });
    const key = loadPrivateKey(KEYS.bob.privateKeyPem);
    // Ten decisions by bob at the same instant, alternating, the last an approval.
    for (let i = 0; i < 10; i++) {
      const decision = i % 2 === 0 ? 'reject' : 'approve';
      const draft = await draftSignoffs(store, 'bob', { release: 'scorer@1.0.0', stage: 'staging', role: 'ml-engineer', decision, comment: `#${i}` }, now);
      const p = draft.payloads[0]!;
      await recordSignoffs(deps, 'bob', [{ ...p, signature: signSignoff(p, key) }]);
    }
    const release = (await store.findRelease('scorer', '1.0.0'))!;
    expect((await store.evidence(release.digest)).signoffs.map((s) => s.comment)).toEqual(Array.from({ length: 10 }, (_, i) => `#${i}`));
    expect((await decide(store, 'scorer@1.0.0', 'staging', now)).promotable).toBe(true);
    await store.close();
  });
});
