/**
 * Incidents and delivery metrics end to end through the real binary (issue 12): `incident open`,
 * `resolve` and `list`, and `metrics --json` on a small history with known answers. Every command
 * runs at a fixed time (TOLLGATE_NOW), so every figure is known: they are worked out in the comments.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

afterAll(() => removeProjects());

const V = (n: number) => `fraud-detector@1.${n}.0`;

describe('incidents and delivery metrics from the CLI', () => {
  let p: Project;
  const at = (now: string, args: string[]) => p.run([...args, '--json'], { env: { TOLLGATE_NOW: now } });
  const ok = (now: string, args: string[]) => {
    const r = at(now, args);
    if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    return r.json();
  };
  let incident: string;

  it('a small history: three releases into production, an incident, two rollbacks', () => {
    p = createProject();
    const users = p.init.users as Record<string, string>;
    p.write(
      'ops.yaml',
      `apiVersion: tollgate/v1
kind: Policy
name: ops
roster:
  alice: { roles: [ml-engineer], key: "${users.alice}" }
  dave: { roles: [release-manager, admin], key: "${users.dave}" }
  ci: { roles: [validator], key: "${users.ci}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: ops
    stage: production
    checklist:
      - { id: runbook }
`,
    );
    ok('2027-01-04T08:00:00Z', ['policy', 'apply', 'ops.yaml', '--as', 'dave']);
    const manifest = p.read('release.yaml');
    p.write('r1.yaml', manifest.replace('version: 2.4.0', 'version: 1.1.0'));
    p.write('r2.yaml', manifest.replace('version: 2.4.0', 'version: 1.2.0') + 'commitTime: "2027-01-05T08:00:00Z"\n');
    p.write('r3.yaml', manifest.replace('version: 2.4.0', 'version: 1.3.0') + 'unplanned: true   # a hotfix\n');

    // Nobody holds production yet: an incident there has no release to blame.
    const empty = at('2027-01-04T08:30:00Z', ['incident', 'open', 'fraud-detector', '--stage', 'production', '--reason', 'x', '--as', 'alice']);
    expect(empty.code).toBe(2);
    expect(empty.json().error.code).toBe('TG_STAGE_EMPTY');

    // Week of 2027-01-04. 1.1.0: created 09:00, staging 10:00, blocked by ops at 11:00, runbook 11:30, production 12:00.
    ok('2027-01-04T09:00:00Z', ['release', 'create', 'r1.yaml', '--as', 'alice']);
    ok('2027-01-04T10:00:00Z', ['promote', V(1), '--to', 'staging', '--as', 'dave']);
    expect(at('2027-01-04T11:00:00Z', ['promote', V(1), '--to', 'production', '--as', 'dave']).code).toBe(3);
    ok('2027-01-04T11:30:00Z', ['check', V(1), 'runbook', '--to', 'production', '--as', 'alice']);
    ok('2027-01-04T12:00:00Z', ['promote', V(1), '--to', 'production', '--as', 'dave']);
    // 1.2.0: committed 01-05 08:00, created 09:00, staging 10:00, runbook 12:00, production 01-06 10:00.
    const created = ok('2027-01-05T09:00:00Z', ['release', 'create', 'r2.yaml', '--as', 'alice']);
    expect(created.release).toBe(V(2));
    ok('2027-01-05T10:00:00Z', ['promote', V(2), '--to', 'staging', '--as', 'dave']);
    ok('2027-01-05T12:00:00Z', ['check', V(2), 'runbook', '--to', 'production', '--as', 'alice']);
    ok('2027-01-06T10:00:00Z', ['promote', V(2), '--to', 'production', '--as', 'dave']);
    // An incident on 1.2.0 at 11:00 (by ci, who holds only validator: any member may), a rollback at 11:30, resolved 13:00.
    const opened = ok('2027-01-06T11:00:00Z', ['incident', 'open', 'fraud-detector', '--stage', 'production', '--reason', 'false positives doubled', '--as', 'ci']);
    expect(opened).toMatchObject({ subject: 'fraud-detector', stage: 'production', release: V(2), open: true, openedBy: 'ci', openedAt: '2027-01-06T11:00:00.000Z' });
    incident = opened.id;
    ok('2027-01-06T11:30:00Z', ['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'false positives', '--as', 'dave']);
    expect(ok('2027-01-06T12:00:00Z', ['incident', 'list', '--open']).incidents.map((i: any) => i.id)).toEqual([incident]);
    const resolved = ok('2027-01-06T13:00:00Z', ['incident', 'resolve', incident, '--note', 'rolled back to 1.1.0', '--as', 'dave']);
    expect(resolved).toMatchObject({ id: incident, open: false, resolvedBy: 'dave', resolvedAt: '2027-01-06T13:00:00.000Z', note: 'rolled back to 1.1.0' });
    // Week of 2027-01-11. 1.3.0 (unplanned): created 09:00, staging 10:00, runbook 10:30, production 11:00, rolled back 12:00.
    ok('2027-01-11T09:00:00Z', ['release', 'create', 'r3.yaml', '--as', 'alice']);
    ok('2027-01-11T10:00:00Z', ['promote', V(3), '--to', 'staging', '--as', 'dave']);
    ok('2027-01-11T10:30:00Z', ['check', V(3), 'runbook', '--to', 'production', '--as', 'alice']);
    ok('2027-01-11T11:00:00Z', ['promote', V(3), '--to', 'production', '--as', 'dave']);
    ok('2027-01-11T12:00:00Z', ['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'latency', '--as', 'dave']);
  });

  it('incident resolve: an incident resolved already, or unknown, is refused with its code', () => {
    const again = at('2027-01-11T13:00:00Z', ['incident', 'resolve', incident, '--as', 'alice']);
    expect(again.code).toBe(2);
    expect(again.json().error.code).toBe('TG_INCIDENT_RESOLVED');
    const unknown = at('2027-01-11T13:00:00Z', ['incident', 'resolve', 'inc_123456789abc', '--as', 'alice']);
    expect(unknown.code).toBe(2);
    expect(unknown.json().error.code).toBe('TG_INCIDENT_NOT_FOUND');
    expect(ok('2027-01-11T13:00:00Z', ['incident', 'list', '--open']).incidents).toEqual([]);
    expect(ok('2027-01-11T13:00:00Z', ['incident', 'list', '--subject', 'fraud-detector']).incidents).toHaveLength(1);
  });

  it('metrics --json: every figure as worked out by hand', () => {
    const m = ok('2027-01-12T00:00:00Z', ['metrics', '--since', '2027-01-04']);
    // Deployments into production: 1.1.0 (01-04 12:00), 1.2.0 (01-06 10:00), 1.3.0 (01-11 11:00), over 2 weeks.
    // Lead times: 3h (creation 09:00), 26h (commit 01-05 08:00), 2h: median 3h.
    // Failed: 1.2.0 (incident on it, then rolled back) and 1.3.0 (rolled back): 2 of 3.
    // Restorations: the incident on 1.2.0, 11:00 → 13:00 (its rollback is not counted apart), and 1.3.0's rollback, 11:00 → 12:00: median 1.5h.
    // Rework: 1.3.0 (unplanned: true): 1 of 3.
    // Gate ops: waited from reaching staging to the runbook: 1.5h, 2h, 0.5h (median 1.5h); blocked 1 of the 4 attempts into production.
    const figures = {
      deployments: 3,
      deploymentFrequency: 1.5,
      leadTimeSeconds: 10_800,
      leadTimes: 3,
      changeFailureRate: 2 / 3,
      failedDeployments: 2,
      timeToRestoreSeconds: 5400,
      restorations: 2,
      reworkRate: 1 / 3,
      unplannedDeployments: 1,
      breakGlassCount: 0,
      gates: [
        { id: 'ops', stage: 'production', waitSeconds: 5400, waits: 3, attempts: 4, blocked: 1, blockRate: 0.25 },
        { id: 'stage', stage: 'production', waitSeconds: null, waits: 0, attempts: 4, blocked: 0, blockRate: 0 },
      ],
    };
    expect(m).toEqual({
      stage: 'production',
      subject: null,
      since: '2027-01-04T00:00:00.000Z',
      from: '2027-01-04T00:00:00.000Z',
      to: '2027-01-12T00:00:00.000Z',
      weekCount: 2,
      ...figures,
      subjects: [{ subject: 'fraud-detector', ...figures }],
      weeks: [
        {
          week: '2027-01-04',
          from: '2027-01-04T00:00:00.000Z',
          to: '2027-01-11T00:00:00.000Z',
          deployments: 2,
          deploymentFrequency: 2,
          leadTimeSeconds: (10_800 + 93_600) / 2,
          leadTimes: 2,
          changeFailureRate: 0.5,
          failedDeployments: 1,
          timeToRestoreSeconds: 7200,
          restorations: 1,
          reworkRate: 0,
          unplannedDeployments: 0,
          breakGlassCount: 0,
          gates: [
            { id: 'ops', stage: 'production', waitSeconds: 6300, waits: 2, attempts: 3, blocked: 1, blockRate: 1 / 3 },
            { id: 'stage', stage: 'production', waitSeconds: null, waits: 0, attempts: 3, blocked: 0, blockRate: 0 },
          ],
        },
        {
          week: '2027-01-11',
          from: '2027-01-11T00:00:00.000Z',
          to: '2027-01-18T00:00:00.000Z',
          deployments: 1,
          deploymentFrequency: 1,
          leadTimeSeconds: 7200,
          leadTimes: 1,
          changeFailureRate: 1,
          failedDeployments: 1,
          timeToRestoreSeconds: 3600,
          restorations: 1,
          reworkRate: 1,
          unplannedDeployments: 1,
          breakGlassCount: 0,
          gates: [
            { id: 'ops', stage: 'production', waitSeconds: 1800, waits: 1, attempts: 1, blocked: 0, blockRate: 0 },
            { id: 'stage', stage: 'production', waitSeconds: null, waits: 0, attempts: 1, blocked: 0, blockRate: 0 },
          ],
        },
      ],
    });
  });

  it('metrics --stage staging, --subject, and the human table', () => {
    const staging = ok('2027-01-12T00:00:00Z', ['metrics', '--since', '2027-01-04', '--stage', 'staging', '--subject', 'fraud-detector']);
    // Into staging: three promotions, none rolled back there; lead times 1h each.
    expect(staging).toMatchObject({ stage: 'staging', subject: 'fraud-detector', deployments: 3, failedDeployments: 0, leadTimeSeconds: 3600, restorations: 0 });
    expect(ok('2027-01-12T00:00:00Z', ['metrics', '--since', '2027-01-04', '--subject', 'other']).deployments).toBe(0);
    const text = p.run(['metrics', '--since', '2027-01-04'], { env: { TOLLGATE_NOW: '2027-01-12T00:00:00Z' } });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('delivery into production, 2027-01-04T00:00:00.000Z to 2027-01-12T00:00:00.000Z (2 weeks)');
    expect(text.stdout).toMatch(/overall\s+3\s+1\.5\s+3h\s+66\.7%\s+1h 30m\s+33\.3%\s+0/);
    expect(text.stdout).toMatch(/production\/ops\s+1h 30m\s+\(3\)\s+1\/4\s+25\.0%/);
    const bad = at('2027-01-12T00:00:00Z', ['metrics', '--since', 'last week']);
    expect(bad.code).toBe(2);
    expect(bad.json().error.code).toBe('TG_USAGE');
  });
});
