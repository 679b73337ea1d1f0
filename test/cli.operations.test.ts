/**
 * Delivery operations, end to end through the real binary on real files (issue 12): who may promote
 * and roll back a stage, a rollback that holds its release out until someone clears it, and soak.
 * Time is fixed per command with TOLLGATE_NOW, so the record's times are known.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { at, createProject, opsProject, removeProjects, requirement, rosterYaml, V, type Project } from './helpers/cli.js';

afterAll(() => removeProjects());

const opsUp = (stages: string, releases: number, roles?: Record<string, string>): Project => opsProject(`stages:\n${stages}\ngates: []\n`, releases, roles);

describe('who may act: promoters and rollback per stage', () => {
  const stages = `  - name: staging
  - name: production
    after: staging
    promoters: [release-manager]
    rollback: [release-manager, security]`;
  let p: Project;

  it('any member promotes into a stage that names no promoters; a CI identity with only validator is refused production, naming the role', () => {
    p = opsUp(stages, 2);
    expect(p.run(['promote', V(1), '--to', 'staging', '--as', 'ci']).code).toBe(0);
    const r = p.run(['promote', V(1), '--to', 'production', '--as', 'ci', '--json']);
    expect(r.code).toBe(2);
    const e = r.json().error;
    expect(e.code).toBe('TG_NOT_ALLOWED');
    expect(e.message).toBe('ci may not promote into production: that needs the role "release-manager" (the policy\'s "promoters" for production); ci holds validator');
    expect(e.hint).toContain('Ask dave');
    // Nothing was promoted.
    expect(p.run(['release', 'show', V(1), '--json']).json().holds).toEqual(['staging']);
  });

  it('the release manager promotes', () => {
    expect(p.run(['promote', V(1), '--to', 'production', '--as', 'dave']).code).toBe(0);
    expect(p.run(['promote', V(2), '--to', 'staging', '--as', 'alice']).code).toBe(0);
    expect(p.run(['promote', V(2), '--to', 'production', '--as', 'dave']).code).toBe(0);
  });

  it('rollback: an ml-engineer is refused naming both roles; security may', () => {
    const r = p.run(['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'p95 latency doubled', '--as', 'alice', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_NOT_ALLOWED');
    expect(r.json().error.message).toContain('alice may not roll back production: that needs the role "release-manager" or "security"');
    const ok = p.run(['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'p95 latency doubled', '--as', 'carol', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ from: V(2), to: V(1) });
  });

  it('`policy check` names a role nobody holds at its line and column', () => {
    p.write('bad.yaml', p.read('ops.yaml').replace('promoters: [release-manager]', 'promoters: [release-managers]'));
    const r = p.run(['policy', 'check', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('bad.yaml:14:17: stage "production": unknown role "release-managers" in "promoters"');
  });
});

describe('rollback that holds, until `release clear`', () => {
  const stages = `  - name: staging
  - name: production
    after: staging`;
  let p: Project;
  const T0 = '2026-03-02T09:00:00Z';
  const T1 = '2026-03-02T10:00:00Z';
  const T2 = '2026-03-02T11:00:00Z';
  const T3 = '2026-03-02T12:00:00Z';

  it('rolls production back from 1.2.0 to 1.1.0 in one command, with the reason, and says the release is held', () => {
    p = opsUp(stages, 3);
    for (const n of [1, 2]) {
      expect(at(p, T0)(['promote', V(n), '--to', 'staging', '--as', 'dave']).code).toBe(0);
      expect(at(p, T0)(['promote', V(n), '--to', 'production', '--as', 'dave']).code).toBe(0);
    }
    const r = p.run(['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'precision dropped', '--as', 'dave'], { env: { TOLLGATE_NOW: T1 } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rolled back production: fraud-detector@1.2.0 → fraud-detector@1.1.0');
    expect(r.stdout).toContain(`fraud-detector@1.2.0 is held out of production`);
    expect(p.run(['release', 'show', V(1), '--json']).json().holds).toEqual(['production']);
  });

  it('status of the rolled-back release: held (exit 3), saying when, by whom and why, and how to clear it', () => {
    const r = at(p, T2)(['status', V(2), '--to', 'production']);
    expect(r.code).toBe(3);
    const d = r.json();
    expect(d.promotable).toBe(false);
    const stageGate = d.gates.find((g: any) => g.id === 'stage');
    expect(stageGate.outcome).toBe('failed');
    const hold = requirement(d, 'stage', 'hold');
    expect(hold).toMatchObject({ kind: 'stage', outcome: 'failed' });
    expect(hold.reason).toContain(`rolled back out of production at 2026-03-02T10:00:00.000Z by dave ("precision dropped")`);
    expect(hold.reason).toContain(`tollgate release clear ${V(2)} --stage production`);
    expect(hold.reason).toContain('roles: release-manager, admin');
    // Staging is untouched: the release still went through it.
    expect(requirement(d, 'stage', 'order').outcome).toBe('satisfied');
  });

  it('release show and the report say it was rolled back, when, by whom and why; the promotion is a failed change', () => {
    const show = p.run(['release', 'show', V(2), '--json']);
    expect(show.code).toBe(0);
    const s = show.json();
    expect(s.rollbacks).toEqual([
      { stage: 'production', at: '2026-03-02T10:00:00.000Z', by: 'dave', reason: 'precision dropped', rollback: expect.any(String), failedPromotion: expect.any(String), held: true },
    ]);
    const pulled = s.promotions.find((x: any) => x.id === s.rollbacks[0].failedPromotion);
    expect(pulled).toMatchObject({ stage: 'production', kind: 'promotion', rolledBack: { at: '2026-03-02T10:00:00.000Z', by: 'dave', reason: 'precision dropped' } });
    const text = p.run(['release', 'show', V(2)]).stdout;
    expect(text).toContain('ROLLED BACK at 2026-03-02T10:00:00.000Z by dave: "precision dropped" (a failed change)');
    expect(text).toContain('HELD out of production');
    const rep = p.run(['report', V(2), '-o', 'report.html']);
    expect(rep.code).toBe(0);
    const html = p.read('report.html');
    expect(html).toContain('<h2>Rolled back</h2>');
    expect(html).toMatch(/<td>production<\/td><td>2026-03-02T10:00:00.000Z<\/td><td>dave<\/td><td>precision dropped<\/td><td>held out of production until cleared<\/td>/);
  });

  it('the promotion is refused while held; an ml-engineer may not clear it, naming the roles; the release manager clears it with a reason', () => {
    const blocked = at(p, T2)(['promote', V(2), '--to', 'production', '--as', 'dave']);
    expect(blocked.code).toBe(3);
    expect(blocked.json().error.message).toContain('stage/hold failed');
    const refused = at(p, T2)(['release', 'clear', V(2), '--stage', 'production', '--reason', 'fixed', '--as', 'alice']);
    expect(refused.code).toBe(2);
    expect(refused.json().error.code).toBe('TG_NOT_ALLOWED');
    expect(refused.json().error.message).toContain('alice may not clear a rollback hold on production: that needs the role "release-manager" or "admin"');
    const ok = at(p, T2)(['release', 'clear', V(2), '--stage', 'production', '--reason', 'threshold recalibrated', '--as', 'dave']);
    expect(ok.code).toBe(0);
    expect(ok.json().cleared).toHaveLength(1);
    expect(ok.json().cleared[0].cleared).toEqual({ by: 'dave', at: '2026-03-02T11:00:00.000Z', reason: 'threshold recalibrated' });
    const again = at(p, T2)(['release', 'clear', V(2), '--stage', 'production', '--reason', 'twice', '--as', 'dave']);
    expect(again.code).toBe(2);
    expect(again.json().error.code).toBe('TG_NOT_HELD');
  });

  it('once cleared, status says so and the release may be promoted again; the log vouches for every row', () => {
    const d = at(p, T3)(['status', V(2), '--to', 'production']);
    expect(d.code).toBe(0);
    expect(requirement(d.json(), 'stage', 'hold')).toMatchObject({ outcome: 'satisfied' });
    expect(requirement(d.json(), 'stage', 'hold').reason).toContain('cleared by dave at 2026-03-02T11:00:00.000Z ("threshold recalibrated")');
    expect(p.run(['release', 'show', V(2), '--json']).json().rollbacks[0]).toMatchObject({ held: false, cleared: { by: 'dave' } });
    const audit = p.run(['audit', 'verify', '--json']);
    expect(audit.code).toBe(0);
    expect(audit.json().ok).toBe(true);
  });

  it('a release rolled back out of staging is held out of production too, and its staging promotion no longer satisfies the order', () => {
    expect(at(p, T3)(['promote', V(3), '--to', 'staging', '--as', 'dave']).code).toBe(0);
    expect(at(p, T3)(['rollback', 'fraud-detector', '--stage', 'staging', '--reason', 'schema drift', '--as', 'carol']).code).toBe(0);
    const d = at(p, T3)(['status', V(3), '--to', 'production']).json();
    expect(requirement(d, 'stage', 'hold').outcome).toBe('failed');
    expect(requirement(d, 'stage', 'hold').reason).toContain('held out of staging, which production comes after,');
    expect(requirement(d, 'stage', 'order').outcome).toBe('failed');
    expect(requirement(d, 'stage', 'order').reason).toContain('was rolled back out of staging at 2026-03-02T12:00:00.000Z; a rolled-back promotion does not count');
    // Cleared, the old staging promotion still does not count: it must go through staging again.
    expect(at(p, T3)(['release', 'clear', V(3), '--stage', 'staging', '--reason', 'contract updated', '--as', 'dave']).code).toBe(0);
    const after = at(p, T3)(['status', V(3), '--to', 'production']).json();
    expect(requirement(after, 'stage', 'hold').outcome).toBe('satisfied');
    expect(requirement(after, 'stage', 'order').outcome).toBe('failed');
    expect(at(p, T3)(['promote', V(3), '--to', 'staging', '--as', 'dave']).code).toBe(0);
    expect(at(p, T3)(['promote', V(3), '--to', 'production', '--as', 'dave']).code).toBe(0);
    // The attestation carries the holds the decision read, and verifies offline.
    expect(p.run(['attest', V(3), '--stage', 'production', '-o', 'att.json']).code).toBe(0);
    expect(JSON.parse(Buffer.from(JSON.parse(p.read('att.json')).payload, 'base64').toString()).predicate.holds.map((h: any) => `${h.version}/${h.stage}`)).toEqual(['1.2.0/production', '1.3.0/staging']);
    const key = p.run(['keys', 'show', '--server']).stdout.trim();
    expect(p.run(['verify', 'att.json', '--key', key]).code).toBe(0);
  });

  it('a hold edited behind Tollgate\'s back (cleared by hand) stops the decision: exit 4, TG_STATE_TAMPERED naming the row', () => {
    const q = p.clone();
    const db = q.openDb();
    db.prepare("UPDATE stage_holds SET cleared_by = 'mallory', cleared_at = '2026-03-02T12:00:00.000Z', clear_reason = 'x' WHERE cleared_at IS NULL").run();
    // The first rollback's hold was cleared by dave; forge that it was cleared by someone else.
    db.prepare("UPDATE stage_holds SET cleared_by = 'mallory' WHERE stage = 'production'").run();
    db.close();
    const r = q.run(['status', V(2), '--to', 'production', '--json']);
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe('TG_STATE_TAMPERED');
    expect(r.json().error.message).toMatch(/^stage_holds \S+ is not what the audit log vouches for \(edited\)/);
    const audit = q.run(['audit', 'verify', '--json']);
    expect(audit.code).toBe(4);
    expect(audit.json().firstBad).toMatchObject({ table: 'stage_holds', what: 'edited' });
  });
});

describe('soak: the release must have held the stage before for a while', () => {
  it('blocks until the soak is over, saying when it will be allowed, then lets it through', () => {
    const p = opsUp(`  - name: staging
  - name: production
    after: staging
    soak: 24h`, 1);
    expect(at(p, '2026-03-02T09:00:00Z')(['promote', V(1), '--to', 'staging', '--as', 'dave']).code).toBe(0);
    const early = at(p, '2026-03-02T21:30:00Z')(['status', V(1), '--to', 'production']);
    expect(early.code).toBe(3);
    const soak = requirement(early.json(), 'stage', 'soak');
    expect(soak).toMatchObject({ kind: 'stage', outcome: 'missing', allowedAt: '2026-03-03T09:00:00.000Z' });
    expect(soak.reason).toBe(`${V(1)} has held staging for 12h30m of the 24h soak; it may enter production from 2026-03-03T09:00:00.000Z`);
    const text = p.run(['status', V(1), '--to', 'production'], { env: { TOLLGATE_NOW: '2026-03-02T21:30:00Z' } });
    expect(text.stdout).toContain('it may enter production from 2026-03-03T09:00:00.000Z');
    const blocked = at(p, '2026-03-03T08:59:59Z')(['promote', V(1), '--to', 'production', '--as', 'dave']);
    expect(blocked.code).toBe(3);
    expect(blocked.json().error.message).toContain('stage/soak missing');
    const ok = at(p, '2026-03-03T09:00:00Z')(['promote', V(1), '--to', 'production', '--as', 'dave']);
    expect(ok.code).toBe(0);
    expect(requirement(ok.json(), 'stage', 'soak')).toMatchObject({ outcome: 'satisfied' });
  });
});

describe('recurring freeze windows: cron in a time zone, across a change of daylight saving time', () => {
  it('the weekend freeze starts at 16:00 Berlin time before and after the clocks go forward, and ends Monday 08:00 local', () => {
    const p = opsUp(`  - name: staging
    freeze:
      - "2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"
      - { cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berlin }`, 1);
    const freezeAt = (now: string) => requirement(at(p, now)(['status', V(1), '--to', 'staging']).json(), 'stage', 'freeze');
    // CET (UTC+1), before the change on Sunday 29 March: 16:00 local is 15:00Z.
    expect(freezeAt('2026-03-27T14:59:59Z').outcome).toBe('satisfied');
    const open = freezeAt('2026-03-27T15:00:00Z');
    expect(open).toMatchObject({ outcome: 'failed', allowedAt: '2026-03-30T06:00:00.000Z' });
    expect(open.reason).toBe('staging is frozen from 2026-03-27T15:00:00.000Z until 2026-03-30T06:00:00.000Z (cron "0 16 * * FRI" in Europe/Berlin for 64h); promote after the freeze ends');
    // CEST (UTC+2), after the change: 16:00 local is 14:00Z.
    expect(freezeAt('2026-04-03T14:30:00Z')).toMatchObject({ outcome: 'failed', allowedAt: '2026-04-06T06:00:00.000Z' });
    // Monday 08:00 CEST (06:00Z) the window is over.
    const blocked = at(p, '2026-03-30T05:59:59Z')(['promote', V(1), '--to', 'staging', '--as', 'dave']);
    expect(blocked.code).toBe(3);
    expect(blocked.json().error.message).toContain('stage/freeze failed');
    expect(at(p, '2026-03-30T06:00:00Z')(['promote', V(1), '--to', 'staging', '--as', 'dave']).code).toBe(0);
  });

  it('policy check refuses a cron that cannot fire and a zone that does not exist, at their positions', () => {
    const p = createProject();
    p.write('bad.yaml', `apiVersion: tollgate/v1\nkind: Policy\nname: ops\n${rosterYaml(p)}\nstages:\n  - name: staging\n    freeze:\n      - { cron: "0 25 * * FRI", duration: 64h, timezone: Europe/Berlin }\n      - { cron: "0 16 * * FRI", duration: 64h, timezone: Mars/Olympus }\ngates: []\n`);
    const r = p.run(['policy', 'check', 'bad.yaml']);
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/bad\.yaml:13:9: stage "staging", freeze\[0\]: invalid cron expression "0 25 \* \* FRI"/);
    expect(out).toContain('bad.yaml:14:9: stage "staging", freeze[1]: unknown time zone "Mars/Olympus"');
  });
});
