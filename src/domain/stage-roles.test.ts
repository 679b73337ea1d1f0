import { describe, expect, it } from 'vitest';
import { TollgateError } from './errors.js';
import type { Policy } from './model.js';
import { mayAct, requireStageRole, rolesFor } from './stage-roles.js';

const policy: Policy = {
  apiVersion: 'tollgate/v1',
  kind: 'Policy',
  name: 'p',
  roster: {
    alice: { roles: ['ml-engineer'], key: 'k1' },
    dave: { roles: ['release-manager'], key: 'k2' },
    erin: { roles: ['sre', 'admin'], key: 'k3' },
  },
  stages: [{ name: 'staging' }, { name: 'production', after: 'staging', promoters: ['release-manager'], rollback: ['release-manager', 'sre'], clear: ['sre'] }],
  gates: [],
};
const stage = (name: string) => policy.stages.find((s) => s.name === name)!;

describe('who may act on a stage', () => {
  it.each([
    // stage, action, user, allowed
    ['staging', 'promote', 'alice', true],
    ['staging', 'rollback', 'alice', true],
    ['staging', 'clear', 'alice', false],
    ['staging', 'clear', 'dave', true],
    ['staging', 'clear', 'erin', true],
    ['production', 'promote', 'alice', false],
    ['production', 'promote', 'dave', true],
    ['production', 'promote', 'erin', false],
    ['production', 'rollback', 'erin', true],
    ['production', 'rollback', 'alice', false],
    ['production', 'clear', 'dave', false],
    ['production', 'clear', 'erin', true],
  ] as const)('%s %s by %s: %s', (s, action, user, allowed) => {
    expect(mayAct(policy, stage(s), user, action)).toBe(allowed);
    if (allowed) expect(() => requireStageRole(policy, s, user, action)).not.toThrow();
    else expect(() => requireStageRole(policy, s, user, action)).toThrow(TollgateError);
  });

  it('defaults: any member promotes and rolls back; release-manager or admin clears', () => {
    expect(rolesFor(stage('staging'), 'promote')).toBeUndefined();
    expect(rolesFor(stage('staging'), 'rollback')).toBeUndefined();
    expect(rolesFor(stage('staging'), 'clear')).toEqual(['release-manager', 'admin']);
  });

  it('the refusal names the role, who holds it and what the user holds', () => {
    try {
      requireStageRole(policy, 'production', 'alice', 'promote');
      expect.unreachable();
    } catch (err) {
      const e = err as TollgateError;
      expect(e.code).toBe('TG_NOT_ALLOWED');
      expect(e.exit).toBe(2);
      expect(e.message).toBe('alice may not promote into production: that needs the role "release-manager" (the policy\'s "promoters" for production); alice holds ml-engineer');
      expect(e.hint).toBe('Ask dave, or have the policy give alice one of these roles.');
    }
  });
});

describe('the words of a refusal, for each action', () => {
  const refusal = (p: Policy, stageName: string, user: string, action: 'promote' | 'rollback' | 'clear'): TollgateError => {
    try {
      requireStageRole(p, stageName, user, action);
    } catch (err) {
      return err as TollgateError;
    }
    throw new Error('expected a refusal');
  };

  it('rollback: names every role that may, in the order the policy gives them, and who holds one (sorted)', () => {
    const e = refusal(policy, 'production', 'alice', 'rollback');
    expect(e.message).toBe('alice may not roll back production: that needs the role "release-manager" or "sre" (the policy\'s "rollback" for production); alice holds ml-engineer');
    expect(e.hint).toBe('Ask dave, erin, or have the policy give alice one of these roles.');
    expect(e.details).toEqual({ action: 'rollback', stage: 'production', roles: ['release-manager', 'sre'], user: 'alice' });
  });

  it('clear by default: says the roles come from the default, and a user outside the roster holds no role', () => {
    const e = refusal(policy, 'staging', 'zoe', 'clear');
    expect(e.message).toBe('zoe may not clear a rollback hold on staging: that needs the role "release-manager" or "admin" (the default for "clear"); zoe holds no role');
    expect(e.hint).toBe('Ask dave, erin, or have the policy give zoe one of these roles.');
  });

  it('when nobody holds the roles, says to give someone one', () => {
    const p: Policy = { ...policy, stages: [{ name: 'production', promoters: ['auditor', 'cfo'] }] };
    const e = refusal(p, 'production', 'dave', 'promote');
    expect(e.message).toBe('dave may not promote into production: that needs the role "auditor" or "cfo" (the policy\'s "promoters" for production); dave holds release-manager');
    expect(e.hint).toBe('Nobody in the roster holds auditor or cfo: give someone the role in the policy.');
  });

  it('a stage the policy does not have is left to the caller (evaluate names it)', () => {
    expect(() => requireStageRole(policy, 'nowhere', 'alice', 'promote')).not.toThrow();
  });

  it('lists who may be asked in sorted order, and every role the user holds', () => {
    const p: Policy = {
      ...policy,
      roster: { zoe: { roles: ['release-manager'], key: 'k' }, bob: { roles: ['release-manager'], key: 'k' }, erin: { roles: ['sre', 'admin'], key: 'k3' } },
    };
    const e = refusal(p, 'production', 'erin', 'promote');
    expect(e.message).toBe('erin may not promote into production: that needs the role "release-manager" (the policy\'s "promoters" for production); erin holds sre, admin');
    expect(e.hint).toBe('Ask bob, zoe, or have the policy give erin one of these roles.');
  });

  it('an empty list of roles lets nobody act', () => {
    const p: Policy = { ...policy, stages: [{ name: 'production', promoters: [] }] };
    expect(rolesFor(p.stages[0]!, 'promote')).toEqual([]);
    expect(mayAct(p, p.stages[0]!, 'dave', 'promote')).toBe(false);
  });
});
