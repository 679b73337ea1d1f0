import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the append-only, hash-linked audit log');
  audit
    .command('verify')
    .description('check every event and the signed checkpoint; exit 4 naming the first bad event')
    .action(async () => {
      const client = await ctx.openClient();
      const result = await client.auditVerify();
      ctx.emit(result, () =>
        result.ok
          ? `audit log ok: ${result.events} events, head ${result.head}`
          : `audit log BROKEN at event ${result.firstBad?.seq}: ${result.firstBad?.reason}`,
      );
      if (!result.ok) ctx.exitCode = 4;
    });
}
