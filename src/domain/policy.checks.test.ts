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
