import path from 'node:path';
import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import type { CliContext } from '../context.js';
import { readTextFile } from '../files.js';

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the append-only, hash-linked audit log and its signed checkpoints');
  audit
    .command('verify')
    .description('check every event, the Merkle tree, the signed checkpoint and every row the log vouches for; exit 4 naming the first bad event or each bad row')
    .option('--since <file>', 'a checkpoint kept elsewhere (from `audit checkpoint`): the log must extend it')
    .action(async (opts: { since?: string }) => {
      const since = opts.since !== undefined ? readTextFile(path.resolve(ctx.config().cwd, opts.since)) : undefined;
      const client = await ctx.openClient();
      const result = await client.auditVerify(since !== undefined ? { since } : {});
      ctx.emit(result, () =>
        result.ok
          ? `audit log ok: ${result.events} events, head ${result.head}, root ${result.root}; every row the log vouches for matches it${result.since ? `; extends the saved checkpoint of ${result.since.size} events` : ''}`
          : result.rows
            ? [
                `audit log BROKEN: ${result.badRows} row${result.badRows === 1 ? '' : 's'} the log does not vouch for`,
                ...result.rows.map((r) => `  ${r.table} ${r.key} (${r.what}): ${r.reason}`),
              ]
            : `audit log BROKEN at event ${result.firstBad?.seq}: ${result.firstBad?.reason}`,
      );
      if (!result.ok) ctx.exitCode = 4;
    });
  audit
    .command('checkpoint')
    .description('print the newest checkpoint, signed by the server key (keep it elsewhere for `audit verify --since`)')
    .action(async () => {
      const client = await ctx.openClient();
      const c = await client.auditCheckpoint();
      if (!c) throw tollgateError('TG_AUDIT_BROKEN', 'the audit log has no checkpoint yet');
      ctx.emit(c, () => c.note.replace(/\n$/, ''));
    });
}
