/**
 * What the release page shows, read through the use cases as the signed-in person: the release, its
 * evidence, the decision for every stage, and the two bases a reviewer compares against — the
 * release that holds the stage the page is about, and the release they last signed off — with what
 * changed between each and this one.
 */
import type { Decision, EvidenceSet, PolicyVersion, Signoff, ValidationResult } from '../../domain/model.js';
import { gateDigest } from '../../domain/policy.js';
import type { ReleaseDetail, ReleaseSummary } from '../../service/read-release.js';
import type { DeskUseCases as UseCases } from '../../service/use-cases.js';
import { minOf } from '../../domain/bounded.js';

export interface Base {
  /** Why this is a base: `holds production`, `you signed off at …`. */
  readonly label: string;
  readonly release: ReleaseDetail;
  readonly evidence: EvidenceSet;
  /** The moment the comparison starts from (the promotion, or the sign-off). */
  readonly since: string;
  /** The gate definitions the base was judged by: gate id → digest. */
  readonly gates: ReadonlyMap<string, string>;
  readonly signoff?: Signoff;
}

export interface ReleaseView {
  readonly release: ReleaseDetail;
  readonly evidence: EvidenceSet;
  readonly policy: PolicyVersion;
  /** The stage the page is about: asked for, or the first the release has not entered yet. */
  readonly stage: string;
  /** One decision per stage of the policy, in its order, as anyone sees it. */
  readonly decisions: readonly Decision[];
  /** The decision for `stage` as the viewer would meet it promoting (their own sign-offs aside). */
  readonly promoting: Decision;
  /** Until when (ms) the view holds if nothing is recorded meanwhile: a sign-off expiring, a freeze opening. */
  readonly horizon: number;
  readonly holder?: Base;
  readonly lastSigned?: Base;
}

/** The first stage of the policy the release was never promoted into (the last stage when it went through all). */
export function nextStage(stages: readonly string[], release: Pick<ReleaseDetail, 'promotions'>): string {
  const entered = new Set(release.promotions.filter((p) => p.kind === 'promotion').map((p) => p.stage));
  return stages.find((s) => !entered.has(s)) ?? stages[stages.length - 1]!;
}

export async function releaseView(uc: UseCases, ref: string, viewer: string, askedStage: string | undefined): Promise<ReleaseView> {
  const policy = await uc.policy();
  if (!policy) throw new Error('no policy');
  const stages = policy.policy.stages.map((s) => s.name);
  const { release: detail, evidence } = await uc.evidence(ref);
  const release = detail;
  const stage = askedStage && stages.includes(askedStage) ? askedStage : nextStage(stages, release);
  const judged = await Promise.all([...stages.map((s) => uc.decisionUntil(ref, s, false)), uc.decisionUntil(ref, stage, true)]);
  const decisions = judged.slice(0, stages.length).map((j) => j.decision);
  const promoting = judged[stages.length]!.decision;
  const horizon = minOf(judged.map((j) => j.horizon));
  const gatesOf = (p: PolicyVersion) => new Map(p.policy.gates.filter((g) => g.stage === stage).map((g) => [g.id, gateDigest(g)]));

  // The release that holds the stage now, when it is another one.
  let holder: Base | undefined;
  const subjectReleases: ReleaseSummary[] = await uc.listReleases({ subject: release.subject });
  const holding = subjectReleases.find((r) => r.holds.includes(stage) && r.release !== release.release);
  if (holding) {
    const h = await uc.evidence(holding.release);
    const promotion = h.release.promotions.filter((p) => p.stage === stage).at(-1);
    const judged = promotion ? await uc.policy(promotion.policyVersion) : undefined;
    holder = { label: `${holding.release}, which holds ${stage}`, release: h.release, evidence: h.evidence, since: promotion?.at ?? h.release.createdAt, gates: judged ? gatesOf(judged) : new Map() };
  }

  // What this reviewer signed last on this subject (this release included: what changed since).
  let newest: { s: Signoff; ref: string } | undefined;
  for (const r of subjectReleases) {
    const ev = r.release === release.release ? { evidence } : await uc.evidence(r.release);
    if (!ev.evidence.signoffs.some((s) => s.signer === viewer)) continue;
    for (const s of ev.evidence.signoffs) if (s.signer === viewer && (!newest || s.at > newest.s.at)) newest = { s, ref: r.release };
  }
  let lastSigned: Base | undefined;
  if (newest) {
    const l = newest.ref === release.release ? { release, evidence } : await uc.evidence(newest.ref);
    lastSigned = {
      label: `${newest.ref}, which you signed off (${newest.s.decision}, ${newest.s.stage}/${newest.s.gate})`,
      release: l.release,
      evidence: l.evidence,
      since: newest.s.at,
      gates: new Map([[newest.s.gate, newest.s.gateDigest]]),
      signoff: newest.s,
    };
  }
  return { release, evidence, policy, stage, decisions, promoting, horizon, ...(holder ? { holder } : {}), ...(lastSigned ? { lastSigned } : {}) };
}

// ---------------------------------------------------------------- diff

export interface DiffRow {
  readonly what: string;
  readonly base: string;
  readonly current: string;
  readonly changed: boolean;
}

export interface Diff {
  readonly artifacts: DiffRow[];
  readonly metrics: DiffRow[];
  /** Data contract, drift and every other validation's one-line figures. */
  readonly validations: DiffRow[];
  readonly gates: DiffRow[];
  /** Evidence of this release recorded after the base's moment. */
  readonly added: { kind: string; what: string; by: string; at: string }[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The newest result per validation id (any stage). */
function latestResults(ev: EvidenceSet): Map<string, ValidationResult> {
  const out = new Map<string, ValidationResult>();
  for (const v of ev.validations) out.set(`${v.gateId}/${v.validationId}`, v);
  return out;
}

function numbers(ev: EvidenceSet): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of latestResults(ev).values()) {
    if (r.validator === 'metrics' && isObj(r.measurements.metrics)) {
      for (const [k, v] of Object.entries(r.measurements.metrics)) if (typeof v === 'number') out.set(k, v);
    }
    if (r.validator === 'drift' && isObj(r.measurements.columns)) {
      for (const [k, c] of Object.entries(r.measurements.columns)) if (isObj(c) && typeof c.psi === 'number') out.set(`drift PSI ${k}`, c.psi);
    }
  }
  return out;
}

const fmt = (n: number | undefined) => (n === undefined ? '—' : String(Number(n.toPrecision(4))));

export function diff(view: Pick<ReleaseView, 'release' | 'evidence' | 'policy' | 'stage'>, base: Base): Diff {
  const artifacts: DiffRow[] = [];
  const cur = new Map(view.release.manifest.artifacts.map((a) => [a.name, a.sha256]));
  const old = new Map(base.release.manifest.artifacts.map((a) => [a.name, a.sha256]));
  for (const name of new Set([...old.keys(), ...cur.keys()])) {
    const b = old.get(name) ?? '—';
    const c = cur.get(name) ?? '—';
    artifacts.push({ what: name, base: b, current: c, changed: b !== c });
  }
  const nb = numbers(base.evidence);
  const nc = numbers(view.evidence);
  const metrics = [...new Set([...nb.keys(), ...nc.keys()])].map((k) => ({ what: k, base: fmt(nb.get(k)), current: fmt(nc.get(k)), changed: nb.get(k) !== nc.get(k) }));
  const rb = latestResults(base.evidence);
  const rc = latestResults(view.evidence);
  const validations = [...new Set([...rb.keys(), ...rc.keys()])].map((k) => {
    const b = rb.get(k);
    const c = rc.get(k);
    const text = (r: ValidationResult | undefined) => (r ? `${r.status}: ${r.summary}` : 'not run');
    return { what: k, base: text(b), current: text(c), changed: text(b) !== text(c) };
  });
  const now = new Map(view.policy.policy.gates.filter((g) => g.stage === view.stage || base.gates.has(g.id)).map((g) => [g.id, gateDigest(g)]));
  const gates = [...new Set([...base.gates.keys(), ...now.keys()])].map((id) => {
    const b = base.gates.get(id) ?? '—';
    const c = now.get(id) ?? '—';
    return { what: id, base: b, current: c, changed: b !== c };
  });
  const added = [
    ...view.evidence.checklist.filter((c) => c.at > base.since).map((c) => ({ kind: 'checklist', what: `${c.stage}/${c.gateId}/${c.itemId}${c.evidence ? ` (evidence ${c.evidence.name})` : ''}`, by: c.by, at: c.at })),
    ...view.evidence.validations.filter((v) => v.at > base.since).map((v) => ({ kind: 'validation', what: `${v.stage}/${v.gateId}/${v.validationId}: ${v.status}`, by: v.by, at: v.at })),
    ...view.evidence.signoffs.filter((s) => s.at > base.since).map((s) => ({ kind: 'sign-off', what: `${s.stage}/${s.gate} by ${s.role}: ${s.decision}`, by: s.signer, at: s.at })),
  ].sort((a, b) => (a.at < b.at ? 1 : -1));
  return { artifacts, metrics, validations, gates, added };
}
