import { applyPolicy } from '../service/apply-policy.js';
import { completeItem } from '../service/check.js';
import { createRelease } from '../service/create-release.js';
import type { ServiceDeps } from '../service/deps.js';
import { promote } from '../service/promote.js';
import { listReleases, showRelease } from '../service/read-release.js';
import { rollback } from '../service/rollback.js';
import { draftSignoffs, recordSignoffs } from '../service/signoff.js';
import { decide } from '../service/status.js';
import { verifyAudit } from '../service/verify-audit.js';
import type { Client } from './client.js';

/** The Client over the service layer in this process: the CLI's local mode. */
export function createLocalClient(deps: ServiceDeps, actor: string | undefined): Client {
  return {
    applyPolicy: (source, file) => applyPolicy(deps, actor, source, file),
    activePolicy: async () => {
      const p = await deps.store.activePolicy();
      return p && { name: p.name, version: p.version, digest: p.digest, appliedAt: p.appliedAt, appliedBy: p.appliedBy };
    },
    createRelease: (manifest) => createRelease(deps, actor, manifest),
    listReleases: (filter) => listReleases(deps.store, filter),
    showRelease: (ref) => showRelease(deps.store, ref),
    status: (ref, stage) => decide(deps.store, ref, stage, deps.now(), actor),
    check: (input) => completeItem(deps, actor, input),
    draftSignoffs: (req) => draftSignoffs(deps.store, actor, req, deps.now()),
    recordSignoffs: (signed) => recordSignoffs(deps, actor, signed),
    promote: (ref, stage) => promote(deps, actor, ref, stage),
    rollback: (subject, stage, reason) => rollback(deps, actor, subject, stage, reason),
    auditVerify: () => verifyAudit(deps.store, deps.serverKey),
    close: () => deps.store.close(),
  };
}
