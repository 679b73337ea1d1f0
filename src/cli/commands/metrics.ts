import type { Command } from 'commander';
import { describeSeconds as formatSeconds, type DeliveryFigures, type DeliveryMetrics } from '../../domain/metrics.js';
import type { CliContext } from '../context.js';
import { maxOf } from '../../domain/bounded.js';

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
const num = (v: number): string => String(Number(v.toFixed(2)));

function row(label: string, f: DeliveryFigures): string[] {
  return [label, String(f.deployments), num(f.deploymentFrequency), formatSeconds(f.leadTimeSeconds), pct(f.changeFailureRate), formatSeconds(f.timeToRestoreSeconds), pct(f.reworkRate), String(f.breakGlassCount)];
}

/** Columns padded to their widest cell. */
function columns(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, i) => maxOf(rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

function render(m: DeliveryMetrics): string[] {
  const head = ['', 'deploys', 'per week', 'lead time', 'failure rate', 'restore', 'rework', 'break-glass'];
  const lines = [
    `delivery into ${m.stage}${m.subject !== null ? ` of ${m.subject}` : ''}, ${m.from} to ${m.to} (${m.weekCount} week${m.weekCount === 1 ? '' : 's'}); medians for times`,
    ...columns([head, row('overall', m), ...m.subjects.map((s) => row(s.subject, s))]),
    '',
    'gates: median wait (releases waited on), blocked / attempts',
    ...(m.gates.length === 0
      ? ['  none yet']
      : columns(m.gates.map((g) => [`  ${g.stage}/${g.id}`, formatSeconds(g.waitSeconds), `(${g.waits})`, `${g.blocked}/${g.attempts}`, pct(g.blockRate)]))),
    '',
    'per week (Monday, UTC):',
    ...columns([['', ...head.slice(1)], ...m.weeks.map((w) => row(`  ${w.week}`, w))]),
  ];
  return lines;
}

export function registerMetrics(program: Command, ctx: CliContext): void {
  program
    .command('metrics')
    .description('delivery metrics from the audit log: deployment frequency, lead time, change failure rate, time to restore, rework rate, per-gate wait and block figures')
    .option('--subject <subject>', 'only this subject')
    .option('--since <when>', 'from a date (2026-12-01), a time with its zone, or a duration back from now (30d)')
    .option('--stage <stage>', "the stage deployments go into (default: the policy's last stage)")
    .action(async (opts: { subject?: string; since?: string; stage?: string }) => {
      const client = await ctx.openClient();
      const m = await client.metrics({
        ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
        ...(opts.since !== undefined ? { since: opts.since } : {}),
        ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
      });
      ctx.emit(m, () => render(m));
    });
}
