import type { Command } from 'commander';
import type { IncidentInfo } from '../../service/incidents.js';
import type { CliContext } from '../context.js';

function describe(i: IncidentInfo): string {
  const state = i.open ? 'open' : `resolved ${i.resolvedAt} by ${i.resolvedBy}${i.note !== undefined ? ` ("${i.note}")` : ''}`;
  return `${i.id}  ${i.release} in ${i.stage}  opened ${i.openedAt} by ${i.openedBy} ("${i.reason}")  ${state}`;
}

export function registerIncident(program: Command, ctx: CliContext): void {
  const incident = program.command('incident').description('incidents on the release that holds a stage, for the delivery metrics (failed changes, time to restore)');
  incident
    .command('open')
    .description('open an incident on the release that holds the stage of the subject now; prints its id')
    .argument('<subject>', 'the subject, e.g. fraud-detector')
    .requiredOption('--stage <stage>', 'the stage whose release is failing')
    .requiredOption('--reason <text>', 'what is wrong (kept in the audit log)')
    .action(async (subject: string, opts: { stage: string; reason: string }) => {
      const client = await ctx.openClient();
      const i = await client.openIncident(subject, opts.stage, opts.reason);
      ctx.emit(i, () => [i.id, `incident ${i.id} opened on ${i.release} in ${i.stage}; resolve it with: tollgate incident resolve ${i.id}`]);
    });
  incident
    .command('resolve')
    .description('resolve an open incident')
    .argument('<id>', 'the incident id (inc_…), as `incident open` printed it')
    .option('--note <text>', 'how it was resolved')
    .action(async (id: string, opts: { note?: string }) => {
      const client = await ctx.openClient();
      const i = await client.resolveIncident(id, opts.note);
      ctx.emit(i, () => `incident ${i.id} on ${i.release} in ${i.stage} resolved at ${i.resolvedAt} (open since ${i.openedAt})`);
    });
  incident
    .command('list')
    .description('incidents, oldest first')
    .option('--open', 'only the incidents not resolved yet')
    .option('--subject <subject>', 'only incidents of this subject')
    .action(async (opts: { open?: boolean; subject?: string }) => {
      const client = await ctx.openClient();
      const incidents = await client.listIncidents({ ...(opts.subject !== undefined ? { subject: opts.subject } : {}), ...(opts.open ? { open: true } : {}) });
      ctx.emit({ incidents }, () => (incidents.length === 0 ? 'no incidents' : incidents.map(describe)));
    });
}
