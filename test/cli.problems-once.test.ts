/**
 * A file with several problems prints each once (issue 13: bad policy and --oidc files printed every
 * problem after the first twice: in the message, and again below it).
 */
import { afterAll, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';

afterAll(() => removeProjects());

it.each([
  ['policy apply', ['policy', 'apply', 'bad.yaml', '--as', 'dave'], 'bad.yaml', 'apiVersion: tollgate/v1\nkind: Policy\nname: a\nroster: 5\nstages: []\ngates: []\n', ['roster: expected a map', 'stages: must not be empty']],
  ['serve --oidc', ['serve', '--oidc', 'oidc.yaml', '--port', '0'], 'oidc.yaml', 'issuer: 5\n', ['missing required field "issuers"', 'unknown field "issuer"']],
])('%s: every problem once', (_, args, file, text, problems) => {
  const p = createProject();
  p.write(file, text);
  const r = p.run(args);
  expect(r.code).toBe(2);
  for (const problem of problems) expect(r.stderr.split(problem).length - 1, `${problem} in:\n${r.stderr}`).toBe(1);
});
