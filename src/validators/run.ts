import { formatZodIssues } from './zod-issues.js';
import { errored, type Validator, type ValidatorContext, type ValidatorOutcome } from './validator.js';

/**
 * Runs one validator and never throws: a `with` block it does not accept, or an exception inside
 * it, becomes an `errored` outcome saying why (the check could not run, which is not the same as
 * the data saying no).
 */
export async function runValidator(validator: Validator, args: unknown, ctx: ValidatorContext): Promise<ValidatorOutcome & { durationMs: number }> {
  const started = performance.now();
  const done = (o: ValidatorOutcome) => ({ ...o, durationMs: performance.now() - started });
  const parsed = validator.schema.safeParse(args ?? {});
  if (!parsed.success) return done(errored(`${validator.name}: invalid "with": ${formatZodIssues(parsed.error.issues)}`));
  try {
    return done(await validator.run(parsed.data, ctx));
  } catch (err) {
    if (ctx.signal.aborted) return done(errored(`${validator.name} was cancelled`));
    return done(errored(`${validator.name} could not run: ${err instanceof Error ? err.message : String(err)}`));
  }
}
