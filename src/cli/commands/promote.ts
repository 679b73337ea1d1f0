import type { Command } from 'commander';
import { tollgateError, TollgateError } from '../../domain/errors.js';
import type { Decision } from '../../domain/model.js';
import type { CliContext } from '../context.js';
import { decisionJson, handoffWarning, renderDecision, renderHandoffs } from '../render.js';

export function registerPromote(program: Command, ctx: CliContext): void {
  program
    .command('promote')
    .description('promote a release into a stage, or exit 3 naming every unmet requirement')
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--to <stage>', 'the stage to enter')
    .option('--break-glass', "promote past a freeze or unmet requirements, on a break-glass sign-off by the stage's breakGlass role (needs --reason)")
    .option('--reason <text>', 'why the break-glass: recorded with the promotion')
    .action(async (ref: string, opts: { to: string; breakGlass?: boolean; reason?: string }) => {
      if (opts.breakGlass && (opts.reason === undefined || opts.reason.trim() === '')) throw tollgateError('TG_USAGE', '--break-glass needs --reason "…"');
      if (!opts.breakGlass && opts.reason !== undefined) throw tollgateError('TG_USAGE', '--reason goes with --break-glass');
      const client = await ctx.openClient();
      try {
        const result = await client.promote(ref, opts.to, opts.breakGlass ? { breakGlass: { reason: opts.reason! } } : {});
        const glass = result.promotion?.breakGlass;
        ctx.emit(decisionJson(result, { promotion: result.promotion, ...(result.handoff ? { handoff: result.handoff } : {}) }), () => [
          ...renderDecision(result),
          ...(glass
            ? [
                `  ⚠ BREAK-GLASS: promoted past ${glass.unmet.join('; ')} on the sign-off of ${glass.signer} as ${glass.role} ("${glass.reason}")`,
                `    follow-up: \`tollgate release show ${result.release}\` lists the items to complete`,
              ]
            : opts.breakGlass
              ? ['  (nothing was unmet: promoted as an ordinary promotion, not as break-glass)']
              : []),
          ...(result.promotion?.previousVersion ? [`  (it replaces ${result.promotion.subject}@${result.promotion.previousVersion})`] : []),
          ...renderHandoffs(result.handoff ?? []),
        ]);
        // The promotion happened (exit 0); a failed hand-off is said on stderr, under --json too.
        const warning = handoffWarning(result.handoff);
        if (warning) ctx.io.stderr(`${warning}\n`);
      } catch (err) {
        if (!(err instanceof TollgateError) || err.code !== 'TG_PROMOTION_BLOCKED') throw err;
        const decision = err.details as Decision & { promoted: boolean };
        ctx.emit(decisionJson(decision, { error: { code: err.code, message: err.message, hint: err.hint } }), () => [
          ...renderDecision(decision),
          `Blocked (${err.code}): ${err.message}`,
          `hint: ${err.hint}`,
        ]);
        ctx.exitCode = 3;
      }
    });
}
