import { jsonBytes, RESULT_LIMITS } from '../domain/bounded.js';
import { formatZodIssues } from './zod-issues.js';
import { errored, type Validator, type ValidatorContext, type ValidatorOutcome } from './validator.js';

/**
 * Runs one validator and never throws: a `with` block it does not accept, or an exception inside
 * it, becomes an `errored` outcome saying why (the check could not run, which is not the same as
 * the data saying no).
 */
export async function runValidator(validator: Validator, args: unknown, ctx: ValidatorContext): Promise<ValidatorOutcome & { durationMs: number }> {
  const started = performance.now();
  const done = (o: ValidatorOutcome) => ({ ...boundOutcome(validator.name, o), durationMs: performance.now() - started });
  const parsed = validator.schema.safeParse(args ?? {});
  if (!parsed.success) return done(errored(`${validator.name}: invalid "with": ${formatZodIssues(parsed.error.issues)}`));
  try {
    return done(await validator.run(parsed.data, ctx));
  } catch (err) {
    if (ctx.signal.aborted) return done(errored(`${validator.name} was cancelled`));
    return done(errored(`${validator.name} could not run: ${err instanceof Error ? err.message : String(err)}`));
  }
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** `value` with every array cut to its first `keep` items and every object to its first `keep` keys. */
function cut(value: unknown, keep: number): unknown {
  if (Array.isArray(value)) return value.slice(0, keep).map((v) => cut(v, keep));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).slice(0, keep).map(([k, v]) => [k, cut(v, keep)]));
  if (typeof value === 'string' && value.length > 64 * keep) return `${value.slice(0, 64 * keep)}…`;
  return value;
}

/**
 * An outcome that fits what a result may record (RESULT_LIMITS). Measurements are what a person
 * compares and what a later `baseline` reads: cutting them would change what they say, so a result
 * whose measurements are larger is recorded as `errored`, saying how large and what the validator
 * said. Details are evidence kept for reading: larger ones are cut (long lists and maps to their
 * first items, then fewer) with a `truncated` note, or dropped with the note when nothing fits. A
 * long summary is cut with "…".
 */
export function boundOutcome(name: string, o: ValidatorOutcome): ValidatorOutcome {
  let out = o;
  if (out.summary.length > RESULT_LIMITS.summaryChars) out = { ...out, summary: `${out.summary.slice(0, RESULT_LIMITS.summaryChars - 1)}…` };
  const detailsBytes = jsonBytes(out.details);
  if (detailsBytes > RESULT_LIMITS.detailsBytes) {
    const note = { bytes: detailsBytes, limit: RESULT_LIMITS.detailsBytes };
    let kept: unknown;
    for (const keep of [1000, 100, 10]) {
      const shrunk = cut(out.details, keep);
      const wrapped = shrunk !== null && typeof shrunk === 'object' && !Array.isArray(shrunk) ? { ...shrunk, truncated: { ...note, note: `lists and maps cut to their first ${keep} items` } } : { value: shrunk, truncated: { ...note, note: `lists and maps cut to their first ${keep} items` } };
      if (jsonBytes(wrapped) <= RESULT_LIMITS.detailsBytes) {
        kept = wrapped;
        break;
      }
    }
    out = { ...out, details: kept ?? { truncated: { ...note, note: 'dropped: too large to keep even cut short' } } };
  }
  const measurementsBytes = jsonBytes(out.measurements);
  if (measurementsBytes > RESULT_LIMITS.measurementsBytes) {
    const said = out.summary.length > 500 ? `${out.summary.slice(0, 499)}…` : out.summary;
    out = {
      ...out,
      status: 'errored',
      summary: `${name} measured ${mib(measurementsBytes)} of JSON, over the ${mib(RESULT_LIMITS.measurementsBytes)} a result may record; measure less (fewer columns, metrics or groups). It said: ${o.status}: ${said}`,
      measurements: { oversized: { bytes: measurementsBytes, limit: RESULT_LIMITS.measurementsBytes } },
    };
  }
  return out;
}
