/**
 * The whole-file checks of a policy (references, uniqueness, cycles, the validators' `with`) and how
 * each problem names where it is: every problem of a policy built to hit the less common cases, in
 * reading order, word for word.
 */
import { describe, expect, it } from 'vitest';
import { VALIDATOR_SCHEMAS } from '../validators/registry.js';
import { checkPolicy } from './policy.js';

function problems(text: string): string[] {
  return checkPolicy(text, 'p.yaml', { validators: VALIDATOR_SCHEMAS }).map((p) => `${p.line}:${p.col}: ${p.message}`);
}

describe('policy checks across the file', () => {
  it('names a stage or gate without a name by its place, and says when the roster names no roles', () => {
    const text = `apiVersion: tollgate/v1
kind: Policy
name: p
roster:
  a: { roles: [] }
stages:
  - name: s
    promoters: [x]
  - after: nowhere
  - name: t
    soak: 1h
gates:
  - stage: s
    checklist: [{ id: c, roles: [y] }, { roles: [z] }]
`;
    expect(problems(text)).toEqual([
      '5:6: roster entry "a": missing required field "key"',
      '5:15: roster entry "a", roles: must not be empty',
      '8:17: stage "s": unknown role "x" in "promoters" (the roster names no roles)',
      '9:5: stage 2: missing required field "name"',
      '9:12: stage "2": "after" names unknown stage "nowhere" (stages: s, t)',
      '11:11: stage "t": "soak" needs "after": it is how long the release must have held the stage before this one',
      '13:5: gate 1: missing required field "id"',
      '14:34: gate 1: unknown role "y" in checklist item "c" (the roster names no roles)',
      '14:40: gate 1, checklist item 2: missing required field "id"',
      '14:50: gate 1: unknown role "z" in checklist item (the roster names no roles)',
    ]);
  });

  it('checks cycles, break-glass, sign-off rules in both forms, validators and empty gates', () => {
    const text = `apiVersion: tollgate/v1
kind: Policy
name: p
roster:
  zed: { roles: [r] }
  amy: { roles: [r] }
stages:
  - name: a
    after: c
  - name: b
    after: a
  - name: c
    after: b
  - name: d
    breakGlass: { role: q, followUp: [{ id: f, roles: [u] }, { roles: [v] }, { id: f, when: "true" }] }
gates:
  - id: g
    stage: a
    signoffs:
      - { role: r, count: 3, after: [g, h, k], inStage: zz }
      - { count: 1 }
      - { role: r, count: 2 }
  - id: h
    stage: a
    signoffs: { rules: [ { role: nope }, { role: r, count: 0 } ] }
    validations:
      - { id: v1, uses: nope }
      - { id: v2, uses: drift, with: { reference: a, current: b, psi: { max: "x" }, extra: 1 } }
      - { uses: junit, with: [] }
      - { id: v3, uses: junit }
  - id: e
    stage: a
  - stage: a
    waivers: [w]
    checklist: 5
`;
    expect(problems(text)).toEqual([
      '5:8: roster entry "zed": missing required field "key"',
      '6:8: roster entry "amy": missing required field "key"',
      '9:12: stage "a": "after" forms a cycle: a → c → b → a',
      '15:25: stage "d": unknown role "q" in "breakGlass" (roles in the roster: r)',
      '15:56: stage "d": unknown role "u" in follow-up item "f" (roles in the roster: r)',
      '15:62: stage "d", breakGlass.followUp[1]: missing required field "id"',
      '15:72: stage "d": unknown role "v" in follow-up item (roles in the roster: r)',
      '15:84: stage "d": duplicate follow-up item id "f" (first defined at line 15)',
      '15:93: stage "d": a follow-up item has no "when": it follows every break-glass promotion',
      '20:27: gate "g": the sign-off rule for role "r" needs 3 sign-offs but only 2 roster members hold it (amy, zed)',
      '20:38: gate "g": the sign-off rule for role "r" cannot wait for its own gate: it would never be given',
      '20:44: gate "g": "after" names unknown gate "k" (gates: g, h, e)',
      '20:57: gate "g": "inStage" names unknown stage "zz" (stages: a, b, c, d)',
      '21:9: gate "g", sign-off rule 2: missing required field "role"',
      '25:34: gate "h": unknown role "nope" in sign-off rule (roles in the roster: r)',
      '25:60: gate "h", sign-off rule for role "r", count: must be at least 1',
      '27:25: unknown validator "nope" (validators: command, drift, http, junit, latency, metrics, parity, sarif, sbom, schema, slices)',
      '28:78: drift: "with.psi.max" Invalid input: expected number, received string',
      '28:85: drift: unknown field "extra" in "with"',
      '29:9: gate "h", validation 3: missing required field "id"',
      '29:30: gate "h", validation 3, with: expected a map, got a list',
      '29:30: junit: "with" Invalid input: expected object, received array',
      '30:9: junit: "with.report" report must be a path or glob (e.g. reports/*.xml), or a list of them',
      '31:5: gate "e" has no requirements: give it a checklist, signoffs or validations',
      '33:5: gate 4: missing required field "id"',
      '34:15: gate 4: unknown role "w" in "waivers" (roles in the roster: r)',
      '35:16: gate 4, checklist: expected a list, got the integer 5',
    ]);
  });
});

describe('roster keys', () => {
  const policyWithKey = (key: string) => `apiVersion: tollgate/v1
kind: Policy
name: p
roster:
  a: { roles: [r], key: "${key}" }
stages:
  - name: s
gates:
  - { id: g, stage: s, checklist: [{ id: c }] }
`;

  it('takes only the exact base64 of an Ed25519 key, saying why not', () => {
    const form = 'write it as "ed25519:" followed by the base64 of its SubjectPublicKeyInfo DER, as `tollgate keys show` prints it';
    const good = 'ed25519:MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=';
    expect(problems(policyWithKey(good))).toEqual([]);
    expect(problems(policyWithKey('ed25519:'))).toEqual([`5:25: roster entry "a", key: the key is not valid base64: ${form}`]);
    expect(problems(policyWithKey(`${good.slice(0, -1)}`))).toEqual([`5:25: roster entry "a", key: the key is not valid base64: ${form}`]);
    expect(problems(policyWithKey('ed25519:AAAA'))).toEqual([`5:25: roster entry "a", key: the key is not an Ed25519 public key: ${form}`]);
  });
});

describe('what the whole-file checks skip, because the schema already says it', () => {
  const NAME = 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"';
  const KEY = 'the key is not an Ed25519 public key: write it as "ed25519:" followed by the base64 of its SubjectPublicKeyInfo DER, as `tollgate keys show` prints it';

  it('reports a malformed name, role, key or count once, and sorts the roles it lists', () => {
    const text = `apiVersion: tollgate/v1
kind: Policy
name: p
roster:
  u1: { roles: [z, 5, a], key: "" }
  u2: { roles: [z], key: "" }
  u3: { roles: [z], key: "ssh-ed25519 AAAAC3Nza" }
stages:
  - after: x
    name: x
  - name: b
    after: x
  - name: b
    after: x
  - soak: 1h
    promoters: ["bad role", 5, nobody]
    breakGlass: { role: nobody, followUp: [{ roles: [nobody] }, { roles: ["bad role"] }, { when: "true" }] }
gates:
  - stage: x
    checklist:
      - evidence: optional
        id: c
      - evidence: optional
        id: c
      - { roles: [z] }
      - { roles: [z] }
    waivers: ["bad role"]
    signoffs:
      - { after: [g2, "bad name", 5], count: 7.5, role: z }
      - { role: z, count: "9" }
      - { after: [nope] }
  - stage: "bad stage"
    checklist: [{ id: d }]
  - checklist: [{ id: e }]
    id: g2
    stage: x
  - id: g2
    stage: x
    checklist: [{ id: e }]
    validations:
      - { id: v, uses: 5 }
      - { id: w, uses: "" }
`;
    expect(problems(text)).toEqual([
      '5:20: roster entry "u1", roles[1]: expected a string, got the integer 5',
      `5:32: roster entry "u1", key: ${KEY}`,
      `6:26: roster entry "u2", key: ${KEY}`,
      `7:26: roster entry "u3", key: ${KEY}`,
      '9:12: stage "x": "after" forms a cycle: x → x',
      '13:11: stage "b" is defined twice (first at line 11)',
      '15:5: stage 4: missing required field "name"',
      '15:11: stage "4": "soak" needs "after": it is how long the release must have held the stage before this one',
      `16:17: stage 4, promoters[0]: "bad role" ${NAME}`,
      '16:29: stage 4, promoters[1]: expected a string, got the integer 5',
      '16:32: stage "4": unknown role "nobody" in "promoters" (roles in the roster: a, z)',
      '17:25: stage "4": unknown role "nobody" in "breakGlass" (roles in the roster: a, z)',
      '17:44: stage 4, breakGlass.followUp[0]: missing required field "id"',
      '17:54: stage "4": unknown role "nobody" in follow-up item (roles in the roster: a, z)',
      '17:65: stage 4, breakGlass.followUp[1]: missing required field "id"',
      `17:75: stage 4, breakGlass.followUp[1].roles[0]: "bad role" ${NAME}`,
      '17:90: stage 4, breakGlass.followUp[2]: missing required field "id"',
      '17:98: stage "4": a follow-up item has no "when": it follows every break-glass promotion',
      '19:5: gate 1: missing required field "id"',
      '24:13: gate 1: duplicate checklist item id "c" (first defined at line 22)',
      '25:9: gate 1, checklist item 3: missing required field "id"',
      '26:9: gate 1, checklist item 4: missing required field "id"',
      `27:15: gate 1, waivers[0]: "bad role" ${NAME}`,
      `29:23: gate 1, sign-off rule for role "z", after[1]: "bad name" ${NAME}`,
      '29:35: gate 1, sign-off rule for role "z", after[2]: expected a string, got the integer 5',
      '29:46: gate 1, sign-off rule for role "z", count: expected an integer, got the number 7.5',
      '30:27: gate 1, sign-off rule for role "z", count: expected a number, got a string ("9")',
      '31:9: gate 1, sign-off rule 3: missing required field "role"',
      '31:19: gate 1: "after" names unknown gate "nope" (gates: g2)',
      '32:5: gate 2: missing required field "id"',
      `32:12: gate 2, stage: "bad stage" ${NAME}`,
      '37:9: duplicate gate id "g2" (first defined at line 35)',
      '41:24: gate "g2", validation "v", uses: expected a string, got the integer 5',
      '42:24: gate "g2", validation "w", uses: must not be empty',
    ]);
  });

  it('names the roster, the stages and the gates as a whole when they are not a map or list', () => {
    expect(problems('apiVersion: tollgate/v1\nkind: Policy\nname: p\nroster: 5\nstages: 5\ngates: 5\n')).toEqual([
      '4:9: roster: expected a map, got the integer 5',
      '5:9: stages: expected a list, got the integer 5',
      '6:8: gates: expected a list, got the integer 5',
    ]);
  });

  it('reports a cycle from its first stage in the file, however the walk reaches it', () => {
    const text = `apiVersion: tollgate/v1
kind: Policy
name: p
roster: {}
stages:
  - name: x
    after: b
  - name: a
    after: b
  - name: b
    after: a
gates:
  - checklist: [{ id: e }]
    stage: s
    signoffs: [{ after: [q] }]
`;
    expect(problems(text)).toEqual([
      '9:12: stage "a": "after" forms a cycle: a → b → a',
      '13:5: gate 1: missing required field "id"',
      '14:12: gate 1: unknown stage "s" (stages: x, a, b)',
      '15:16: gate 1, sign-off rule 1: missing required field "role"',
      '15:26: gate 1: "after" names unknown gate "q" (gates: none)',
    ]);
  });

  it('says "none" for an empty list of stages, and a rule without a role waiting for its own gate', () => {
    const text = 'apiVersion: tollgate/v1\nkind: Policy\nname: p\nroster: {}\nstages: []\ngates:\n  - { id: g, stage: s, checklist: [{ id: e }], signoffs: [{ after: [g] }] }\n';
    expect(problems(text)).toEqual([
      '5:9: stages: must not be empty',
      '7:21: gate "g": unknown stage "s" (stages: none)',
      '7:59: gate "g", sign-off rule 1: missing required field "role"',
      '7:69: gate "g": the sign-off rule cannot wait for its own gate: it would never be given',
    ]);
  });
});

describe('names', () => {
  it('says an empty name is empty, rather than badly formed', () => {
    const text = 'apiVersion: tollgate/v1\nkind: Policy\nname: p\nroster: {}\nstages:\n  - { name: s, promoters: [""] }\ngates:\n  - { id: g, stage: s, checklist: [{ id: e }] }\n';
    expect(problems(text)).toEqual(['6:28: stage "s", promoters[0]: must not be empty']);
  });
});
