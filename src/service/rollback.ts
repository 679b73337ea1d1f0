import { randomUUID } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { tollgateError } from '../domain/errors.js';
import type { HandoffRecord, Promotion, StageHold } from '../domain/model.js';
import { requireStageRole } from '../domain/stage-roles.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireStage } from './lookup.js';
import { decisionRows, requireVouched, vouchedHolder, vouchRelease } from './vouch.js';

export interface RollbackResult {
  readonly subject: string;
  readonly stage: string;
  /** The release rolled back from and the one that holds the stage now. */
  readonly from: string;
  readonly to: string;
  readonly promotion: Promotion;
  /** The hold on the release rolled back, until `release clear`. */
  readonly hold: StageHold;
  /** The hand-offs to deployment of the release put back (docs/handoff.md); absent when the stage has none. */
  readonly handoff?: readonly HandoffRecord[];
}

/**
 * Puts back the release that held the stage before the current one. Gates are not asked again and
 * freeze windows do not apply: a rollback restores something that was already allowed there, and it
 * is how a bad release is taken out fast. It counts as a failed change and needs a reason, and it
 * holds the release it took out away from the stage until someone clears it (clear-hold.ts).
 */
export async function rollback(deps: ServiceDeps, actor: string | undefined, subject: string, stage: string, reason: string): Promise<RollbackResult> {
  if (reason.trim() === '') throw tollgateError('TG_USAGE', 'a rollback needs a reason: --reason "…"');
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await requirePolicy(tx);
    const by = requireMember(active.policy, actor);
    requireStage(active.policy, stage);
    requireStageRole(active.policy, stage, by, 'rollback');
    await tx.lockStage(subject, stage);
    // Everything a rollback builds on must be what the log vouches for: the subject's promotions, who
    // holds the stage, and the release it goes back to (a forged row would otherwise put a release
    // that never held the stage into it, past every gate).
    const all = await tx.promotions({ subject });
    await requireVouched(tx, decisionRows({ checklist: [], signoffs: [], validations: [] }, all));
    const holder = await vouchedHolder(tx, subject, stage, all);
    if (!holder) {
      if ((await tx.listReleases({ subject })).length === 0) {
        const subjects = [...new Set((await tx.listReleases()).map((r) => r.subject))].sort();
        throw tollgateError('TG_RELEASE_NOT_FOUND', `unknown subject "${subject}": no release of it is registered${subjects.length > 0 ? `; subjects: ${subjects.join(', ')}` : ''}`);
      }
      throw tollgateError('TG_STAGE_EMPTY', `no release of ${subject} holds ${stage}`);
    }
    if (holder.previousVersion === undefined) {
      throw tollgateError('TG_NO_PREVIOUS_RELEASE', `${subject}@${holder.version} is the first release of ${subject} in ${stage}; there is nothing to roll back to`);
    }
    const found = await tx.findRelease(subject, holder.previousVersion);
    if (!found) throw tollgateError('TG_RELEASE_NOT_FOUND', `the previous release ${subject}@${holder.previousVersion} is not registered`);
    const target = await vouchRelease(tx, found);
    // What held the stage before the target's own latest arrival there: so repeated rollbacks walk back.
    const history = all.filter((p) => p.stage === stage);
    const arrival = [...history].reverse().find((p) => p.releaseDigest === target.digest && p.id !== holder.id);
    // The holder names the target as the release before it, so the target's arrival is on record:
    // without it the history was cut (a promotion deleted), and the `previous` recorded here would be wrong.
    if (!arrival) {
      const reason = `it names ${subject}@${holder.previousVersion} as the release that held ${stage} before it, but no promotion of that release into ${stage} is on record: a promotion was deleted`;
      throw tollgateError('TG_STATE_TAMPERED', `promotions ${holder.id} is not what the audit log vouches for (deleted): ${reason}`, {
        details: { rows: [{ table: 'promotions', key: holder.id, what: 'deleted', reason }] },
      });
    }
    const promotion: Promotion = {
      id: randomUUID(),
      subject,
      stage,
      version: target.version,
      releaseDigest: target.digest,
      policyVersion: active.version,
      policyDigest: active.digest,
      kind: 'rollback',
      by,
      at,
      reason,
      ...(arrival.previousVersion !== undefined ? { previousVersion: arrival.previousVersion } : {}),
    };
    // The release taken out stays out of this stage (and the stages after it) until someone clears
    // it, and the promotion that put it here is a failed change.
    const hold: StageHold = {
      id: promotion.id,
      subject,
      stage,
      version: holder.version,
      releaseDigest: holder.releaseDigest,
      promotionId: holder.id,
      by,
      at,
      reason,
    };
    await tx.insertPromotion(
      promotion,
      vouch('ReleaseRolledBack', actorOf(by), {
        id: promotion.id,
        subject,
        stage,
        from: `${subject}@${holder.version}`,
        to: `${subject}@${target.version}`,
        releaseDigest: target.digest,
        rolledBackDigest: holder.releaseDigest,
        // The failed change: the promotion this rollback undid.
        failedPromotion: holder.id,
        reason,
      }),
      hold,
    );
    return { subject, stage, from: `${subject}@${holder.version}`, to: `${subject}@${target.version}`, promotion, hold };
  });
}
