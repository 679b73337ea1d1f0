// The shared Client suite, local and over HTTP, with the service on PostgreSQL. Runs only when
// TOLLGATE_TEST_PG names a PostgreSQL database (`.ci/run` sets it; PostgreSQL runs on the CI
// machine): without a server there is nothing to run it against.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { createHttpClient } from '../src/client/http-client.js';
import { createLocalClient } from '../src/client/local-client.js';
import { createApp } from '../src/server/app.js';
import { createApiToken } from '../src/service/tokens.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { runClientSuite } from './client-suite.js';

const url = process.env.TOLLGATE_TEST_PG;
const schemas: string[] = [];

const pgStore = () => {
  const schema = `tollgate_client_${randomUUID().replace(/-/g, '')}`;
  schemas.push(schema);
  return createPostgresStore(url!, { schema });
};

describe.skipIf(!url)('Client suite on PostgreSQL', () => {
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
    await client.end();
  });

  runClientSuite('local on PostgreSQL', async (deps) => ({ as: async (user) => createLocalClient(deps, user), close: async () => {} }), pgStore);

  runClientSuite(
    'http on PostgreSQL',
    async (deps) => {
      const app = createApp(deps);
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      return {
        as: async (user) => createHttpClient({ url: address, token: (await createApiToken(deps, undefined, user)).token }),
        close: () => app.close(),
      };
    },
    pgStore,
  );
});
