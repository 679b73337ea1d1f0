/**
 * The desk's smaller pages: sign-in, the pipeline, my queue, the audit log, delivery, and errors.
 * Each takes what its route read through the use cases and returns the page.
 */
import type { AuditEvent } from '../../audit/events.js';
import { requirementLabel } from '../../domain/decision-text.js';
import type { Decision, PolicyVersion } from '../../domain/model.js';
import { activeFreeze, describeRecurring } from '../../domain/freeze.js';
import type { AuditLogFilter, AuditLogPage } from '../../service/audit-log.js';
import type { ReleaseSummary } from '../../service/read-release.js';
import type { AuditVerifyResult } from '../../service/verify-audit.js';
import { describeSeconds, type DeliveryFigures, type DeliveryMetrics, type WeekFigures } from '../../domain/metrics.js';
import { groupedBars } from '../../report/svg.js';
import { anchor, badge, csrfField, h, page, releaseHref, table, when, type Viewer } from './html.js';

// ---------------------------------------------------------------- sign-in

export interface LoginPageInput {
  readonly csrf: string;
  readonly next: string;
  /** OIDC providers to offer, by index into the configuration. */
  readonly providers: readonly { readonly index: number; readonly name: string }[];
  readonly error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const providers = input.providers.length
    ? `<section aria-labelledby="oidc-h"><h2 id="oidc-h">With your identity provider</h2><ul>${input.providers
        .map((p) => `<li><a class="button" href="/login/oidc/${p.index}?next=${encodeURIComponent(input.next)}">Sign in with ${h(p.name)}</a></li>`)
        .join('')}</ul></section>`
    : '<p class="muted">This server has no identity provider configured for sign-in (see docs/desk.md); use an API token.</p>';
  return page(
    { title: 'Sign in', ...(input.error ? { notice: { kind: 'error' as const, html: h(input.error) } } : {}) },
    `<div class="login"><h1>Sign in to the review desk</h1>
${providers}
<section aria-labelledby="token-h"><h2 id="token-h">Sign in with an API token</h2>
<p class="muted">A token from <code>tollgate token create USER</code>. It is checked once and not kept: the desk keeps only who you are, in a signed cookie that expires.</p>
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${h(input.csrf)}"><input type="hidden" name="next" value="${h(input.next)}">
<label for="token">API token</label><input id="token" name="token" type="password" autocomplete="off" required size="40">
<p><button type="submit">Sign in</button></p></form></section></div>`,
  );
}

// ---------------------------------------------------------------- pipeline

export interface PipelineRow {
  readonly subject: string;
  /** stage → the release holding it. */
  readonly holders: ReadonlyMap<string, ReleaseSummary>;
  /** Releases not yet in their next stage, with the decision for it. */
  readonly waiting: readonly { release: ReleaseSummary; decision: Decision }[];
}

function freezeText(policy: PolicyVersion, stage: string, now: Date): string {
  const def = policy.policy.stages.find((s) => s.name === stage);
  const windows = def?.freeze ?? [];
  if (windows.length === 0) return '';
  const shown = windows.map((w) => {
    const open = activeFreeze([w], now) !== undefined;
    return `${open ? '<strong>frozen now</strong> ' : ''}<span>${h(typeof w === 'string' ? w : describeRecurring(w))}</span>`;
  });
  return `<p class="why">Freeze windows: ${shown.join(', ')}</p>`;
}

export function pipelinePage(viewer: Viewer, policy: PolicyVersion, rows: readonly PipelineRow[], now: Date): string {
  const stages = policy.policy.stages.map((s) => s.name);
  const body = rows.length
    ? `<div class="scroll" role="region" aria-label="Pipeline: subjects by stage" tabindex="0"><table class="pipeline"><caption>Which release holds each stage, and what waits</caption>
<thead><tr><th scope="col">subject</th>${stages.map((s) => `<th scope="col">${h(s)}${freezeText(policy, s, now)}</th>`).join('')}</tr></thead><tbody>
${rows
  .map(
    (row) => `<tr><th scope="row">${h(row.subject)}</th>${stages
      .map((s) => {
        const holder = row.holders.get(s);
        const waiting = row.waiting.filter((w) => w.decision.stage === s);
        return `<td>${holder ? `<a href="${releaseHref(holder.release, s)}">${h(holder.version)}</a> <span class="muted">holds ${h(s)}</span>` : '<span class="muted">empty</span>'}${
          waiting.length
            ? `<ul class="waiting" aria-label="waiting for ${h(s)}">${waiting
                .map((w) => {
                  const unmet = w.decision.gates.flatMap((g) => g.requirements.filter((r) => r.outcome !== 'satisfied').map((r) => ({ g: g.id, r })));
                  const what = w.decision.promotable ? 'ready to promote' : `waits on ${unmet.slice(0, 3).map((u) => `${u.g}: ${requirementLabel(u.r)} (${u.r.outcome})`).join('; ')}${unmet.length > 3 ? `; ${unmet.length - 3} more` : ''}`;
                  return `<li><a href="${releaseHref(w.release.release, s)}">${h(w.release.version)}</a> ${h(what)}</li>`;
                })
                .join('')}</ul>`
            : ''
        }</td>`;
      })
      .join('')}</tr>`,
  )
  .join('\n')}
</tbody></table></div>`
    : '<p>No release has been registered yet: <code>tollgate release create release.yaml</code>.</p>';
  return page({ title: 'Pipeline', viewer, nav: 'pipeline' }, `<h1>Pipeline</h1><p class="muted">Policy ${h(policy.name)} v${policy.version}; stages ${h(stages.join(' → '))}.</p>${body}`);
}

// ---------------------------------------------------------------- queue

export interface QueueItem {
  readonly release: ReleaseSummary;
  readonly stage: string;
  readonly gate: string;
  readonly kind: 'checklist' | 'signoff' | 'follow-up';
  readonly label: string;
  readonly reason: string;
}

/** Where a queue item's link goes: its gate, or for a break-glass follow-up, the item itself. */
function queueHref(i: QueueItem): string {
  return releaseHref(i.release.release, i.stage, i.kind === 'follow-up' ? anchor('follow-up', i.stage, i.gate) : anchor('gate', i.stage, i.gate));
}

export function queuePage(viewer: Viewer, items: readonly QueueItem[]): string {
  const body = items.length
    ? `<ol>${items
        .map(
          (i) => `<li><p><a href="${queueHref(i)}">${h(i.release.release)} → ${h(i.stage)}: ${i.kind === 'follow-up' ? h(i.label) : `gate ${h(i.gate)}, ${h(i.label)}`}</a> <span class="muted">(registered ${when(i.release.createdAt)})</span></p><p class="why">${h(i.reason)}</p></li>`,
        )
        .join('')}</ol>`
    : '<p>Nothing waits on you right now.</p>';
  return page({ title: 'My queue', viewer, nav: 'queue' }, `<h1>My queue</h1><p class="muted">What ${h(viewer.user)} can sign off or complete now, newest release first.</p>${body}`);
}

// ---------------------------------------------------------------- audit

export interface AuditPageInput {
  readonly filter: AuditLogFilter;
  readonly page: AuditLogPage;
  readonly types: readonly string[];
  readonly checkpoint?: { size: number; root: string; at: string; note: string };
  readonly verified?: AuditVerifyResult;
}

function summary(e: AuditEvent): string {
  const d = e.data;
  const parts = ['release', 'stage', 'gate', 'role', 'decision', 'item', 'validation', 'code', 'route', 'message', 'version', 'reason']
    .filter((k) => d[k] !== undefined && typeof d[k] !== 'object')
    .map((k) => `${k} ${String(d[k])}`);
  return parts.join(' · ');
}

export function auditPage(viewer: Viewer, input: AuditPageInput): string {
  const f = input.filter;
  const q = (extra: Record<string, string | number | undefined>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ type: f.type, actor: f.actor, subject: f.subject, since: f.since, until: f.until, ...extra })) if (v !== undefined && v !== '') p.set(k, String(v));
    return `/audit?${p.toString()}`;
  };
  const v = input.verified;
  const verified = v
    ? {
        kind: v.ok ? ('ok' as const) : ('error' as const),
        html: v.ok
          ? `Audit log verified: ${v.events} events, head <code>${h(v.head)}</code>; every row the log vouches for matches it.`
          : `Audit log BROKEN${v.firstBad ? ` at event ${v.firstBad.seq}: ${h(v.firstBad.reason)}` : ''}${v.rows ? `: ${v.rows.map((r) => `${h(r.table)} ${h(r.key)} (${h(r.reason)})`).join('; ')}` : ''}`,
      }
    : undefined;
  const body = `<h1>Audit log</h1>
<section aria-labelledby="cp-h" class="card"><h2 id="cp-h">Newest signed checkpoint</h2>
${input.checkpoint ? `<p>${input.checkpoint.size} events, root <code>${h(input.checkpoint.root)}</code>, signed ${when(input.checkpoint.at)}.</p><pre>${h(input.checkpoint.note)}</pre>` : '<p class="muted">No checkpoint yet.</p>'}
<form method="post" action="/audit/verify">${csrfField(viewer)}<button type="submit">Verify the audit log</button> <span class="why">the same checks as <code>tollgate audit verify</code></span></form></section>
<h2>Events</h2>
<form class="filters" method="get" action="/audit">
<div><label for="f-type">Type</label><select id="f-type" name="type"><option value="">any</option>${input.types.map((t) => `<option${t === f.type ? ' selected' : ''}>${h(t)}</option>`).join('')}</select></div>
<div><label for="f-actor">Actor</label><input id="f-actor" name="actor" type="text" value="${h(f.actor ?? '')}" placeholder="alice or user:alice"></div>
<div><label for="f-subject">Subject</label><input id="f-subject" name="subject" type="text" value="${h(f.subject ?? '')}"></div>
<div><label for="f-since">From (UTC)</label><input id="f-since" name="since" type="text" value="${h(f.since ?? '')}" placeholder="2026-12-01T00:00Z"></div>
<div><label for="f-until">To (UTC)</label><input id="f-until" name="until" type="text" value="${h(f.until ?? '')}"></div>
<button type="submit">Filter</button></form>
<p class="muted">${input.page.size} events in the log; showing ${input.page.events.length}, newest first.</p>
${table(
  'Audit events',
  ['#', 'when', 'type', 'actor', 'what'],
  input.page.events.map((e) => [String(e.seq), when(e.at), badge(e.type === 'AccessDenied' ? 'failed' : 'ok').replace(/>(ok|failed)</, `>${h(e.type)}<`), h(e.actor), h(summary(e))]),
  { empty: 'No event matches.' },
)}
<nav aria-label="Pages"><p>${f.before !== undefined ? `<a href="${q({})}">Newest</a> · ` : ''}${input.page.next !== undefined ? `<a href="${q({ before: input.page.next })}">Older events</a>` : 'No older events.'}</p></nav>`;
  return page({ title: 'Audit', viewer, nav: 'audit', ...(verified ? { notice: verified } : {}) }, body);
}

// ---------------------------------------------------------------- delivery

export interface DeliveryPageInput {
  readonly filter: { readonly subject?: string; readonly since?: string; readonly stage?: string };
  /** Stage names of the active policy, for the filter. */
  readonly stages: readonly string[];
  /** Absent when the filter could not be read (then `error` says why). */
  readonly metrics?: DeliveryMetrics;
  readonly error?: string;
}

/** The most recent weeks the charts draw (the tables below have every figure). */
const CHART_WEEKS = 26;

const percent = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

/** One weekly figure as bars: one bar per week, the week's Monday under it. */
function weeklyChart(title: string, weeks: readonly WeekFigures[], value: (w: WeekFigures) => number | null, color: string): string {
  return groupedBars({
    title,
    categories: weeks.map((w) => w.week.slice(5)),
    series: [{ name: title, color, values: weeks.map((w) => value(w) ?? 0) }],
    width: Math.max(320, Math.min(640, 60 + weeks.length * 22)),
    height: 200,
  });
}

function figuresRow(label: string, f: DeliveryFigures): string[] {
  return [
    label,
    String(f.deployments),
    h(String(Number(f.deploymentFrequency.toFixed(2)))),
    h(describeSeconds(f.leadTimeSeconds)),
    `${h(percent(f.changeFailureRate))} <span class="muted">(${f.failedDeployments})</span>`,
    h(describeSeconds(f.timeToRestoreSeconds)),
    `${h(percent(f.reworkRate))} <span class="muted">(${f.unplannedDeployments})</span>`,
    String(f.breakGlassCount),
  ];
}

const FIGURE_HEADERS = ['', 'deployments', 'per week', 'lead time (median)', 'change failure rate', 'time to restore (median)', 'rework rate', 'break-glass'];

export function deliveryPage(viewer: Viewer, input: DeliveryPageInput): string {
  const f = input.filter;
  const m = input.metrics;
  const form = `<form class="filters" method="get" action="/delivery">
<div><label for="d-subject">Subject</label><input id="d-subject" name="subject" type="text" value="${h(f.subject ?? '')}" placeholder="every subject"></div>
<div><label for="d-since">Since</label><input id="d-since" name="since" type="text" value="${h(f.since ?? '')}" placeholder="2026-12-01 or 90d"></div>
<div><label for="d-stage">Stage</label><select id="d-stage" name="stage">${input.stages
    .map((s) => `<option${s === (m?.stage ?? f.stage ?? input.stages.at(-1)) ? ' selected' : ''}>${h(s)}</option>`)
    .join('')}</select></div>
<button type="submit">Show</button></form>`;
  if (!m) {
    return page(
      { title: 'Delivery', viewer, nav: 'delivery', ...(input.error ? { notice: { kind: 'error' as const, html: h(input.error) } } : {}) },
      `<h1>Delivery</h1>${form}`,
    );
  }
  const recent = m.weeks.slice(-CHART_WEEKS);
  const body = `<h1>Delivery</h1>
<p class="muted">Promotions into <strong>${h(m.stage)}</strong>${m.subject !== null ? ` of ${h(m.subject)}` : ''} from ${when(m.from)} to ${when(m.to)} (${m.weekCount} week${m.weekCount === 1 ? '' : 's'}), computed from the audit log; every figure is defined in docs/metrics.md.</p>
${form}
${table('Delivery figures', FIGURE_HEADERS, [figuresRow('overall', m), ...m.subjects.map((s) => figuresRow(h(s.subject), s))], { id: 'delivery-figures' })}
<section aria-labelledby="weekly-h"><h2 id="weekly-h">Per week${m.weeks.length > CHART_WEEKS ? ` (the last ${CHART_WEEKS})` : ''}</h2>
<div class="charts">
${weeklyChart('Deployments per week', recent, (w) => w.deploymentFrequency, '#2f6fab')}
${weeklyChart('Change failure rate (%)', recent, (w) => (w.changeFailureRate === null ? null : w.changeFailureRate * 100), '#b42318')}
${weeklyChart('Lead time, median (hours)', recent, (w) => (w.leadTimeSeconds === null ? null : w.leadTimeSeconds / 3600), '#486581')}
${weeklyChart('Time to restore, median (hours)', recent, (w) => (w.timeToRestoreSeconds === null ? null : w.timeToRestoreSeconds / 3600), '#8e6c00')}
</div>
${table('Figures per week', FIGURE_HEADERS.map((x, i) => (i === 0 ? 'week of' : x)), [...m.weeks].reverse().map((w) => figuresRow(h(w.week), w)), { id: 'delivery-weeks' })}
</section>
<section aria-labelledby="gates-h"><h2 id="gates-h">Gates</h2>
<p class="muted">How long releases waited on each gate before the promotions that passed it (median, from reaching the stage before or from creation, to the gate's last evidence), and how often it blocked an attempt to enter its stage.</p>
${table(
  'Gates',
  ['gate', 'stage', 'wait (median)', 'promotions measured', 'blocked / attempts', 'block rate'],
  m.gates.map((g) => [h(g.id), h(g.stage), h(describeSeconds(g.waitSeconds)), String(g.waits), `${g.blocked} / ${g.attempts}`, h(percent(g.blockRate))]),
  { id: 'delivery-gates', empty: 'No promotion attempt yet.' },
)}
</section>`;
  return page({ title: 'Delivery', viewer, nav: 'delivery' }, body);
}

// ---------------------------------------------------------------- errors

export function errorPage(viewer: Viewer | undefined, status: number, code: string, message: string, hint?: string): string {
  return page(
    { title: status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Error', ...(viewer ? { viewer } : {}) },
    `<h1>${status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Not done'}</h1>
<p role="alert">${h(message)}</p>${hint ? `<p class="why">${h(hint)}</p>` : ''}<p class="muted">code <code>${h(code)}</code> · HTTP ${status}</p><p><a href="/">Back to the pipeline</a></p>`,
  );
}
