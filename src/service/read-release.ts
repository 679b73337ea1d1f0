import { releaseName, type Promotion, type Release } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { requireRelease } from './lookup.js';
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

export interface ReleaseDetail extends ReleaseSummary {
  readonly manifest: Release['manifest'];
  readonly createdBy: string;
  readonly promotions: Promotion[];
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

export async function listReleases(store: StoreReader, filter: { subject?: string } = {}): Promise<ReleaseSummary[]> {
  const releases = await store.listReleases(filter);
  return Promise.all(releases.map(async (r) => summary(r, await holdsOf(store, r))));
}

/**
 * One release with its promotion and rollback history and the stages it holds: all of it what the
 * audit log vouches for (a promotion inserted by hand is refused, not shown as history).
 */
export async function showRelease(store: StoreReader, ref: string): Promise<ReleaseDetail> {
  const r = await requireRelease(store, ref);
  const history = await store.promotions({ subject: r.subject });
  const promotions = history.filter((p) => p.releaseDigest === r.digest);
  const holds = await holdsOf(store, r);
  await requireVouched(store, [...decisionRows({ checklist: [], signoffs: [], validations: [] }, history), ...holds.map((stage) => holderRow(r.subject, stage))]);
  return { ...summary(r, holds), manifest: r.manifest, createdBy: r.createdBy, promotions };
}
