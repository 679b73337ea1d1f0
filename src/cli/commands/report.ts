import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { renderReport } from '../../report/report-html.js';
import type { CliContext } from '../context.js';

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description("write the release's validation record as one self-contained HTML page with charts")
    .argument('<release>', 'SUBJECT@VERSION')
    .option('-o, --output <file>', 'the HTML file to write (default: SUBJECT-VERSION-report.html)')
    .action(async (ref: string, opts: { output?: string }) => {
      const config = ctx.config();
      const client = await ctx.openClient();
      const { release, evidence } = await client.evidence(ref);
      const policy = await client.activePolicy();
      const decisions = await Promise.all((policy?.stages ?? []).map((stage) => client.status(ref, stage)));
      // The copies of small input files the validations recorded, so the page carries them.
      const files = new Map<string, Uint8Array>();
      for (const digest of new Set(evidence.validations.flatMap((v) => Object.values(v.inputs)))) {
        const bytes = await client.blob(digest);
        if (bytes) files.set(digest, bytes);
      }
      const html = renderReport({ release, evidence, decisions, generatedAt: new Date().toISOString(), files });
      const file = path.resolve(config.cwd, opts.output ?? `${release.subject}-${release.version}-report.html`);
      // Written whole or not at all: a temporary file renamed into place.
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, html);
      fs.renameSync(tmp, file);
      // The count the page shows: the latest result of each validation (and all runs, as the page says).
      const latest = new Set(evidence.validations.map((v) => `${v.stage}/${v.gateId}/${v.validationId}`)).size;
      const runs = evidence.validations.length;
      ctx.emit({ release: release.release, file, results: latest, runs, bytes: Buffer.byteLength(html) }, () =>
        `wrote ${file} (${latest} validation result${latest === 1 ? '' : 's'}${runs > latest ? `, the latest of ${runs} runs` : ''})`,
      );
    });
}
