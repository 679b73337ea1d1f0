/**
 * Incidents (`tollgate incident open|resolve|list`; docs/operations.md): something went wrong with the
 * release that holds a stage. An incident is linked to that release and to the promotion that put it
 * there, so the delivery metrics can count the promotion as a failed change and the time from opening
 * to resolving as a time to restore (docs/metrics.md). Any roster member may open and resolve one:
 * whoever sees production fail must be able to say so at once, and a resolution only records a fact.
 */
import { randomBytes } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { tollgateError } from '../domain/errors.js';
import { releaseName, type Incident } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireStage } from './lookup.js';
import { decisionRows, requireVouched, vouchedHolder } from './vouch.js';

/** An incident as the CLI and the API show it. */
export interface IncidentInfo {
  readonly id: string;
  readonly subject: string;
  readonly stage: string;
  /** The release that held the stage when the incident was opened: `subject@version`. */
  readonly release: string;
  readonly releaseDigest: string;
  /** The promotion (or rollback) that put that release into the stage. */
  readonly promotion: string;
  readonly reason: string;
  readonly openedBy: string;
  readonly openedAt: string;
  readonly open: boolean;
  readonly resolvedBy?: string;
  readonly resolvedAt?: string;
  readonly note?: string;
}

export function incidentInfo(i: Incident): IncidentInfo {
  return {
    id: i.id,
    subject: i.subject,
    stage: i.stage,
    release: releaseName(i),
    releaseDigest: i.releaseDigest,
    promotion: i.promotionId,
    reason: i.reason,
    openedBy: i.openedBy,
    openedAt: i.openedAt,
    open: i.resolved === undefined,
    ...(i.resolved ? { resolvedBy: i.resolved.by, resolvedAt: i.resolved.at, ...(i.resolved.note !== undefined ? { note: i.resolved.note } : {}) } : {}),
  };
}

/** `inc_` and 12 hex digits: short enough to type, random so that two servers never pick the same. */
function newIncidentId(): string {
  return `inc_${randomBytes(6).toString('hex')}`;
}

/**
 * Opens an incident on the release that holds `stage` of `subject` now. Refused (TG_STAGE_EMPTY) when
 * no release holds it: an incident with no release to blame could not count as a failed change.
 */
export async function openIncident(deps: ServiceDeps, actor: string | undefined, subject: string, stage: string, reason: string): Promise<IncidentInfo> {
  if (reason.trim() === '') throw tollgateError('TG_USAGE', 'an incident needs a reason: --reason "…"');
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await requirePolicy(tx);
    const by = requireMember(active.policy, actor);
    requireStage(active.policy, stage);
    await tx.lockStage(subject, stage);
    // The release blamed is the one the log shows holding the stage, like a rollback's.
    const all = await tx.promotions({ subject });
    await requireVouched(tx, decisionRows({ checklist: [], signoffs: [], validations: [] }, all));
    const holder = await vouchedHolder(tx, subject, stage, all);
    if (!holder) throw tollgateError('TG_STAGE_EMPTY', `no release of ${subject} holds ${stage}: an incident is linked to the release that holds the stage`);
    const incident: Incident = {
      id: newIncidentId(),
      subject,
      stage,
      version: holder.version,
      releaseDigest: holder.releaseDigest,
      promotionId: holder.id,
      openedBy: by,
      openedAt: at,
      reason,
    };
    await tx.insertIncident(
      incident,
      vouch('IncidentOpened', actorOf(by), {
        id: incident.id,
        subject,
        stage,
        release: releaseName(incident),
        releaseDigest: incident.releaseDigest,
        // The change that failed: the metrics count it (docs/metrics.md).
        promotion: holder.id,
        reason,
      }),
    );
    return incidentInfo(incident);
  });
}

/** Resolves an open incident: TG_INCIDENT_NOT_FOUND for an unknown id, TG_INCIDENT_RESOLVED when it already is. */
export async function resolveIncident(deps: ServiceDeps, actor: string | undefined, id: string, note?: string): Promise<IncidentInfo> {
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await requirePolicy(tx);
    const by = requireMember(active.policy, actor);
    const found = await tx.findIncident(id);
    if (!found) throw tollgateError('TG_INCIDENT_NOT_FOUND', `no incident has the id "${id}"`);
    await requireVouched(tx, [{ table: 'incidents', key: id }]);
    if (found.resolved) {
      throw tollgateError('TG_INCIDENT_RESOLVED', `incident ${id} was already resolved by ${found.resolved.by} at ${found.resolved.at}`);
    }
    const text = note !== undefined && note.trim() !== '' ? note : undefined;
    const resolved: Incident = { ...found, resolved: { by, at, ...(text !== undefined ? { note: text } : {}) } };
    await tx.updateIncident(
      resolved,
      vouch('IncidentResolved', actorOf(by), {
        id,
        subject: found.subject,
        stage: found.stage,
        release: releaseName(found),
        openedAt: found.openedAt,
        ...(text !== undefined ? { note: text } : {}),
      }),
    );
    return incidentInfo(resolved);
  });
}

/** Incidents, oldest first; each row checked against the log like every row shown as a record. */
export async function listIncidents(store: StoreReader, filter: { subject?: string; open?: boolean } = {}): Promise<IncidentInfo[]> {
  const rows = await store.incidents(filter);
  await requireVouched(store, rows.map((i) => ({ table: 'incidents' as const, key: i.id })));
  return rows.map(incidentInfo);
}
