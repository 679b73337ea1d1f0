/**
 * The delivery metrics at their edges, event by event: the bounds of the period, events that lack a
 * field or carry one of the wrong type (the log is read as it is, so they are skipped, never guessed
 * at), and the bookkeeping a later event relies on (arrivals, moves, open incidents). The known-answer
 * histories (test/metrics.history.test.ts) cover the figures at scale; these pin each rule alone.
 */
import { describe, expect, it } from 'vitest';
import { computeMetrics, describeSeconds, type MetricsEvent, type MetricsOptions } from './metrics.js';

const T0 = Date.parse('2026-11-30T00:00:00Z'); // a Monday
/** The time `hours` after T0, as the log writes it. */
const h = (hours: number): string => new Date(T0 + hours * 3_600_000).toISOString();
const ev = (hours: number, type: string, data: Record<string, unknown>): MetricsEvent => ({ at: h(hours), type, data });
const opts = (o: Partial<MetricsOptions> = {}): MetricsOptions => ({ stage: 'production', from: h(0), to: h(100), ...o });

const created = (hours: number, release = 'a@1', more: Record<string, unknown> = {}) => ev(hours, 'ReleaseCreated', { release, ...more });
const promoted = (hours: number, id: string | undefined, stage = 'production', more: Record<string, unknown> = {}) =>
  ev(hours, 'ReleasePromoted', { ...(id === undefined ? {} : { id }), release: 'a@1', stage, gates: [], ...more });

describe('describeSeconds', () => {
  it('a whole unit is that unit alone; under a minute is seconds; a negative span keeps its sign', () => {
    expect(describeSeconds(60)).toBe('1m');
    expect(describeSeconds(59)).toBe('59s');
    expect(describeSeconds(3600)).toBe('1h');
    expect(describeSeconds(86_400 * 2 + 5)).toBe('2d 5s');
    expect(describeSeconds(-90)).toBe('-1m 30s');
    expect(describeSeconds(0.4)).toBe('0s');
  });
});

describe('the period', () => {
  const log = [created(0), promoted(10, 'p1'), promoted(20, 'p2', 'production', { release: 'a@2' }), promoted(30, 'p3', 'production', { release: 'a@3' })];

  it('an event exactly at `from`, at `since` or at `to` counts; one before `since` does not, though `from` is earlier', () => {
    expect(computeMetrics(log, opts({ from: h(10), to: h(30) })).deployments).toBe(3);
    expect(computeMetrics(log, opts({ from: h(0), since: h(20), to: h(30) })).deployments).toBe(2);
    expect(computeMetrics(log, opts({ from: h(0), since: h(21), to: h(29) })).deployments).toBe(0);
    expect(computeMetrics(log, opts({ from: h(11), to: h(29) })).deployments).toBe(1);
  });

  it('blocked attempts before `since` are not counted', () => {
    const blocked = [ev(5, 'PromotionBlocked', { release: 'a@1', stage: 'production', unmet: ['approvals/security unmet'] }), promoted(10, 'p1')];
    const m = computeMetrics(blocked, opts({ since: h(6) }));
    expect(m.gates).toEqual([]);
    expect(computeMetrics(blocked, opts()).gates).toEqual([{ id: 'approvals', stage: 'production', waitSeconds: null, waits: 0, attempts: 2, blocked: 1, blockRate: 0.5 }]);
  });

  it('lists a subject from its first event even when nothing of it counts', () => {
    expect(computeMetrics([created(1, 'b@1')], opts()).subjects.map((s) => [s.subject, s.deployments])).toEqual([['b', 0]]);
  });
});

describe('events missing a field, or with one of the wrong type, are skipped', () => {
  it('a release named by a number, a stage or gate missing, a promotion without release or stage', () => {
    const m = computeMetrics(
      [
        created(0),
        ev(1, 'ReleaseCreated', { release: 7 }),
        ev(2, 'ChecklistItemCompleted', { release: 'a@1', stage: 'production' }),
        ev(2, 'SignoffRecorded', { release: 'a@1', gate: 'approvals' }),
        ev(3, 'ReleasePromoted', { subject: 'a', stage: 'production', id: 'px' }),
        ev(3, 'ReleasePromoted', { release: 'a@1', id: 'py' }),
        ev(4, 'ValidationRecorded', { release: 'a@1', stage: 'production', gate: 'tests' }),
        promoted(6, 'p1', 'production', { gates: [null, { outcome: 'satisfied' }, { id: 3 }, { id: 'tests', outcome: 'satisfied' }] }),
        ev(7, 'SomethingElse', { release: 'a@1', stage: 'production' }),
      ],
      opts(),
    );
    expect(m.subjects.map((s) => s.subject)).toEqual(['a']);
    expect(m.deployments).toBe(1);
    // The wait on tests runs from creation (the stage-less promotion is no arrival) to its evidence.
    expect(m.gates).toEqual([{ id: 'tests', stage: 'production', waitSeconds: 4 * 3600, waits: 1, attempts: 1, blocked: 0, blockRate: 0 }]);
    expect(m.leadTimeSeconds).toBe(6 * 3600);
  });

  it('a commit time that is not a string is ignored: the lead time runs from creation', () => {
    expect(computeMetrics([created(0, 'a@1', { commitTime: 12345 }), promoted(5, 'p1')], opts()).leadTimeSeconds).toBe(5 * 3600);
    expect(computeMetrics([created(2, 'a@1', { commitTime: h(1) }), promoted(5, 'p1')], opts()).leadTimeSeconds).toBe(4 * 3600);
  });

  it('a blocked attempt counts each gate once, from unmet requirements written gate/requirement only', () => {
    const m = computeMetrics(
      [ev(1, 'PromotionBlocked', { release: 'a@1', stage: 'production', unmet: ['approvals/security unmet', 'approvals/qa unmet', 'tests', 7, null] }), ev(1, 'PromotionBlocked', { release: 'a@1', unmet: ['x/y'] })],
      opts(),
    );
    expect(m.gates).toEqual([{ id: 'approvals', stage: 'production', waitSeconds: null, waits: 0, attempts: 1, blocked: 1, blockRate: 1 }]);
  });

  it('a promotion of a release never created is a deployment with no lead time and no wait; break-glass must be a record, not null', () => {
    const m = computeMetrics(
      [ev(1, 'SignoffRecorded', { release: 'a@1', stage: 'production', gate: 'approvals' }), promoted(2, 'p1', 'production', { breakGlass: null, gates: [{ id: 'approvals', outcome: 'satisfied' }] })],
      opts(),
    );
    expect(m).toMatchObject({ deployments: 1, leadTimes: 0, leadTimeSeconds: null, breakGlassCount: 0, unplannedDeployments: 0 });
    expect(m.gates).toEqual([{ id: 'approvals', stage: 'production', waitSeconds: null, waits: 0, attempts: 1, blocked: 0, blockRate: 0 }]);
  });
});

describe('waits', () => {
  it('run from the last arrival in another stage to the gate\'s last evidence, of any kind, and only for gates passed satisfied', () => {
    const m = computeMetrics(
      [
        created(0),
        promoted(2, 'p0', 'staging'),
        ev(5, 'SignoffRecorded', { release: 'a@1', stage: 'production', gate: 'approvals' }),
        ev(6, 'ValidationRecorded', { release: 'a@1', stage: 'production', gate: 'tests' }),
        ev(7, 'ChecklistItemCompleted', { release: 'a@1', stage: 'production', gate: 'waived' }),
        promoted(9, 'p1', 'production', { gates: [{ id: 'approvals', outcome: 'satisfied' }, { id: 'tests', outcome: 'satisfied' }, { id: 'waived', outcome: 'waived' }] }),
      ],
      opts(),
    );
    expect(m.gates.map((g) => [g.id, g.waitSeconds, g.waits])).toEqual([
      ['approvals', 3 * 3600, 1],
      ['tests', 4 * 3600, 1],
      ['waived', null, 0],
    ]);
  });

  it('a release put back into the stage: its own earlier arrival there does not start the wait, and it has no second lead time', () => {
    const m = computeMetrics(
      [
        created(0),
        promoted(1, 'p0', 'staging'),
        promoted(3, 'p1'),
        ev(4, 'ReleaseRolledBack', { id: 'r1', subject: 'a', stage: 'production', failedPromotion: 'p1' }),
        ev(6, 'SignoffRecorded', { release: 'a@1', stage: 'production', gate: 'approvals' }),
        promoted(8, 'p2', 'production', { gates: [{ id: 'approvals', outcome: 'satisfied' }] }),
      ],
      opts(),
    );
    expect(m).toMatchObject({ deployments: 2, leadTimes: 1, leadTimeSeconds: 3 * 3600, failedDeployments: 1, restorations: 1, timeToRestoreSeconds: 3600 });
    expect(m.gates[0]).toMatchObject({ id: 'approvals', waitSeconds: 5 * 3600, waits: 1 });
  });

  it('gates are listed by stage, then by id', () => {
    const g = (id: string) => ({ id, outcome: 'satisfied' });
    const m = computeMetrics(
      [created(0), promoted(1, 'p0', 'staging', { gates: [g('zeta'), g('alpha')] }), promoted(2, 'p1', 'production', { gates: [g('mid'), g('beta'), g('mid2')] })],
      opts(),
    );
    expect(m.gates.map((x) => `${x.stage}/${x.id}`)).toEqual(['production/beta', 'production/mid', 'production/mid2', 'staging/alpha', 'staging/zeta']);
  });
});

describe('failures and restorations', () => {
  it('a rollback that names no promotion, or one unknown, fails nothing and restores nothing', () => {
    const m = computeMetrics(
      [created(0), promoted(1, undefined), ev(2, 'ReleaseRolledBack', { id: 'r1', subject: 'a', stage: 'production' }), ev(3, 'ReleaseRolledBack', { id: 'r2', subject: 'a', stage: 'production', failedPromotion: 'nope' })],
      opts(),
    );
    expect(m).toMatchObject({ deployments: 1, failedDeployments: 0, restorations: 0, timeToRestoreSeconds: null });
  });

  it('a rollback of a rollback is restored from the first rollback', () => {
    const m = computeMetrics(
      [created(0), promoted(1, 'p1'), ev(2, 'ReleaseRolledBack', { id: 'r1', subject: 'a', stage: 'production', failedPromotion: 'p1' }), ev(5, 'ReleaseRolledBack', { id: 'r2', subject: 'a', stage: 'production', failedPromotion: 'r1' })],
      opts(),
    );
    expect(m).toMatchObject({ failedDeployments: 1, restorations: 2 });
    expect(m.timeToRestoreSeconds).toBe((3600 + 3 * 3600) / 2);
  });

  it('a rollback or an incident in another stage neither fails nor restores a deployment of this one', () => {
    const m = computeMetrics(
      [
        created(0),
        promoted(1, 'p1'),
        ev(2, 'ReleaseRolledBack', { id: 'r1', subject: 'a', stage: 'staging', failedPromotion: 'p1' }),
        ev(3, 'IncidentOpened', { id: 'i1', release: 'a@1', stage: 'staging', promotion: 'p1' }),
        ev(4, 'IncidentResolved', { id: 'i1', release: 'a@1' }),
      ],
      opts(),
    );
    expect(m).toMatchObject({ failedDeployments: 0, restorations: 0 });
  });

  it('an incident without an id or a stage is skipped; resolving one never opened restores nothing', () => {
    const m = computeMetrics(
      [
        created(0),
        ev(1, 'IncidentOpened', { release: 'a@1', stage: 'production' }),
        ev(1, 'IncidentOpened', { id: 'i1', release: 'a@1' }),
        promoted(2, 'p1'),
        ev(3, 'IncidentResolved', { id: 'i9', subject: 'a' }),
        ev(3, 'IncidentResolved', { subject: 'a' }),
      ],
      opts(),
    );
    expect(m).toMatchObject({ deployments: 1, unplannedDeployments: 0, failedDeployments: 0, restorations: 0 });
  });

  it('an open incident makes a promotion unplanned until it is resolved', () => {
    const m = computeMetrics(
      [created(0), ev(1, 'IncidentOpened', { id: 'i1', release: 'a@1', stage: 'staging' }), promoted(2, 'p1'), ev(3, 'IncidentResolved', { id: 'i1', subject: 'a' }), promoted(4, 'p2', 'production', { release: 'a@2' })],
      opts(),
    );
    expect(m).toMatchObject({ deployments: 2, unplannedDeployments: 1, reworkRate: 0.5 });
  });
});
