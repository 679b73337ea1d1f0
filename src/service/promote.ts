import { randomUUID } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { canonicalJson } from '../domain/digest.js';
import { evaluate } from '../domain/evaluate.js';
import { tollgateError, TollgateError } from '../domain/errors.js';
import { releaseName, type BreakGlassMark, type Decision, type HandoffRecord, type Promotion } from '../domain/model.js';
import { breakGlassFor } from '../domain/exception.js';
import { holdersOf } from '../domain/policy-digests.js';
import { requireStageRole } from '../domain/stage-roles.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';
import { decisionInputs } from './status.js';
import { vouchedHolder } from './vouch.js';

export interface PromoteOptions {
  /** `promote --break-glass --reason T`: past a freeze or unmet requirements, on a break-glass sign-off. */
  readonly breakGlass?: { readonly reason: string };
}

export interface PromoteResult extends Decision {
  readonly promoted: boolean;
  readonly promotion?: Promotion;
  /** The hand-offs to deployment run after the promotion committed (docs/handoff.md); absent when the stage has none. */
  readonly handoff?: readonly HandoffRecord[];
}

/**
 * Promotes a release into a stage. The decision is made again inside the transaction that records
 * the promotion, under the stage lock, so nothing can change between the check and the move
 * (DESIGN.md rules 1 and 4). A refusal throws TG_PROMOTION_BLOCKED carrying the decision, and is
 * then recorded as a `PromotionBlocked` event of its own.
 */
export async function promote(deps: ServiceDeps, actor: string | undefined, ref: string, stage: string, opts: PromoteOptions = {}): Promise<PromoteResult> {
  const glass = opts.breakGlass;
  if (glass !== undefined && glass.reason.trim() === '') throw tollgateError('TG_USAGE', 'a break-glass promotion needs a reason: --reason "…"');
  try {
    return await change(deps, async ({ tx, now, at, vouch }) => {
      const active = await requirePolicy(tx);
      const by = requireMember(active.policy, actor);
      requireStage(active.policy, stage);
      requireStageRole(active.policy, stage, by, 'promote');
      const release = await requireRelease(tx, ref);
      await tx.lockStage(release.subject, stage);
      // What status reads, in this transaction under the stage lock; nothing counts that the audit
      // log does not vouch for: a forged row never promotes.
      const { evidence, record } = await decisionInputs(tx, release, now);
      // Who holds the stage, as the log vouches for it: checked before deciding (a holder row that
      // disagrees with the promotions on record means one of them was changed), and recorded as the
      // promotion's `previous`.
      const holder = await vouchedHolder(tx, release.subject, stage, record.history);
      const decision = evaluate(active.policy, release, evidence, now, {
        stage,
        policyDigest: active.digest,
        policyVersion: active.version,
        ...record,
        promoter: by,
      });
      // Break-glass goes past what is unmet only on a break-glass sign-off that counts (exception.ts);
      // a promotable decision needs none, and is recorded as the ordinary promotion it is.
      let mark: BreakGlassMark | undefined;
      if (!decision.promotable && glass !== undefined) {
        const found = breakGlassFor(active.policy, release, decision, evidence.exceptions ?? [], record.history, by, now);
        if (!found.ok) {
          throw tollgateError('TG_PROMOTION_BLOCKED', `${releaseName(release)} cannot be promoted to ${stage} with break-glass: ${found.reason}`, {
            details: { ...decision, promoted: false },
            ...(found.role !== undefined ? { hint: `Ask a holder of "${found.role}" (${holdersOf(active.policy, found.role).filter((u) => u !== by && u !== release.manifest.owner).join(', ') || 'nobody else holds it'}) to sign the break-glass, then promote again.` } : {}),
          });
        }
        mark = { reason: glass.reason, signoff: found.signoff.id, signer: found.signoff.signer, role: found.signoff.role, unmet: found.unmet };
      }
      if (!decision.promotable && mark === undefined) {
        throw tollgateError('TG_PROMOTION_BLOCKED', `${releaseName(release)} cannot be promoted to ${stage}: ${unmet(decision).join('; ')}`, {
          details: { ...decision, promoted: false },
        });
      }
      const promotion: Promotion = {
        id: randomUUID(),
        subject: release.subject,
        stage,
        version: release.version,
        releaseDigest: release.digest,
        policyVersion: active.version,
        policyDigest: active.digest,
        kind: 'promotion',
        by,
        at,
        ...(holder ? { previousVersion: holder.version } : {}),
        ...(mark ? { breakGlass: mark } : {}),
      };
      await tx.insertPromotion(
        promotion,
        vouch('ReleasePromoted', actorOf(by), {
          id: promotion.id,
          release: releaseName(release),
          releaseDigest: release.digest,
          stage,
          policy: { version: active.version, digest: active.digest },
          previous: holder?.version ?? null,
          gates: decision.gates.map((g) => ({ id: g.id, outcome: g.outcome, digest: g.digest ?? null })),
          // Where the approved bytes are and what they are: a `release.promoted` webhook hands them to deployment.
          artifacts: release.manifest.artifacts.map((a) => ({
            name: a.name,
            kind: a.kind,
            ...(a.uri !== undefined ? { uri: a.uri } : {}),
            ...(a.path !== undefined ? { path: a.path } : {}),
            sha256: a.sha256,
          })),
          ...(mark ? { breakGlass: mark } : {}),
        }),
      );
      return { ...decision, promoted: true, promotion };
    });
  } catch (err) {
    if (err instanceof TollgateError && err.code === 'TG_PROMOTION_BLOCKED') await recordBlocked(deps, actor, ref, stage, err);
    throw err;
  }
}

/** Every requirement that is not satisfied, as `gate/requirement: outcome (reason)`. */
export function unmet(decision: Decision): string[] {
  return decision.gates.flatMap((g) =>
    g.requirements.filter((r) => r.outcome !== 'satisfied' && r.outcome !== 'waived').map((r) => `${g.id}/${r.id} ${r.outcome}`),
  );
}

/**
 * How long a blocked attempt stands for the identical ones after it (issue 13, finding 4): the same
 * actor, release (digest), stage and unmet requirements within this window are refused the same way
 * but not recorded again, and a `signoff.requested` notice for the same sign-offs of the same release
 * and stage is not sent again. docs/operations.md says so; the first event names the window.
 */
export const BLOCKED_COALESCE_MS = 10 * 60_000;

async function recordBlocked(deps: ServiceDeps, actor: string | undefined, ref: string, stage: string, err: TollgateError): Promise<void> {
  const decision = err.details as Decision;
  const missing = unmet(decision);
  // Who could unblock it by signing: `signoff.requested` webhooks tell them.
  const signoffsNeeded = decision.gates.flatMap((g) =>
    g.requirements
      .filter((r) => r.kind === 'signoff' && r.outcome !== 'satisfied')
      .map((r) => ({ gate: g.id, role: r.id.replace(/^signoff:/, ''), outcome: r.outcome })),
  );
  await change(deps, async ({ tx, audit, at }) => {
    // The recent blocked attempts at the same release and stage (any actor), read in the transaction
    // that would record this one, so two identical attempts at once are not both recorded.
    const since = new Date(new Date(at).getTime() - BLOCKED_COALESCE_MS).toISOString();
    const subject = ref.slice(0, ref.lastIndexOf('@'));
    const recent = (await tx.auditSearch({ type: 'PromotionBlocked', since, subject }, 0, 1000)).filter(
      (e) => e.data.release === ref && e.data.releaseDigest === decision.releaseDigest && e.data.stage === stage,
    );
    // Canonical JSON: the stored event's keys come back sorted.
    const same = (a: unknown, b: unknown) => a !== undefined && canonicalJson(a) === canonicalJson(b);
    if (recent.some((e) => e.actor === actorOf(actor) && same(e.data.unmet, missing))) return;
    const requested = signoffsNeeded.length > 0 ? [...recent].reverse().find((e) => same(e.data.signoffsNeeded, signoffsNeeded)) : undefined;
    await audit('PromotionBlocked', actorOf(actor), {
      release: ref,
      releaseDigest: decision.releaseDigest,
      stage,
      unmet: missing,
      signoffsNeeded,
      // The same sign-offs were asked for by an earlier event in the window: no second notice.
      ...(requested ? { signoffsRequestedBy: requested.seq } : {}),
    });
  });
}
