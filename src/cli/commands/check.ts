import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import type { EvidenceInput } from '../../service/check.js';
import type { CliContext } from '../context.js';

/** `--evidence` is a file if one exists at that path, else it must be a URL. */
function evidenceOf(arg: string, cwd: string): EvidenceInput {
  const file = path.resolve(cwd, arg);
  if (fs.existsSync(file)) {
    if (!fs.statSync(file).isFile()) throw tollgateError('TG_USAGE', `evidence ${arg} is not a file`);
    return { kind: 'file', name: path.basename(file), bytes: fs.readFileSync(file) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return { kind: 'url', uri: arg };
  throw tollgateError('TG_FILE_NOT_FOUND', `evidence ${arg}: no such file (and not a URL)`);
}

export function registerCheck(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('complete a checklist item, with evidence when the item asks for it')
    .argument('<release>', 'SUBJECT@VERSION')
    .argument('<item>', 'the checklist item id')
    .requiredOption('--to <stage>', 'the stage whose gate lists the item')
    .option('--evidence <file|url>', 'a file (digested and stored) or a URL')
    .option('--note <text>', 'a note kept with the completion')
    .action(async (ref: string, item: string, opts: { to: string; evidence?: string; note?: string }) => {
      const evidence = opts.evidence !== undefined ? evidenceOf(opts.evidence, ctx.config().cwd) : undefined;
      const client = await ctx.openClient();
      const result = await client.check({
        release: ref,
        stage: opts.to,
        item,
        ...(evidence ? { evidence } : {}),
        ...(opts.note !== undefined ? { note: opts.note } : {}),
      });
      ctx.emit(result, () => {
        const ev = result.evidence ? ` with evidence ${result.evidence.name}${result.evidence.digest ? ` (${result.evidence.digest})` : ''}` : '';
        return `✔ ${result.item} completed for ${result.release} → ${result.stage} by ${result.by}${ev} (gate ${result.gates.join(', ')})`;
      });
    });
}
