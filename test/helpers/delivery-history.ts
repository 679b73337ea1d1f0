/**
 * A generated delivery history with known answers (issue 12, acceptance 2): a seeded plan of
 * releases, checklist evidence, blocked and successful promotions, rollbacks and incidents over
 * several subjects and months, and the delivery metrics it must give, worked out here from the plan's
 * own facts (which deployment failed, which restoration took how long), not by the code under test.
 *
 * The plan runs two ways: as audit events for the pure function (`planEvents`), and through the real
 * service layer on a real store (test/service.metrics.test.ts). Policy: staging (gate `qa`, checklist
 * `tests-pass`) then production (after staging; gate `ops`, checklist `runbook`).
 */

/** A small seeded PRNG (mulberry32): the same seed gives the same history. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const STAGE_GATE: Record<string, { gate: string; item: string }> = {
  staging: { gate: 'qa', item: 'tests-pass' },
  production: { gate: 'ops', item: 'runbook' },
};

/** The gates a promotion into each stage passes, as its decision lists them (production's order is the `stage` gate). */
export const PROMOTED_GATES: Record<string, readonly string[]> = { staging: ['qa'], production: ['stage', 'ops'] };

export type Step =
  | { kind: 'create'; at: number; subject: string; release: string; unplanned: boolean; commitTime?: string }
  | { kind: 'check'; at: number; subject: string; release: string; stage: string }
  | { kind: 'blocked'; at: number; subject: string; release: string; stage: string }
  | { kind: 'promote'; at: number; subject: string; release: string; stage: string; id: string; breakGlass: boolean }
  | { kind: 'rollback'; at: number; subject: string; id: string; failed: string }
  | { kind: 'open'; at: number; subject: string; id: string; promotion: string; release: string }
  | { kind: 'resolve'; at: number; subject: string; id: string };

/** What the plan knows about each fact the metrics count. */
export interface Facts {
  readonly deployments: { subject: string; at: number; lead: number; failed: boolean; unplanned: boolean; breakGlass: boolean }[];
  readonly restorations: { subject: string; at: number; seconds: number }[];
  readonly attempts: { subject: string; at: number; stage: string; blockedBy?: string }[];
  readonly waits: { subject: string; at: number; stage: string; gate: string; seconds: number }[];
}

export interface Plan {
  readonly steps: Step[];
  readonly facts: Facts;
  readonly subjects: string[];
  /** When the log starts (the policy is applied then) and ends (now). */
  readonly start: number;
  readonly end: number;
}

const HOUR = 3600_000;

/**
 * A history of `iterations` moves over `subjects` subjects, starting at `start`. `breakGlass` marks
 * some production promotions as made with break-glass (only the pure run can: the service's promote
 * does not record it here).
 */
export function generatePlan(opts: { seed: number; iterations: number; subjects?: number; start?: string; breakGlass?: boolean }): Plan {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const subjects = Array.from({ length: opts.subjects ?? 3 }, (_, i) => `svc-${String.fromCharCode(97 + i)}`);
  const start = Date.parse(opts.start ?? '2026-03-04T09:00:00Z');
  let t = start;
  let nextId = 1;
  const steps: Step[] = [];
  const facts: Facts = { deployments: [], restorations: [], attempts: [], waits: [] };

  interface Rel {
    name: string;
    createdAt: number;
    leadFrom: number;
    unplanned: boolean;
    todo: string[];
    arrivals: Map<string, number>;
    evidence: Map<string, number>;
  }
  interface Holder {
    release: string;
    id: string;
    kind: 'promotion' | 'rollback';
    previous?: string;
    deployment?: Facts['deployments'][number];
    at: number;
  }
  const state = new Map(
    subjects.map((s) => [
      s,
      {
        count: 0,
        current: undefined as Rel | undefined,
        holder: undefined as Holder | undefined,
        incident: undefined as { id: string; at: number; promotion: string } | undefined,
        /** Promotions an incident was opened on. */
        incidentOn: new Set<string>(),
      },
    ]),
  );

  for (let i = 0; i < opts.iterations; i++) {
    t += between(1, 20) * HOUR + between(0, 3599) * 1000;
    const subject = pick(subjects);
    const s = state.get(subject)!;
    const r = rnd();
    const h = s.holder;
    if (r < 0.07 && h && h.kind === 'promotion' && h.previous !== undefined) {
      const id = `rb${nextId++}`;
      steps.push({ kind: 'rollback', at: t, subject, id, failed: h.id });
      if (h.deployment) h.deployment.failed = true;
      if (!s.incidentOn.has(h.id)) facts.restorations.push({ subject, at: t, seconds: (t - h.at) / 1000 });
      s.holder = { release: h.previous, id, kind: 'rollback', at: t };
      continue;
    }
    if (r < 0.15 && h && !s.incident) {
      const id = `in${nextId++}`;
      steps.push({ kind: 'open', at: t, subject, id, promotion: h.id, release: h.release });
      s.incident = { id, at: t, promotion: h.id };
      s.incidentOn.add(h.id);
      if (h.deployment) h.deployment.failed = true;
      continue;
    }
    if (r < 0.24 && s.incident) {
      steps.push({ kind: 'resolve', at: t, subject, id: s.incident.id });
      facts.restorations.push({ subject, at: t, seconds: (t - s.incident.at) / 1000 });
      s.incident = undefined;
      continue;
    }
    // Otherwise the subject's release in progress takes its next step (a new release when none is).
    if (!s.current) {
      s.count++;
      const name = `${subject}@1.${s.count}.0`;
      const unplanned = rnd() < 0.12;
      const commit = rnd() < 0.3 ? t - between(1, 72) * HOUR : undefined;
      const todo: string[] = [];
      const earlyOps = rnd() < 0.2;
      if (earlyOps) todo.push('check:production');
      if (rnd() < 0.3) todo.push('blocked:staging');
      todo.push('check:staging');
      if (rnd() < 0.15) todo.push('check:staging');
      todo.push('promote:staging');
      if (rnd() < 0.1) todo.push('abandon');
      if (!earlyOps) {
        if (rnd() < 0.3) todo.push('blocked:production');
        todo.push('check:production');
      }
      todo.push('promote:production');
      s.current = { name, createdAt: t, leadFrom: commit ?? t, unplanned, todo, arrivals: new Map(), evidence: new Map() };
      steps.push({ kind: 'create', at: t, subject, release: name, unplanned, ...(commit !== undefined ? { commitTime: new Date(commit).toISOString() } : {}) });
      continue;
    }
    const rel = s.current;
    const [what, stage] = rel.todo.shift()!.split(':') as [string, string];
    if (what === 'abandon') {
      // Never promoted to production: the subject's next move starts a new release.
      s.current = undefined;
      continue;
    }
    if (what === 'check') {
      steps.push({ kind: 'check', at: t, subject, release: rel.name, stage });
      rel.evidence.set(stage, t);
    } else if (what === 'blocked') {
      steps.push({ kind: 'blocked', at: t, subject, release: rel.name, stage });
      facts.attempts.push({ subject, at: t, stage, blockedBy: STAGE_GATE[stage]!.gate });
    } else {
      const id = `pr${nextId++}`;
      const breakGlass = stage === 'production' && opts.breakGlass === true && rnd() < 0.06;
      steps.push({ kind: 'promote', at: t, subject, release: rel.name, stage, id, breakGlass });
      facts.attempts.push({ subject, at: t, stage });
      const from = stage === 'production' ? (rel.arrivals.get('staging') ?? rel.createdAt) : rel.createdAt;
      facts.waits.push({ subject, at: t, stage, gate: STAGE_GATE[stage]!.gate, seconds: Math.max(0, rel.evidence.get(stage)! - from) / 1000 });
      rel.arrivals.set(stage, t);
      if (stage === 'production') {
        const deployment = { subject, at: t, lead: (t - rel.leadFrom) / 1000, failed: false, unplanned: rel.unplanned || s.incident !== undefined, breakGlass };
        facts.deployments.push(deployment);
        s.holder = { release: rel.name, id, kind: 'promotion', at: t, deployment, ...(h ? { previous: h.release } : {}) };
        s.current = undefined;
      }
    }
  }
  return { steps, facts, subjects, start, end: t + 5 * HOUR };
}

/** The plan as the audit log's events would record it (the data fields the metrics read, as the service writes them). */
export function planEvents(plan: Plan): { at: string; type: string; data: Record<string, unknown> }[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: { at: string; type: string; data: Record<string, unknown> }[] = [{ at: iso(plan.start), type: 'PolicyApplied', data: { name: 'history' } }];
  const holders = new Map<string, string>();
  for (const s of plan.steps) {
    const at = iso(s.at);
    switch (s.kind) {
      case 'create':
        out.push({ at, type: 'ReleaseCreated', data: { release: s.release, risk: 'low', ...(s.unplanned ? { unplanned: true } : {}), ...(s.commitTime ? { commitTime: s.commitTime } : {}) } });
        break;
      case 'check':
        out.push({ at, type: 'ChecklistItemCompleted', data: { release: s.release, stage: s.stage, gate: STAGE_GATE[s.stage]!.gate, item: STAGE_GATE[s.stage]!.item } });
        break;
      case 'blocked':
        out.push({ at, type: 'PromotionBlocked', data: { release: s.release, stage: s.stage, unmet: [`${STAGE_GATE[s.stage]!.gate}/checklist:${STAGE_GATE[s.stage]!.item} missing`] } });
        break;
      case 'promote':
        out.push({
          at,
          type: 'ReleasePromoted',
          data: {
            id: s.id,
            release: s.release,
            stage: s.stage,
            gates: PROMOTED_GATES[s.stage]!.map((id) => ({ id, outcome: 'satisfied' })),
            ...(s.breakGlass ? { breakGlass: { reason: 'sev1' } } : {}),
          },
        });
        if (s.stage === 'production') holders.set(s.subject, s.release);
        break;
      case 'rollback':
        out.push({ at, type: 'ReleaseRolledBack', data: { id: s.id, subject: s.subject, stage: 'production', failedPromotion: s.failed, reason: 'bad' } });
        break;
      case 'open':
        out.push({ at, type: 'IncidentOpened', data: { id: s.id, subject: s.subject, stage: 'production', release: s.release, promotion: s.promotion, reason: 'alerts' } });
        break;
      case 'resolve':
        out.push({ at, type: 'IncidentResolved', data: { id: s.id, subject: s.subject, stage: 'production' } });
        break;
    }
  }
  return out;
}

// ------------------------------------------------------------------ the answers, from the facts

const WEEK = 7 * 86_400_000;

function mondayOf(ms: number): number {
  const day = Math.floor(ms / 86_400_000);
  // 1970-01-01 was a Thursday: day 0 is 3 days after a Monday.
  return (day - ((day + 3) % 7)) * 86_400_000;
}

function middle(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Every gate the history has, in the order the metrics list them (stage, then id). */
const GATES = [
  { stage: 'production', id: 'ops' },
  { stage: 'production', id: 'stage' },
  { stage: 'staging', id: 'qa' },
];

/** The figures of the facts that `keep` selects, over `weeks` weeks. */
export function expectedFigures(facts: Facts, keep: (f: { subject: string; at: number }) => boolean, weeks: number) {
  const deps = facts.deployments.filter(keep);
  const failed = deps.filter((d) => d.failed).length;
  const unplanned = deps.filter((d) => d.unplanned).length;
  const restores = facts.restorations.filter(keep).map((r) => r.seconds);
  const attempts = facts.attempts.filter(keep);
  const waits = facts.waits.filter(keep);
  const gates = GATES.flatMap((g) => {
    const tried = attempts.filter((a) => a.stage === g.stage);
    const waited = waits.filter((w) => w.stage === g.stage && w.gate === g.id).map((w) => w.seconds);
    if (tried.length === 0 && waited.length === 0) return [];
    const blocked = tried.filter((a) => a.blockedBy === g.id).length;
    return [{ id: g.id, stage: g.stage, waitSeconds: middle(waited), waits: waited.length, attempts: tried.length, blocked, blockRate: tried.length > 0 ? blocked / tried.length : null }];
  });
  return {
    deployments: deps.length,
    deploymentFrequency: deps.length / weeks,
    leadTimeSeconds: middle(deps.map((d) => d.lead)),
    leadTimes: deps.length,
    changeFailureRate: deps.length > 0 ? failed / deps.length : null,
    failedDeployments: failed,
    timeToRestoreSeconds: middle(restores),
    restorations: restores.length,
    reworkRate: deps.length > 0 ? unplanned / deps.length : null,
    unplannedDeployments: unplanned,
    breakGlassCount: deps.filter((d) => d.breakGlass).length,
    gates,
  };
}

/** The whole answer for the plan: overall, per subject and per week, from `since` (ms) when given. */
export function expectedMetrics(plan: Plan, opts: { since?: number; subject?: string } = {}) {
  const from = opts.since ?? plan.start;
  const inWindow = (f: { subject: string; at: number }) => f.at >= from && f.at <= plan.end && (opts.subject === undefined || f.subject === opts.subject);
  const first = mondayOf(from);
  const last = mondayOf(plan.end);
  const weekCount = (last - first) / WEEK + 1;
  const weeks = [];
  for (let w = first; w <= last; w += WEEK) {
    weeks.push({
      week: new Date(w).toISOString().slice(0, 10),
      from: new Date(w).toISOString(),
      to: new Date(w + WEEK).toISOString(),
      ...expectedFigures(plan.facts, (f) => inWindow(f) && f.at >= w && f.at < w + WEEK, 1),
    });
  }
  const subjects = opts.subject !== undefined ? [opts.subject] : plan.subjects;
  return {
    stage: 'production',
    subject: opts.subject ?? null,
    from: new Date(from).toISOString(),
    to: new Date(plan.end).toISOString(),
    weekCount,
    ...expectedFigures(plan.facts, inWindow, weekCount),
    subjects: subjects.map((s) => ({ subject: s, ...expectedFigures(plan.facts, (f) => inWindow(f) && f.subject === s, weekCount) })),
    weeks,
  };
}
