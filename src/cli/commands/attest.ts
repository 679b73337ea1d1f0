import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `tollgate attest REL --stage STAGE [-o FILE]`: exports the signed attestation of a promotion (`tollgate verify` checks it). */
export function registerAttest(program: Command, ctx: CliContext): void {
  program
    .command('attest')
    .description('export the signed attestation (DSSE, in-toto Statement v1) of a release\'s promotion into a stage')
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--stage <stage>', 'the stage it was promoted into')
    .option('-o, --output <file>', 'write the bundle here (default: stdout)')
    .action(async (ref: string, opts: { stage: string; output?: string }) => {
      const client = await ctx.openClient();
      const envelope = await client.attest(ref, opts.stage);
      const text = JSON.stringify(envelope, null, 2) + '\n';
      if (!opts.output) {
        ctx.io.stdout(text);
        return;
      }
      const file = path.resolve(ctx.config().cwd, opts.output);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
      ctx.emit({ release: ref, stage: opts.stage, file }, () => `wrote the attestation of ${ref} → ${opts.stage} to ${file}`);
    });

}
