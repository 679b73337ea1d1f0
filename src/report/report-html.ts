/**
 * The release's validation record as one self-contained HTML page: each gate and result, the
 * measured values against their thresholds, and charts. No script, no network: inline CSS and SVG,
 * so the file opens anywhere, years later, and can be attached to a change ticket.
 */
import type { BreakGlassMark, Decision, EvidenceSet, ValidationResult } from '../domain/model.js';
import { escapeHtml as h, formatNumber, groupedBars } from './svg.js';

export interface ReportInput {
  readonly release: {
    readonly release: string;
    readonly digest: string;
    readonly risk: string;
    readonly owner: string;
    readonly createdAt: string;
    readonly holds: readonly string[];
    /** Rollbacks of the release out of a stage (`release show`); absent from older servers. */
    readonly rollbacks?: readonly {
      readonly stage: string;
      readonly at: string;
      readonly by: string;
      readonly reason: string;
      readonly held: boolean;
      readonly cleared?: { readonly by: string; readonly at: string; readonly reason: string };
    }[];
    /** Promotions of the release (`release show`): a break-glass one carries its mark. */
    readonly promotions?: readonly {
      readonly stage: string;
      readonly at: string;
      readonly by: string;
      readonly kind: string;
      readonly reason?: string;
      readonly breakGlass?: BreakGlassMark;
      /** Set when a rollback undid this promotion. */
      readonly rolledBack?: { readonly at: string; readonly by: string; readonly reason: string };
    }[];
    /** Waivers of its requirements and follow-ups of its break-glass promotions (`release show`). */
    readonly waivers?: readonly { stage: string; gate: string; requirement: string; by: string; role: string; reason: string; at: string; expiresAt: string }[];
    readonly followUps?: readonly { stage: string; item: string; text?: string; done?: { by: string; at: string } }[];
    readonly manifest: {
      readonly artifacts: readonly { name: string; kind: string; path?: string; uri?: string; sha256: string }[];
      readonly lineage?: readonly { from: readonly string[]; to: string; step?: string }[];
    };
  };
  readonly evidence: EvidenceSet;
  /** The decision for each stage of the policy, in path order. */
  readonly decisions: readonly Decision[];
  readonly generatedAt: string;
  /** Stored copies of input files by digest: each becomes a download link in the page. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
}

const REF = '#7c8da6';
const CUR = '#d9822b';
const OK = '#2f855a';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function cell(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v);
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return h(v);
  return `<code>${h(JSON.stringify(v))}</code>`;
}

/** The most rows a table shows; a result may hold any number (a row per column or group). */
const MAX_TABLE_ROWS = 500;

function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const more = rows.length - MAX_TABLE_ROWS;
  return `<table><thead><tr>${headers.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>${rows
    .slice(0, MAX_TABLE_ROWS)
    .map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}${more > 0 ? `<tr><td colspan="${headers.length}">… and ${more.toLocaleString('en-US')} more rows, in the result's JSON</td></tr>` : ''}</tbody></table>`;
}

/** Flat name → value pairs of the scalar measurements, for the generic table. */
function scalars(m: Json, prefix = ''): [string, unknown][] {
  return Object.entries(m).flatMap(([k, v]): [string, unknown][] => {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObj(v)) return Object.keys(v).length <= 12 ? scalars(v, key) : [];
    return Array.isArray(v) ? [] : [[key, v]];
  });
}

// ---------------------------------------------------------------- per-validator views

function driftView(r: ValidationResult): string {
  const columns = isObj(r.measurements.columns) ? r.measurements.columns : {};
  const names = Object.keys(columns);
  if (names.length === 0) return '';
  const rows = names.map((n) => {
    const c = isObj(columns[n]) ? columns[n] : {};
    return [n, c.kind, c.ks_statistic, c.ks_pvalue, c.psi, c.chi2_statistic, c.chi2_pvalue];
  });
  const psiMax = num((r.thresholds.psi as Json | undefined)?.max);
  const charts: string[] = [
    groupedBars({
      title: 'PSI by column',
      categories: names,
      series: [{ name: 'psi', color: CUR, values: names.map((n) => num((columns[n] as Json).psi) ?? 0) }],
      ...(psiMax !== undefined ? { threshold: { value: psiMax, label: `max ${psiMax}` } } : {}),
    }),
  ];
  // Distributions, reference vs current, where the validator kept the bins it compared.
  const details = isObj(r.details) && isObj(r.details.columns) ? r.details.columns : {};
  for (const n of names) {
    const d = details[n];
    const bins = isObj(d) ? (d.bins ?? d.histogram) : undefined;
    if (!isObj(bins) || !Array.isArray(bins.labels) || !Array.isArray(bins.reference) || !Array.isArray(bins.current)) continue;
    charts.push(
      groupedBars({
        title: `${n}: share per bin, reference vs current`,
        categories: bins.labels.map(String),
        series: [
          { name: 'reference', color: REF, values: bins.reference.map(Number) },
          { name: 'current', color: CUR, values: bins.current.map(Number) },
        ],
      }),
    );
  }
  return table(['column', 'kind', 'KS statistic', 'KS p-value', 'PSI', 'χ² statistic', 'χ² p-value'], rows) + `<div class="charts">${charts.join('')}</div>`;
}

function metricsView(r: ValidationResult): string {
  const rules = Array.isArray(r.measurements.rules) ? (r.measurements.rules as Json[]) : [];
  const ruleTable = table(
    ['rule', 'outcome', 'values'],
    rules.map((x) => [x.rule, x.outcome, Object.entries(isObj(x.values) ? x.values : {}).map(([k, v]) => `${k} = ${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`).join(', ') + (x.error ? ` (${String(x.error)})` : '')]),
  );
  const current = isObj(r.measurements.metrics) ? r.measurements.metrics : {};
  const base = isObj(r.measurements.baseline) && isObj(r.measurements.baseline.metrics) ? r.measurements.baseline.metrics : undefined;
  const names = Object.keys(current).filter((k) => num(current[k]) !== undefined && (!base || num(base[k]) !== undefined));
  if (names.length === 0) return ruleTable;
  const chart = groupedBars({
    title: base ? `metrics vs baseline ${String((r.measurements.baseline as Json).release ?? '')}` : 'metrics (no baseline yet)',
    categories: names,
    series: [
      ...(base ? [{ name: 'baseline', color: REF, values: names.map((k) => num(base[k]) ?? 0) }] : []),
      { name: 'current', color: CUR, values: names.map((k) => num(current[k]) ?? 0) },
    ],
  });
  return ruleTable + `<div class="charts">${chart}</div>`;
}

function slicesView(r: ValidationResult): string {
  const groups = isObj(r.measurements.groups) ? r.measurements.groups : {};
  const names = Object.keys(groups);
  if (names.length === 0) return '';
  const metric = (k: string) => names.map((n) => num((groups[n] as Json)[k]) ?? 0);
  const rows = names.map((n) => {
    const g = groups[n] as Json;
    return [n, g.n, g.accuracy, g.recall, g.precision, g.ece, g.judged];
  });
  const chart = groupedBars({
    title: 'performance by group',
    categories: names,
    series: [
      { name: 'accuracy', color: OK, values: metric('accuracy') },
      { name: 'recall', color: CUR, values: metric('recall') },
      { name: 'precision', color: REF, values: metric('precision') },
    ],
  });
  return table(['group', 'n', 'accuracy', 'recall', 'precision', 'ECE', 'judged'], rows) + `<div class="charts">${chart}</div>`;
}

function latencyView(r: ValidationResult): string {
  const keys = ['p50', 'p95', 'p99'] as const;
  const values = keys.map((k) => num(r.measurements[`${k}_ms`]) ?? 0);
  const max = keys.map((k) => num((r.thresholds[k] as Json | undefined)?.max));
  const limit = max.find((x) => x !== undefined);
  return `<div class="charts">${groupedBars({
    title: 'latency percentiles (ms)',
    categories: [...keys],
    series: [{ name: 'measured', color: CUR, values }],
    ...(limit !== undefined ? { threshold: { value: limit, label: `max ${limit} ms` } } : {}),
  })}</div>`;
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info', 'none', 'unknown'];

/** `sbom`: vulnerabilities by severity (standing and suppressed by VEX), components by license, and the problems. */
function sbomView(r: ValidationResult): string {
  const m = r.measurements;
  const open = isObj(m.vulnerabilities) ? m.vulnerabilities : {};
  const suppressed = isObj(m.suppressedVulnerabilities) ? m.suppressedVulnerabilities : {};
  const licenses = isObj(m.licenses) ? m.licenses : {};
  const unknown = num(m.unknownLicenses) ?? 0;
  const charts: string[] = [
    groupedBars({
      title: `vulnerabilities by severity (failOn ${String(r.thresholds.failOn ?? '')})`,
      categories: SEVERITY_ORDER,
      series: [
        { name: 'standing', color: CUR, values: SEVERITY_ORDER.map((s) => num(open[s]) ?? 0) },
        { name: 'suppressed (VEX)', color: REF, values: SEVERITY_ORDER.map((s) => num(suppressed[s]) ?? 0) },
      ],
    }),
  ];
  const ids = Object.keys(licenses).sort((a, b) => (num(licenses[b]) ?? 0) - (num(licenses[a]) ?? 0));
  if (ids.length > 0 || unknown > 0) {
    charts.push(
      groupedBars({
        title: `components by license (${formatNumber(num(m.components) ?? 0)} components)`,
        categories: [...ids, ...(unknown > 0 ? ['unknown'] : [])],
        series: [{ name: 'components', color: OK, values: [...ids.map((id) => num(licenses[id]) ?? 0), ...(unknown > 0 ? [unknown] : [])] }],
      }),
    );
  }
  const d = isObj(r.details) ? r.details : {};
  const problems = listView(d.problems, ['rule', 'component', 'fails', 'message'], (p) => [p.rule, p.component, p.failing ? 'yes' : 'no (warn)', p.message]);
  const artifacts = listView(d.artifacts, ['artifact', 'named by', 'component', 'problem'], (a) => [a.artifact, a.matchedBy ?? 'not named', a.component, a.problem]);
  const vulnerabilities = listView(d.vulnerabilities, ['vulnerability', 'severity', 'components', 'VEX analysis', 'fails'], (v) => [
    v.id,
    v.severity,
    Array.isArray(v.components) ? v.components.join(', ') : undefined,
    v.suppressedBy ?? v.state ?? 'none',
    v.failing ? 'yes' : 'no',
  ]);
  return problems + artifacts + vulnerabilities + `<div class="charts">${charts.join('')}</div>`;
}

function listView(items: unknown, headers: string[], pick: (x: Json) => unknown[]): string {
  if (!Array.isArray(items) || items.length === 0) return '';
  return table(headers, (items as Json[]).slice(0, 50).map(pick));
}

/**
 * One validation result: its summary, thresholds, the validator's own table and charts, and its
 * inputs. `inputHref` links an input to its stored copy elsewhere (the review desk serves them);
 * without it, copies in `files` are embedded in the page.
 */
export function resultView(r: ValidationResult, files: ReadonlyMap<string, Uint8Array>, inputHref?: (digest: string, name: string) => string | undefined): string {
  const d = isObj(r.details) ? r.details : {};
  const specific =
    r.validator === 'drift'
      ? driftView(r)
      : r.validator === 'metrics'
        ? metricsView(r)
        : r.validator === 'slices'
          ? slicesView(r)
          : r.validator === 'latency'
            ? latencyView(r)
            : r.validator === 'schema'
              ? listView(d.violations, ['column', 'rule', 'count', 'message'], (v) => [v.column, v.rule, v.count, v.message])
              : r.validator === 'parity'
                ? listView(d.differences, ['path', 'kind', 'left', 'right'], (v) => [v.path, v.kind, v.left, v.right])
                : r.validator === 'sarif'
                  ? listView(d.findings, ['rule', 'level', 'location', 'message'], (v) => [v.ruleId, v.level, v.location, v.message])
                  : r.validator === 'junit'
                    ? listView(d.failing, ['test', 'kind', 'message'], (v) => [v.name, v.kind, v.message])
                    : r.validator === 'sbom'
                      ? sbomView(r)
                      : '';
  const flat = scalars(r.measurements).filter(([, v]) => typeof v !== 'object' || v === null);
  const thresholds = Object.keys(r.thresholds).length > 0 ? `<p class="muted">thresholds: <code>${h(JSON.stringify(r.thresholds))}</code></p>` : '';
  const inputs = Object.entries(r.inputs)
    .map(([k, v]) => {
 const href = inputHref?.(v, k);
      const bytes = files.get(v);
      // The copy the validation recorded, inside the page: the record stays whole without the server.
      const link = href ? ` <a href="${h(href)}">download</a>` : bytes ? ` <a download="${h(k.split('/').pop() ?? 'input')}" href="data:application/octet-stream;base64,${Buffer.from(bytes).toString('base64')}">download (${bytes.byteLength} bytes)</a>` : '';
      return `<li><code>${h(k)}</code> ${h(v)}${link}</li>`;
    })
    .join('');
  return `<section class="result ${r.status}">
  <h4><span class="badge ${r.status}">${r.status}</span> ${h(r.gateId)} / ${h(r.validationId)} <span class="muted">(${h(r.validator)} ${h(r.validatorVersion)}, ${(r.durationMs / 1000).toFixed(1)} s, by ${h(r.by)} at ${h(r.at)})</span></h4>
  <p>${h(r.summary)}</p>
  ${thresholds}
  ${specific}
  ${flat.length > 0 && r.validator !== 'drift' ? `<details><summary>all measurements</summary>${table(['measurement', 'value'], flat)}</details>` : ''}
  ${inputs ? `<details><summary>inputs</summary><ul>${inputs}</ul></details>` : ''}
</section>`;
}

function decisionView(d: Decision, holds: readonly string[]): string {
  const rows = d.gates.flatMap((g) => g.requirements.map((r) => [g.id, `${r.kind} ${r.id}`, r.outcome, r.reason]));
  // A stage the release already holds is where it is, not a failure to get there (issue 13).
  const badge = holds.includes(d.stage)
    ? '<span class="badge passed">holds this stage</span>'
    : d.promotable
      ? '<span class="badge passed">promotable</span>'
      : '<span class="badge failed">not promotable</span>';
  return `<section class="stage"><h3>${h(d.stage)} — ${badge}</h3>
  ${table(['gate', 'requirement', 'outcome', 'why'], rows)}
  ${d.notApplicable.length > 0 ? `<p class="muted">gates not applicable to this release: ${h(d.notApplicable.join(', '))}</p>` : ''}</section>`;
}

/** Break-glass promotions with their follow-ups, and waivers (accepted risk): the exceptions made for the release. */
function exceptionsView(release: ReportInput['release']): string {
  const glass = (release.promotions ?? []).filter((p) => p.breakGlass !== undefined);
  const waivers = release.waivers ?? [];
  const parts: string[] = [];
  if (glass.length > 0) {
    parts.push(`<h2>Break-glass</h2>
<p class="muted">Promoted past a freeze or unmet requirements on a break-glass sign-off.</p>
${table(
  ['stage', 'promoted at', 'by', 'signed by', 'why', 'went past'],
  glass.map((p) => [p.stage, p.at, p.by, `${p.breakGlass!.signer} (${p.breakGlass!.role})`, p.breakGlass!.reason, p.breakGlass!.unmet.join('; ')]),
)}
${(release.followUps ?? []).length > 0 ? table(['stage', 'follow-up', 'status'], release.followUps!.map((f) => [f.stage, f.text ? `${f.item}: ${f.text}` : f.item, f.done ? `done by ${f.done.by} at ${f.done.at}` : 'OPEN'])) : ''}`);
  }
  if (waivers.length > 0) {
    parts.push(`<h2>Waivers (accepted risk)</h2>
<p class="muted">A waived requirement is not satisfied: its risk was accepted for this release until the expiry.</p>
${table(['stage', 'gate', 'requirement', 'accepted by', 'why', 'at', 'until'], waivers.map((w) => [w.stage, w.gate, w.requirement, `${w.by} (${w.role})`, w.reason, w.at, w.expiresAt]))}`);
  }
  return parts.join('\n');
}

/** Every move of the release into a stage, oldest first: promotions, rollbacks into it, and which were undone. */
function historyView(release: ReportInput['release']): string {
  const moves = release.promotions ?? [];
  if (moves.length === 0) return '';
  return `<h2>Promotion history</h2>
${table(
  ['stage', 'what', 'at', 'by', 'note'],
  moves.map((p) => [
    p.stage,
    p.kind === 'rollback' ? 'rolled back into' : p.breakGlass ? 'promoted (break-glass)' : 'promoted',
    p.at,
    p.by,
    [p.reason, p.rolledBack ? `rolled back at ${p.rolledBack.at} by ${p.rolledBack.by}: ${p.rolledBack.reason}` : undefined].filter(Boolean).join('; '),
  ]),
)}`;
}

/** Runs superseded by a later run of the same validation: kept, because a failure fixed later is still part of the record. */
function earlierRunsView(earlier: readonly ValidationResult[]): string {
  if (earlier.length === 0) return '';
  return `<h2>Earlier runs</h2>
<p class="muted">Runs a later run of the same validation superseded; the gates judge the latest.</p>
${table(
  ['stage / gate / validation', 'outcome', 'at', 'by', 'summary'],
  earlier.map((r) => [`${r.stage} / ${r.gateId} / ${r.validationId}`, r.status, r.at, r.by, r.summary]),
)}`;
}

/** Each rollback of the release: when, by whom, why, and whether it still holds the release out. */
function rollbacksView(rollbacks: NonNullable<ReportInput['release']['rollbacks']>): string {
  if (rollbacks.length === 0) return '';
  return `<h2>Rolled back</h2>
<p class="muted">A rolled-back promotion is a failed change, and it no longer counts for a later stage's order.</p>
${table(
  ['stage', 'rolled back at', 'by', 'why', 'hold'],
  rollbacks.map((b) => [b.stage, b.at, b.by, b.reason, b.cleared ? `cleared by ${b.cleared.by} at ${b.cleared.at}: ${b.cleared.reason}` : `held out of ${b.stage} until cleared`]),
)}`;
}

export function renderReport(input: ReportInput): string {
  const { release, evidence } = input;
  // The latest result per validation: what the decisions judged.
  const latest = new Map<string, ValidationResult>();
  for (const v of evidence.validations) latest.set(`${v.stage}/${v.gateId}/${v.validationId}`, v);
  const results = [...latest.values()];
  const kept = new Set(results);
  const earlier = evidence.validations.filter((v) => !kept.has(v));
  const counts = { passed: 0, failed: 0, errored: 0 };
  for (const r of results) counts[r.status]++;
  const lineage = (release.manifest.lineage ?? []).map((l) => `<li>${h(l.from.join(' + '))} → ${h(l.to)}${l.step ? ` (${h(l.step)})` : ''}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Validation record — ${h(release.release)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2933}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d9e2ec;padding-bottom:.2rem}
code{font-size:12px;background:#f0f4f8;padding:0 .25rem;border-radius:3px;word-break:break-all}
table{border-collapse:collapse;margin:.5rem 0;width:100%}th,td{border:1px solid #d9e2ec;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f0f4f8}
.muted{color:#627d98}.badge{display:inline-block;padding:0 .45rem;border-radius:9px;color:#fff;font-size:12px;font-weight:600}
.badge.passed{background:${OK}}.badge.failed{background:#c53030}.badge.errored{background:#b7791f}
.result{border:1px solid #d9e2ec;border-left-width:5px;border-radius:4px;padding:.25rem 1rem;margin:1rem 0}
.result.passed{border-left-color:${OK}}.result.failed{border-left-color:#c53030}.result.errored{border-left-color:#b7791f}
.charts{display:flex;flex-wrap:wrap;gap:1rem}svg .t{font-weight:600;font-size:12px}svg .l{font-size:10px;fill:#486581}svg .axis{stroke:#9fb3c8}svg .thr{stroke:#c53030;stroke-dasharray:4 3}svg .thrl{fill:#c53030}
</style></head><body>
<h1>${h(release.release)}</h1>
<p class="muted">digest <code>${h(release.digest)}</code> · risk ${h(release.risk)} · owner ${h(release.owner)} · registered ${h(release.createdAt)} · holds ${h(release.holds.join(', ') || 'no stage')}</p>
<p>${results.length} validation result${results.length === 1 ? '' : 's'}: ${counts.passed} passed, ${counts.failed} failed, ${counts.errored} errored${earlier.length > 0 ? ` (the latest of each; ${evidence.validations.length} runs in all)` : ''}. Generated ${h(input.generatedAt)}.</p>
<h2>Artifacts</h2>
${table(['name', 'kind', 'location', 'sha256'], release.manifest.artifacts.map((a) => [a.name, a.kind, a.path ?? a.uri, a.sha256]))}
${lineage ? `<p>Lineage:</p><ul>${lineage}</ul>` : ''}
${historyView(release)}
${rollbacksView(release.rollbacks ?? [])}
${exceptionsView(release)}
<h2>Gates by stage</h2>
${input.decisions.map((d) => decisionView(d, release.holds)).join('\n')}
<h2>Validation results</h2>
${results.length === 0 ? '<p class="muted">No validation has been run for this release yet: <code>tollgate validate RELEASE --to STAGE</code>.</p>' : results.map((r) => resultView(r, input.files ?? new Map())).join('\n')}
${earlierRunsView(earlier)}
</body></html>
`;
}
