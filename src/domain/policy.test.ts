import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TollgateError, type ErrorCode } from './errors.js';
import type { GateDef } from './model.js';
import { checkPolicy, gateDigest, holdersOf, itemDigest, parsePolicy, policyDigest, rolesOf } from './policy.js';

function publicKey(type: 'ed25519' | 'rsa' = 'ed25519'): string {
  const { publicKey: key } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : generateKeyPairSync('ed25519');
  return `ed25519:${key.export({ type: 'spki', format: 'der' }).toString('base64')}`;
}

const KEYS = { alice: publicKey(), carol: publicKey(), ci: publicKey() };

/** DESIGN.md's example policy; the cases below edit it one line at a time. */
const BASE = `apiVersion: tollgate/v1
kind: Policy
name: fraud-platform
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice}" }
  carol: { roles: [security], key: "${KEYS.carol}" }
  ci:    { roles: [validator], key: "${KEYS.ci}" }
stages:
  - name: staging
  - name: production
    after: staging                       # must have been in staging first
    freeze: ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"]
gates:
  - id: inventory
    stage: staging
    checklist:
      - { id: datasets-listed, text: Validation datasets and pipelines are listed, evidence: required }
  - id: automated
    stage: staging
    validations:
      - { id: tests, uses: junit, with: { report: reports/junit.xml } }
      - { id: contract, uses: schema, with: { data: data/current.csv, contract: contracts/tx.yaml } }
      - { id: drift, uses: drift, with: { reference: data/reference.csv, current: data/current.csv, psi: { max: 0.2 } } }
      - { id: quality, uses: metrics, with: { current: eval/metrics.json, baseline: production,
          rules: ["accuracy >= baseline.accuracy - 0.01", "latency_p95_ms <= 50"] } }
      - { id: security, uses: sarif, with: { report: reports/scan.sarif, failOn: [error] } }
  - id: approvals
    stage: production
    separationOfDuties: true
    expires: 168h
    signoffs:
      - { role: ml-engineer, count: 1 }
      - { role: security, count: 1, when: "release.risk in ['high', 'critical']" }
  - id: rollback-readiness
    stage: production
    checklist:
      - { id: rollback-plan, evidence: required }
      - { id: alerts-tested }
    validations:
      - { id: parity, uses: parity, with: { staging: env/staging.json, production: env/production.json, ignore: [replicas] } }
`;

/** Replaces one exact, unique piece of the base policy. */
function edit(old: string, replacement: string, base = BASE): string {
  const at = base.indexOf(old);
  if (at < 0 || base.indexOf(old, at + 1) >= 0) throw new Error(`not exactly one ${JSON.stringify(old)} in the policy`);
  return base.slice(0, at) + replacement + base.slice(at + old.length);
}

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

interface Case {
  readonly name: string;
  readonly text: string;
  readonly code: ErrorCode;
  /** The first problem as `line:col: message`; a RegExp for messages that embed generated keys. */
  readonly first: string | RegExp;
}

const CASES: readonly Case[] = [
  {
    name: 'YAML syntax error',
    text: edit('    stage: staging\n    checklist:', '    stage: staging: now\n    checklist:'),
    code: 'TG_YAML_SYNTAX',
    first: '15:12: YAML: Nested mappings are not allowed in compact mappings',
  },
  {
    name: 'a duplicate key',
    text: edit('    expires: 168h\n', '    expires: 168h\n    expires: 24h\n'),
    code: 'TG_YAML_SYNTAX',
    first: '31:5: YAML: duplicate key "expires": a key may appear once in a map',
  },
  {
    name: 'an unknown field',
    text: edit('    separationOfDuties: true', '    separationOfDuty: true'),
    code: 'TG_POLICY_INVALID',
    first: '29:5: gate "approvals": unknown field "separationOfDuty"',
  },
  {
    name: 'a duplicate gate id',
    text: edit('  - id: rollback-readiness', '  - id: approvals'),
    code: 'TG_POLICY_INVALID',
    first: '34:9: duplicate gate id "approvals" (first defined at line 27)',
  },
  {
    name: 'a bad CEL expression',
    text: edit(`"release.risk in ['high', 'critical']"`, `"release.risk in ['high', 'critical'"`),
    code: 'TG_POLICY_INVALID',
    first: /^33:43: gate "approvals", sign-off rule for role "security", when: invalid condition "release\.risk in \['high', 'critical'": /,
  },
  {
    name: 'a CEL expression with an unknown variable',
    text: edit(`"release.risk in ['high', 'critical']"`, `"risk in ['high', 'critical']"`),
    code: 'TG_POLICY_INVALID',
    first: `33:43: gate "approvals", sign-off rule for role "security", when: invalid condition "risk in ['high', 'critical']": Unknown variable: risk at character 1 (a condition reads only \`release\`)`,
  },
  {
    name: 'a CEL expression that is not a bool',
    text: edit('    stage: production\n    separationOfDuties', '    stage: production\n    when: release.owner\n    separationOfDuties'),
    code: 'TG_POLICY_INVALID',
    first: '29:11: gate "approvals", when: condition "release.owner" gives a string, not true or false',
  },
  {
    name: 'an unknown role in a sign-off rule',
    text: edit('{ role: security, count: 1,', '{ role: secuirty, count: 1,'),
    code: 'TG_POLICY_INVALID',
    first: '33:17: gate "approvals": unknown role "secuirty" in sign-off rule (roles in the roster: ml-engineer, security, validator)',
  },
  {
    name: 'an unknown role in a checklist item',
    text: edit('{ id: alerts-tested }', '{ id: alerts-tested, roles: [sre] }'),
    code: 'TG_POLICY_INVALID',
    first: '38:38: gate "rollback-readiness": unknown role "sre" in checklist item "alerts-tested" (roles in the roster: ml-engineer, security, validator)',
  },
  {
    name: 'more sign-offs than people who hold the role',
    text: edit('{ role: ml-engineer, count: 1 }', '{ role: ml-engineer, count: 2 }'),
    code: 'TG_POLICY_INVALID',
    first: '32:37: gate "approvals": the sign-off rule for role "ml-engineer" needs 2 sign-offs but only 1 roster member holds it (alice)',
  },
  {
    name: 'a sign-off count below 1',
    text: edit('{ role: ml-engineer, count: 1 }', '{ role: ml-engineer, count: 0 }'),
    code: 'TG_POLICY_INVALID',
    first: '32:37: gate "approvals", sign-off rule for role "ml-engineer", count: must be at least 1',
  },
  {
    name: 'an unknown stage',
    text: edit('  - id: approvals\n    stage: production', '  - id: approvals\n    stage: prod'),
    code: 'TG_POLICY_INVALID',
    first: '28:12: gate "approvals": unknown stage "prod" (stages: staging, production)',
  },
  {
    name: 'an after naming an unknown stage',
    text: edit('    after: staging ', '    after: stagin '),
    code: 'TG_POLICY_INVALID',
    first: '11:12: stage "production": "after" names unknown stage "stagin" (stages: staging, production)',
  },
  {
    name: 'an after cycle',
    text: edit('  - name: staging\n', '  - name: staging\n    after: production\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:12: stage "staging": "after" forms a cycle: staging → production → staging',
  },
  {
    name: 'a stage after itself',
    text: edit('  - name: staging\n', '  - name: staging\n    after: staging\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:12: stage "staging": "after" forms a cycle: staging → staging',
  },
  {
    name: 'a stage defined twice',
    text: edit('  - name: production\n', '  - name: staging\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:11: stage "staging" is defined twice (first at line 9)',
  },
  {
    name: 'a role nobody holds in a stage\'s promoters',
    text: edit('    after: staging ', '    promoters: [release-manager]\n    after: staging '),
    code: 'TG_POLICY_INVALID',
    first: '11:17: stage "production": unknown role "release-manager" in "promoters" (roles in the roster: ml-engineer, security, validator)',
  },
  {
    name: 'a role nobody holds in a stage\'s rollback',
    text: edit('  - name: staging\n', '  - name: staging\n    rollback: [security, sre]\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:26: stage "staging": unknown role "sre" in "rollback" (roles in the roster: ml-engineer, security, validator)',
  },
  {
    name: 'a break-glass role nobody holds',
    text: edit('  - name: staging\n', '  - name: staging\n    breakGlass: { role: incident-commander }\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:25: stage "staging": unknown role "incident-commander" in "breakGlass" (roles in the roster: ml-engineer, security, validator)',
  },
  {
    name: 'a break-glass without a role',
    text: edit('  - name: staging\n', '  - name: staging\n    breakGlass: { followUp: [{ id: postmortem }] }\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:17: stage "staging", breakGlass: missing required field "role"',
  },
  {
    name: 'a follow-up item id twice',
    text: edit('  - name: staging\n', '  - name: staging\n    breakGlass: { role: security, followUp: [{ id: postmortem }, { id: postmortem }] }\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:72: stage "staging": duplicate follow-up item id "postmortem" (first defined at line 10)',
  },
  {
    name: 'a follow-up item with a condition',
    text: edit('  - name: staging\n', '  - name: staging\n    breakGlass: { role: security, followUp: [{ id: postmortem, when: "release.risk == \'high\'" }] }\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:70: stage "staging": a follow-up item has no "when": it follows every break-glass promotion',
  },
  {
    name: 'a waiver role nobody holds',
    text: edit('    expires: 168h\n', '    expires: 168h\n    waivers: [security, model-risk]\n'),
    code: 'TG_POLICY_INVALID',
    first: '31:25: gate "approvals": unknown role "model-risk" in "waivers" (roles in the roster: ml-engineer, security, validator)',
  },
  {
    name: 'an empty clear list',
    text: edit('  - name: staging\n', '  - name: staging\n    clear: []\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:12: stage "staging", clear: must not be empty',
  },
  {
    name: 'a soak on a stage without "after"',
    text: edit('  - name: staging\n', '  - name: staging\n    soak: 24h\n'),
    code: 'TG_POLICY_INVALID',
    first: '10:11: stage "staging": "soak" needs "after": it is how long the release must have held the stage before this one',
  },
  {
    name: 'a soak that is not a duration',
    text: edit('    after: staging ', '    soak: 1 day\n    after: staging '),
    code: 'TG_POLICY_INVALID',
    first: '11:11: stage "production", soak: invalid duration "1 day": write a number and a unit, e.g. 30m, 24h, 7d or 1h30m',
  },
  {
    name: 'a recurring freeze window in a time zone that does not exist',
    text: edit('freeze: ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"]', 'freeze: [{ cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berlni }]'),
    code: 'TG_POLICY_INVALID',
    first: '12:14: stage "production", freeze[0]: unknown time zone "Europe/Berlni": write an IANA zone name, e.g. Europe/Berlin or UTC',
  },
  {
    name: 'a recurring freeze window without a duration',
    text: edit('freeze: ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"]', 'freeze: [{ cron: "0 16 * * FRI", timezone: UTC }]'),
    code: 'TG_POLICY_INVALID',
    first: /^12:14: stage "production", freeze\[0\]/,
  },
  {
    name: 'a freeze window that ends before it starts',
    text: edit('2026-12-24T00:00:00Z/2026-12-27T00:00:00Z', '2026-12-27T00:00:00Z/2026-12-24T00:00:00Z'),
    code: 'TG_POLICY_INVALID',
    first: '12:14: stage "production", freeze[0]: invalid interval "2026-12-27T00:00:00Z/2026-12-24T00:00:00Z": the start must be before the end',
  },
  {
    name: 'a freeze window without a zone',
    text: edit('2026-12-24T00:00:00Z/2026-12-27T00:00:00Z', '2026-12-24/2026-12-27'),
    code: 'TG_POLICY_INVALID',
    first: '12:14: stage "production", freeze[0]: invalid interval "2026-12-24/2026-12-27": the start "2026-12-24" is not a timestamp with a zone, e.g. 2026-12-24T00:00:00Z',
  },
  {
    name: 'a bad expires',
    text: edit('expires: 168h', 'expires: 7 days'),
    code: 'TG_POLICY_INVALID',
    first: '30:14: gate "approvals", expires: invalid duration "7 days": write a number and a unit, e.g. 30m, 168h, 7d or 1h30m',
  },
  {
    name: 'a key that is not base64 of a key',
    text: edit(KEYS.carol, 'ed25519:AAAA'),
    code: 'TG_POLICY_INVALID',
    first: '6:36: roster entry "carol", key: the key is not an Ed25519 public key: write it as "ed25519:" followed by the base64 of its SubjectPublicKeyInfo DER, as `tollgate keys show` prints it',
  },
  {
    name: 'a key that is not Ed25519',
    text: edit(KEYS.carol, publicKey('rsa')),
    code: 'TG_POLICY_INVALID',
    first: '6:36: roster entry "carol", key: the key is a rsa key; Tollgate needs an Ed25519 key',
  },
  {
    name: 'a key without its prefix',
    text: edit(KEYS.carol, KEYS.carol.slice('ed25519:'.length)),
    code: 'TG_POLICY_INVALID',
    first: /^6:36: roster entry "carol", key: the key is not an Ed25519 public key: write it as "ed25519:"/,
  },
  {
    name: 'two people sharing a key',
    text: edit(KEYS.carol, KEYS.alice),
    code: 'TG_POLICY_INVALID',
    first: '6:36: roster entry "carol": the same key as "alice"; every person needs their own key',
  },
  {
    name: 'a roster user name with a space',
    text: edit('  ci:    {', '  "c i": {'),
    code: 'TG_POLICY_INVALID',
    first: '7:3: roster entry "c i": user name "c i" must start with a letter or digit and hold only letters, digits, ".", "_" and "-"',
  },
  {
    name: 'a roster entry without roles',
    text: edit('{ roles: [validator], key:', '{ roles: [], key:'),
    code: 'TG_POLICY_INVALID',
    first: '7:19: roster entry "ci", roles: must not be empty',
  },
  {
    name: 'a wrong apiVersion',
    text: edit('apiVersion: tollgate/v1', 'apiVersion: tollgate/v2'),
    code: 'TG_POLICY_INVALID',
    first: '1:13: apiVersion: must be "tollgate/v1", got "tollgate/v2"',
  },
  {
    name: 'a wrong kind',
    text: edit('kind: Policy', 'kind: Release'),
    code: 'TG_POLICY_INVALID',
    first: '2:7: kind: must be "Policy", got "Release"',
  },
  {
    name: 'an empty name',
    text: edit('name: fraud-platform', 'name: ""'),
    code: 'TG_POLICY_INVALID',
    first: '3:7: name: must not be empty',
  },
  {
    name: 'a gate without a stage',
    text: edit('  - id: approvals\n    stage: production\n', '  - id: approvals\n'),
    code: 'TG_POLICY_INVALID',
    first: '27:5: gate "approvals": missing required field "stage"',
  },
  {
    name: 'a gate without requirements',
    text: edit('  - id: inventory\n    stage: staging\n    checklist:\n      - { id: datasets-listed, text: Validation datasets and pipelines are listed, evidence: required }\n', '  - id: inventory\n    stage: staging\n'),
    code: 'TG_POLICY_INVALID',
    first: '14:5: gate "inventory" has no requirements: give it a checklist, signoffs or validations',
  },
  {
    name: 'a duplicate checklist item id',
    text: edit('{ id: alerts-tested }', '{ id: rollback-plan }'),
    code: 'TG_POLICY_INVALID',
    first: '38:15: gate "rollback-readiness": duplicate checklist item id "rollback-plan" (first defined at line 37)',
  },
  {
    name: 'a duplicate validation id',
    text: edit('{ id: contract, uses: schema', '{ id: tests, uses: schema'),
    code: 'TG_POLICY_INVALID',
    first: '22:15: gate "automated": duplicate validation id "tests" (first defined at line 21)',
  },
  {
    name: 'an evidence value that is neither required nor optional',
    text: edit('{ id: rollback-plan, evidence: required }', '{ id: rollback-plan, evidence: yes }'),
    code: 'TG_POLICY_INVALID',
    first: '37:40: gate "rollback-readiness", checklist item "rollback-plan", evidence: must be one of "required", "optional", got "yes"',
  },
  {
    name: 'a validation without uses',
    text: edit('{ id: tests, uses: junit, with:', '{ id: tests, uses: "", with:'),
    code: 'TG_POLICY_INVALID',
    first: '21:28: gate "automated", validation "tests", uses: must not be empty',
  },
  {
    name: 'a validation whose with is not a map',
    text: edit('{ id: security, uses: sarif, with: { report: reports/scan.sarif, failOn: [error] } }', '{ id: security, uses: sarif, with: [reports/scan.sarif] }'),
    code: 'TG_POLICY_INVALID',
    first: '26:44: gate "automated", validation "security", with: expected a map, got a list',
  },
  {
    name: 'a separationOfDuties that is not a boolean',
    text: edit('separationOfDuties: true', 'separationOfDuties: "yes"'),
    code: 'TG_POLICY_INVALID',
    first: '29:25: gate "approvals", separationOfDuties: expected true or false, got a string ("yes")',
  },
];

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
