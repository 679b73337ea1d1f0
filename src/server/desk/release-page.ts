/**
 * `/releases/SUBJECT@VERSION`: everything a reviewer needs to decide, on one page. Failures first,
 * each with its measured value, threshold and raw evidence; then both diffs (against the holder of
 * the stage and against what this reviewer last signed); then every gate with the words of
 * `tollgate status` and the actions the signed-in person may take; then the evidence itself.
 */
import { decisionHeadline, OUTCOME_MARK, requirementLabel } from '../../domain/decision-text.js';
import type { Decision, FollowUpItem, GateResult, Promotion, RequirementResult, Signoff, ValidationResult } from '../../domain/model.js';
import { resultView } from '../../report/report-html.js';
import { anchor, badge, csrfField, h, page, releaseHref, shortDigest, table, when, type Viewer } from './html.js';
import { lineageSvg } from './lineage-svg.js';
import { diff, type Base, type ReleaseView } from './release-view.js';

export interface ReleasePageInput {
  readonly view: ReleaseView;
  readonly viewer: Viewer;
  /** Passkeys the viewer has registered (sign-off in the browser needs one). */
  readonly passkeys: number;
  readonly notice?: { kind: 'ok' | 'error'; html: string };
}

const base = (ref: string) => releaseHref(ref).split('?')[0]!;

/** The latest result of a validation requirement, for its value and threshold. */
function resultFor(view: ReleaseView, stage: string, gate: string, id: string): ValidationResult | undefined {
  return view.evidence.validations.filter((v) => v.stage === stage && v.gateId === gate && v.validationId === id).at(-1);
}

function thresholds(r: ValidationResult): string {
  return Object.keys(r.thresholds).length > 0 ? `<code>${h(JSON.stringify(r.thresholds))}</code>` : '<span class="muted">none recorded</span>';
}

function failuresFirst(view: ReleaseView): string {
  const ref = view.release.release;
  // A stage the release already entered is history, not something to fix.
  const entered = new Set(view.release.promotions.map((p) => p.stage));
  const items = view.decisions.filter((d) => !entered.has(d.stage)).flatMap((d) =>
    d.gates.flatMap((g) =>
      g.requirements
        .filter((r) => r.outcome === 'failed' || r.outcome === 'errored')
        .map((r) => {
          const res = r.kind === 'validation' ? resultFor(view, d.stage, g.id, r.id) : undefined;
          const figures = res
            ? `<p><strong>Measured:</strong> ${h(res.summary)}</p><p><strong>Threshold:</strong> ${thresholds(res)}</p><p><a href="#${anchor('result', res.id)}">the result with its charts</a> · <a href="${base(ref)}/results/${h(res.id)}.json">raw evidence (JSON)</a></p>`
            : '';
          return `<li id="${anchor('failure', d.stage, g.id, r.id)}"><p>${badge(r.outcome)} <a href="${releaseHref(ref, d.stage, anchor('gate', d.stage, g.id))}">${h(d.stage)} / gate ${h(g.id)}</a>: ${h(requirementLabel(r))} — ${h(r.reason)}</p>${figures}</li>`;
        }),
    ),
  );
  if (items.length === 0) return '';
  return `<section class="failures" aria-labelledby="failures-h"><h2 id="failures-h">Failures (${items.length})</h2><ul>${items.join('')}</ul></section>`;
}

function diffSection(view: ReleaseView, b: Base | undefined, title: string, id: string, none: string): string {
  if (!b) return `<section aria-labelledby="${id}-h" class="card diff"><h3 id="${id}-h">${h(title)}</h3><p class="muted">${h(none)}</p></section>`;
  const d = diff(view, b);
  const rows = (xs: { what: string; base: string; current: string; changed: boolean }[], digest = false) =>
    xs.map((x) => [
      `<span class="${x.changed ? 'changed' : 'same'}">${h(x.what)}</span>`,
      digest ? shortDigest(x.base) : h(x.base),
      digest ? shortDigest(x.current) : h(x.current),
      x.changed ? '<strong>changed</strong>' : '<span class="same">same</span>',
    ]);
  const changedCount = [...d.artifacts, ...d.metrics, ...d.validations, ...d.gates].filter((x) => x.changed).length;
  return `<section aria-labelledby="${id}-h" class="card diff" id="${id}"><h3 id="${id}-h">${h(title)}: ${h(b.label)}</h3>
<p>${changedCount} difference${changedCount === 1 ? '' : 's'}; ${d.added.length} evidence record${d.added.length === 1 ? '' : 's'} added to this release since ${when(b.since)}.</p>
${table('Artifact digests', ['artifact', b.release.release, view.release.release, ''], rows(d.artifacts, true))}
${table('Metrics and drift figures', ['figure', b.release.release, view.release.release, ''], rows(d.metrics), { empty: 'No metrics or drift figures on either side.' })}
${table('Validations (data contract, drift, tests, scans)', ['validation', b.release.release, view.release.release, ''], rows(d.validations), { empty: 'No validation results on either side.' })}
${table('Gate definitions (digests)', ['gate', 'then', 'now', ''], rows(d.gates, true), { empty: 'No gate of this stage.' })}
${table(`Evidence added since ${b.since}`, ['kind', 'what', 'by', 'when'], d.added.map((a) => [h(a.kind), h(a.what), h(a.by), when(a.at)]), { empty: 'No evidence added since.' })}
</section>`;
}

function checklistForm(input: ReleasePageInput, stage: string, r: RequirementResult): string {
  const { viewer } = input;
  const may = r.canProvide?.includes(viewer.user) ?? false;
  const id = anchor('check', stage, r.id);
  if (!may) return `<p class="why">Who can complete it: ${h(r.canProvide?.join(', ') || 'see the reason above')}.</p>`;
  return completionForm(input, stage, r.id, id, `Complete ${r.id}`, 'Evidence file');
}

/** The form that completes a checklist item (a gate's, or a break-glass follow-up): `tollgate check` in the browser. */
function completionForm(input: ReleasePageInput, stage: string, item: string, id: string, button: string, fileLabel: string): string {
  const { view, viewer } = input;
  return `<form class="actions" method="post" action="${base(view.release.release)}/checklist" enctype="multipart/form-data">${csrfField(viewer)}
<input type="hidden" name="stage" value="${h(stage)}"><input type="hidden" name="item" value="${h(item)}">
<div><label for="${id}-file">${h(fileLabel)}</label><input id="${id}-file" type="file" name="evidence"></div>
<div><label for="${id}-url">or evidence URL</label><input id="${id}-url" type="text" name="url" inputmode="url"></div>
<div><label for="${id}-note">Note</label><input id="${id}-note" type="text" name="note"></div>
<button type="submit">${h(button)}</button></form>`;
}

function signoffForm(input: ReleasePageInput, stage: string, gate: GateResult, r: RequirementResult): string {
  const { view, viewer } = input;
  const role = r.role!;
  const id = anchor('signoff-form', stage, gate.id, role);
  let reason: string | undefined;
  if (!viewer.roles.includes(role)) reason = `You cannot sign off here: it needs the role "${role}", and your roles are ${viewer.roles.join(', ') || 'none'}.`;
  else if (input.passkeys === 0) reason = 'Register a passkey first (the button at the top of this page): a sign-off in the browser is signed with it.';
  const disabled = reason ? ' disabled' : '';
  const describedBy = reason ? ` aria-describedby="${id}-why"` : '';
  return `<form class="actions" method="post" action="${base(view.release.release)}/signoffs" data-signoff data-stage="${h(stage)}" data-gate="${h(gate.id)}" data-role="${h(role)}" data-status-root>${csrfField(viewer)}
<input type="hidden" name="stage" value="${h(stage)}"><input type="hidden" name="role" value="${h(role)}">
<div><label for="${id}-comment">Comment (${h(role)})</label><textarea id="${id}-comment" name="comment" rows="2"${disabled}></textarea></div>
<button type="submit" name="decision" value="approve"${disabled}${describedBy}>Sign off</button>
<button type="submit" name="decision" value="reject" class="danger"${disabled}${describedBy}>Reject</button>
${reason ? `<p class="why" id="${id}-why">${h(reason)}</p>` : ''}<p class="why" data-status aria-live="polite"></p></form>`;
}

function gateView(input: ReleasePageInput, d: Decision, g: GateResult): string {
  const reqs = g.requirements
    .map((r) => {
      const actions =
        r.kind === 'checklist' && r.outcome !== 'satisfied'
          ? checklistForm(input, d.stage, r)
          : r.kind === 'signoff'
            ? `${r.outcome !== 'satisfied' && r.canProvide ? `<p class="why">Who can give it: ${h(r.canProvide.join(', ') || 'nobody eligible in the roster')}.</p>` : ''}${signoffForm(input, d.stage, g, r)}`
            : r.kind === 'validation'
              ? (() => {
                  const res = resultFor(input.view, d.stage, g.id, r.id);
                  return res ? `<p class="why">Measured: ${h(res.summary)} · threshold ${thresholds(res)} · <a href="#${anchor('result', res.id)}">result</a></p>` : '';
                })()
              : '';
      return `<div class="req" id="${anchor('req', d.stage, g.id, r.id)}"><p><span aria-hidden="true">${OUTCOME_MARK[r.outcome]}</span> ${badge(r.outcome)} <strong>${h(requirementLabel(r))}</strong>${r.text ? ` — ${h(r.text)}` : ''}</p><p class="why">${h(r.reason)}</p>${actions}</div>`;
    })
    .join('');
  return `<section class="gate o-${h(g.outcome)}" id="${anchor('gate', d.stage, g.id)}" aria-labelledby="${anchor('gate', d.stage, g.id)}-h"><h4 id="${anchor('gate', d.stage, g.id)}-h"><span aria-hidden="true">${OUTCOME_MARK[g.outcome]}</span> gate ${h(g.id)}: ${badge(g.outcome)}</h4>${reqs}</section>`;
}

function stageView(input: ReleasePageInput, d: Decision): string {
  const { view, viewer } = input;
  // Whether this person may promote: the decision as they would meet it (their own sign-offs aside).
  const mine = d.stage === view.stage ? view.promoting : d;
  const promotable = mine.promotable;
  const unmet = mine.gates.flatMap((g) => g.requirements).filter((r) => r.outcome !== 'satisfied').length;
  const holds = view.release.holds.includes(d.stage);
  const promote = holds
    ? `<p>${h(view.release.release)} holds ${h(d.stage)}.</p>`
    : `<form class="actions" method="post" action="${base(view.release.release)}/promotions">${csrfField(viewer)}<input type="hidden" name="stage" value="${h(d.stage)}">
<button type="submit"${promotable ? '' : ` disabled aria-describedby="${anchor('promote-why', d.stage)}"`}>Promote to ${h(d.stage)}</button>
${promotable ? '' : `<p class="why" id="${anchor('promote-why', d.stage)}">${d.promotable ? `You cannot promote it: with separation of duties, your own sign-off would not count (${unmet} requirement${unmet === 1 ? '' : 's'} not satisfied for you as the promoter).` : `Not promotable yet: ${unmet} requirement${unmet === 1 ? '' : 's'} not satisfied.`}</p>`}</form>`;
  // A stage the release already holds is where it is, not a failure to get there (as the report says).
  const headline = holds ? `${view.release.release} holds ${d.stage}` : decisionHeadline(d);
  return `<section aria-labelledby="${anchor('stage', d.stage)}-h" id="${anchor('stage', d.stage)}"><h3 id="${anchor('stage', d.stage)}-h">${h(headline)}</h3>
<p class="muted">policy ${h(d.policy.name)}${d.policy.version !== undefined ? ` v${d.policy.version}` : ''} · evaluated ${when(d.evaluatedAt)}</p>
${d.gates.length === 0 ? '<p>No gate applies to this stage.</p>' : d.gates.map((g) => gateView(input, d, g)).join('')}
${d.notApplicable.length > 0 ? `<p class="muted">Not applicable to this release: ${h(d.notApplicable.join(', '))}</p>` : ''}
${followUpsView(input, d)}
${promote}</section>`;
}

/**
 * The follow-up items a break-glass promotion into the stage left open (and those done since), each
 * with the form to complete it for someone who may: the same `check` as a gate's checklist item.
 */
function followUpsView(input: ReleasePageInput, d: Decision): string {
  const items = d.followUps ?? [];
  if (items.length === 0) return '';
  const open = items.filter((f) => !f.done).length;
  const rows = items.map((f) => {
    const label = `${h(f.item)}${f.text ? ` — ${h(f.text)}` : ''}`;
    if (f.done) return `<div class="req"><p><span aria-hidden="true">✔</span> ${badge('done')} <strong>follow-up ${label}</strong></p><p class="why">Completed by ${h(f.done.by)} ${when(f.done.at)}.</p></div>`;
    return `<div class="req" id="${anchor('follow-up', d.stage, f.item)}"><p><span aria-hidden="true">○</span> ${badge('open')} <strong>follow-up ${label}</strong></p>${followUpForm(input, d.stage, f)}</div>`;
  });
  return `<section class="gate o-${open > 0 ? 'stale' : 'satisfied'}" id="${anchor('follow-ups', d.stage)}" aria-labelledby="${anchor('follow-ups', d.stage)}-h"><h4 id="${anchor('follow-ups', d.stage)}-h">Break-glass follow-ups: ${open} of ${items.length} open</h4>
<p class="why">${h(input.view.release.release)} entered ${h(d.stage)} with break-glass; the policy asks for these afterwards.</p>${rows.join('')}</section>`;
}

function followUpForm(input: ReleasePageInput, stage: string, f: FollowUpItem): string {
  const { viewer } = input;
  const roles = f.roles ?? [];
  if (roles.length > 0 && !roles.some((r) => viewer.roles.includes(r))) return `<p class="why">Who can complete it: a holder of ${h(roles.join(' or '))}.</p>`;
  return completionForm(input, stage, f.item, anchor('follow-up-form', stage, f.item), `Complete follow-up ${f.item}`, `Evidence file${f.evidence === 'required' ? ' (required)' : ''}`);
}

/** A history row's kind and reason: a break-glass promotion says so, on whose sign-off, and what it went past. */
function historyKind(p: Promotion): string {
  return p.kind === 'rollback' ? badge('rollback') : p.breakGlass ? badge('break-glass') : badge('promotion');
}

function historyReason(p: Promotion): string {
  if (!p.breakGlass) return h(p.reason ?? '—');
  const g = p.breakGlass;
  return `${h(g.reason)}<br><span class="muted">on the break-glass sign-off of ${h(g.signer)} (${h(g.role)})${g.unmet.length > 0 ? `; went past: ${h(g.unmet.join('; '))}` : ''}</span>`;
}

/** A banner for break-glass promotions whose follow-ups are still open: they need doing, on any stage tab. */
function openFollowUps(view: ReleasePageInput['view']): string {
  const open = view.decisions.flatMap((d) => (d.followUps ?? []).filter((f) => !f.done).map((f) => ({ stage: d.stage, f })));
  if (open.length === 0) return '';
  const ref = view.release.release;
  return `<section class="failures" aria-labelledby="follow-ups-h"><h2 id="follow-ups-h">Break-glass follow-ups open (${open.length})</h2><ul>${open
    .map(({ stage, f }) => `<li><a href="${releaseHref(ref, stage, anchor('follow-up', stage, f.item))}">${h(stage)} / follow-up ${h(f.item)}</a>${f.text ? `: ${h(f.text)}` : ''}</li>`)
    .join('')}</ul></section>`;
}

function signoffKind(s: Signoff): string {
  return s.signatureKind === 'webauthn' ? 'passkey (WebAuthn)' : 'Ed25519 key';
}

export function releasePage(input: ReleasePageInput): string {
  const { view, viewer } = input;
  const r = view.release;
  const ref = r.release;
  const stages = view.policy.policy.stages.map((s) => s.name);
  const current = view.decisions.find((d) => d.stage === view.stage)!;
  const others = view.decisions.filter((d) => d.stage !== view.stage);
  const tabs = `<nav aria-label="Stages"><ul class="tabs">${stages.map((s) => `<li><a href="${releaseHref(ref, s)}"${s === view.stage ? ' aria-current="page"' : ''}>${h(s)}</a></li>`).join('')}</ul></nav>`;
  const passkey = `<div class="card" data-status-root><p>Passkeys: ${input.passkeys === 0 ? 'none registered yet' : `${input.passkeys} registered`}. A sign-off in the browser is a passkey assertion with user verification.</p>
<form class="actions" method="post" action="/desk/passkeys">${csrfField(viewer)}<button type="button" class="secondary" data-passkey-register>Register a passkey</button></form><p class="why" data-status aria-live="polite"></p></div>`;
  const latest = new Map<string, ValidationResult>();
  for (const v of view.evidence.validations) latest.set(`${v.stage}/${v.gateId}/${v.validationId}`, v);
  const results = [...latest.values()].sort((a, b) => (a.status === b.status ? 0 : a.status === 'passed' ? 1 : b.status === 'passed' ? -1 : 0));
  const blob = (digest: string, name: string) => `/desk/blobs/${encodeURIComponent(digest)}?name=${encodeURIComponent(name)}`;
  const body = `
<h1>${h(ref)}</h1>
<p class="muted">digest ${shortDigest(r.digest)} · risk ${h(r.risk)} · owner ${h(r.owner)} · registered ${when(r.createdAt)} by ${h(r.createdBy)} · holds ${h(r.holds.join(', ') || 'no stage')}</p>
${tabs}
${openFollowUps(view)}
${failuresFirst(view)}
${passkey}
<h2 id="decision">Entering ${h(view.stage)}</h2>
<div class="grid">
${diffSection(view, view.holder, `Compared with the release holding ${view.stage}`, 'diff-holder', `No other release holds ${view.stage}: nothing to compare with.`)}
${diffSection(view, view.lastSigned, 'Compared with what you last signed', 'diff-signed', 'You have not signed off any release of this subject yet.')}
</div>
${stageView(input, current)}
<h2>Other stages</h2>
${others.map((d) => stageView(input, d)).join('')}
<h2 id="artifacts">Artifacts</h2>
${table('Artifacts with their digests', ['name', 'kind', 'location', 'sha256'], r.manifest.artifacts.map((a) => [h(a.name), h(a.kind), a.path || a.uri ? `<code>${h(a.path ?? a.uri ?? '')}</code>` : '—', `<code>${h(a.sha256)}</code>`]))}
${r.manifest.lineage?.length ? `<h3>Lineage</h3><div class="scroll" role="region" aria-label="Lineage graph" tabindex="0">${lineageSvg(r.manifest.artifacts, r.manifest.lineage)}</div>` : ''}
<h2 id="signoffs">Sign-offs</h2>
${table(
  'Sign-offs recorded',
  ['who', 'role', 'decision', 'stage / gate', 'when', 'comment', 'signature'],
  [...view.evidence.signoffs].reverse().map((s) => [
    `<span id="${anchor('signoff', s.id)}">${h(s.signer)}</span>`,
    h(s.role),
    badge(s.decision),
    `<a href="${releaseHref(ref, s.stage, anchor('gate', s.stage, s.gate))}">${h(s.stage)} / ${h(s.gate)}</a>`,
    when(s.at),
    s.comment ? h(s.comment) : '—',
    h(signoffKind(s)),
  ]),
  { id: 'signoff-table', empty: 'No sign-off recorded yet.' },
)}
<h2 id="checklist">Checklist evidence</h2>
${table(
  'Checklist items completed',
  ['item', 'stage / gate', 'by', 'when', 'evidence', 'note'],
  [...view.evidence.checklist].reverse().map((c) => [
    h(c.itemId),
    `${h(c.stage)} / ${h(c.gateId)}`,
    h(c.by),
    when(c.at),
    c.evidence ? (c.evidence.digest ? `<a href="${blob(c.evidence.digest, c.evidence.name)}" download="${h(c.evidence.name)}">${h(c.evidence.name)}</a> ${shortDigest(c.evidence.digest)}` : c.evidence.uri ? `<a href="${h(c.evidence.uri)}" rel="noopener noreferrer">${h(c.evidence.uri)}</a>` : h(c.evidence.name)) : '—',
    c.note ? h(c.note) : '—',
  ]),
  { empty: 'No checklist item completed yet.' },
)}
<h2 id="validations">Validation results</h2>
${results.length === 0 ? '<p class="muted">No validation has been run for this release yet.</p>' : results.map((v) => `<div id="${anchor('result', v.id)}" tabindex="-1">${resultView(v, new Map(), (d, n) => blob(d, n.split('/').pop() ?? 'input'))}<p><a href="${base(ref)}/results/${h(v.id)}.json">raw evidence (JSON)</a></p></div>`).join('')}
<h2 id="history">Promotions and rollbacks</h2>
${table(
  'Promotion and rollback history',
  ['when', 'kind', 'stage', 'by', 'replaced', 'reason', 'policy'],
  [...r.promotions].reverse().map((p) => [when(p.at), historyKind(p), h(p.stage), h(p.by), h(p.previousVersion ?? '—'), historyReason(p), `v${p.policyVersion}`]),
  { empty: 'Not promoted anywhere yet.' },
)}`;
  return page({ title: ref, viewer, nav: 'pipeline', scripts: ['/desk/assets/webauthn.js', '/desk/assets/desk.js'], ...(input.notice ? { notice: input.notice } : {}) }, body);
}
