/**
 * Delivery metrics on a generated history with known answers (issue 12, acceptance 2): several
 * hundred promotions, blocked promotions, rollbacks and incidents over three subjects and months,
 * from seeded plans; the answers are worked out from each plan's own facts (test/helpers/
 * delivery-history.ts), not by the code under test, and asserted exactly: overall, per subject, per
 * week, with and without --since and --subject. The same plans run through the real service layer
 * and store in service.metrics.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../src/domain/metrics.js';
import { expectedMetrics, generatePlan, planEvents } from './helpers/delivery-history.js';

describe('delivery metrics on generated histories', () => {
  for (const seed of [1, 7, 2026]) {
    const plan = generatePlan({ seed, iterations: 1200, breakGlass: true });
    const events = planEvents(plan);
    const to = new Date(plan.end).toISOString();

    it(`seed ${seed}: the history is as large as asked (several hundred promotions, rollbacks and incidents)`, () => {
      const count = (kind: string) => plan.steps.filter((s) => s.kind === kind).length;
      expect(count('promote')).toBeGreaterThan(300);
      expect(count('blocked')).toBeGreaterThan(40);
      expect(count('rollback')).toBeGreaterThan(15);
      expect(count('open')).toBeGreaterThan(30);
      expect(count('resolve')).toBeGreaterThan(25);
      expect(plan.facts.deployments.some((d) => d.breakGlass)).toBe(true);
      expect(plan.facts.deployments.some((d) => d.failed)).toBe(true);
    });

    it(`seed ${seed}: every figure, overall, per subject and per week`, () => {
      const m = computeMetrics(events, { stage: 'production', from: new Date(plan.start).toISOString(), to });
      expect(m).toEqual({ ...expectedMetrics(plan), since: null });
      expect(m.weeks.length).toBeGreaterThan(10);
    });

    it(`seed ${seed}: --since counts only what happened from then, against what came before`, () => {
      const since = plan.start + Math.floor((plan.end - plan.start) / 2);
      const iso = new Date(since).toISOString();
      const m = computeMetrics(events, { stage: 'production', from: iso, to, since: iso });
      expect(m).toEqual({ ...expectedMetrics(plan, { since }), since: iso });
    });

    it(`seed ${seed}: --subject`, () => {
      const m = computeMetrics(events, { stage: 'production', from: new Date(plan.start).toISOString(), to, subject: 'svc-b' });
      expect(m).toEqual({ ...expectedMetrics(plan, { subject: 'svc-b' }), since: null });
    });
  }
});
