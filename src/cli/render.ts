import type { Decision, Outcome } from '../domain/model.js';

const MARK: Record<Outcome, string> = {
  satisfied: '✔',
  missing: '○',
  failed: '✘',
  errored: '!',
  stale: '~',
  expired: '⌛',
};

/** The decision as a person reads it: every gate, every requirement, its outcome and why. */
export function renderDecision(d: Decision & { promoted?: boolean }): string[] {
  const lines: string[] = [];
  const head = d.promoted
    ? `${d.release} promoted to ${d.stage}`
    : d.promotable
      ? `${d.release} can be promoted to ${d.stage}`
      : `${d.release} cannot be promoted to ${d.stage}`;
  lines.push(`${head}  (policy ${d.policy.name}${d.policy.version !== undefined ? ` v${d.policy.version}` : ''})`);
  if (d.gates.length === 0) lines.push('  no gate applies to this stage');
  for (const g of d.gates) {
    lines.push(`  ${MARK[g.outcome]} gate ${g.id}: ${g.outcome}`);
    for (const r of g.requirements) {
      const label = r.kind === 'signoff' ? `sign-off by ${r.role}` : `${r.kind} ${r.id}`;
      lines.push(`      ${MARK[r.outcome]} ${label}: ${r.outcome} — ${r.reason}`);
    }
  }
  if (d.notApplicable.length > 0) lines.push(`  not applicable to this release: ${d.notApplicable.join(', ')}`);
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
    ...extra,
  };
}
