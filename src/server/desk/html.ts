/**
 * The review desk's page shell and small HTML helpers. Pages are rendered on the server as strings:
 * no template engine, no front-end build; every value from the record goes through `h` (escaping).
 */
import { escapeHtml } from '../../report/svg.js';

export const h = escapeHtml;

/** Who is signed in, for the page header. */
export interface Viewer {
  readonly user: string;
  readonly roles: readonly string[];
  /** The CSRF token for forms on this page. */
  readonly csrf: string;
}

export interface PageOptions {
  readonly title: string;
  /** Which navigation entry is the current page. */
  readonly nav?: 'pipeline' | 'queue' | 'audit' | 'delivery';
  readonly viewer?: Viewer;
  /** Extra scripts (same origin) the page needs. */
  readonly scripts?: readonly string[];
  /** A notice shown at the top of the page (already escaped HTML). */
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly html: string };
}

const NAV: readonly [NonNullable<PageOptions['nav']>, string, string][] = [
  ['pipeline', '/', 'Pipeline'],
  ['queue', '/queue', 'My queue'],
  ['audit', '/audit', 'Audit'],
  ['delivery', '/delivery', 'Delivery'],
];

/** A hidden field carrying the CSRF token: every form that changes state has one. */
export function csrfField(viewer: Pick<Viewer, 'csrf'>): string {
  return `<input type="hidden" name="_csrf" value="${h(viewer.csrf)}">`;
}

export function page(opts: PageOptions, body: string): string {
  const v = opts.viewer;
  const nav = v
    ? `<nav aria-label="Main"><ul>${NAV.map(([id, href, label]) => `<li><a href="${href}"${opts.nav === id ? ' aria-current="page"' : ''}>${label}</a></li>`).join('')}</ul></nav>
<div class="who"><span>Signed in as <strong>${h(v.user)}</strong> <span class="muted">(${h(v.roles.join(', ') || 'no role')})</span></span>
<form method="post" action="/logout">${csrfField(v)}<button type="submit" class="link">Sign out</button></form></div>`
    : '';
  const notice = opts.notice ? `<div class="notice ${opts.notice.kind}" role="${opts.notice.kind === 'error' ? 'alert' : 'status'}">${opts.notice.html}</div>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(opts.title)} — Tollgate</title>
<link rel="stylesheet" href="/desk/assets/desk.css">
${(opts.scripts ?? []).map((s) => `<script src="${h(s)}" defer></script>`).join('\n')}
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">Tollgate</a>${nav}</header>
<main id="main" tabindex="-1">
${notice}
${body}
</main>
<footer class="foot"><p>Tollgate review desk · every action is recorded in the audit log</p></footer>
</body></html>
`;
}

/** A table in a region that scrolls sideways on its own, so a wide table never widens the page. */
export function table(caption: string, headers: readonly string[], rows: readonly (readonly string[])[], opts: { id?: string; empty?: string } = {}): string {
  if (rows.length === 0) return `<p class="muted">${h(opts.empty ?? 'Nothing yet.')}</p>`;
  return `<div class="scroll" role="region" aria-label="${h(caption)}" tabindex="0"><table${opts.id ? ` id="${h(opts.id)}"` : ''}><caption>${h(caption)}</caption><thead><tr>${headers.map((x) => `<th scope="col">${h(x)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

/** An outcome as a badge with its word (never colour alone). */
export function badge(outcome: string): string {
  return `<span class="badge o-${h(outcome)}">${h(outcome)}</span>`;
}

/** A stable, URL-safe anchor id from parts (`gate-production-approvals`). */
export function anchor(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '-')).join('-');
}

/** `2026-12-02 07:52 UTC` from an ISO time, in a <time> element. */
export function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h(iso);
  return `<time datetime="${h(d.toISOString())}">${h(d.toISOString().slice(0, 16).replace('T', ' '))} UTC</time>`;
}

export function releaseHref(ref: string, stage?: string, hash?: string): string {
  return `/releases/${encodeURIComponent(ref).replace(/%40/g, '@')}${stage ? `?stage=${encodeURIComponent(stage)}` : ''}${hash ? `#${hash}` : ''}`;
}

/** Shortened digest for display (the full one in a title, for copying). */
export function shortDigest(d: string): string {
  return `<code title="${h(d)}">${h(d.length > 19 ? `${d.slice(0, 19)}…` : d)}</code>`;
}
