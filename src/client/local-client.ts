import { applyPolicy } from '../service/apply-policy.js';
import { attest } from '../service/attest.js';
import { completeItem } from '../service/check.js';
import { createRelease } from '../service/create-release.js';
import type { ServiceDeps } from '../service/deps.js';
import type { InputProbe } from '../service/inputs.js';
import { requirePolicy, requireRelease } from '../service/lookup.js';
import { promote } from '../service/promote.js';
import { listReleases, showRelease } from '../service/read-release.js';
import { rollback } from '../service/rollback.js';
import { draftSignoffs, recordSignoffs } from '../service/signoff.js';
import { decide } from '../service/status.js';
import { baselineMetrics, planValidations, recordValidations, requireValidator } from '../service/validate.js';
import { verifyAudit } from '../service/verify-audit.js';
import type { Client } from './client.js';

export interface LocalClientOptions {
  /** Digests of validation inputs as they are now, for staleness; the CLI hashes files in its folder. */
  readonly probe?: InputProbe;
}

/** The Client over the service layer in this process: the CLI's local mode. */
export function createLocalClient(deps: ServiceDeps, actor: string | undefined, options: LocalClientOptions = {}): Client {
  const { probe } = options;
  return {
    applyPolicy: (source, file) => applyPolicy(deps, actor, source, file),
    activePolicy: async () => {
      const p = await deps.store.activePolicy();
      return p && { name: p.name, version: p.version, digest: p.digest, appliedAt: p.appliedAt, appliedBy: p.appliedBy, stages: p.policy.stages.map((s) => s.name) };
    },
    createRelease: (manifest) => createRelease(deps, actor, manifest),
    listReleases: (filter) => listReleases(deps.store, filter),
    showRelease: (ref) => showRelease(deps.store, ref),
    status: (ref, stage) => decide(deps.store, ref, stage, deps.now(), actor, probe),
    check: (input) => completeItem(deps, actor, input),
    draftSignoffs: (req) => draftSignoffs(deps.store, actor, req, deps.now()),
    recordSignoffs: (signed) => recordSignoffs(deps, actor, signed),
    planValidations: async (ref, stage, only) => {
      // Refuse before anything runs: a long validation whose results would be refused helps nobody.
      requireValidator((await requirePolicy(deps.store)).policy, actor);
      return planValidations(deps.store, ref, stage, only);
    },
    recordValidations: (ref, results) => recordValidations(deps, actor, ref, results),
    baselineMetrics: (subject, ref) => baselineMetrics(deps.store, subject, ref),
    evidence: async (ref) => {
      const release = await requireRelease(deps.store, ref);
      return { release: await showRelease(deps.store, ref), evidence: await deps.store.evidence(release.digest) };
    },
    promote: (ref, stage) => promote(deps, actor, ref, stage, probe),
    rollback: (subject, stage, reason) => rollback(deps, actor, subject, stage, reason),
    auditVerify: (opts) => verifyAudit(deps.store, deps.serverKey, { ...opts, keys: deps.previousKeys ?? [] }),
    auditCheckpoint: async () => {
      const c = await deps.store.latestCheckpoint();
      return c && { size: c.size, root: c.root, at: c.at, note: c.note };
    },
    attest: (ref, stage) => attest(deps, ref, stage),
    close: () => deps.store.close(),
  };
}
