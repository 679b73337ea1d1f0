/**
 * Small inline SVG charts for the report. Hand-written on purpose: the page must open with no network
 * and no script, and these two chart shapes are a few dozen lines, less than wiring a charting
 * library into a static file.
 */

import { maxOf } from '../domain/bounded.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 0.001 || a >= 1e6) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/**
 * Grouped bars: one group per category, one bar per series; an optional threshold line.
 * Used for reference-vs-current distributions, metric-vs-baseline, per-group performance.
 */
/** The most categories one chart draws: a chart of more is unreadable, and a page of them is huge. */
export const MAX_CATEGORIES = 100;

export function groupedBars(given: {
  title: string;
  categories: readonly string[];
  series: readonly Series[];
  threshold?: { value: number; label: string };
  width?: number;
  height?: number;
}): string {
  // A result may hold any number of values (a column per category, a metric per name): draw the
  // first MAX_CATEGORIES and say so in the title.
  const cut = given.categories.length > MAX_CATEGORIES;
  const opts = cut
    ? {
        ...given,
        title: `${given.title} (the first ${MAX_CATEGORIES} of ${given.categories.length.toLocaleString('en-US')})`,
        categories: given.categories.slice(0, MAX_CATEGORIES),
        series: given.series.map((s) => ({ ...s, values: s.values.slice(0, MAX_CATEGORIES) })),
      }
    : given;
  const width = opts.width ?? Math.max(320, Math.min(900, 60 + opts.categories.length * (opts.series.length * 16 + 18)));
  const height = opts.height ?? 220;
  const pad = { left: 48, right: 12, top: 28, bottom: 48 };
  let max = Math.max(opts.threshold?.value ?? 0, 1e-12);
  for (const s of opts.series) max = maxOf(s.values.filter(Number.isFinite), max);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const groupW = plotW / Math.max(1, opts.categories.length);
  const barW = Math.max(2, (groupW - 6) / Math.max(1, opts.series.length));
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${pad.left}" y="16" class="t">${escapeHtml(opts.title)}</text>`);
  parts.push(`<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${width - pad.right}" y2="${pad.top + plotH}" class="axis"/>`);
  parts.push(`<text x="${pad.left - 4}" y="${pad.top + 4}" class="l" text-anchor="end">${fmt(max)}</text>`);
  parts.push(`<text x="${pad.left - 4}" y="${pad.top + plotH}" class="l" text-anchor="end">0</text>`);
  opts.categories.forEach((cat, i) => {
    const gx = pad.left + i * groupW + 3;
    opts.series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const top = y(Number.isFinite(v) ? Math.max(0, v) : 0);
      parts.push(
        `<rect x="${(gx + k * barW).toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(pad.top + plotH - top).toFixed(1)}" fill="${s.color}"><title>${escapeHtml(`${s.name} ${cat}: ${fmt(v)}`)}</title></rect>`,
      );
    });
    if (opts.categories.length <= 24) {
      parts.push(`<text x="${(gx + groupW / 2 - 3).toFixed(1)}" y="${pad.top + plotH + 14}" class="l" text-anchor="middle">${escapeHtml(cat.length > 12 ? cat.slice(0, 11) + '…' : cat)}</text>`);
    }
  });
  if (opts.threshold) {
    const ty = y(opts.threshold.value).toFixed(1);
    parts.push(`<line x1="${pad.left}" y1="${ty}" x2="${width - pad.right}" y2="${ty}" class="thr"/>`);
    parts.push(`<text x="${width - pad.right}" y="${Number(ty) - 4}" class="l thrl" text-anchor="end">${escapeHtml(opts.threshold.label)}</text>`);
  }
  const legend = opts.series
    .map((s, k) => `<rect x="${pad.left + k * 110}" y="${height - 14}" width="10" height="10" fill="${s.color}"/><text x="${pad.left + k * 110 + 14}" y="${height - 5}" class="l">${escapeHtml(s.name)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(opts.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}${legend}</svg>`;
}

export { fmt as formatNumber };
