import { describe, expect, it } from 'vitest';
import { BASE, CASES, edit, KEYS, publicKey } from '../../test/fixtures/policy-cases.js';
import { TollgateError } from './errors.js';
import type { GateDef } from './model.js';
import { checkPolicy, gateDigest, holdersOf, itemDigest, parsePolicy, policyDigest, rolesOf } from './policy.js';

function failure(text: string): TollgateError {
  try {
    parsePolicy(text, 'tollgate.yaml');
  } catch (err) {
    if (err instanceof TollgateError) return err;
    throw err;
  }
  throw new Error('expected the policy to be refused');
}

describe('parsePolicy: a valid policy', () => {
  it('parses DESIGN.md\'s example', () => {
    const { policy, digest } = parsePolicy(BASE, 'tollgate.yaml');
    expect(checkPolicy(BASE, 'tollgate.yaml')).toEqual([]);
    expect(policy.name).toBe('fraud-platform');
    expect(policy.stages).toEqual([
      { name: 'staging' },
      { name: 'production', after: 'staging', freeze: ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z'] },
    ]);
    expect(policy.gates.map((g) => g.id)).toEqual(['inventory', 'automated', 'approvals', 'rollback-readiness']);
    expect(policy.gates[1]?.validations?.[3]?.with).toEqual({
      current: 'eval/metrics.json',
      baseline: 'production',
      rules: ['accuracy >= baseline.accuracy - 0.01', 'latency_p95_ms <= 50'],
    });
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digest).toBe(policyDigest(policy));
  });

  it('defaults a sign-off count to 1 and invents nothing else', () => {
    const { policy } = parsePolicy(edit('{ role: ml-engineer, count: 1 }', '{ role: ml-engineer }'), 'tollgate.yaml');
    expect(policy.gates[2]?.signoffs?.[0]).toEqual({ role: 'ml-engineer', count: 1 });
    expect(Object.keys(policy.gates[0] ?? {}).sort()).toEqual(['checklist', 'id', 'stage']);
    expect(policy.gates[3]?.checklist?.[1]).toEqual({ id: 'alerts-tested' });
  });

  it('gives the same digest whatever the layout, comments and key order', () => {
    const { digest } = parsePolicy(BASE, 'tollgate.yaml');
    const relaid = edit('  - id: approvals\n    stage: production\n', '  # sign-offs\n  - stage: production\n    id: approvals\n');
    expect(parsePolicy(relaid, 'other.yaml').digest).toBe(digest);
    expect(parsePolicy(edit('{ role: ml-engineer }', '{ role: ml-engineer, count: 1 }', edit('{ role: ml-engineer, count: 1 }', '{ role: ml-engineer }')), 'x').digest).toBe(digest);
  });

  it('a change to one gate changes its digest and the policy\'s, not another gate\'s', () => {
    const before = parsePolicy(BASE, 'tollgate.yaml');
    const after = parsePolicy(edit('expires: 168h', 'expires: 72h'), 'tollgate.yaml');
    const gate = (p: typeof before, id: string): GateDef => p.policy.gates.find((g) => g.id === id) as GateDef;
    expect(after.digest).not.toBe(before.digest);
    expect(gateDigest(gate(after, 'approvals'))).not.toBe(gateDigest(gate(before, 'approvals')));
    for (const id of ['inventory', 'automated', 'rollback-readiness']) {
      expect(gateDigest(gate(after, id))).toBe(gateDigest(gate(before, id)));
    }
  });

  it('an item digest follows the item, its gate and its stage', () => {
    const { policy } = parsePolicy(BASE, 'tollgate.yaml');
    const gate = policy.gates[3] as GateDef;
    const item = gate.checklist?.[0] as NonNullable<GateDef['checklist']>[number];
    const digest = itemDigest(gate, item);
    expect(itemDigest(gate, { ...item })).toBe(digest);
    expect(itemDigest(gate, { ...item, evidence: 'optional' })).not.toBe(digest);
    expect(itemDigest({ ...gate, id: 'other' }, item)).not.toBe(digest);
    expect(itemDigest({ ...gate, stage: 'staging' }, item)).not.toBe(digest);
    // A change elsewhere in the gate leaves the item's completions alone.
    expect(itemDigest({ ...gate, expires: '1h' }, item)).toBe(digest);
  });

  it('is frozen, so the digest cannot drift from the data', () => {
    const { policy } = parsePolicy(BASE, 'tollgate.yaml');
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.gates[2]?.signoffs?.[1])).toBe(true);
  });

  it('reads one-off and recurring freeze windows', () => {
    const { policy } = parsePolicy(edit('freeze: ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"]', 'freeze: ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z", { cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berlin }]'), 'x');
    expect(policy.stages[1]?.freeze).toEqual(['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z', { cron: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' }]);
  });

  it('reads who may promote, roll back and clear per stage', () => {
    const { policy } = parsePolicy(edit('    after: staging ', '    promoters: [security]\n    rollback: [security, ml-engineer]\n    clear: [security]\n    after: staging '), 'tollgate.yaml');
    expect(policy.stages[1]).toMatchObject({ promoters: ['security'], rollback: ['security', 'ml-engineer'], clear: ['security'] });
  });

  it('lists roles and who holds them', () => {
    const { policy } = parsePolicy(BASE, 'tollgate.yaml');
    expect(rolesOf(policy)).toEqual(['ml-engineer', 'security', 'validator']);
    expect(holdersOf(policy, 'security')).toEqual(['carol']);
    expect(holdersOf(policy, 'nobody')).toEqual([]);
  });
});

describe('parsePolicy: an invalid policy', () => {
  it.each(CASES)('refuses $name', ({ text, code, first }) => {
    const err = failure(text);
    expect(err.code).toBe(code);
    const firstLine = err.message.split('\n')[0] ?? '';
    const problem = err.problems[0];
    expect(problem?.file).toBe('tollgate.yaml');
    const shown = `${problem?.line}:${problem?.col}: ${problem?.message}`;
    if (typeof first === 'string') expect(shown).toBe(first);
    else expect(shown).toMatch(first);
    expect(firstLine).toBe(`tollgate.yaml:${shown}`);
    expect(checkPolicy(text, 'tollgate.yaml')).toEqual(err.problems);
  });

  it('reports every problem at once, in reading order', () => {
    const text = edit('expires: 168h', 'expires: soon', edit('{ role: security, count: 1,', '{ role: secuirty, count: 1,', edit('  - id: rollback-readiness', '  - id: approvals')));
    const err = failure(text);
    expect(err.code).toBe('TG_POLICY_INVALID');
    expect(err.problems.map((p) => `${p.line}:${p.col}`)).toEqual(['30:14', '33:17', '34:9']);
    expect(err.message.split('\n')).toHaveLength(3);
    expect(err.problems.map((p) => p.path)).toEqual(['gates[2].expires', 'gates[2].signoffs[1].role', 'gates[3].id']);
  });

  it('keeps checking references when the schema already failed', () => {
    const text = edit('    separationOfDuties: true', '    separationOfDuty: true', edit('{ role: security, count: 1,', '{ role: secuirty, count: 1,'));
    expect(checkPolicy(text, 'tollgate.yaml').map((p) => p.message)).toEqual([
      'gate "approvals": unknown field "separationOfDuty"',
      'gate "approvals": unknown role "secuirty" in sign-off rule (roles in the roster: ml-engineer, security, validator)',
    ]);
  });
});

describe('parsePolicy: sign-off preconditions and staleOnNewEvidence', () => {
  const approvals = `    signoffs:
      - { role: ml-engineer, count: 1 }
      - { role: security, count: 1, when: "release.risk in ['high', 'critical']" }
`;

  it('reads after, inStage and staleOnNewEvidence on a rule', () => {
    const text = edit(approvals, `    signoffs:
      - { role: ml-engineer, count: 1, after: [automated, inventory], inStage: staging, staleOnNewEvidence: true }
`);
    const { policy } = parsePolicy(text, 'tollgate.yaml');
    expect(policy.gates[2]!.signoffs).toEqual([{ role: 'ml-engineer', count: 1, after: ['automated', 'inventory'], inStage: 'staging', staleOnNewEvidence: true }]);
  });

  it('reads the map form, setting staleOnNewEvidence on every rule that does not say otherwise', () => {
    const text = edit(approvals, `    signoffs:
      staleOnNewEvidence: true
      rules:
        - { role: ml-engineer, count: 1 }
        - { role: security, staleOnNewEvidence: false }
`);
    const { policy } = parsePolicy(text, 'tollgate.yaml');
    expect(policy.gates[2]!.signoffs).toEqual([
      { role: 'ml-engineer', count: 1, staleOnNewEvidence: true },
      { role: 'security', count: 1, staleOnNewEvidence: false },
    ]);
  });

  it('gives a gate written as a list the same digest as before the new fields existed', () => {
    const { policy } = parsePolicy(BASE, 'tollgate.yaml');
    expect(Object.keys(policy.gates[2]!.signoffs![0]!)).toEqual(['role', 'count']);
  });

  it.each([
    [
      'an unknown gate in after',
      `      - { role: ml-engineer, count: 1, after: [automatd] }\n`,
      /^\d+:\d+: gate "approvals": "after" names unknown gate "automatd" \(gates: inventory, automated, approvals, rollback-readiness\)$/,
    ],
    ['its own gate in after', `      - { role: ml-engineer, count: 1, after: [approvals] }\n`, /gate "approvals": the sign-off rule for role "ml-engineer" cannot wait for its own gate/],
    ['an unknown stage in inStage', `      - { role: ml-engineer, count: 1, inStage: stagin }\n`, /"inStage" names unknown stage "stagin" \(stages: staging, production\)/],
    ['an empty after', `      - { role: ml-engineer, count: 1, after: [] }\n`, /sign-off rule for role "ml-engineer", after: must not be empty/],
  ])('refuses %s', (_name, rule, message) => {
    const err = failure(edit('      - { role: ml-engineer, count: 1 }\n', rule));
    expect(err.code).toBe('TG_POLICY_INVALID');
    const p = err.problems[0]!;
    expect(`${p.line}:${p.col}: ${p.message}`).toMatch(message);
  });

  it('reports a problem inside the map form at its own position', () => {
    const err = failure(edit(approvals, `    signoffs:
      rules:
        - { role: ml-engineer, cuont: 1 }
`));
    expect(err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual(['33:32: gate "approvals", sign-off rule for role "ml-engineer": unknown field "cuont"']);
  });

  it('reports a problem inside a rule of the list form at its own position, not as "expected a list or a map"', () => {
    const err = failure(edit('      - { role: ml-engineer, count: 1 }\n', '      - { role: ml-engineer, cuont: 1 }\n'));
    expect(err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual(['32:30: gate "approvals", sign-off rule for role "ml-engineer": unknown field "cuont"']);
  });
});
