import { decisionHeadline, OUTCOME_MARK as MARK, requirementLabel } from '../domain/decision-text.js';
import type { Decision, HandoffRecord } from '../domain/model.js';

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

/** Hand-offs to deployment as a person reads them: one line each, with why a failed one failed. */
export function renderHandoffs(handoffs: readonly HandoffRecord[], indent = '  ', withStage = false): string[] {
  return handoffs.map((h) => {
    const tries = h.attempts > 1 ? `, attempt ${h.attempts}` : '';
    const where = withStage ? ` (into ${h.stage} at ${h.at})` : '';
    return h.outcome === 'succeeded'
      ? `${indent}✔ hand-off ${h.kind} ${h.target}${where}: succeeded${h.commit ? ` (commit ${h.commit.slice(0, 12)})` : ''}${tries}`
      : `${indent}✘ hand-off ${h.kind} ${h.target}${where}: FAILED${tries} — ${h.error ?? 'no reason recorded'}`;
  });
}

/**
 * The warning a failed hand-off prints on stderr (under `--json` too): the move happened, the
 * deployment did not hear of it, and this is how to try again.
 */
export function handoffWarning(handoffs: readonly HandoffRecord[] | undefined): string | undefined {
  const failed = (handoffs ?? []).filter((h) => h.outcome === 'failed');
  if (failed.length === 0) return undefined;
  const h = failed[0]!;
  return [
    `warning: ${failed.length} of ${handoffs!.length} hand-off${handoffs!.length === 1 ? '' : 's'} to deployment failed; ${h.subject}@${h.version} is in ${h.stage} all the same`,
    ...renderHandoffs(failed),
    `  fix the cause, then: tollgate handoff retry ${h.subject}@${h.version} --stage ${h.stage}`,
  ].join('\n');
}
