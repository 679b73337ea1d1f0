/**
 * Delivery metrics (`tollgate metrics`, `GET /api/metrics`, the desk's /delivery; docs/metrics.md):
 * DORA's five figures and per-gate wait and block figures, computed from the audit log alone, overall,
 * per subject and per week. Pure: events go in one at a time, oldest first (`add`), so the caller can
 * stream the log page by page; only what later events refer back to is kept (release creation times,
 * arrivals in stages, the last evidence per gate, the promotions a rollback or incident may name).
 *
 * Every figure is defined in docs/metrics.md; the comments here say how, not again what.
 */
import { maxOf } from './bounded.js';

/** An audit event as the metrics read it (the audit log's AuditEvent has these fields and more). */
export interface MetricsEvent {
  readonly at: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface MetricsOptions {
  /** The stage the DORA figures are about (production, normally the policy's last stage). */
  readonly stage: string;
  /** Where the period starts (ISO time): `--since`, or the first event of the log. */
  readonly from: string;
  /** Where it ends (ISO time): now. Events after it are not counted. */
  readonly to: string;
  /** Only events at or after `from` count; earlier ones are read for what later ones refer back to. */
  readonly since?: string;
  /** Only this subject's events count (the caller may pass only those). */
  readonly subject?: string;
}

/** One gate's wait and block figures. */
export interface GateFigures {
  readonly id: string;
  /** The stage the gate guards. */
  readonly stage: string;
  /** Median seconds a release waited on the gate before the promotions that passed it (null: none measured). */
  readonly waitSeconds: number | null;
  /** How many promotions the wait was measured at. */
  readonly waits: number;
  /** Promotion attempts into the gate's stage (promotions and blocked promotions). */
  readonly attempts: number;
  /** Attempts the gate blocked (it had an unmet requirement). */
  readonly blocked: number;
  /** blocked / attempts, 0..1 (null: no attempt). */
  readonly blockRate: number | null;
}

/** The figures of one scope: the whole log, one subject or one week. */
export interface DeliveryFigures {
  /** Promotions into the stage. */
  readonly deployments: number;
  /** Promotions into the stage per week. */
  readonly deploymentFrequency: number;
  /** Median seconds from a release's commit time (or creation) to its first promotion into the stage. */
  readonly leadTimeSeconds: number | null;
  readonly leadTimes: number;
  /** failedDeployments / deployments, 0..1. */
  readonly changeFailureRate: number | null;
  /** Promotions into the stage that were rolled back or had an incident opened on them. */
  readonly failedDeployments: number;
  /** Median seconds from a failure to its restoration (rollback or incident resolved). */
  readonly timeToRestoreSeconds: number | null;
  readonly restorations: number;
  /** unplannedDeployments / deployments, 0..1. */
  readonly reworkRate: number | null;
  /** Promotions into the stage of an `unplanned: true` release, or made while an incident on the subject was open. */
  readonly unplannedDeployments: number;
  /** Promotions into the stage made with break-glass. */
  readonly breakGlassCount: number;
  readonly gates: readonly GateFigures[];
}

export interface SubjectFigures extends DeliveryFigures {
  readonly subject: string;
}

export interface WeekFigures extends DeliveryFigures {
  /** The week's Monday (UTC), `2026-11-30`. */
  readonly week: string;
  readonly from: string;
  readonly to: string;
}

export interface DeliveryMetrics extends DeliveryFigures {
  readonly stage: string;
  readonly subject: string | null;
  readonly since: string | null;
  /** The period: from `from` to `to`, over `weekCount` weeks (Monday to Monday, UTC; the current one counts whole). */
  readonly from: string;
  readonly to: string;
  readonly weekCount: number;
  readonly subjects: readonly SubjectFigures[];
  readonly weeks: readonly WeekFigures[];
}

export interface MetricsAccumulator {
  /** The next event of the log, oldest first. */
  add(event: MetricsEvent): void;
  result(): DeliveryMetrics;
}

const WEEK_MS = 7 * 86_400_000;

/** The Monday 00:00 UTC of the week holding `ms`. */
export function weekStart(ms: number): number {
  const d = new Date(ms);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return midnight - ((d.getUTCDay() + 6) % 7) * 86_400_000;
}

/** Seconds as a person reads them, to two units: `3d 4h`, `2h 5m`, `40s`; `—` for none. */
export function describeSeconds(s: number | null): string {
  if (s === null) return '—';
  const units: [number, string][] = [[86_400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  const parts: string[] = [];
  let rest = Math.round(Math.abs(s));
  for (const [size, name] of units) {
    if (rest >= size || (name === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return (s < 0 ? '-' : '') + parts.join(' ');
}

/** The median of `values` (the mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What one scope (the log, a subject, a week) has counted so far. */
interface Bucket {
  deployments: number;
  failed: number;
  unplanned: number;
  breakGlass: number;
  leads: number[];
  restores: number[];
  /** Promotion attempts by stage. */
  attempts: Map<string, number>;
  /** By gate key (`stage\0id`). */
  blocked: Map<string, number>;
  waits: Map<string, number[]>;
}

function bucket(): Bucket {
  return { deployments: 0, failed: 0, unplanned: 0, breakGlass: 0, leads: [], restores: [], attempts: new Map(), blocked: new Map(), waits: new Map() };
}

interface ReleaseFacts {
  readonly createdAt: number;
  /** Commit time when the manifest gives one, else the creation. */
  readonly leadFrom: number;
  readonly unplanned: boolean;
}

/** A counted deployment, so that a later rollback or incident can mark it failed in its buckets. */
interface Deployment {
  readonly buckets: readonly Bucket[];
  failed: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const subjectOfRelease = (release: string): string => release.slice(0, Math.max(0, release.lastIndexOf('@')));
const gateKey = (stage: string, id: string): string => `${stage}\u0000${id}`;

/** A streaming computation of the delivery metrics over the audit log. */
export function createMetricsAccumulator(opts: MetricsOptions): MetricsAccumulator {
  const fromMs = Date.parse(opts.from);
  const toMs = Date.parse(opts.to);
  const sinceMs = opts.since !== undefined ? Date.parse(opts.since) : -Infinity;
  const overall = bucket();
  const subjects = new Map<string, Bucket>();
  const weeks = new Map<number, Bucket>();
  const releases = new Map<string, ReleaseFacts>();
  /** release → stage → when it last arrived there. */
  const arrivals = new Map<string, Map<string, number>>();
  /** Releases already promoted into the stage once: only the first arrival has a lead time. */
  const arrived = new Set<string>();
  /** Promotions and rollbacks by id: when, and the deployment they counted as. */
  const moves = new Map<string, { at: number; deployment?: Deployment }>();
  /** release\0stage\0gate → the time of its last evidence. */
  const evidence = new Map<string, number>();
  /** Open incidents per subject, and every incident's opening. */
  const openBySubject = new Map<string, Set<string>>();
  const incidents = new Map<string, { at: number; subject: string; stage: string }>();
  /** Promotions an incident was opened on: their rollback is not a restoration of its own. */
  const incidentLinked = new Set<string>();
  /** Every gate seen, by key. */
  const gatesSeen = new Map<string, { stage: string; id: string }>();

  const subjectBucket = (subject: string): Bucket => {
    let b = subjects.get(subject);
    if (!b) subjects.set(subject, (b = bucket()));
    return b;
  };
  const weekBucket = (ms: number): Bucket => {
    const w = weekStart(ms);
    let b = weeks.get(w);
    if (!b) weeks.set(w, (b = bucket()));
    return b;
  };
  const seeGate = (stage: string, id: string): string => {
    const key = gateKey(stage, id);
    if (!gatesSeen.has(key)) gatesSeen.set(key, { stage, id });
    return key;
  };
  // Events after `to` never reach the counting (add drops them), so only the start bounds a count.
  const counts = (at: number): boolean => at >= sinceMs && at >= fromMs;
  const scopes = (subject: string, at: number): Bucket[] => [overall, subjectBucket(subject), weekBucket(at)];
  const markFailed = (promotionId: string | undefined): void => {
    const d = promotionId !== undefined ? moves.get(promotionId)?.deployment : undefined;
    if (!d || d.failed) return;
    d.failed = true;
    for (const b of d.buckets) b.failed++;
  };

  function add(e: MetricsEvent): void {
    const at = Date.parse(e.at);
    // After the end of the period nothing happened yet, as far as these figures go.
    if (Number.isNaN(at) || at > toMs) return;
    const d = e.data;
    const release = str(d.release);
    const subject = str(d.subject) ?? (release !== undefined ? subjectOfRelease(release) : undefined);
    if (subject === undefined || (opts.subject !== undefined && subject !== opts.subject)) return;
    // A subject is listed from its first event, even one that counts nothing.
    subjectBucket(subject);
    switch (e.type) {
      case 'ReleaseCreated': {
        if (release === undefined) return;
        const commit = str(d.commitTime) !== undefined ? Date.parse(str(d.commitTime)!) : NaN;
        releases.set(release, { createdAt: at, leadFrom: Number.isNaN(commit) ? at : commit, unplanned: d.unplanned === true });
        return;
      }
      case 'ChecklistItemCompleted':
      case 'SignoffRecorded':
      case 'ValidationRecorded': {
        const stage = str(d.stage);
        const gate = str(d.gate);
        if (release === undefined || stage === undefined || gate === undefined) return;
        seeGate(stage, gate);
        evidence.set(`${release}\u0000${stage}\u0000${gate}`, at);
        return;
      }
      case 'PromotionBlocked': {
        const stage = str(d.stage);
        if (stage === undefined || !counts(at)) return;
        const gates = new Set(
          (Array.isArray(d.unmet) ? d.unmet : [])
            .map((u) => str(u))
            .filter((u): u is string => u !== undefined && u.includes('/'))
            .map((u) => u.slice(0, u.indexOf('/'))),
        );
        for (const b of scopes(subject, at)) {
          b.attempts.set(stage, (b.attempts.get(stage) ?? 0) + 1);
          for (const g of gates) {
            const key = seeGate(stage, g);
            b.blocked.set(key, (b.blocked.get(key) ?? 0) + 1);
          }
        }
        return;
      }
      case 'ReleasePromoted': {
        const stage = str(d.stage);
        const id = str(d.id);
        if (release === undefined || stage === undefined) return;
        const facts = releases.get(release);
        const mine = arrivals.get(release) ?? new Map<string, number>();
        let deployment: Deployment | undefined;
        const passed = (Array.isArray(d.gates) ? d.gates : []).flatMap((g) => {
          const gid = str((g as { id?: unknown } | null)?.id);
          return gid === undefined ? [] : [{ id: gid, key: seeGate(stage, gid), satisfied: (g as { outcome?: unknown }).outcome === 'satisfied' }];
        });
        if (counts(at)) {
          const buckets = scopes(subject, at);
          // The wait on each gate passed: from reaching the stage before (or creation) to its last evidence.
          const before = [...mine].filter(([s]) => s !== stage).map(([, t]) => t);
          const start = before.length > 0 ? maxOf(before) : facts?.createdAt;
          for (const { id: gid, key, satisfied } of passed) {
            const last = evidence.get(`${release}\u0000${stage}\u0000${gid}`);
            if (start === undefined || last === undefined || !satisfied) continue;
            const wait = Math.max(0, last - start) / 1000;
            for (const b of buckets) {
              const list = b.waits.get(key);
              if (list) list.push(wait);
              else b.waits.set(key, [wait]);
            }
          }
          for (const b of buckets) b.attempts.set(stage, (b.attempts.get(stage) ?? 0) + 1);
          if (stage === opts.stage) {
            deployment = { buckets, failed: false };
            const unplanned = facts?.unplanned === true || (openBySubject.get(subject)?.size ?? 0) > 0;
            const breakGlass = typeof d.breakGlass === 'object' && d.breakGlass !== null;
            const lead = !arrived.has(release) && facts ? (at - facts.leadFrom) / 1000 : undefined;
            for (const b of buckets) {
              b.deployments++;
              if (unplanned) b.unplanned++;
              if (breakGlass) b.breakGlass++;
              if (lead !== undefined) b.leads.push(lead);
            }
          }
        }
        if (stage === opts.stage) arrived.add(release);
        mine.set(stage, at);
        arrivals.set(release, mine);
        if (id !== undefined) moves.set(id, { at, ...(deployment ? { deployment } : {}) });
        return;
      }
      case 'ReleaseRolledBack': {
        const stage = str(d.stage);
        const id = str(d.id);
        const failedId = str(d.failedPromotion);
        if (id !== undefined) moves.set(id, { at });
        if (stage !== opts.stage) return;
        markFailed(failedId);
        const failedAt = failedId !== undefined ? moves.get(failedId)?.at : undefined;
        // A failure an incident was opened on is restored when the incident is resolved: counted once, there.
        if (!counts(at) || failedAt === undefined || incidentLinked.has(failedId!)) return;
        for (const b of scopes(subject, at)) b.restores.push((at - failedAt) / 1000);
        return;
      }
      case 'IncidentOpened': {
        const id = str(d.id);
        const stage = str(d.stage);
        if (id === undefined || stage === undefined) return;
        incidents.set(id, { at, subject, stage });
        const open = openBySubject.get(subject) ?? new Set<string>();
        open.add(id);
        openBySubject.set(subject, open);
        if (stage !== opts.stage) return;
        const promotion = str(d.promotion);
        if (promotion !== undefined) {
          incidentLinked.add(promotion);
          markFailed(promotion);
        }
        return;
      }
      case 'IncidentResolved': {
        const id = str(d.id);
        if (id === undefined) return;
        openBySubject.get(subject)?.delete(id);
        const opened = incidents.get(id);
        if (!opened || opened.stage !== opts.stage || !counts(at)) return;
        for (const b of scopes(subject, at)) b.restores.push((at - opened.at) / 1000);
        return;
      }
      default:
        return;
    }
  }

  function figures(b: Bucket, weeksOf: number): DeliveryFigures {
    const gates: GateFigures[] = [];
    for (const [key, g] of gatesSeen) {
      const attempts = b.attempts.get(g.stage) ?? 0;
      const waits = b.waits.get(key) ?? [];
      // A wait is measured at a promotion, which is an attempt: no attempt, nothing to show.
      if (attempts === 0) continue;
      const blocked = b.blocked.get(key) ?? 0;
      gates.push({ id: g.id, stage: g.stage, waitSeconds: median(waits), waits: waits.length, attempts, blocked, blockRate: blocked / attempts });
    }
    gates.sort((x, y) => (x.stage === y.stage ? (x.id < y.id ? -1 : x.id > y.id ? 1 : 0) : x.stage < y.stage ? -1 : 1));
    const n = b.deployments;
    return {
      deployments: n,
      deploymentFrequency: n / weeksOf,
      leadTimeSeconds: median(b.leads),
      leadTimes: b.leads.length,
      changeFailureRate: n > 0 ? b.failed / n : null,
      failedDeployments: b.failed,
      timeToRestoreSeconds: median(b.restores),
      restorations: b.restores.length,
      reworkRate: n > 0 ? b.unplanned / n : null,
      unplannedDeployments: b.unplanned,
      breakGlassCount: b.breakGlass,
      gates,
    };
  }

  function result(): DeliveryMetrics {
    const first = weekStart(Math.min(fromMs, toMs));
    const last = weekStart(toMs);
    const weekCount = Math.round((last - first) / WEEK_MS) + 1;
    const weekList: WeekFigures[] = [];
    for (let w = first; w <= last; w += WEEK_MS) {
      weekList.push({
        week: new Date(w).toISOString().slice(0, 10),
        from: new Date(w).toISOString(),
        to: new Date(w + WEEK_MS).toISOString(),
        ...figures(weeks.get(w) ?? bucket(), 1),
      });
    }
    return {
      stage: opts.stage,
      subject: opts.subject ?? null,
      since: opts.since ?? null,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      weekCount,
      ...figures(overall, weekCount),
      subjects: [...subjects.keys()].sort().map((s) => ({ subject: s, ...figures(subjects.get(s)!, weekCount) })),
      weeks: weekList,
    };
  }

  return { add, result };
}

/** The delivery metrics of `events` (oldest first) at once: for tests and small logs. */
export function computeMetrics(events: Iterable<MetricsEvent>, opts: MetricsOptions): DeliveryMetrics {
  const acc = createMetricsAccumulator(opts);
  for (const e of events) acc.add(e);
  return acc.result();
}
