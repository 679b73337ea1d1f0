import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { handoffWarning, renderHandoffs } from '../render.js';

export function registerRollback(program: Command, ctx: CliContext): void {
  program
    .command('rollback')
    .description('put back the release that held the stage before the current one')
    .argument('<subject>', 'the subject, e.g. fraud-detector')
    .requiredOption('--stage <stage>', 'the stage to roll back')
    .requiredOption('--reason <text>', 'why (kept in the audit log; a rollback counts as a failed change)')
    .action(async (subject: string, opts: { stage: string; reason: string }) => {
      const client = await ctx.openClient();
      const result = await client.rollback(subject, opts.stage, opts.reason);
      ctx.emit(result, () => [
        `rolled back ${opts.stage}: ${result.from} → ${result.to} (reason: ${opts.reason})`,
        `${result.from} is held out of ${opts.stage} (and the stages after it) until cleared: tollgate release clear ${result.from} --stage ${opts.stage} --reason "…"`,
        ...renderHandoffs(result.handoff ?? []),
      ]);
      const warning = handoffWarning(result.handoff);
      if (warning) ctx.io.stderr(`${warning}\n`);
    });
}
