import { randomUUID } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { jsonBytes, RESULT_LIMITS } from '../domain/bounded.js';
import { conditionHolds } from '../domain/cel.js';
import { digestBytes, type Digest } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import { validationDigest } from '../domain/policy-digests.js';
import { releaseName, rosterEntry, type Policy, type Release, type ValidationResult } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { parseReleaseRef, requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';

/** The role whose members may submit validation results (DESIGN.md roster: `ci: { roles: [validator] }`). */
export const VALIDATOR_ROLE = 'validator';

/** The acting user, who must be in the roster and hold the validator role. */
export function requireValidator(policy: Policy, actor: string | undefined): string {
  const user = requireMember(policy, actor);
  if (!rosterEntry(policy, user)!.roles.includes(VALIDATOR_ROLE)) {
    throw tollgateError('TG_NOT_ALLOWED', `${user} may not submit validation results: that needs the "${VALIDATOR_ROLE}" role`);
  }
  return user;
}

export interface ValidationPlanItem {
  readonly gateId: string;
  readonly stage: string;
  readonly validationId: string;
  readonly uses: string;
  readonly with: Readonly<Record<string, unknown>>;
  readonly definitionDigest: Digest;
}

export interface ValidationPlan {
  readonly release: Release;
  readonly items: ValidationPlanItem[];
}

/** The validations of the stage's applicable gates, in policy order; `only` picks one by id. */
export async function planValidations(store: StoreReader, ref: string, stage: string, only?: string): Promise<ValidationPlan> {
  const active = await requirePolicy(store);
  requireStage(active.policy, stage);
  const release = await requireRelease(store, ref);
  const holds = (w: string | undefined) => conditionHolds(w, release.manifest);
  const items = active.policy.gates
    .filter((g) => g.stage === stage && holds(g.when))
    .flatMap((g) =>
      (g.validations ?? [])
        .filter((v) => holds(v.when))
        .map((v) => ({ gateId: g.id, stage, validationId: v.id, uses: v.uses, with: v.with ?? {}, definitionDigest: validationDigest(g, v) })),
    );
  if (only !== undefined) {
    const picked = items.filter((i) => i.validationId === only);
    if (picked.length === 0) {
      throw tollgateError(
        'TG_ITEM_UNKNOWN',
        `no validation "${only}" in the gates of ${stage} that apply to ${releaseName(release)}; validations: ${items.map((i) => i.validationId).join(', ') || 'none'}`,
        { hint: `Name a validation of a gate that applies to this release at ${stage} (the list above); \`tollgate status\` shows them as kind "validation".` },
      );
    }
    return { release, items: picked };
  }
  return { release, items };
}

/** A result as a validator run produced it, before it is recorded. */
export type NewValidationResult = Omit<ValidationResult, 'id' | 'by' | 'at'>;

/** The bytes of an input a result names, kept with it so that reports and attestations carry them. */
export interface InputCopy {
  readonly digest: Digest;
  readonly bytes: Uint8Array;
}

/** The largest input kept with a result; larger ones are recorded by digest only. */
export const MAX_INPUT_COPY_BYTES = 256 * 1024;
/** The most input bytes kept with one submission. */
export const MAX_INPUT_COPIES_BYTES = 4 * 1024 * 1024;

/**
 * Records results submitted by a member of the `validator` role. Each must name the release's digest
 * and the current definition of its validation: a result for something else is refused, not stored.
 */
export async function recordValidations(
  deps: ServiceDeps,
  actor: string | undefined,
  ref: string,
  results: readonly NewValidationResult[],
  inputs: readonly InputCopy[] = [],
): Promise<ValidationResult[]> {
  const named = new Set(results.flatMap((r) => Object.values(r.inputs)));
  let total = 0;
  for (const copy of inputs) {
    total += copy.bytes.byteLength;
    if (copy.bytes.byteLength > MAX_INPUT_COPY_BYTES || total > MAX_INPUT_COPIES_BYTES) {
      throw tollgateError('TG_RESULT_INVALID', `input copies are kept up to ${MAX_INPUT_COPY_BYTES} bytes each and ${MAX_INPUT_COPIES_BYTES} in all; record larger inputs by digest only`);
    }
    if (digestBytes(copy.bytes) !== copy.digest) throw tollgateError('TG_RESULT_INVALID', `an input copy has digest ${digestBytes(copy.bytes)}, not the ${copy.digest} it is sent as`);
    if (!named.has(copy.digest)) throw tollgateError('TG_RESULT_INVALID', `the input copy ${copy.digest} is not an input of any of the results`);
  }
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await requirePolicy(tx);
    const by = requireValidator(active.policy, actor);
    const release = await requireRelease(tx, ref);
    const out: ValidationResult[] = [];
    for (const r of results) {
      // `validate` shrinks what a validator returns to fit; a result that does not was made elsewhere.
      const sizes = { measurements: jsonBytes(r.measurements), details: jsonBytes(r.details) };
      if (sizes.measurements > RESULT_LIMITS.measurementsBytes || sizes.details > RESULT_LIMITS.detailsBytes || r.summary.length > RESULT_LIMITS.summaryChars) {
        throw tollgateError(
          'TG_RESULT_INVALID',
          `the result of ${r.gateId}/${r.validationId} is too large to record: measurements ${sizes.measurements} bytes and details ${sizes.details} bytes of JSON (at most ${RESULT_LIMITS.measurementsBytes} each), summary ${r.summary.length} characters (at most ${RESULT_LIMITS.summaryChars})`,
        );
      }
      if (r.releaseDigest !== release.digest) {
        throw tollgateError('TG_RESULT_INVALID', `the result names digest ${r.releaseDigest}, but ${releaseName(release)} is ${release.digest}`);
      }
      const gate = active.policy.gates.find((g) => g.id === r.gateId && g.stage === r.stage);
      const def = gate?.validations?.find((v) => v.id === r.validationId);
      if (!gate || !def || validationDigest(gate, def) !== r.definitionDigest) {
        throw tollgateError('TG_RESULT_INVALID', `validation ${r.gateId}/${r.validationId} of ${r.stage} is not what the active policy defines (it changed meanwhile?); run validate again`);
      }
      // Whole milliseconds, as stored: the result returned is the one a read gives back.
      const result: ValidationResult = { ...r, durationMs: Math.round(r.durationMs), id: randomUUID(), by, at };
      await tx.insertValidation(
        result,
        vouch('ValidationRecorded', actorOf(by), {
          id: result.id,
          release: releaseName(release),
          releaseDigest: r.releaseDigest,
          stage: r.stage,
          gate: r.gateId,
          validation: r.validationId,
          validator: `${r.validator}@${r.validatorVersion}`,
          status: r.status,
          summary: r.summary,
          inputs: r.inputs,
        }),
      );
      out.push(result);
    }
    // Content-addressed and named by the results' vouched inputs: the bytes vouch for themselves.
    for (const copy of inputs) await tx.putBlob(copy.digest, copy.bytes);
    return out;
  });
}

/**
 * The metrics recorded with a baseline release: `STAGE` means the release that holds that stage of
 * the same subject now, `subject@version` a pinned one. The metrics are those of its latest passed
 * `metrics` validation result.
 */
export async function baselineMetrics(
  store: StoreReader,
  subject: string,
  ref: string,
): Promise<{ release: string; metrics: Record<string, unknown> } | undefined> {
  let release: Release | undefined;
  if (ref.includes('@')) {
    const { subject: s, version } = parseReleaseRef(ref);
    release = await store.findRelease(s, version);
  } else {
    const holder = await store.stageHolder(subject, ref);
    if (holder) release = await store.findRelease(subject, holder.version);
  }
  if (!release) return undefined;
  const result = (await store.evidence(release.digest)).validations
    .filter((v) => v.validator === 'metrics' && v.status === 'passed')
    .at(-1);
  const metrics = result?.measurements.metrics;
  if (!result || typeof metrics !== 'object' || metrics === null) return undefined;
  return { release: releaseName(release), metrics: metrics as Record<string, unknown> };
}
