/**
 * `policy check` lints the data contracts its schema validations name (issue 13: `type: int` showed up
 * only at validate time).
 */
import { afterAll, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';

afterAll(() => removeProjects());

it('reports a contract with an unknown type, naming the contract and the validation; a good one passes', () => {
  const p = createProject();
  expect(p.run(['policy', 'check']).code).toBe(0);
  p.write('contracts/tx.yaml', p.read('contracts/tx.yaml').replace('type: integer', 'type: int'));
  const r = p.run(['policy', 'check', '--json']);
  expect(r.code).toBe(2);
  const out = r.json();
  expect(out.ok).toBe(false);
  expect(out.code).toBe('TG_POLICY_INVALID');
  expect(out.problems).toEqual([expect.objectContaining({ file: 'contracts/tx.yaml', message: expect.stringMatching(/unknown type "int".*\(validation \S+\/\S+\)/) })]);
});
