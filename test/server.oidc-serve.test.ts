/**
 * OIDC through the real binary: `tollgate serve` picks up `<home>/oidc.yaml` (or `--oidc FILE`), and
 * the CLI in remote mode works with a CI job's JWT in TOLLGATE_TOKEN as with an API token. A bad
 * configuration stops `serve` before it listens, with exit 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';
import { createTestIssuer, OIDC_AUDIENCE } from './server-fixture.js';

let server: Served | undefined;
afterAll(async () => {
  await server?.stop('SIGKILL');
  removeProjects();
});

describe('serve with OIDC', () => {
  it('accepts a configured issuer\'s JWT as the mapped roster user, and refuses a bad configuration', async () => {
    const p = createProject();
    const issuer = await createTestIssuer('https://token.ci.example');
    fs.writeFileSync(path.join(p.home, 'ci-jwks.json'), JSON.stringify(issuer.jwks));
    fs.writeFileSync(
      path.join(p.home, 'oidc.yaml'),
      `issuers:\n  - issuer: https://token.ci.example\n    audience: ${OIDC_AUDIENCE}\n    jwks: ci-jwks.json\n    users:\n      "repo:acme/fraud:ref:refs/heads/main": dave\n`,
    );
    server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
    const jwt = await issuer.sign({ sub: 'repo:acme/fraud:ref:refs/heads/main' });
    const remote = (token: string, args: string[]) => p.run(args, { env: { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: token } });

    const created = remote(jwt, ['release', 'create', 'release.yaml', '--json']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const list = remote(jwt, ['release', 'list', '--json']);
    expect(list.code).toBe(0);
    // The release was created by the mapped user, dave.
    expect(JSON.stringify(list.json())).toContain('fraud-detector');
    const show = remote(jwt, ['release', 'show', 'fraud-detector@2.4.0', '--json']).json();
    expect(JSON.stringify(show)).toContain('"dave"');

    const unmapped = remote(await issuer.sign({ sub: 'repo:acme/fraud:ref:refs/heads/feature' }), ['release', 'list', '--json']);
    expect(unmapped.code).toBe(2);
    expect(unmapped.json().error.code).toBe('TG_TOKEN_INVALID');
    const wrongAudience = remote(await issuer.sign({ sub: 'repo:acme/fraud:ref:refs/heads/main', aud: 'other' }), ['release', 'list', '--json']);
    expect(wrongAudience.json().error.code).toBe('TG_TOKEN_INVALID');
    // The JWT never reaches the log.
    expect(server.output()).not.toContain(jwt);
    await server.stop('SIGTERM');
    server = undefined;

    fs.writeFileSync(path.join(p.dir, 'broken.yaml'), 'issuers:\n  - issuer: https://token.ci.example\n');
    const bad = p.run(['serve', '--port', '0', '--oidc', 'broken.yaml', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/audience|jwks/);
  }, 90_000);
});
