/**
 * The words a decision is read in: `tollgate status` prints them and the review desk shows them, so a
 * reviewer and an engineer at a terminal read the same sentence for the same requirement.
 */
import type { Decision, Outcome, RequirementResult } from './model.js';

/** One mark per outcome, as `tollgate status` prints it. */
export const OUTCOME_MARK: Readonly<Record<Outcome, string>> = {
  satisfied: '✔',
  missing: '○',
  failed: '✘',
  errored: '!',
  stale: '~',
  expired: '⌛',
  waived: '≈',
};

/** `sign-off by security`, `checklist model-card`, `validation drift`. */
export function requirementLabel(r: Pick<RequirementResult, 'kind' | 'id' | 'role'>): string {
  return r.kind === 'signoff' ? `sign-off by ${r.role}` : `${r.kind} ${r.id}`;
}

/** `fraud-detector@2.4.0 cannot be promoted to production`. */
export function decisionHeadline(d: Pick<Decision, 'release' | 'stage' | 'promotable'> & { promoted?: boolean }): string {
  return d.promoted
    ? `${d.release} promoted to ${d.stage}`
    : d.promotable
      ? `${d.release} can be promoted to ${d.stage}`
      : `${d.release} cannot be promoted to ${d.stage}`;
}
