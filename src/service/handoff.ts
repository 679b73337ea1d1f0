/**
 * Hand-offs to deployment (docs/handoff.md): after a promotion (or a rollback) has committed, the
 * stage's `handoff` list runs in order (a Git commit, a command, a webhook), and the outcome of each
 * is recorded, vouched for by the audit log (`HandoffRecorded`). Never inside the promotion's
 * transaction: a hand-off waits on networks and other programs, and a failed one must not undo a
 * promotion that the gates allowed. A failed one is shown by `promote`, `status` and `release show`,
 * and run again by `tollgate handoff retry`.
 */
import { actorOf } from '../audit/events.js';
import { tollgateError } from '../domain/errors.js';
import { handoffDefinitionDigest, handoffKey, handoffKind, handoffPayload, handoffTarget } from '../domain/handoff.js';
import { releaseName, type HandoffDef, type HandoffRecord, type Promotion, type Release } from '../domain/model.js';
import { requireStageRole } from '../domain/stage-roles.js';
import type { StoreReader } from '../store/store.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';
import { decisionRows, requireVouched, vouchedHolder } from './vouch.js';

/** Without a configured environment: enough to find `git` and the usual programs, nothing else. */
const DEFAULT_ENV: Readonly<Record<string, string>> = { PATH: '/usr/local/bin:/usr/bin:/bin' };

export interface HandoffRetryResult {
  readonly release: string;
  readonly stage: string;
  /** The promotion whose hand-offs these are: the one that put the release in the stage. */
  readonly promotion: string;
  /** The indexes run again (those not yet succeeded with their current definition). */
  readonly retried: readonly number[];
  /** Every hand-off of the promotion, its latest attempt, in the stage's order. */
  readonly handoff: readonly HandoffRecord[];
}

/**
 * Runs the hand-offs of the promotion's stage, in order, and records their outcomes in one change.
 * `only` picks which to run (a retry); every one when absent. Failures are outcomes, not errors.
 */
async function runAndRecord(
  deps: ServiceDeps,
  by: string,
  release: Release,
  promotion: Promotion,
  defs: readonly HandoffDef[],
  earlier: readonly HandoffRecord[],
  only?: (index: number) => boolean,
): Promise<HandoffRecord[]> {
  const payload = handoffPayload(release, promotion);
  const webhooks = defs.some((d) => 'webhook' in d && d.webhook.startsWith('whk_')) ? await deps.store.listWebhooks() : [];
  const records: HandoffRecord[] = [];
  for (const [index, def] of defs.entries()) {
    if (only && !only(index)) continue;
    const at = deps.now().toISOString();
    const registered = 'webhook' in def ? webhooks.find((w) => w.id === def.webhook) : undefined;
    // Loaded when a hand-off runs, not by every status or release show that reads this module (git, YAML).
    const { runHandoff } = await import('../handoff/index.js');
    const run = await runHandoff(def, payload, {
      env: deps.handoff?.env ?? DEFAULT_ENV,
      cwd: deps.handoff?.cwd ?? '.',
      at,
      allowPrivate: deps.allowPrivateWebhooks === true,
      ...(registered ? { webhook: { url: registered.url, secret: registered.secret } } : {}),
    });
    const before = earlier.find((h) => h.index === index);
    records.push({
      id: handoffKey(promotion.id, index),
      promotionId: promotion.id,
      subject: promotion.subject,
      stage: promotion.stage,
      version: promotion.version,
      releaseDigest: promotion.releaseDigest,
      index,
      kind: handoffKind(def),
      target: handoffTarget(def),
      definitionDigest: handoffDefinitionDigest(def),
      outcome: run.outcome,
      attempts: (before?.attempts ?? 0) + 1,
      ...(run.error !== undefined ? { error: run.error } : {}),
      ...(run.commit !== undefined ? { commit: run.commit } : {}),
      by,
      at,
    });
  }
  await recordHandoffs(deps, by, release, promotion, records);
  return records;
}

/** Records the outcomes of one run of a promotion's hand-offs: one `HandoffRecorded` event claims every row. */
export async function recordHandoffs(deps: ServiceDeps, by: string, release: Release, promotion: Promotion, records: readonly HandoffRecord[]): Promise<void> {
  if (records.length === 0) return;
  await change(deps, async ({ tx, vouch }) => {
    await tx.putHandoffs(
      records,
      vouch('HandoffRecorded', actorOf(by), {
        release: releaseName(release),
        releaseDigest: release.digest,
        stage: promotion.stage,
        promotion: promotion.id,
        handoffs: records.map((h) => ({
          index: h.index,
          kind: h.kind,
          target: h.target,
          outcome: h.outcome,
          attempts: h.attempts,
          ...(h.error !== undefined ? { error: h.error } : {}),
          ...(h.commit !== undefined ? { commit: h.commit } : {}),
        })),
      }),
    );
  });
}

/**
 * The hand-offs after a promotion or rollback that has just committed: every one its stage lists in
 * the active policy (the one the promotion was decided under). Empty when the stage has none.
 */
export async function handOff(deps: ServiceDeps, promotion: Promotion): Promise<HandoffRecord[]> {
  const active = await requirePolicy(deps.store);
  const defs = active.policy.stages.find((s) => s.name === promotion.stage)?.handoff ?? [];
  if (defs.length === 0) return [];
  const release = await requireRelease(deps.store, `${promotion.subject}@${promotion.version}`);
  return runAndRecord(deps, promotion.by, release, promotion, defs, []);
}

/**
 * Runs again the hand-offs of the promotion that holds the stage which have not succeeded with their
 * current definition (a failed one, one whose definition the policy has changed since, one added
 * since). Only for the release that holds the stage now: handing an older release to deployment again
 * would undo what came after it. Needs a role that may promote into the stage.
 */
export async function retryHandoffs(deps: ServiceDeps, actor: string | undefined, ref: string, stage: string): Promise<HandoffRetryResult> {
  const active = await requirePolicy(deps.store);
  const by = requireMember(active.policy, actor);
  requireStage(active.policy, stage);
  requireStageRole(active.policy, stage, by, 'promote');
  const release = await requireRelease(deps.store, ref);
  const history = await deps.store.promotions({ subject: release.subject });
  await requireVouched(deps.store, decisionRows({ checklist: [], signoffs: [], validations: [] }, history));
  const holder = await vouchedHolder(deps.store, release.subject, stage, history);
  if (!holder || holder.releaseDigest !== release.digest) {
    throw tollgateError(
      'TG_NOT_IN_STAGE',
      `${releaseName(release)} does not hold ${stage}${holder ? ` (${release.subject}@${holder.version} does)` : ''}: only the release that holds a stage is handed off again`,
    );
  }
  const defs = active.policy.stages.find((s) => s.name === stage)?.handoff ?? [];
  const earlier = await vouchedHandoffs(deps.store, [holder.id]);
  const done = (index: number) => {
    const h = earlier.find((e) => e.index === index);
    return h?.outcome === 'succeeded' && h.definitionDigest === handoffDefinitionDigest(defs[index]!);
  };
  const records = await runAndRecord(deps, by, release, holder, defs, earlier, (i) => !done(i));
  const latest = new Map([...earlier, ...records].map((h) => [h.index, h]));
  return {
    release: releaseName(release),
    stage,
    promotion: holder.id,
    retried: records.map((h) => h.index),
    handoff: [...latest.values()].sort((a, b) => a.index - b.index),
  };
}

/** The hand-offs of these promotions, each row checked against the audit log. */
export async function vouchedHandoffs(store: StoreReader, promotionIds: readonly string[]): Promise<HandoffRecord[]> {
  const rows = await store.handoffs({ promotionIds });
  await requireVouched(store, rows.map((h) => ({ table: 'handoffs' as const, key: h.id })));
  const order = new Map(promotionIds.map((id, i) => [id, i]));
  return rows.sort((a, b) => order.get(a.promotionId)! - order.get(b.promotionId)! || a.index - b.index);
}

/**
 * The hand-offs of the release's latest promotion into the stage (what `status` shows): empty when
 * it was never promoted there or the stage hands off nothing. `history`: the subject's promotions,
 * already checked.
 */
export async function stageHandoffs(store: StoreReader, releaseDigest: string, stage: string, history: readonly Promotion[]): Promise<HandoffRecord[]> {
  const latest = [...history].reverse().find((p) => p.stage === stage && p.releaseDigest === releaseDigest);
  return latest ? vouchedHandoffs(store, [latest.id]) : [];
}
