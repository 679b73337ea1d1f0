import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { digestFile } from './inputs.js';
import { compareValues, parityValidator, type Difference, type ParityArgs } from './parity.js';

const DIR = fixtureDir('parity');
const ctx = testContext(DIR);

function run(w: Record<string, unknown>) {
  return parityValidator.run(parityValidator.schema.parse(w) as ParityArgs, ctx);
}

describe('parity: schema', () => {
  it('takes the two environments in the order written, as DESIGN.md writes them', () => {
    expect(parityValidator.schema.parse({ staging: 'env/staging.json', production: 'env/production.json', ignore: ['replicas'] })).toEqual({
      left: { name: 'staging', path: 'env/staging.json' },
      right: { name: 'production', path: 'env/production.json' },
      ignore: ['replicas'],
    });
    expect(parityValidator.schema.parse({ dev: 'a.yaml', staging: 'b.yaml' })).toMatchObject({ left: { name: 'dev' }, right: { name: 'staging' }, ignore: [] });
  });

  it.each([
    [{ staging: 'a.json' }, /name exactly two environments to compare, e\.g\. \{ staging: env\/staging\.json, production: env\/production\.json \}; found 1: staging/],
    [{ staging: 'a.json', production: 'b.json', canary: 'c.json' }, /found 3: staging, production, canary/],
    [{ staging: 'a.json', production: 'b.json', ignor: ['replicas'] }, /an environment maps to the path of its description/],
    [{ staging: 'a.json', production: 3 }, /an environment maps to the path of its description/],
    [{ staging: 'a.json', production: 'b.json', ignore: 'replicas' }, /ignore must be a list of dotted paths/],
    [{ staging: 'a.json', production: 'b.json', ignore: ['services..replicas'] }, /has an empty segment/],
    [{ staging: 'a.json', production: 'b.json', ignore: ['**.**.**.x'] }, /at most 2 "\*\*" segments/],
    [{ staging: 'a.json', production: 'b.json', ignore: ['a.'.repeat(300)] }, /at most 500 characters/],
    [{ staging: 'a.json', production: 'b.json', ignore: ['services.api*.replicas'] }, /segment "api\*" mixes \* with text/],
    [{ staging: 'a.json', 'prod env': 'b.json' }, /"prod env" is not an environment name/],
  ])('rejects %j', (w, message) => {
    const r = parityValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });
});

describe('compareValues', () => {
  it.each([
    [{ a: 1 }, { a: 1 }, []],
    [{ a: 1 }, { a: '1' }, [{ path: ['a'], diff: { kind: 'changed', left: 1, right: '1' } }]],
    [{ a: null }, {}, [{ path: ['a'], diff: { kind: 'missing-right', left: null } }]],
    [{ a: [1, 2] }, { a: [2, 1, 3] }, [
      { path: ['a', '0'], diff: { kind: 'changed', left: 1, right: 2 } },
      { path: ['a', '1'], diff: { kind: 'changed', left: 2, right: 1 } },
      { path: ['a', '2'], diff: { kind: 'missing-left', right: 3 } },
    ]],
    [{ a: { b: 1 } }, { a: [1] }, [{ path: ['a'], diff: { kind: 'changed', left: { b: 1 }, right: [1] } }]],
  ])('%j vs %j', (l, r, expected) => {
    expect(compareValues(l, r)).toEqual(expected);
  });
});

describe('parity: judgement', () => {
  it('passes when the only differences are ignored (a key, and a * segment)', async () => {
    const out = await run({ staging: 'env/staging.json', production: 'env/production.yaml', ignore: ['replicas', 'services.*.replicas'] });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('staging and production match (3 differences ignored)');
    expect(out.measurements).toEqual({ differences: 0, changed: 0, missingLeft: 0, missingRight: 0, ignored: 3 });
    expect(out.inputs).toEqual({
      'env/staging.json': await digestFile(path.join(DIR, 'env/staging.json')),
      'env/production.yaml': await digestFile(path.join(DIR, 'env/production.yaml')),
    });
  });

  it('ignores at any depth with **', async () => {
    const out = await run({ staging: 'env/staging.json', production: 'env/production.yaml', ignore: ['**.replicas'] });
    expect(out.status).toBe('passed');
  });

  it('ignore is anchored: replicas alone leaves the services\' replica counts', async () => {
    const out = await run({ staging: 'env/staging.json', production: 'env/production.yaml', ignore: ['replicas'] });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe(
      '2 differences between staging and production (max 0): services.api.replicas 2 in staging, 8 in production; services.worker.replicas 1 in staging, 4 in production',
    );
  });

  it('reports every difference with its kind and both values', async () => {
    const out = await run({ staging: 'env/staging.json', production: 'env/production-drifted.yaml', ignore: ['replicas', 'services.*.replicas'] });
    expect(out.status).toBe('failed');
    expect(out.measurements).toEqual({ differences: 5, changed: 2, missingLeft: 2, missingRight: 1, ignored: 3 });
    expect(out.thresholds).toEqual({ maxDifferences: 0, ignore: ['replicas', 'services.*.replicas'] });
    expect(out.details).toEqual({
      left: 'staging',
      right: 'production',
      differences: [
        { path: 'image', kind: 'changed', left: 'registry/fraud:2.4.0', right: 'registry/fraud:2.3.1' },
        { path: 'features.shadow', kind: 'missing-right', left: false },
        { path: 'features.debug', kind: 'missing-left', right: true },
        { path: 'services.api.env.2', kind: 'missing-left', right: 'C=3' },
        { path: 'dependencies.python', kind: 'changed', left: '3.11', right: '3.12' },
      ] satisfies Difference[],
    });
    expect(out.summary).toBe(
      '5 differences between staging and production (max 0): image "registry/fraud:2.4.0" in staging, "registry/fraud:2.3.1" in production; ' +
        'features.shadow only in staging; features.debug only in production; and 2 more',
    );
  });

  it.each([
    [{ staging: 'env/staging.json', production: 'env/missing.yaml' }, /missing\.yaml: no such file/, ['env/staging.json']],
    [{ staging: 'env/broken.json', production: 'env/production.yaml' }, /^env\/broken\.json \(staging\): not valid JSON: /, ['env/broken.json']],
    [{ staging: 'env/staging.json', production: 'env/broken.yaml' }, /^env\/broken\.yaml \(production\): not valid YAML: .* at line 2, column 1$/, ['env/staging.json', 'env/broken.yaml']],
    [{ staging: 'env/list.yaml', production: 'env/production.yaml' }, /^env\/list\.yaml \(staging\): an environment description must be a mapping/, ['env/list.yaml']],
  ])('errors on %j', async (w, message, inputs) => {
    const out = await run(w);
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
    expect(Object.keys(out.inputs)).toEqual(inputs);
  });
});
