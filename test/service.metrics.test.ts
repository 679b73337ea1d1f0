/**
 * Delivery metrics through the real service layer on a real SQLite store (issue 12, acceptance 2): a
 * generated history (test/helpers/delivery-history.ts) is played with the use cases themselves
 * (release create, checklist, promote and its refusals, rollback, incident open and resolve) on a
 * clock the test moves, and `metrics` reads the audit log they wrote, page by page. The answers are
 * the plan's own, asserted exactly, as in the pure test (metrics.history.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import type { ReleaseManifest } from '../src/domain/model.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { listIncidents, openIncident, resolveIncident } from '../src/service/incidents.js';
import { deliveryMetrics } from '../src/service/metrics.js';
import { promote } from '../src/service/promote.js';
import { rollback } from '../src/service/rollback.js';
import { verifyAudit } from '../src/service/verify-audit.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { expectedMetrics, generatePlan, STAGE_GATE } from './helpers/delivery-history.js';

const KEYS = { alice: generateKeyPair(), dave: generateKeyPair() };

const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: history
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  dave: { roles: [release-manager, admin], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: qa
    stage: staging
    checklist:
      - { id: tests-pass }
  - id: ops
    stage: production
    checklist:
      - { id: runbook }
`;

function manifest(release: string, unplanned: boolean, commitTime: string | undefined, n: number): ReleaseManifest {
  const [subject, version] = release.split('@') as [string, string];
  return {
    subject,
    version,
    risk: 'low',
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', uri: `s3://models/${release}`, sha256: n.toString(16).padStart(64, '0') }],
    ...(unplanned ? { unplanned: true } : {}),
    ...(commitTime !== undefined ? { commitTime } : {}),
  };
}

describe('delivery metrics over a history played through the service layer (SQLite)', () => {
  it('several hundred promotions, rollbacks and incidents: every figure as the plan says', async () => {
    const plan = generatePlan({ seed: 1, iterations: 1200 });
    let now = new Date(plan.start);
    const store = await createSqliteStore(':memory:');
    const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => now };
    try {
      await applyPolicy(deps, 'dave', POLICY, 'tollgate.yaml');
      const ids = new Map<string, string>();
      let n = 0;
      for (const step of plan.steps) {
        now = new Date(step.at);
        switch (step.kind) {
          case 'create':
            await createRelease(deps, 'alice', manifest(step.release, step.unplanned, step.commitTime, ++n));
            break;
          case 'check':
            await completeItem(deps, 'alice', { release: step.release, stage: step.stage, item: STAGE_GATE[step.stage]!.item });
            break;
          case 'blocked':
            await expect(promote(deps, 'dave', step.release, step.stage)).rejects.toMatchObject({ code: 'TG_PROMOTION_BLOCKED' });
            break;
          case 'promote':
            ids.set(step.id, (await promote(deps, 'dave', step.release, step.stage)).promotion!.id);
            break;
          case 'rollback': {
            const r = await rollback(deps, 'dave', step.subject, 'production', 'error rate up');
            expect(r.hold.promotionId).toBe(ids.get(step.failed));
            ids.set(step.id, r.promotion.id);
            break;
          }
          case 'open': {
            const i = await openIncident(deps, 'alice', step.subject, 'production', 'alerts firing');
            // Linked to the release holding production and the promotion (or rollback) that put it there.
            expect({ release: i.release, promotion: i.promotion }).toEqual({ release: step.release, promotion: ids.get(step.promotion) });
            ids.set(step.id, i.id);
            break;
          }
          case 'resolve':
            await resolveIncident(deps, 'dave', ids.get(step.id)!, 'fixed');
            break;
        }
      }
      expect(plan.steps.filter((s) => s.kind === 'promote').length).toBeGreaterThan(300);
      now = new Date(plan.end);
      expect(await deliveryMetrics(store, {}, now)).toEqual({ ...expectedMetrics(plan), since: null });
      const since = new Date(plan.start + (plan.end - plan.start) / 2).toISOString();
      expect(await deliveryMetrics(store, { since, subject: 'svc-c' }, now)).toEqual({ ...expectedMetrics(plan, { since: Date.parse(since), subject: 'svc-c' }), since });
      // The incidents table agrees with the plan, and the log vouches for every row written.
      const incidents = await listIncidents(store);
      expect(incidents.length).toBe(plan.steps.filter((s) => s.kind === 'open').length);
      expect(incidents.filter((i) => i.open).length).toBe(plan.steps.filter((s) => s.kind === 'open').length - plan.steps.filter((s) => s.kind === 'resolve').length);
      expect((await verifyAudit(store, deps.serverKey)).ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
});
