import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import type { GateDef, Policy } from './model.js';
import { NAME_PATTERN, gateDigest, holdersOf, itemDigest, policyDigest, rolesOf, validationDigest } from './policy-digests.js';

function roster(): Policy {
  return {
    roster: {
      zoe: { roles: ['security', 'ml-lead'] },
      adam: { roles: ['security'] },
      mia: { roles: [] },
    },
  } as unknown as Policy;
}

describe('policy digests and roster lookups', () => {
  it('list every role held, once each, sorted', () => {
    expect(rolesOf(roster())).toEqual(['ml-lead', 'security']);
  });

  it('list the holders of a role, sorted', () => {
    expect(holdersOf(roster(), 'security')).toEqual(['adam', 'zoe']);
    expect(holdersOf(roster(), 'ml-lead')).toEqual(['zoe']);
    expect(holdersOf(roster(), 'nobody')).toEqual([]);
  });

  it('bind an item and a validation to their gate and stage', () => {
    const gate = { id: 'g', stage: 'production' } as GateDef;
    const item = { id: 'card', title: 'Model card' };
    const validation = { id: 'drift', use: 'drift' };
    expect(policyDigest(roster())).toBe(digestOf(roster()));
    expect(gateDigest(gate)).toBe(digestOf(gate));
    expect(itemDigest(gate, item as never)).toBe(digestOf({ gate: 'g', stage: 'production', item }));
    expect(validationDigest(gate, validation as never)).toBe(digestOf({ gate: 'g', stage: 'production', validation }));
    expect(itemDigest({ ...gate, stage: 'staging' }, item as never)).not.toBe(itemDigest(gate, item as never));
  });

  it('take a name only whole', () => {
    expect(['alice', 'A1', '0.b_c-d'].map((s) => NAME_PATTERN.test(s))).toEqual([true, true, true]);
    expect(['-a', '.a', '_a', 'a b', 'a/b', 'a\n', ''].map((s) => NAME_PATTERN.test(s))).toEqual([false, false, false, false, false, false, false]);
  });
});
