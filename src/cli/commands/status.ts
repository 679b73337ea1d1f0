import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { decisionJson, renderDecision, renderHandoffs } from '../render.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('every gate and requirement for entering a stage, with its outcome and why; exit 3 if not promotable')
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--to <stage>', 'the stage to enter')
    .action(async (ref: string, opts: { to: string }) => {
      const client = await ctx.openClient();
      const decision = await client.status(ref, opts.to);
      ctx.emit(decisionJson(decision, decision.handoff ? { handoff: decision.handoff } : {}), () => [
        ...renderDecision(decision),
        ...(decision.handoff ? [`  hand-offs of its promotion into ${decision.stage}:`, ...renderHandoffs(decision.handoff, '    ')] : []),
      ]);
      if (!decision.promotable) ctx.exitCode = 3;
    });
}
