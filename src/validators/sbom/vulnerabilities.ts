/**
 * The known vulnerabilities an SBOM records: each one's severity, and whether a VEX analysis in the
 * SBOM takes it out of the count.
 */
import type { Vulnerability } from './document.js';

/** CycloneDX's severities, worst first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info', 'none', 'unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What `failOn` takes: the least severity that fails. */
export const FAIL_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type FailSeverity = (typeof FAIL_SEVERITIES)[number];

/**
 * The VEX analysis states that take a vulnerability out of the count: the component is not
 * affected, the finding was wrong (`false_positive`), or it was fixed (`resolved`,
 * `resolved_with_pedigree`). `exploitable` and `in_triage` leave it standing, as does no analysis.
 */
export const SUPPRESSING_STATES = ['not_affected', 'false_positive', 'resolved', 'resolved_with_pedigree'] as const;

/** The severity bands CVSS 3.x and 4.0 define for a score (CVSS 2 has no critical). */
function severityOfScore(score: number, method: string | undefined): Severity | undefined {
  if (method === 'CVSSv2') return score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low';
  if (method !== 'CVSSv3' && method !== 'CVSSv31' && method !== 'CVSSv4') return undefined;
  return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : 'none';
}

/**
 * A vulnerability's severity: the worst of its ratings (sources may disagree; the cautious one is
 * kept). A rating without a severity but with a CVSS score takes the score's band. No rating:
 * `unknown`.
 */
export function severityOf(v: Vulnerability): Severity {
  let worst: Severity = 'unknown';
  for (const r of v.ratings ?? []) {
    const s = (SEVERITIES as readonly string[]).includes(r.severity ?? '') && r.severity !== 'unknown' ? (r.severity as Severity) : r.score !== undefined ? severityOfScore(r.score, r.method) : undefined;
    if (s !== undefined && (worst === 'unknown' || SEVERITIES.indexOf(s) < SEVERITIES.indexOf(worst))) worst = s;
  }
  return worst;
}

/** The VEX state that suppresses the vulnerability, or undefined when it stands. */
export function suppressedBy(v: Vulnerability): string | undefined {
  const state = v.analysis?.state;
  return state !== undefined && (SUPPRESSING_STATES as readonly string[]).includes(state) ? state : undefined;
}

/** At or above the threshold: `unknown`, `none` and `info` never are. */
export function atOrAbove(s: Severity, failOn: FailSeverity): boolean {
  return SEVERITIES.indexOf(s) <= SEVERITIES.indexOf(failOn);
}
