import { actorOf } from '../audit/events.js';
import { tollgateError } from '../domain/errors.js';
import { releaseName, type StageHold } from '../domain/model.js';
import { requireStageRole } from '../domain/stage-roles.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';
import { requireVouched } from './vouch.js';

export interface ClearResult {
  readonly release: string;
  readonly stage: string;
  /** The holds lifted (normally one: the latest rollback of the release out of the stage). */
  readonly cleared: readonly StageHold[];
}

/**
 * Lifts the hold a rollback put on a release for a stage (`tollgate release clear REL --stage S
 * --reason T`). Only a person with a role the stage's `clear` names (default: release-manager,
 * admin) may: putting a pulled release back in reach is a decision someone answers for, so it is
 * audited with its reason. The rolled-back promotion stays a failed change, and it still does not
 * count for a later stage's order: the release must be promoted to the stage again.
 */
export async function clearHold(deps: ServiceDeps, actor: string | undefined, ref: string, stage: string, reason: string): Promise<ClearResult> {
  if (reason.trim() === '') throw tollgateError('TG_USAGE', 'clearing a hold needs a reason: --reason "…"');
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await requirePolicy(tx);
    const by = requireMember(active.policy, actor);
    requireStage(active.policy, stage);
    requireStageRole(active.policy, stage, by, 'clear');
    const release = await requireRelease(tx, ref);
    await tx.lockStage(release.subject, stage);
    const holds = await tx.stageHolds({ subject: release.subject, stage, releaseDigest: release.digest });
    await requireVouched(tx, holds.map((h) => ({ table: 'stage_holds' as const, key: h.id })));
    const open = holds.filter((h) => h.cleared === undefined);
    if (open.length === 0) {
      const last = holds.at(-1);
      throw tollgateError(
        'TG_NOT_HELD',
        last?.cleared
          ? `${releaseName(release)} is not held out of ${stage}: the hold of its rollback at ${last.at} was cleared by ${last.cleared.by} at ${last.cleared.at}`
          : `${releaseName(release)} is not held out of ${stage}: it was never rolled back out of it`,
      );
    }
    const cleared = open.map((h) => ({ ...h, cleared: { by, at, reason } }));
    await tx.updateStageHolds(
      cleared,
      vouch('ReleaseCleared', actorOf(by), {
        release: releaseName(release),
        releaseDigest: release.digest,
        stage,
        rollbacks: cleared.map((h) => h.id),
        reason,
      }),
    );
    return { release: releaseName(release), stage, cleared };
  });
}
