import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { digestBytes } from '../../domain/digest.js';
import { MAX_INPUT_COPIES_BYTES, MAX_INPUT_COPY_BYTES, type InputCopy, type NewValidationResult } from '../../service/validate.js';
import type { ReleaseManifest } from '../../domain/model.js';
import { ARTIFACT_PREFIX, nameArtifactInputs, resolveArtifactInputs } from '../../validators/artifact-inputs.js';
import { InputError } from '../../validators/inputs.js';
import { VALIDATORS } from '../../validators/registry.js';
import { runValidator } from '../../validators/run.js';
import { errored, type ValidatorProgress } from '../../validators/validator.js';
import type { CliContext } from '../context.js';

const MARK = { passed: '✔', failed: '✘', errored: '!' } as const;

type RunOutcome = Awaited<ReturnType<typeof runValidator>>;

/**
 * Copies of the results' small input files (up to MAX_INPUT_COPY_BYTES each), recorded with them so
 * that the report and the attestation carry what the validation read; larger ones, URIs and release
 * artifacts are recorded by digest only. A file that changed since it was read is not copied.
 */
function copiesOf(results: readonly NewValidationResult[], cwd: string): InputCopy[] {
  const copies = new Map<string, InputCopy>();
  let total = 0;
  for (const [key, digest] of results.flatMap((r) => Object.entries(r.inputs))) {
    if (copies.has(digest) || key.startsWith(ARTIFACT_PREFIX) || /^[a-z][a-z0-9+.-]*:\/\//i.test(key)) continue;
    const file = path.resolve(cwd, key);
    let size: number;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) continue;
      size = stat.size;
    } catch {
      continue;
    }
    if (size > MAX_INPUT_COPY_BYTES || total + size > MAX_INPUT_COPIES_BYTES) continue;
    const bytes = fs.readFileSync(file);
    if (digestBytes(bytes) !== digest) continue;
    copies.set(digest, { digest, bytes });
    total += size;
  }
  return [...copies.values()];
}

/**
 * Runs a validator with its `artifact:NAME` inputs resolved to the release's registered files (an
 * artifact that is not the registered bytes errors the validation), and names them back in the
 * recorded inputs.
 */
async function runWithArtifacts(args: Readonly<Record<string, unknown>>, manifest: ReleaseManifest, cwd: string, run: (args: Record<string, unknown>) => Promise<RunOutcome>): Promise<RunOutcome> {
  let resolved: Awaited<ReturnType<typeof resolveArtifactInputs>>;
  try {
    resolved = await resolveArtifactInputs(args, manifest, cwd);
  } catch (err) {
    if (err instanceof InputError) return { ...errored(err.message), durationMs: 0 };
    throw err;
  }
  const outcome = await run({ ...resolved.with });
  return resolved.names.size === 0 ? outcome : { ...outcome, inputs: nameArtifactInputs(outcome.inputs, resolved.names) };
}

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description("run the stage's validations here, where the files are, and record the results; exit 3 if any failed or could not run")
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--to <stage>', 'the stage whose gates name the validations')
    .option('--only <id>', 'run only this validation')
    .action(async (ref: string, opts: { to: string; only?: string }) => {
      const config = ctx.config();
      const client = await ctx.openClient();
      const plan = await client.planValidations(ref, opts.to, opts.only);
      if (plan.items.length === 0) ctx.note(`no validations apply to ${ref} at ${opts.to}`);

      // Ctrl-C stops the running validator (a command's process group, a long scan) cleanly.
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      // Each result is recorded as soon as its check finishes, so a run cut short (a closed pipe, a
      // kill, Ctrl-C during the next check) keeps what it finished.
      const recorded: Awaited<ReturnType<typeof client.recordValidations>>[number][] = [];
      const labelOf = (item: (typeof plan.items)[number]) => `${item.gateId}/${item.validationId} (${item.uses})`;
      /** Runs one validation and records its result; the closing line says how it went. */
      const runOne = async (item: (typeof plan.items)[number], progress: (p: ValidatorProgress) => void) => {
        const validator = VALIDATORS.get(item.uses);
        const outcome = validator
          ? await runWithArtifacts(item.with, plan.release.manifest, config.cwd, (args) => runValidator(validator, args, {
              baseDir: config.cwd,
              release: plan.release,
              stage: item.stage,
              gateId: item.gateId,
              validationId: item.validationId,
              signal: abort.signal,
              progress,
              baselineMetrics: (baseline) => client.baselineMetrics(plan.release.subject, baseline),
              environment: ctx.io.env,
            }))
          : { ...errored(`unknown validator "${item.uses}"`), durationMs: 0 };
        const result: NewValidationResult = {
          releaseDigest: plan.release.digest,
          stage: item.stage,
          gateId: item.gateId,
          validationId: item.validationId,
          validator: item.uses,
          validatorVersion: validator?.version ?? 'unknown',
          definitionDigest: item.definitionDigest,
          status: outcome.status,
          summary: outcome.summary,
          measurements: outcome.measurements,
          thresholds: outcome.thresholds,
          inputs: outcome.inputs,
          ...(outcome.details !== undefined ? { details: outcome.details } : {}),
          durationMs: outcome.durationMs,
        };
        recorded.push(...(await client.recordValidations(ref, [result], copiesOf([result], config.cwd))));
        return { status: outcome.status, line: `${outcome.status} in ${(outcome.durationMs / 1000).toFixed(1)}s: ${outcome.summary}` };
      };
      try {
        if (ctx.io.interactive && !config.json && plan.items.length > 0) {
          // A person at a terminal: a spinner per validation with its elapsed time and rows read, on stderr.
          const { runLiveSteps } = await import('../live-steps.js');
          await runLiveSteps(
            plan.items.map((item) => ({
              title: labelOf(item),
              run: async (report) => {
                const end = await runOne(item, report);
                return { ok: end.status === 'passed', line: end.line };
              },
            })),
            process.stderr,
          );
        } else {
          for (const item of plan.items) {
            const end = await runOne(item, () => {});
            ctx.note(`${MARK[end.status]} ${labelOf(item)} ${end.line}`);
          }
        }
      } finally {
        process.off('SIGINT', onSigint);
      }
      const bad = recorded.filter((r) => r.status !== 'passed');
      ctx.emit(
        {
          release: ref,
          stage: opts.to,
          results: recorded.map((r) => ({
            id: r.validationId,
            gate: r.gateId,
            validator: r.validator,
            validatorVersion: r.validatorVersion,
            outcome: r.status,
            summary: r.summary,
            measurements: r.measurements,
            thresholds: r.thresholds,
            inputs: r.inputs,
            durationMs: r.durationMs,
          })),
        },
        () =>
          recorded.length === 0
            ? 'nothing to record'
            : `recorded ${recorded.length} result${recorded.length === 1 ? '' : 's'} for ${ref} → ${opts.to}: ${recorded.length - bad.length} passed${bad.length > 0 ? `, ${bad.length} did not (${bad.map((b) => `${b.validationId} ${b.status}`).join(', ')})` : ''}`,
      );
      if (bad.length > 0) ctx.exitCode = 3;
    });
}
