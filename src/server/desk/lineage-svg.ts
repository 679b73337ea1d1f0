/**
 * The release's lineage as a small layered graph: each artifact a box, each step an arrow from its
 * inputs to its output, layers left to right by depth. Hand-written like report/svg.ts: a lineage
 * is a handful of nodes, and the page must not need a graph library in the browser.
 */
import type { LineageStep } from '../../domain/model.js';
import { h } from './html.js';
import { maxOf } from '../../domain/bounded.js';

export function lineageSvg(artifacts: readonly { name: string; kind: string }[], lineage: readonly LineageStep[]): string {
  if (lineage.length === 0) return '';
  const names = new Set([...artifacts.map((a) => a.name), ...lineage.flatMap((l) => [...l.from, l.to])]);
  const depth = new Map<string, number>([...names].map((n) => [n, 0]));
  // Longest path from a source; the lineage is small, so relax until nothing moves (bounded against cycles).
  for (let i = 0; i < names.size; i++) {
    let moved = false;
    for (const l of lineage) {
      const d = maxOf(l.from.map((f) => depth.get(f) ?? 0), 0) + 1;
      if (d > (depth.get(l.to) ?? 0)) {
        depth.set(l.to, d);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const used = [...names].filter((n) => lineage.some((l) => l.to === n || l.from.includes(n)));
  const layers: string[][] = [];
  for (const n of used) (layers[depth.get(n)!] ??= []).push(n);
  const boxW = 150;
  const boxH = 34;
  const gapX = 90;
  const gapY = 18;
  const rows = maxOf(layers.map((l) => l?.length ?? 0), 0);
  const width = layers.length * boxW + (layers.length - 1) * gapX + 20;
  const height = rows * boxH + (rows - 1) * gapY + 20;
  const pos = new Map<string, { x: number; y: number }>();
  layers.forEach((layer, i) => layer?.forEach((n, j) => pos.set(n, { x: 10 + i * (boxW + gapX), y: 10 + j * (boxH + gapY) })));
  const kind = new Map(artifacts.map((a) => [a.name, a.kind]));
  const edges = lineage.flatMap((l) =>
    l.from.map((f) => {
      const a = pos.get(f)!;
      const b = pos.get(l.to)!;
      const x1 = a.x + boxW;
      const y1 = a.y + boxH / 2;
      const x2 = b.x - 6;
      const y2 = b.y + boxH / 2;
      return `<path d="M${x1} ${y1} C${x1 + 40} ${y1} ${x2 - 40} ${y2} ${x2} ${y2}" marker-end="url(#arrow)"/>`;
    }),
  );
  const labels = lineage
    .filter((l) => l.step)
    .map((l) => {
      const b = pos.get(l.to)!;
      return `<text x="${b.x - gapX / 2}" y="${b.y - 3}" text-anchor="middle" class="l">${h(l.step!)}</text>`;
    });
  const boxes = [...pos.entries()].map(
    ([n, p]) => `<g><rect x="${p.x}" y="${p.y}" width="${boxW}" height="${boxH}" rx="5"/><text x="${p.x + 8}" y="${p.y + 21}">${h(n.length > 16 ? `${n.slice(0, 15)}…` : n)}${kind.get(n) ? ` (${h(kind.get(n)!)})` : ''}</text></g>`,
  );
  const title = lineage.map((l) => `${l.from.join(' + ')} → ${l.to}${l.step ? ` (${l.step})` : ''}`).join('; ');
  return `<svg class="lineage" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Lineage: ${h(title)}" width="${width}" height="${height + 8}" viewBox="0 -8 ${width} ${height + 8}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#52606d"/></marker></defs>${edges.join('')}${labels.join('')}${boxes.join('')}</svg>`;
}
