import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { renderHandoffs } from '../render.js';

export function registerHandoff(program: Command, ctx: CliContext): void {
  const handoff = program
    .command('handoff')
    .description('hand-offs to deployment (a Git commit, a command, a webhook) that run after a promotion: retry the failed ones');
  handoff
    .command('retry')
    .description("run again the hand-offs of the release in the stage that have not succeeded; exit 1 if one still fails")
    .argument('<release>', 'SUBJECT@VERSION (the release that holds the stage)')
    .requiredOption('--stage <stage>', 'the stage it was promoted into')
    .action(async (ref: string, opts: { stage: string }) => {
      const client = await ctx.openClient();
      const result = await client.retryHandoffs(ref, opts.stage);
      const failed = result.handoff.filter((h) => h.outcome === 'failed');
      ctx.emit(result, () => [
        result.retried.length === 0
          ? `nothing to retry: every hand-off of ${result.release} into ${result.stage} has succeeded`
          : `ran ${result.retried.length} hand-off${result.retried.length === 1 ? '' : 's'} of ${result.release} into ${result.stage} again`,
        ...renderHandoffs(result.handoff),
        ...(failed.length > 0 ? [`error: ${failed.length} hand-off${failed.length === 1 ? '' : 's'} still failed; fix the cause and retry`] : []),
      ]);
      // It could not hand the release to deployment: like a check that could not run, exit 1.
      if (failed.length > 0) ctx.exitCode = 1;
    });
}
