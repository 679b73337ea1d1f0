/**
 * Policy history: the recorded versions, the text of one, and what a new policy would change before
 * it is applied (`policy list`, `policy show`, `policy diff`). Reads only: nothing here writes.
 */
import type { Digest } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import { evaluate } from '../domain/evaluate.js';
import { releaseName, type Decision, type EvidenceSet, type Policy, type Release, type Signoff } from '../domain/model.js';
import { gateDigest } from '../domain/policy-digests.js';
import type { PolicyVersionInfo, StoreReader } from '../store/store.js';
import { requirePolicy } from './lookup.js';
import { decisionInputs } from './status.js';
import { vouchPolicy, vouchRelease } from './vouch.js';
import { pushAll } from '../domain/bounded.js';

/** A version as `policy list` prints it. */
export interface PolicyListEntry extends PolicyVersionInfo {
  /** The newest version: the one every decision reads. */
  readonly active: boolean;
}

/** One version with its text as applied and the policy it parsed to. */
export interface PolicyDetail extends PolicyListEntry {
  readonly source: string;
  readonly policy: Policy;
}

/** A decision reduced to what `policy diff` compares. */
export interface DecisionOutline {
  readonly promotable: boolean;
  readonly gates: readonly { readonly id: string; readonly outcome: string }[];
}

/** A release whose decision for a stage would change under the new policy. */
export interface OutcomeChange {
  readonly release: string;
  readonly stage: string;
  /** Null when the stage is not in that policy. */
  readonly before: DecisionOutline | null;
  readonly after: DecisionOutline | null;
  /** The gates whose outcome differs (null: the gate does not apply, or is not in that policy). */
  readonly gates: readonly { readonly id: string; readonly before: string | null; readonly after: string | null }[];
}

/** A sign-off that counts against the active policy's gate and would not against the new one. */
export interface StaleSignoff {
  readonly id: string;
  readonly release: string;
  readonly stage: string;
  readonly gate: string;
  readonly role: string;
  readonly signer: string;
  readonly decision: string;
  readonly at: string;
  /** `gate-changed` (its definition's digest differs) or `gate-removed` (no gate of that id and stage). */
  readonly why: 'gate-changed' | 'gate-removed';
}

export interface PolicyDiff {
  readonly active: { readonly version: number; readonly name: string; readonly digest: Digest };
  readonly proposed: { readonly file: string; readonly name: string; readonly digest: Digest; readonly same: boolean };
  readonly evaluatedAt: string;
  /** How many releases were decided, in how many stages (those of either policy). */
  readonly releases: number;
  readonly stages: readonly string[];
  /** Exactly the release and stage pairs whose promotability or any gate's outcome would change. */
  readonly changes: readonly OutcomeChange[];
  readonly staleSignoffs: readonly StaleSignoff[];
}

/** Every recorded version, newest first. */
export async function listPolicies(store: StoreReader): Promise<PolicyListEntry[]> {
  const versions = await store.policyVersions();
  return versions.map((v, i) => ({ ...v, active: i === 0 }));
}

/**
 * One version (the active one when `version` is undefined), checked against the audit log like every
 * policy a decision reads: a text edited behind Tollgate's back is refused, not shown as history.
 */
export async function showPolicy(store: StoreReader, version?: number): Promise<PolicyDetail> {
  const active = await requirePolicy(store);
  const wanted = version === undefined || version === active.version ? active : await store.policyVersion(version);
  if (!wanted) {
    throw tollgateError('TG_USAGE', `no policy version ${version}: the versions are 1 to ${active.version}`, {
      hint: 'List the versions with `tollgate policy list`.',
    });
  }
  const p = await vouchPolicy(store, wanted);
  return { version: p.version, digest: p.digest, name: p.name, appliedAt: p.appliedAt, appliedBy: p.appliedBy, active: p.version === active.version, source: p.source, policy: p.policy };
}

/**
 * What applying `source` would change, decided now over the stored record with the pure `evaluate`
 * under both policies: every release in every stage of either policy whose promotability or any
 * gate's outcome differs, and every sign-off bound to a gate definition the new policy changes or
 * drops (it would be `stale`). A sign-off already stale, or a release the stage does not know, is
 * not a change. Nothing is written.
 */
export async function diffPolicy(store: StoreReader, source: string, file: string, now: Date): Promise<PolicyDiff> {
  // As in apply-policy.ts: the parser and the validators load only for the commands that parse a policy.
  const [{ parsePolicy }, { VALIDATOR_SCHEMAS }] = await Promise.all([import('../domain/policy.js'), import('../validators/registry.js')]);
  const proposed = parsePolicy(source, file, { validators: VALIDATOR_SCHEMAS });
  const active = await requirePolicy(store);
  const before = active.policy;
  const after = proposed.policy;
  const stages = [...new Set([...before.stages.map((s) => s.name), ...after.stages.map((s) => s.name)])];

  const releases = await store.listReleases();
  const changes: OutcomeChange[] = [];
  const staleSignoffs: StaleSignoff[] = [];
  for (const stored of releases) {
    const release = await vouchRelease(store, stored);
    // What status reads (decisionInputs), so the two decide alike.
    const { evidence, record } = await decisionInputs(store, release, now);
    const decideUnder = (policy: Policy, digest: Digest, version: number | undefined, stage: string): Decision | undefined =>
      policy.stages.some((s) => s.name === stage)
        ? evaluate(policy, release, evidence, now, { stage, policyDigest: digest, ...(version !== undefined ? { policyVersion: version } : {}), ...record })
        : undefined;
    for (const stage of stages) {
      const change = compare(
        release,
        stage,
        decideUnder(before, active.digest, active.version, stage),
        decideUnder(after, proposed.digest, undefined, stage),
      );
      if (change) changes.push(change);
    }
    pushAll(staleSignoffs, goingStale(release, evidence, before, after));
  }
  return {
    active: { version: active.version, name: active.name, digest: active.digest },
    proposed: { file, name: after.name, digest: proposed.digest, same: proposed.digest === active.digest },
    evaluatedAt: now.toISOString(),
    releases: releases.length,
    stages,
    changes,
    staleSignoffs,
  };
}

function outline(d: Decision | undefined): DecisionOutline | null {
  return d ? { promotable: d.promotable, gates: d.gates.map((g) => ({ id: g.id, outcome: g.outcome })) } : null;
}

/** The change of one release's decision for one stage, or undefined when it stays the same. */
function compare(release: Release, stage: string, before: Decision | undefined, after: Decision | undefined): OutcomeChange | undefined {
  if (!before && !after) return undefined;
  const outcomes = (d: Decision | undefined) => new Map((d?.gates ?? []).map((g) => [g.id, g.outcome as string]));
  const was = outcomes(before);
  const will = outcomes(after);
  const gates = [...new Set([...was.keys(), ...will.keys()])]
    .map((id) => ({ id, before: was.get(id) ?? null, after: will.get(id) ?? null }))
    .filter((g) => g.before !== g.after);
  const promotableChanged = before?.promotable !== after?.promotable;
  if (!promotableChanged && gates.length === 0) return undefined;
  return { release: releaseName(release), stage, before: outline(before), after: outline(after), gates };
}

/**
 * The release's sign-offs in effect that are bound to their gate's current definition in the active
 * policy and would be stale under the new one: rule 2 of DESIGN.md, applied ahead of time.
 */
function goingStale(release: Release, evidence: EvidenceSet, before: Policy, after: Policy): StaleSignoff[] {
  // A person's newest sign-off in a role for a gate is the one in effect (a later approval lifts
  // their rejection): only those can go stale; evidence comes oldest first.
  const latest = new Map<string, Signoff>();
  for (const s of evidence.signoffs) latest.set(JSON.stringify([s.stage, s.gate, s.role, s.signer]), s);
  const out: StaleSignoff[] = [];
  for (const s of latest.values()) {
    const was = before.gates.find((g) => g.id === s.gate && g.stage === s.stage);
    if (!was || gateDigest(was) !== s.gateDigest) continue;
    const will = after.gates.find((g) => g.id === s.gate && g.stage === s.stage);
    if (will && gateDigest(will) === s.gateDigest) continue;
    out.push({
      id: s.id,
      release: releaseName(release),
      stage: s.stage,
      gate: s.gate,
      role: s.role,
      signer: s.signer,
      decision: s.decision,
      at: s.at,
      why: will ? 'gate-changed' : 'gate-removed',
    });
  }
  return out;
}
