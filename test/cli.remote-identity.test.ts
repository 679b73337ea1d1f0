/**
 * Remote mode: the token says who acts. `--as alice` with carol's token was silently ignored and the
 * change recorded as carol's (issue 13); now a name that is not the token's is refused with exit 2.
 */
import { afterAll, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

let server: Served | undefined;
afterAll(async () => {
  await server?.stop('SIGTERM');
  removeProjects();
});

it('refuses --as naming someone other than the token user (exit 2, TG_IDENTITY_MISMATCH), and accepts the same name', async () => {
  const p = createProject();
  expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
  const token = p.run(['token', 'create', 'carol', '--json']).json().token as string;
  server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
  const env = { TOLLGATE_SERVER: server.url, TOLLGATE_TOKEN: token };
  const mismatch = p.run(['check', 'fraud-detector@2.4.0', 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice', '--json'], { env });
  expect(mismatch.code, mismatch.stdout + mismatch.stderr).toBe(2);
  expect(mismatch.json().error.code).toBe('TG_IDENTITY_MISMATCH');
  expect(mismatch.json().error.message).toMatch(/acts as "alice", but its token is carol's/);
  // Nothing was recorded under carol's name.
  const events = p.run(['audit', 'log', '--type', 'ChecklistItemCompleted', '--json']).json().events;
  expect(events).toEqual([]);
  const same = p.run(['check', 'fraud-detector@2.4.0', 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'carol'], { env });
  expect(same.code, same.stderr).toBe(0);
  const none = p.run(['status', 'fraud-detector@2.4.0', '--to', 'staging', '--json'], { env });
  expect([0, 3]).toContain(none.code);
});
