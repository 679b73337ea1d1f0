/**
 * The validator framework: a validator is registered by name, declares the schema of its `with`
 * block (checked by `policy check`), and turns inputs into a result that is `passed`, `failed` (the
 * data said no) or `errored` (it could not run). It never throws through: `runValidator` turns any
 * exception into `errored` with the message.
 */
import type { z } from 'zod';
import type { Digest } from '../domain/digest.js';
import type { Release, ValidationStatus } from '../domain/model.js';

export interface ValidatorProgress {
  /** Rows read so far, for data checks. */
  readonly rows?: number;
  readonly message?: string;
}

export interface ValidatorContext {
  /** Relative paths in `with` resolve against this folder (the project folder where the policy is). */
  readonly baseDir: string;
  readonly release: Release;
  readonly stage: string;
  readonly gateId: string;
  readonly validationId: string;
  /** Aborted when the run is cancelled or times out. */
  readonly signal: AbortSignal;
  /** Long runs report here; the CLI shows it on a terminal, quiet under --json and in CI. */
  readonly progress: (p: ValidatorProgress) => void;
  /**
   * Metrics recorded with a baseline release: `production` (the release that holds that stage now)
   * or `subject@version` (pinned). Undefined when there is none.
   */
  readonly baselineMetrics: (ref: string) => Promise<{ release: string; metrics: Record<string, unknown> } | undefined>;
  /**
   * The runner's environment (the CLI's), read once at start-up: `command` passes a few of its
   * variables on and redacts its secrets from what it records. `process.env` when absent.
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

export interface ValidatorOutcome {
  readonly status: ValidationStatus;
  /** One line a person can act on, with the measured value and the threshold: `psi 0.31 > max 0.2 (amount)`. */
  readonly summary: string;
  /** Numbers a person can read and compare. */
  readonly measurements: Readonly<Record<string, unknown>>;
  /** The thresholds that were applied. */
  readonly thresholds: Readonly<Record<string, unknown>>;
  /** Digest of every input the result depends on, keyed by the path or URI as written in `with`. */
  readonly inputs: Readonly<Record<string, Digest>>;
  /** Anything else worth keeping as evidence: findings, sample rows, captured output (bounded). */
  readonly details?: unknown;
}

export interface Validator<W = unknown> {
  readonly name: string;
  /** Bumped when the validator's judgement changes: results record it. */
  readonly version: string;
  /** The `with` block; strict (unknown fields are errors). */
  readonly schema: z.ZodType<W>;
  run(args: W, ctx: ValidatorContext): Promise<ValidatorOutcome>;
}

/** Helper for validators: an `errored` outcome with the inputs known so far. */
export function errored(summary: string, inputs: Record<string, Digest> = {}, details?: unknown): ValidatorOutcome {
  return { status: 'errored', summary, measurements: {}, thresholds: {}, inputs, ...(details !== undefined ? { details } : {}) };
}
