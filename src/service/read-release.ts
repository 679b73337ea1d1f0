import { releaseName, type HandoffRecord, type Promotion, type Release, type StageHold } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { vouchedHandoffs } from './handoff.js';
import { activePolicy, requireRelease } from './lookup.js';
import { FOLLOW_UP_GATE, followUpsOf, type FollowUp } from '../domain/exception.js';
import { decisionRows, holderRow, requireVouched } from './vouch.js';

export interface ReleaseSummary {
  readonly release: string;
  readonly subject: string;
  readonly version: string;
  readonly digest: string;
  readonly risk: string;
  readonly owner: string;
  readonly createdAt: string;
  /** Stages this release holds now. */
  readonly holds: string[];
}

/** A promotion of the release as `release show` lists it: a rolled-back one says so (a failed change). */
export type PromotionRecord = Promotion & { readonly rolledBack?: { readonly at: string; readonly by: string; readonly reason: string } };

/** A rollback of the release out of a stage, and whether it still holds the release out. */
export interface RollbackRecord {
  readonly stage: string;
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  /** The rollback's own promotion id, and the promotion it undid (a failed change). */
  readonly rollback: string;
  readonly failedPromotion: string;
  /** True until someone clears it with `release clear`. */
  readonly held: boolean;
  readonly cleared?: StageHold['cleared'];
}

export interface ReleaseDetail extends ReleaseSummary {
  readonly manifest: Release['manifest'];
  readonly createdBy: string;
  readonly promotions: PromotionRecord[];
  /** Rollbacks that took this release out of a stage, oldest first. */
  readonly rollbacks: RollbackRecord[];
  /** Hand-offs to deployment of its promotions (the latest attempt of each), in order of promotion. */
  readonly handoffs: HandoffRecord[];
  /** Waivers of its requirements (accepted risk), oldest first; absent when there are none. */
  readonly waivers?: WaiverRecord[];
  /** Break-glass sign-offs given for it, oldest first; absent when there are none. */
  readonly breakGlassSignoffs?: BreakGlassSignoffRecord[];
  /** The follow-up items its break-glass promotions opened, open or done; absent when there are none. */
  readonly followUps?: FollowUp[];
  /** Its evidence, oldest first, each row as the audit log vouches for it (DESIGN.md: `release show` shows it). */
  readonly evidence: ReleaseEvidenceList;
}

/** A release's evidence as `release show` lists it: what was done, by whom, when (the details are in `status` and the report). */
export interface ReleaseEvidenceList {
  readonly checklist: ReadonlyArray<{ id: string; stage: string; gate: string; item: string; by: string; at: string; evidence?: { name: string; digest?: string } }>;
  readonly signoffs: ReadonlyArray<{ id: string; stage: string; gate: string; role: string; decision: string; signer: string; at: string; comment?: string }>;
  readonly validations: ReadonlyArray<{ id: string; stage: string; gate: string; validation: string; validator: string; status: string; summary: string; by: string; at: string }>;
}

/** A waiver as `release show` lists it: whether it still counts is `expiresAt` against now. */
export interface WaiverRecord {
  readonly id: string;
  readonly stage: string;
  readonly gate: string;
  readonly requirement: string;
  readonly by: string;
  readonly role: string;
  readonly reason: string;
  readonly at: string;
  readonly expiresAt: string;
}

export interface BreakGlassSignoffRecord {
  readonly id: string;
  readonly stage: string;
  readonly by: string;
  readonly role: string;
  readonly reason: string;
  readonly at: string;
  /** The promotion that used it, if one did. */
  readonly usedBy?: string;
}

async function holdsOf(store: StoreReader, r: Release): Promise<string[]> {
  const stages = new Set((await store.promotions({ subject: r.subject })).map((p) => p.stage));
  const out: string[] = [];
  for (const stage of stages) {
    const holder = await store.stageHolder(r.subject, stage);
    if (holder?.releaseDigest === r.digest) out.push(stage);
  }
  return out;
}

function summary(r: Release, holds: string[]): ReleaseSummary {
  return {
    release: releaseName(r),
    subject: r.subject,
    version: r.version,
    digest: r.digest,
    risk: r.manifest.risk,
    owner: r.manifest.owner,
    createdAt: r.createdAt,
    holds,
  };
}

/** Every release (of one subject), newest first (DESIGN.md): the store reads them oldest first. */
export async function listReleases(store: StoreReader, filter: { subject?: string } = {}): Promise<ReleaseSummary[]> {
  const releases = (await store.listReleases(filter)).reverse();
  return Promise.all(releases.map(async (r) => summary(r, await holdsOf(store, r))));
}

/**
 * One release with its promotion and rollback history and the stages it holds: all of it what the
 * audit log vouches for (a promotion inserted by hand is refused, not shown as history).
 */
export async function showRelease(store: StoreReader, ref: string): Promise<ReleaseDetail> {
  const r = await requireRelease(store, ref);
  const history = await store.promotions({ subject: r.subject });
  const stageHolds = await store.stageHolds({ subject: r.subject, releaseDigest: r.digest });
  const undone = new Map(stageHolds.map((h) => [h.promotionId, h]));
  const promotions: PromotionRecord[] = history
    .filter((p) => p.releaseDigest === r.digest)
    .map((p) => {
      const h = undone.get(p.id);
      return h ? { ...p, rolledBack: { at: h.at, by: h.by, reason: h.reason } } : p;
    });
  const rollbacks: RollbackRecord[] = stageHolds.map((h) => ({
    stage: h.stage,
    at: h.at,
    by: h.by,
    reason: h.reason,
    rollback: h.id,
    failedPromotion: h.promotionId,
    held: h.cleared === undefined,
    ...(h.cleared ? { cleared: h.cleared } : {}),
  }));
  const holds = await holdsOf(store, r);
  const evidence = await store.evidence(r.digest);
  const exceptions = evidence.exceptions ?? [];
  const glassed = history.some((p) => p.releaseDigest === r.digest && p.breakGlass !== undefined);
  const followUpRows = glassed ? evidence.checklist.filter((c) => c.gateId === FOLLOW_UP_GATE) : [];
  await requireVouched(store, [
    ...decisionRows({ checklist: evidence.checklist, signoffs: evidence.signoffs, validations: evidence.validations, exceptions }, history, stageHolds),
    ...holds.map((stage) => holderRow(r.subject, stage)),
  ]);
  const policy = glassed ? (await activePolicy(store))?.policy : undefined;
  const followUps = policy ? followUpsOf(policy, r.digest, history, followUpRows) : [];
  const usedBy = new Map(history.flatMap((p) => (p.breakGlass ? [[p.breakGlass.signoff, p.id] as const] : [])));
  const waivers: WaiverRecord[] = exceptions
    .filter((e) => e.kind === 'waiver')
    .map((e) => ({ id: e.id, stage: e.stage, gate: e.gate ?? '', requirement: e.requirement ?? '', by: e.signer, role: e.role, reason: e.reason, at: e.at, expiresAt: e.expiresAt ?? '' }));
  const breakGlassSignoffs: BreakGlassSignoffRecord[] = exceptions
    .filter((e) => e.kind === 'break-glass')
    .map((e) => ({ id: e.id, stage: e.stage, by: e.signer, role: e.role, reason: e.reason, at: e.at, ...(usedBy.has(e.id) ? { usedBy: usedBy.get(e.id)! } : {}) }));
  const handoffs = await vouchedHandoffs(store, promotions.map((p) => p.id));
  return {
    ...summary(r, holds),
    manifest: r.manifest,
    createdBy: r.createdBy,
    promotions,
    rollbacks,
    handoffs,
    ...(waivers.length > 0 ? { waivers } : {}),
    ...(breakGlassSignoffs.length > 0 ? { breakGlassSignoffs } : {}),
    ...(followUps.length > 0 ? { followUps } : {}),
    evidence: {
      checklist: evidence.checklist.map((c) => ({
        id: c.id,
        stage: c.stage,
        gate: c.gateId,
        item: c.itemId,
        by: c.by,
        at: c.at,
        ...(c.evidence ? { evidence: { name: c.evidence.name, ...(c.evidence.digest ? { digest: c.evidence.digest } : {}) } } : {}),
      })),
      signoffs: evidence.signoffs.map((x) => ({
        id: x.id,
        stage: x.stage,
        gate: x.gate,
        role: x.role,
        decision: x.decision,
        signer: x.signer,
        at: x.at,
        ...(x.comment !== undefined ? { comment: x.comment } : {}),
      })),
      validations: evidence.validations.map((v) => ({
        id: v.id,
        stage: v.stage,
        gate: v.gateId,
        validation: v.validationId,
        validator: v.validator,
        status: v.status,
        summary: v.summary,
        by: v.by,
        at: v.at,
      })),
    },
  };
}
