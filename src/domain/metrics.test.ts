import { describe, expect, it } from 'vitest';
import { computeMetrics, describeSeconds, median, weekStart } from './metrics.js';

describe('metrics helpers', () => {
  it('weeks start on Monday 00:00 UTC', () => {
    expect(new Date(weekStart(Date.parse('2026-12-06T23:59:59Z'))).toISOString()).toBe('2026-11-30T00:00:00.000Z'); // a Sunday
    expect(new Date(weekStart(Date.parse('2026-11-30T00:00:00Z'))).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(new Date(weekStart(Date.parse('2026-12-02T10:00:00+05:00'))).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('median: the middle value, the mean of the two middle ones, or null', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('describes seconds to two units', () => {
    expect(describeSeconds(null)).toBe('—');
    expect(describeSeconds(0)).toBe('0s');
    expect(describeSeconds(5400)).toBe('1h 30m');
    expect(describeSeconds(3 * 86_400 + 4 * 3600 + 59)).toBe('3d 4h');
  });
});

describe('computeMetrics at the edges', () => {
  it('an empty log: one week, nothing counted, rates and times null (not zero)', () => {
    const m = computeMetrics([], { stage: 'production', from: '2026-12-02T10:00:00Z', to: '2026-12-02T10:00:00Z' });
    expect(m).toMatchObject({ weekCount: 1, deployments: 0, deploymentFrequency: 0, leadTimeSeconds: null, changeFailureRate: null, timeToRestoreSeconds: null, reworkRate: null, gates: [], subjects: [] });
    expect(m.weeks).toHaveLength(1);
  });

  it('a promotion into another stage is no deployment; events after `to` are not counted', () => {
    const events = [
      { at: '2026-12-01T08:00:00Z', type: 'ReleaseCreated', data: { release: 'a@1' } },
      { at: '2026-12-01T09:00:00Z', type: 'ReleasePromoted', data: { id: 'p1', release: 'a@1', stage: 'staging', gates: [] } },
      { at: '2026-12-01T10:00:00Z', type: 'ReleasePromoted', data: { id: 'p2', release: 'a@1', stage: 'production', gates: [], breakGlass: { reason: 'sev1' } } },
      { at: '2026-12-09T10:00:00Z', type: 'ReleaseRolledBack', data: { id: 'r1', subject: 'a', stage: 'production', failedPromotion: 'p2' } },
    ];
    const m = computeMetrics(events, { stage: 'production', from: '2026-12-01T08:00:00Z', to: '2026-12-02T00:00:00Z' });
    expect(m).toMatchObject({ deployments: 1, leadTimeSeconds: 7200, breakGlassCount: 1, failedDeployments: 0, restorations: 0 });
    const later = computeMetrics(events, { stage: 'production', from: '2026-12-01T08:00:00Z', to: '2026-12-10T00:00:00Z' });
    expect(later).toMatchObject({ weekCount: 2, deployments: 1, deploymentFrequency: 0.5, failedDeployments: 1, changeFailureRate: 1, timeToRestoreSeconds: 8 * 86_400 });
  });
});
