/**
 * Break-glass and waivers (accepted risk), end to end through the real binary (issue 12): a promotion
 * past a freeze and unmet gates on a break-glass sign-off by the role the stage names, marked in the
 * audit log, the attestation and `release show`, with its follow-up checklist; and a waiver that lets
 * a gate pass as `waived` until its expiry. Time is fixed per command with TOLLGATE_NOW.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { at, opsProject, removeProjects, requirement, V, type Project } from './helpers/cli.js';

afterAll(() => removeProjects());

/** The ops policy's stages and gates; erin (incident-commander) and frank (model-risk) join the roster. */
const OPS = `stages:
  - name: staging
  - name: production
    after: staging
    freeze:
      - "2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"
    breakGlass:
      role: incident-commander
      followUp:
        - { id: postmortem, text: "Write the post-incident review" }
gates:
  - id: approvals
    stage: production
    signoffs:
      - { role: security, count: 1 }
  - id: security-review
    stage: production
    checklist:
      - { id: pen-test, text: "Penetration test passed" }
    waivers: [model-risk]
`;

const setUp = (releases: number): Project => opsProject(OPS, releases, { erin: 'incident-commander', frank: 'model-risk' });

describe('break-glass: a promotion past a freeze and unmet gates, on the sign-off of the role the stage names', () => {
  let p: Project;
  const STAGED = '2026-12-20T09:00:00Z';
  const FROZEN = '2026-12-25T09:00:00Z';
  const LATER = '2026-12-25T11:00:00Z';

  it('during the freeze, production is blocked by the freeze and the missing approval', () => {
    p = setUp(1);
    expect(at(p, STAGED)(['promote', V(1), '--to', 'staging', '--as', 'dave']).code).toBe(0);
    const r = at(p, FROZEN)(['promote', V(1), '--to', 'production', '--as', 'dave']);
    expect(r.code).toBe(3);
    expect(requirement(r.json(), 'stage', 'freeze').outcome).toBe('failed');
    expect(requirement(r.json(), 'approvals', 'signoff:security').outcome).toBe('missing');
  });

  it('--break-glass without --reason is a usage error (exit 2)', () => {
    const r = at(p, FROZEN)(['promote', V(1), '--to', 'production', '--as', 'dave', '--break-glass']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_USAGE');
  });

  it('without a break-glass sign-off it is refused (exit 3), naming the role that must sign', () => {
    const r = at(p, FROZEN)(['promote', V(1), '--to', 'production', '--as', 'dave', '--break-glass', '--reason', 'fraud spike: the old model lets it through']);
    expect(r.code).toBe(3);
    const e = r.json().error;
    expect(e.code).toBe('TG_PROMOTION_BLOCKED');
    expect(e.message).toContain('needs a sign-off by the role "incident-commander"');
    expect(e.hint).toContain('erin');
    expect(p.run(['release', 'show', V(1), '--json']).json().holds).toEqual(['staging']);
  });

  it('a break-glass sign-off by someone without the role is refused, naming the role', () => {
    const notHeld = at(p, FROZEN)(['signoff', V(1), '--to', 'production', '--role', 'incident-commander', '--break-glass', '--reason', 'x', '--as', 'bob']);
    expect(notHeld.code).toBe(2);
    expect(notHeld.json().error.code).toBe('TG_ROLE_NOT_HELD');
    const wrongRole = at(p, FROZEN)(['signoff', V(1), '--to', 'production', '--role', 'security', '--break-glass', '--reason', 'x', '--as', 'carol']);
    expect(wrongRole.code).toBe(2);
    expect(wrongRole.json().error.code).toBe('TG_NOT_ALLOWED');
    expect(wrongRole.json().error.message).toContain('signed by the role "incident-commander"');
    const noReason = at(p, FROZEN)(['signoff', V(1), '--to', 'production', '--role', 'incident-commander', '--break-glass', '--as', 'erin']);
    expect(noReason.code).toBe(2);
    expect(noReason.json().error.code).toBe('TG_USAGE');
  });

  it('with the sign-off of erin (incident-commander), erin herself may not promote on it (separation of duties)', () => {
    const s = at(p, FROZEN)(['signoff', V(1), '--to', 'production', '--role', 'incident-commander', '--break-glass', '--reason', 'fraud spike, hotfix needed now', '--as', 'erin']);
    expect(s.code).toBe(0);
    expect(s.json().exception).toMatchObject({ kind: 'break-glass', signer: 'erin', role: 'incident-commander', reason: 'fraud spike, hotfix needed now', stage: 'production' });
    const self = at(p, FROZEN)(['promote', V(1), '--to', 'production', '--as', 'erin', '--break-glass', '--reason', 'fraud spike']);
    expect(self.code).toBe(3);
    expect(self.json().error.message).toContain("erin's is by the person promoting");
  });

  it('dave promotes with break-glass: promoted, and the promotion says what it went past and on whose sign-off', () => {
    const r = at(p, FROZEN)(['promote', V(1), '--to', 'production', '--as', 'dave', '--break-glass', '--reason', 'fraud spike: ship the fix']);
    expect(r.code).toBe(0);
    const d = r.json();
    expect(d.promoted).toBe(true);
    expect(d.promotable).toBe(false);
    expect(d.promotion.breakGlass).toEqual({
      reason: 'fraud spike: ship the fix',
      signoff: expect.any(String),
      signer: 'erin',
      role: 'incident-commander',
      unmet: ['stage/freeze failed', 'approvals/signoff:security missing', 'security-review/pen-test missing'],
    });
    const text = p.run(['release', 'show', V(1)]).stdout;
    expect(text).toContain('BREAK-GLASS on the sign-off of erin as incident-commander: "fraud spike: ship the fix"');
  });

  it('the audit log marks it: ReleasePromoted with data.breakGlass; the sign-off is a BreakGlassSignedOff event', () => {
    const events = p.run(['audit', 'log', '--type', 'ReleasePromoted', '--json']).json().events;
    const last = events.at(-1);
    expect(last.actor).toBe('user:dave');
    expect(last.data.breakGlass).toMatchObject({ reason: 'fraud spike: ship the fix', signer: 'erin', role: 'incident-commander', unmet: expect.arrayContaining(['stage/freeze failed']) });
    // Ordinary promotions carry no mark.
    expect(events[0].data.breakGlass).toBeUndefined();
    const signed = p.run(['audit', 'log', '--type', 'BreakGlassSignedOff', '--json']).json().events;
    expect(signed).toHaveLength(1);
    expect(signed[0].data).toMatchObject({ id: last.data.breakGlass.signoff, role: 'incident-commander', reason: 'fraud spike, hotfix needed now' });
    // The delivery metrics count it from data.breakGlass.
    const m = p.run(['metrics', '--since', '2026-12-01', '--json'], { env: { TOLLGATE_NOW: LATER } });
    expect(m.code).toBe(0);
    expect(JSON.stringify(m.json())).toContain('"breakGlassCount":1');
  });

  it('the sign-off is used up: a second break-glass into the stage needs a new one', () => {
    // Roll back is not possible (first release); promote again is refused since it holds the stage anyway.
    const s = p.run(['release', 'show', V(1), '--json']).json();
    expect(s.breakGlassSignoffs).toEqual([expect.objectContaining({ by: 'erin', usedBy: s.promotions.at(-1).id })]);
  });

  it('release show lists the follow-up checklist as open until it is completed with `check`', () => {
    let s = p.run(['release', 'show', V(1), '--json']).json();
    expect(s.followUps).toEqual([{ stage: 'production', promotion: s.promotions.at(-1).id, item: 'postmortem', text: 'Write the post-incident review' }]);
    expect(p.run(['release', 'show', V(1)]).stdout).toContain(`OPEN: \`tollgate check ${V(1)} postmortem --to production\``);
    // status lists them too, for the stage.
    expect(at(p, LATER)(['status', V(1), '--to', 'production']).json().followUps).toEqual([expect.objectContaining({ item: 'postmortem', promotion: s.promotions.at(-1).id })]);
    expect(p.run(['status', V(1), '--to', 'production'], { env: { TOLLGATE_NOW: LATER } }).stdout).toContain('follow-up of the break-glass into production: postmortem');
    expect(at(p, LATER)(['status', V(1), '--to', 'staging']).json().followUps).toBeUndefined();
    const c = at(p, LATER)(['check', V(1), 'postmortem', '--to', 'production', '--as', 'erin']);
    expect(c.code).toBe(0);
    s = p.run(['release', 'show', V(1), '--json']).json();
    expect(s.followUps[0].done).toMatchObject({ by: 'erin', at: '2026-12-25T11:00:00.000Z' });
    expect(at(p, LATER)(['status', V(1), '--to', 'production']).json().followUps[0].done).toMatchObject({ by: 'erin' });
  });

  it('the attestation carries the mark and the signed break-glass, and verifies offline', () => {
    const out = p.run(['attest', V(1), '--stage', 'production', '-o', 'att.json']);
    expect(out.code).toBe(0);
    const bundle = JSON.parse(p.read('att.json'));
    const statement = JSON.parse(Buffer.from(bundle.payload, 'base64').toString('utf8'));
    expect(statement.predicate.breakGlass).toMatchObject({ signer: 'erin', reason: 'fraud spike: ship the fix' });
    expect(statement.predicate.promotion.breakGlass).toMatchObject({ signer: 'erin' });
    expect(statement.predicate.evidence.exceptions).toEqual([expect.objectContaining({ kind: 'break-glass', signer: 'erin', signature: expect.any(String) })]);
    p.write('server.pub', p.run(['keys', 'show', '--server']).stdout.trim() + '\n');
    const v = p.run(['verify', 'att.json', '--key', 'server.pub', '--json']);
    expect(v.code).toBe(0);
    expect(v.json().ok).toBe(true);
    expect(v.json().checked.join('\n')).toContain('BREAK-GLASS on the sign-off of erin as incident-commander');
  });
});

describe('waivers (accepted risk): a requirement waived by a role the gate allows, until its expiry', () => {
  let p: Project;
  const T0 = '2026-12-01T09:00:00Z';
  const T1 = '2026-12-02T09:00:00Z';
  const AFTER = '2026-12-09T09:00:01Z';

  it('without the waiver, production waits on the pen test', () => {
    p = setUp(2);
    for (const n of [1, 2]) expect(at(p, T0)(['promote', V(n), '--to', 'staging', '--as', 'dave']).code).toBe(0);
    for (const n of [1, 2]) expect(at(p, T0)(['signoff', V(n), '--to', 'production', '--role', 'security', '--as', 'carol']).code).toBe(0);
    const r = at(p, T0)(['status', V(1), '--to', 'production']);
    expect(r.code).toBe(3);
    expect(requirement(r.json(), 'security-review', 'pen-test').outcome).toBe('missing');
  });

  it('a waiver by a role not in the gate\'s `waivers` is refused, naming the role', () => {
    const r = at(p, T0)(['signoff', V(1), '--to', 'production', '--role', 'security', '--waive', 'security-review/pen-test', '--reason', 'x', '--expires', '7d', '--as', 'carol']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_NOT_ALLOWED');
    expect(r.json().error.message).toContain('that needs the role "model-risk"');
    expect(r.json().error.hint).toContain('frank');
  });

  it('a waiver needs a reason and an expiry of at most 90 days', () => {
    const base = ['signoff', V(1), '--to', 'production', '--role', 'model-risk', '--waive', 'security-review/pen-test', '--as', 'frank'];
    expect(at(p, T0)([...base, '--expires', '7d']).json().error.code).toBe('TG_USAGE');
    expect(at(p, T0)([...base, '--reason', 'known CVE, mitigated']).json().error.code).toBe('TG_USAGE');
    const long = at(p, T0)([...base, '--reason', 'known CVE, mitigated', '--expires', '120d']);
    expect(long.code).toBe(2);
    expect(long.json().error.message).toContain('at most 90d');
    const unknown = at(p, T0)(['signoff', V(1), '--to', 'production', '--role', 'model-risk', '--waive', 'security-review/nope', '--reason', 'x', '--expires', '7d', '--as', 'frank']);
    expect(unknown.json().error.code).toBe('TG_ITEM_UNKNOWN');
  });

  it('frank (model-risk) waives the pen test for 7 days: the requirement and its gate say `waived`, and the release is promotable', () => {
    const w = at(p, T0)(['signoff', V(1), '--to', 'production', '--role', 'model-risk', '--waive', 'security-review/pen-test', '--reason', 'known CVE-2026-1234, mitigated by WAF', '--expires', '7d', '--as', 'frank']);
    expect(w.code).toBe(0);
    expect(w.json().exception).toMatchObject({ kind: 'waiver', gate: 'security-review', requirement: 'pen-test', expiresAt: '2026-12-08T09:00:00.000Z' });
    const r = at(p, T1)(['status', V(1), '--to', 'production']);
    expect(r.code).toBe(0);
    const d = r.json();
    expect(d.promotable).toBe(true);
    const gate = d.gates.find((g: any) => g.id === 'security-review');
    expect(gate.outcome).toBe('waived');
    const req = requirement(d, 'security-review', 'pen-test');
    expect(req.outcome).toBe('waived');
    expect(req.waiver).toMatchObject({ by: 'frank', role: 'model-risk', reason: 'known CVE-2026-1234, mitigated by WAF', expiresAt: '2026-12-08T09:00:00.000Z', outcome: 'missing' });
    const text = p.run(['status', V(1), '--to', 'production'], { env: { TOLLGATE_NOW: T1 } }).stdout;
    expect(text).toContain('gate security-review: waived');
    expect(text).toContain('checklist pen-test: waived — waived by frank as model-risk');
    // Another release is not waived.
    expect(requirement(at(p, T1)(['status', V(2), '--to', 'production']).json(), 'security-review', 'pen-test').outcome).toBe('missing');
  });

  it('after the expiry the requirement is back to its real outcome', () => {
    const r = at(p, AFTER)(['status', V(1), '--to', 'production']);
    expect(r.code).toBe(3);
    expect(requirement(r.json(), 'security-review', 'pen-test').outcome).toBe('missing');
    expect(r.json().gates.find((g: any) => g.id === 'security-review').outcome).toBe('missing');
  });

  it('promoted within the waiver: the attestation lists the waiver, and verifies offline', () => {
    const r = at(p, T1)(['promote', V(1), '--to', 'production', '--as', 'dave']);
    expect(r.code).toBe(0);
    expect(r.json().promotion.breakGlass).toBeUndefined();
    expect(p.run(['attest', V(1), '--stage', 'production', '-o', 'att.json']).code).toBe(0);
    const statement = JSON.parse(Buffer.from(JSON.parse(p.read('att.json')).payload, 'base64').toString('utf8'));
    expect(statement.predicate.waivers).toEqual([
      expect.objectContaining({ gate: 'security-review', requirement: 'pen-test', by: 'frank', role: 'model-risk', reason: 'known CVE-2026-1234, mitigated by WAF', expiresAt: '2026-12-08T09:00:00.000Z' }),
    ]);
    p.write('server.pub', p.run(['keys', 'show', '--server']).stdout.trim() + '\n');
    const v = p.run(['verify', 'att.json', '--key', 'server.pub', '--json']);
    expect(v.code).toBe(0);
    expect(v.json().checked.join('\n')).toContain('1 requirement waived');
    // release show lists the waiver; the audit log has its event.
    expect(p.run(['release', 'show', V(1), '--json']).json().waivers).toEqual([expect.objectContaining({ gate: 'security-review', requirement: 'pen-test', by: 'frank' })]);
    expect(p.run(['audit', 'log', '--type', 'RequirementWaived', '--json']).json().events).toHaveLength(1);
  });

  it('`policy check` names an unknown waiver or break-glass role at its line and column', () => {
    p.write('bad.yaml', p.read('ops.yaml').replace('waivers: [model-risk]', 'waivers: [model-risks]').replace('role: incident-commander', 'role: incident-commanders'));
    const r = p.run(['policy', 'check', 'bad.yaml']);
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/bad\.yaml:\d+:\d+: stage "production": unknown role "incident-commanders" in "breakGlass"/);
    expect(out).toMatch(/bad\.yaml:\d+:\d+: gate "security-review": unknown role "model-risks" in "waivers"/);
  });
});
