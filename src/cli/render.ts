import { decisionHeadline, OUTCOME_MARK as MARK, requirementLabel } from '../domain/decision-text.js';
import type { Decision } from '../domain/model.js';

/** The decision as a person reads it: every gate, every requirement, its outcome and why. */
export function renderDecision(d: Decision & { promoted?: boolean }): string[] {
  const lines: string[] = [];
  lines.push(`${decisionHeadline(d)}  (policy ${d.policy.name}${d.policy.version !== undefined ? ` v${d.policy.version}` : ''})`);
  if (d.gates.length === 0) lines.push('  no gate applies to this stage');
  for (const g of d.gates) {
    lines.push(`  ${MARK[g.outcome]} gate ${g.id}: ${g.outcome}`);
    for (const r of g.requirements) {
      lines.push(`      ${MARK[r.outcome]} ${requirementLabel(r)}: ${r.outcome} — ${r.reason}`);
    }
  }
  if (d.notApplicable.length > 0) lines.push(`  not applicable to this release: ${d.notApplicable.join(', ')}`);
  for (const f of d.followUps ?? []) {
    lines.push(
      `  follow-up of the break-glass into ${f.stage}: ${f.item}${f.text ? ` (${f.text})` : ''} — ${
        f.done ? `done by ${f.done.by} at ${f.done.at}` : `OPEN: \`tollgate check ${d.release} ${f.item} --to ${f.stage}${f.evidence === 'required' ? ' --evidence FILE|URL' : ''}\``
      }`,
    );
  }
  return lines;
}

/** Status and promote share one JSON shape (DESIGN.md, Machine output). */
export function decisionJson(d: Decision & { promoted?: boolean }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    release: d.release,
    releaseDigest: d.releaseDigest,
    stage: d.stage,
    promotable: d.promotable,
    ...(d.promoted !== undefined ? { promoted: d.promoted } : {}),
    policy: d.policy,
    evaluatedAt: d.evaluatedAt,
    gates: d.gates,
    notApplicable: d.notApplicable,
    ...(d.followUps !== undefined ? { followUps: d.followUps } : {}),
    ...extra,
  };
}
