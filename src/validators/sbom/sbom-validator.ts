/**
 * `sbom`: judges a CycloneDX JSON SBOM (1.4–1.6) of the release: it must name the release's
 * artifacts, its components' licenses must pass the allow- or deny-list, and no known vulnerability
 * at or above `failOn` may stand unless a VEX analysis in the SBOM suppresses it.
 *
 * ```yaml
 * - { id: sbom, uses: sbom, with: { sbom: artifact:sbom, deny: [GPL-3.0-only, AGPL-3.0-only], failOn: high } }
 * ```
 */
import fs from 'node:fs';
import * as z from 'zod';
import type { Digest } from '../../domain/digest.js';
import { digestFile, InputError, resolveInput } from '../inputs.js';
import { errored, type Validator, type ValidatorOutcome } from '../validator.js';
import { ARTIFACT_MATCHES, matchArtifact, type ArtifactFinding } from './artifacts.js';
import { readSbom, type SbomDocument } from './document.js';
import { describeTerm, idsOf, isLicenseId, licenseTerm, satisfiedBy, unknownsOf } from './licenses.js';
import { atOrAbove, FAIL_SEVERITIES, SEVERITIES, severityOf, suppressedBy, SUPPRESSING_STATES, type Severity } from './vulnerabilities.js';

// ---------------------------------------------------------------- with

const licenseIds = (field: string) =>
  z.array(
    z.string().refine(isLicenseId, {
      error: (i) => `${JSON.stringify(i.input)} is not an SPDX license id (ids are case-sensitive, e.g. MIT, Apache-2.0, GPL-3.0-only; or LicenseRef-…)`,
    }),
    { error: `${field} must be a list of SPDX license ids, e.g. [MIT, Apache-2.0]` },
  );

const SbomArgsSchema = z
  .strictObject({
    sbom: z.string({ error: 'sbom must be the path of a CycloneDX JSON file, or artifact:NAME' }).min(1, { error: 'sbom must not be empty' }).describe('The CycloneDX JSON SBOM (spec 1.4 to 1.6): a path, or artifact:NAME for one of the release\'s artifacts.'),
    allow: licenseIds('allow').optional().describe('SPDX license ids allowed: every component\'s license expression must be satisfiable by them (an OR needs one allowed side, an AND all).'),
    deny: licenseIds('deny').optional().describe('SPDX license ids denied: a component naming one fails, even as one side of an OR.'),
    unknownLicense: z.enum(['fail', 'warn', 'allow'], { error: 'unknownLicense is fail, warn or allow' }).default('fail').describe('What a component with no license, or one that cannot be read, does: fail (default), warn or allow.'),
    failOn: z.enum(FAIL_SEVERITIES, { error: 'failOn is the least severity that fails: critical, high, medium or low' }).default('high').describe('The least severity of a known vulnerability that fails unless a VEX analysis marks it not_affected, false_positive or resolved (default high).'),
    artifacts: z
      .array(z.string().min(1, { error: 'an artifact name must not be empty' }), { error: 'artifacts must be a list of the release\'s artifact names' })
      .optional()
      .describe('The release artifacts the SBOM must name (default: every artifact but the SBOM itself).'),
    matchArtifactsBy: z.enum(ARTIFACT_MATCHES, { error: 'matchArtifactsBy is digest or digest-or-name' }).default('digest-or-name').describe('How a component names an artifact: by its SHA-256 only (digest), or by SHA-256 and else by name (digest-or-name, default).'),
  })
  .superRefine((w, ctx) => {
    const both = (w.allow ?? []).filter((id) => w.deny?.includes(id));
    if (both.length > 0) ctx.addIssue({ code: 'custom', path: ['deny'], message: `${both.join(', ')} both allowed and denied` });
  });

/** The `with` block of `sbom`, after defaults. */
export type SbomArgs = z.output<typeof SbomArgsSchema>;

// ---------------------------------------------------------------- judgement

/** The rule a problem breaks, as failures name it. */
export type SbomRule = 'artifact' | 'license.deny' | 'license.allow' | 'license.unknown' | 'vulnerability';
const RULE_ORDER: readonly SbomRule[] = ['artifact', 'license.deny', 'license.allow', 'license.unknown', 'vulnerability'];

export interface SbomProblem {
  readonly rule: SbomRule;
  /** The component, `group/name@version` (a vulnerability: the first it affects). */
  readonly component?: string;
  readonly purl?: string;
  readonly message: string;
  /** It fails the validation; a problem `unknownLicense: warn` lets through is listed without it. */
  readonly failing: boolean;
}

export interface SbomVulnerability {
  readonly id: string;
  readonly severity: Severity;
  readonly components: readonly string[];
  /** The VEX state that suppresses it. */
  readonly suppressedBy?: string;
  readonly state?: string;
  readonly failing?: true;
}

const SHOWN = 100;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function listed(ids: readonly string[]): string {
  return ids.join(', ');
}

function licenseProblems(sbom: SbomDocument, args: SbomArgs): { problems: SbomProblem[]; licenses: Record<string, number>; unknown: number } {
  const problems: SbomProblem[] = [];
  const licenses: Record<string, number> = {};
  let unknown = 0;
  const allow = args.allow ? new Set(args.allow) : undefined;
  const deny = new Set(args.deny ?? []);
  for (const c of sbom.components.filter((x) => !x.subject)) {
    const term = licenseTerm(c.licenses);
    const ids = [...new Set(idsOf(term))];
    for (const id of ids) licenses[id] = (licenses[id] ?? 0) + 1;
    const unknowns = unknownsOf(term);
    if (unknowns.length > 0) unknown += 1;
    const who = { component: c.label, ...(c.purl !== undefined ? { purl: c.purl } : {}) };
    const text = describeTerm(term);

    // Any denied id present fails, even as one side of an OR: choosing the other side is a
    // decision about that component that the allow list, not the SBOM, records.
    const denied = ids.filter((id) => deny.has(id));
    if (denied.length > 0) {
      problems.push({ rule: 'license.deny', ...who, message: `${c.label} is licensed ${text}, and ${listed(denied)} ${denied.length === 1 ? 'is' : 'are'} denied`, failing: true });
      continue;
    }
    const allowed = allow ? satisfiedBy(term, allow) : true;
    if (allowed === false) {
      const missing = ids.filter((id) => !allow!.has(id));
      problems.push({ rule: 'license.allow', ...who, message: `${c.label} is licensed ${text}, which the allow list does not satisfy (not allowed: ${listed(missing)})`, failing: true });
      continue;
    }
    // Allowed by its ids alone (an OR with an allowed side): the unknown side needs no word.
    if (unknowns.length > 0 && (!allow || allowed === undefined)) {
      if (args.unknownLicense === 'allow') continue;
      const what = unknowns.includes('no license') ? 'has no license' : `is licensed ${text}, which holds no SPDX license id for ${listed(unknowns.map((u) => JSON.stringify(u)))}`;
      problems.push({ rule: 'license.unknown', ...who, message: `${c.label} ${what} (unknownLicense: ${args.unknownLicense})`, failing: args.unknownLicense === 'fail' });
    }
  }
  return { problems, licenses, unknown };
}

function vulnerabilityFindings(sbom: SbomDocument, args: SbomArgs): { problems: SbomProblem[]; vulnerabilities: SbomVulnerability[] } {
  const byRef = new Map(sbom.components.filter((c) => c.ref !== undefined).map((c) => [c.ref!, c]));
  const problems: SbomProblem[] = [];
  const vulnerabilities = sbom.vulnerabilities.map((v): SbomVulnerability => {
    const id = v.id ?? v['bom-ref'] ?? '(no id)';
    const severity = severityOf(v);
    const affected = (v.affects ?? []).map((a) => byRef.get(a.ref));
    const labels = (v.affects ?? []).map((a, i) => affected[i]?.label ?? a.ref);
    const suppressed = suppressedBy(v);
    const state = v.analysis?.state;
    const failing = suppressed === undefined && atOrAbove(severity, args.failOn);
    if (failing) {
      const first = affected[0];
      const where = labels.length === 0 ? 'no component it names' : labels.length <= 3 ? listed(labels) : `${listed(labels.slice(0, 3))} and ${labels.length - 3} more`;
      problems.push({
        rule: 'vulnerability',
        ...(labels[0] !== undefined ? { component: labels[0] } : {}),
        ...(first?.purl !== undefined ? { purl: first.purl } : {}),
        message: `${id} (${severity}) in ${where}: at or above failOn ${args.failOn}, and no VEX analysis marks it ${SUPPRESSING_STATES.join(', ')} (${state !== undefined ? `state: ${state}` : 'no analysis'})`,
        failing: true,
      });
    }
    return { id, severity, components: labels, ...(suppressed !== undefined ? { suppressedBy: suppressed } : {}), ...(state !== undefined && suppressed === undefined ? { state } : {}), ...(failing ? { failing: true as const } : {}) };
  });
  return { problems, vulnerabilities };
}

function countBySeverity(list: readonly SbomVulnerability[]): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, list.filter((v) => v.severity === s).length])) as Record<Severity, number>;
}

/**
 * The `sbom` validator. `failed` when an artifact the release names is not in the SBOM, a
 * component's license breaks the allow or deny list (or is unknown, with `unknownLicense: fail`),
 * or a vulnerability at or above `failOn` stands without a suppressing VEX analysis; `errored` when
 * the SBOM is missing, not CycloneDX JSON 1.4–1.6, or invalid against its schema.
 */
export const sbomValidator: Validator<SbomArgs> = {
  name: 'sbom',
  version: '1',
  schema: SbomArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    let sbom: SbomDocument;
    let digest: Digest;
    try {
      const file = resolveInput(ctx.baseDir, args.sbom);
      digest = await digestFile(file);
      inputs[args.sbom] = digest;
      sbom = await readSbom(fs.readFileSync(file, 'utf8'), args.sbom);
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }
    ctx.progress({ message: `read ${args.sbom}: CycloneDX ${sbom.specVersion}, ${plural(sbom.components.length, 'component')}` });

    // The artifacts it must name: those listed, or every artifact of the release but the SBOM itself.
    const released = ctx.release.manifest.artifacts;
    const unknownNames = (args.artifacts ?? []).filter((n) => !released.some((a) => a.name === n));
    if (unknownNames.length > 0) {
      return errored(`artifacts: the release has no artifact ${listed(unknownNames.map((n) => `"${n}"`))} (artifacts: ${listed(released.map((a) => a.name)) || 'none'})`, inputs);
    }
    const required = args.artifacts ? released.filter((a) => args.artifacts!.includes(a.name)) : released.filter((a) => `sha256:${a.sha256}` !== digest);
    const artifacts: ArtifactFinding[] = required.map((a) => matchArtifact(a, sbom.components, args.matchArtifactsBy));
    const artifactProblems: SbomProblem[] = artifacts
      .filter((a) => a.problem !== undefined)
      .map((a) => ({ rule: 'artifact', ...(a.component !== undefined ? { component: a.component } : {}), message: a.problem!, failing: true }));

    const lic = licenseProblems(sbom, args);
    const vul = vulnerabilityFindings(sbom, args);
    const problems = [...artifactProblems, ...lic.problems, ...vul.problems].sort(
      (a, b) => Number(b.failing) - Number(a.failing) || RULE_ORDER.indexOf(a.rule) - RULE_ORDER.indexOf(b.rule),
    );
    const failing = problems.filter((p) => p.failing);
    const open = vul.vulnerabilities.filter((v) => v.suppressedBy === undefined);
    const suppressed = vul.vulnerabilities.filter((v) => v.suppressedBy !== undefined);
    const byRule = (rules: readonly SbomRule[]) => failing.filter((p) => rules.includes(p.rule)).length;

    const measurements = {
      specVersion: sbom.specVersion,
      components: sbom.components.filter((c) => !c.subject).length,
      licenses: Object.fromEntries(Object.entries(lic.licenses).sort(([a, x], [b, y]) => y - x || a.localeCompare(b))),
      unknownLicenses: lic.unknown,
      vulnerabilities: countBySeverity(open),
      suppressedVulnerabilities: countBySeverity(suppressed),
      artifacts: {
        required: artifacts.length,
        byDigest: artifacts.filter((a) => a.matchedBy === 'digest').length,
        byName: artifacts.filter((a) => a.matchedBy === 'name').length,
        missing: artifacts.filter((a) => a.matchedBy === undefined).length,
      },
      failing: { artifacts: byRule(['artifact']), licenses: byRule(['license.deny', 'license.allow', 'license.unknown']), vulnerabilities: byRule(['vulnerability']) },
    };
    const thresholds = {
      failOn: args.failOn,
      ...(args.allow ? { allow: args.allow } : {}),
      ...(args.deny ? { deny: args.deny } : {}),
      unknownLicense: args.unknownLicense,
      artifacts: required.map((a) => a.name),
      matchArtifactsBy: args.matchArtifactsBy,
    };
    // Failing vulnerabilities first, then by severity; report order within each.
    const rank = (v: SbomVulnerability) => (v.failing ? 0 : v.suppressedBy ? 20 : 10) + SEVERITIES.indexOf(v.severity);
    const shownVulns = [...vul.vulnerabilities].sort((a, b) => rank(a) - rank(b)).slice(0, SHOWN);
    const details = {
      problems: problems.slice(0, SHOWN),
      ...(problems.length > SHOWN ? { problemsNotShown: problems.length - SHOWN } : {}),
      artifacts,
      vulnerabilities: shownVulns,
      ...(vul.vulnerabilities.length > SHOWN ? { vulnerabilitiesNotShown: vul.vulnerabilities.length - SHOWN } : {}),
    };

    if (failing.length > 0) {
      const counts = RULE_ORDER.map((r) => [r, failing.filter((p) => p.rule === r).length] as const).filter(([, n]) => n > 0);
      const first = failing[0]!;
      return {
        status: 'failed',
        summary: `${plural(failing.length, 'problem')} (max 0): ${counts.map(([r, n]) => `${n} ${r}`).join(', ')}; first: ${first.rule}: ${first.message}`,
        measurements,
        thresholds,
        inputs,
        details,
      };
    }
    // Passed: what it found, so that a person sees what was judged.
    const others = SEVERITIES.filter((sev) => measurements.vulnerabilities[sev] > 0).map((sev) => `${measurements.vulnerabilities[sev]} ${sev}`);
    const vulnNotes = [...(others.length > 0 ? [`others: ${others.join(', ')}`] : []), ...(suppressed.length > 0 ? [`${suppressed.length} suppressed by VEX`] : [])];
    const vulnText = `no vulnerability at ${args.failOn} or above${vulnNotes.length > 0 ? ` (${vulnNotes.join('; ')})` : ''}`;
    const licText = `${plural(Object.keys(lic.licenses).length, 'license id')}${args.allow ? ', each component allowed' : ''}${args.deny ? ', none denied' : ''}`;
    const warned = problems.length > 0 ? `; ${plural(problems.length, 'unknown license')} (warn)` : '';
    const matchedBy = [`${measurements.artifacts.byDigest} by digest`, `${measurements.artifacts.byName} by name`].filter((x) => !x.startsWith('0 '));
    const artText = artifacts.length > 0 ? `; names the ${plural(artifacts.length, 'artifact')} (${matchedBy.join(', ')})` : '';
    return {
      status: 'passed',
      summary: `CycloneDX ${sbom.specVersion}, ${plural(measurements.components, 'component')}: ${licText}${warned}; ${vulnText}${artText}`,
      measurements,
      thresholds,
      inputs,
      details,
    };
  },
};
