/**
 * The release manifest: what a release is made of. Parsing is pure; digesting local artifact files
 * is the caller's job (`normalizeManifest` then takes their digests), so that the domain never
 * touches the file system.
 */
import * as z from 'zod';
import { digestOf, type Digest } from './digest.js';
import { tollgateError, type Problem } from './errors.js';
import { ARTIFACT_KINDS, RISK_TIERS, type Artifact, type ReleaseManifest } from './model.js';
import {
  formatPath,
  formatProblems,
  isPlainObject,
  loadYaml,
  sortProblems,
  validateYaml,
  valueAt,
  type YamlPath,
  type YamlSource,
} from './yaml-source.js';

// The digest and the name patterns live apart from the parser (zod, YAML), so that a decision loads
// neither; re-exported here for the parser's callers.
export { dropUndefined, normalizeSha256, releaseDigest, RFC3339, SUBJECT_PATTERN, VERSION_PATTERN } from './release-digest.js';
import { dropUndefined, normalizeSha256, RFC3339, SUBJECT_PATTERN, VERSION_PATTERN } from './release-digest.js';

/** An artifact as the manifest gives it: one with a `path` may leave its sha256 to be computed. */
export interface ArtifactInput extends Omit<Artifact, 'sha256'> {
  readonly sha256?: string;
}

/** A parsed manifest before local artifact files are digested. */
export interface ManifestInput extends Omit<ReleaseManifest, 'artifacts'> {
  readonly artifacts: readonly ArtifactInput[];
}

/** What the caller learnt by reading an artifact's file. */
export interface ArtifactDigest {
  /** 64 hex digits, with or without a `sha256:` prefix. */
  readonly sha256: string;
  readonly size?: number;
}

// ---------------------------------------------------------------- schema

const SHA256 = /^(?:sha256:)?[0-9a-fA-F]{64}$/;

// Stryker disable next-line BlockStatement: without its body the module throws on import, which fails every suite that loads it
function matching(pattern: RegExp, rule: string) {
  return z
    .string()
    .superRefine((v, ctx) => {
      if (v === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
      else if (!pattern.test(v)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} ${rule}` });
    })
    .meta({ pattern: pattern.source });
}

const text = z.string().min(1);

const Sha256Schema = z
  .string()
  .superRefine((v, ctx) => {
    if (!SHA256.test(v)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} must be 64 hex digits (optionally after "sha256:")` });
  })
  .meta({ pattern: SHA256.source })
  .transform(normalizeSha256);

const UriSchema = z
  .string()
  .superRefine((v, ctx) => {
    if (!URL.canParse(v)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a URI with a scheme, e.g. s3://bucket/key or git+https://host/repo@commit` });
  })
  // A scheme first: the part of URL.canParse that JSON Schema can say.
  .meta({ pattern: '^[A-Za-z][A-Za-z0-9+.-]*:' });

// YAML reads `version: 2.10` or `python: 3.11` as a number; the parser takes the text as written
// (stringsAsWritten), so the JSON Schema (which sees what YAML read) lets these through too.
const AS_WRITTEN = { type: ['string', 'number', 'boolean'] };

const ArtifactSchema = z
  .strictObject({
    name: text.describe('The artifact\'s name, unique in the release: what lineage and `release verify --artifact NAME=PATH` name.'),
    kind: z.enum(ARTIFACT_KINDS).describe(`What the artifact is: ${ARTIFACT_KINDS.join(', ')}.`),
    path: text.optional().describe('A local file, relative to the manifest\'s folder: its sha256 (and size) are computed when the release is created. Give a path or a uri, not both.'),
    uri: UriSchema.optional().describe('Where a remote artifact is, as a URI with a scheme, e.g. s3://bucket/key or git+https://host/repo@commit. Needs its sha256: Tollgate does not fetch remote artifacts.'),
    sha256: Sha256Schema.optional().describe('The artifact\'s sha256: 64 hex digits, optionally after "sha256:". Required with a uri; with a path, the file must match it.'),
    size: z.number().int().min(0).optional().describe('The artifact\'s size in bytes.'),
  })
  // Said by crossCheck too (with its messages); here so that editors say it: a path, or a uri with its sha256.
  .meta({
    oneOf: [
      { required: ['path'], not: { required: ['uri'] } },
      { required: ['uri', 'sha256'], not: { required: ['path'] } },
    ],
  })
  .describe('One artifact of the release (model, code, dataset, config, infrastructure…), each with a sha256.');

const LineageStepSchema = z
  .strictObject({
    from: z.array(text).min(1).describe('The artifacts this step reads, by name.'),
    to: text.describe('The artifact this step makes, by name.'),
    step: text.optional().describe('What the step is, e.g. train.'),
  })
  .describe('One step of the lineage: which artifacts another was made from.');

export const ManifestSchema = z
  .strictObject({
    subject: matching(SUBJECT_PATTERN, 'must start with a lowercase letter or digit and hold only a-z, 0-9, ".", "_" and "-"').describe(
      'What is released over and over, e.g. fraud-detector: a-z, 0-9, ".", "_" and "-".',
    ),
    version: matching(VERSION_PATTERN, 'must start with a letter or digit and hold only letters, digits, ".", "+", "_" and "-"')
      .meta(AS_WRITTEN)
      .describe('The release\'s version, e.g. 2.4.0; subject@version names exactly one release digest. Read as written (2.10 stays 2.10).'),
    risk: z.enum(RISK_TIERS).describe(`The risk tier gates choose by (\`when\`): ${RISK_TIERS.join(', ')}.`),
    owner: text.describe('Who owns the release (a roster user name); under separationOfDuties their sign-offs do not count.'),
    artifacts: z.array(ArtifactSchema).min(1).describe('What the release is made of, each with a sha256: a local path (digested when the release is created) or a uri with its sha256.'),
    lineage: z.array(LineageStepSchema).optional().describe('How artifacts were made from others, e.g. { from: [train-data, code], to: model, step: train }.'),
    testedIn: z.array(text).optional().describe('The environments the release was tested in, e.g. [dev].'),
    dependencies: z.record(text, z.string().meta(AS_WRITTEN)).optional().describe('Dependencies and their versions, e.g. { python: "3.11", scikit-learn: "1.5.0" }; read as written.'),
    labels: z.record(text, z.string().meta(AS_WRITTEN)).optional().describe('Free-form labels, name: value; read as written.'),
    unplanned: z.boolean().optional().describe('When true, the release is unplanned work (a fix, a hotfix): its deployments count as unplanned in the rework rate of `tollgate metrics`.'),
    commitTime: z
      .string()
      .superRefine((v, ctx) => {
        if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} must be an RFC 3339 time with its zone, e.g. 2026-12-01T09:30:00Z` });
      })
      .meta({ pattern: RFC3339.source })
      .optional()
      .describe('When the change was committed, an RFC 3339 time with its zone (e.g. 2026-12-01T09:30:00Z): where lead time in `tollgate metrics` starts.'),
  })
  .meta({
    title: 'Tollgate release manifest (release.yaml)',
    description: 'A release manifest: one immutable, digest-named bundle of a subject, registered with `tollgate release create`.',
  });

// ---------------------------------------------------------------- parse

/**
 * Parses and checks a release manifest. Throws TG_YAML_SYNTAX for broken YAML and
 * TG_MANIFEST_INVALID with every problem (each `file:line:col`) otherwise. Reads no files:
 * artifacts with a `path` may come back without a sha256.
 */
export function parseManifest(source: string, file: string): ManifestInput {
  const src = loadYaml(source, file);
  const data = stringsAsWritten(src);
  const validated = validateYaml(src, ManifestSchema, { describe: describeManifestPath, data });
  // Cross-field checks run even when the schema found problems, so one run lists everything.
  const problems = sortProblems([...(validated.ok ? [] : validated.problems), ...crossCheck(src, data)]);
  if (!validated.ok || problems.length > 0) {
    throw tollgateError('TG_MANIFEST_INVALID', formatProblems(problems), { problems });
  }
  return validated.value;
}

/**
 * The manifest a release is registered with: every artifact with its sha256. `artifactDigests`
 * holds, by artifact name, what the caller computed from each local file. A `path` artifact that
 * declares a sha256 must match its file (TG_MANIFEST_INVALID); one with no digest given is
 * TG_ARTIFACT_NOT_FOUND.
 */
export function normalizeManifest(input: ManifestInput, artifactDigests: Readonly<Record<string, ArtifactDigest>>): ReleaseManifest {
  const artifacts = input.artifacts.map((a): Artifact => {
    if (a.path === undefined) {
      if (a.sha256 === undefined) throw tollgateError('TG_MANIFEST_INVALID', `artifact "${a.name}": a uri needs a sha256`);
      return { ...a, sha256: a.sha256 };
    }
    const computed = Object.hasOwn(artifactDigests, a.name) ? artifactDigests[a.name] : undefined;
    if (computed === undefined) throw tollgateError('TG_ARTIFACT_NOT_FOUND', `artifact "${a.name}": no digest of its file ${a.path}`);
    const sha256 = normalizeSha256(computed.sha256);
    if (a.sha256 !== undefined && a.sha256 !== sha256) {
      throw tollgateError('TG_MANIFEST_INVALID', `artifact "${a.name}": the file ${a.path} has sha256 ${sha256}, but the manifest says ${a.sha256}`, {
        hint: 'The file changed since the manifest was written: restore the file or update its sha256.',
      });
    }
    const size = computed.size ?? a.size;
    return { ...a, sha256, ...(size !== undefined ? { size } : {}) };
  });
  return dropUndefined({ ...input, artifacts });
}


// ---------------------------------------------------------------- internals

/**
 * YAML reads `version: 2.10` and `python: 3.10` as numbers (2.1, 3.1); these fields are strings by
 * meaning, so they take the text as written instead of what the number prints as.
 */
function stringsAsWritten(src: YamlSource): unknown {
  const data = src.data;
  if (!isPlainObject(data)) return data;
  const out: Record<string, unknown> = { ...data };
  const asWritten = (path: YamlPath, v: unknown): unknown =>
    typeof v === 'number' || typeof v === 'boolean' ? (src.scalarText(path) ?? String(v)) : v;
  if (Object.hasOwn(data, 'version')) out.version = asWritten(['version'], data.version);
  for (const key of ['dependencies', 'labels'] as const) {
    const map = data[key];
    if (isPlainObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, asWritten([key, k], v)]));
  }
  return out;
}

/** Checks across fields: one source per artifact, unique names, lineage naming known artifacts. */
function crossCheck(src: YamlSource, data: unknown): Problem[] {
  const problems: Problem[] = [];
  const report = (path: YamlPath, message: string): void => {
    problems.push(src.problemAt(path, message));
  };

  const artifacts = list(valueAt(data, ['artifacts']).value);
  const names = new Map<string, number>();
  artifacts.forEach((a, i) => {
    if (!isPlainObject(a)) return;
    const name = typeof a.name === 'string' && a.name !== '' ? a.name : undefined;
    const label = name !== undefined ? `artifact "${name}"` : `artifact ${i + 1}`;
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        report(['artifacts', i, 'name'], `duplicate artifact name "${name}" (first at line ${src.positionOf(['artifacts', first, 'name']).line})`);
      } else names.set(name, i);
    }
    const hasPath = a.path !== undefined;
    const hasUri = a.uri !== undefined;
    if (hasPath && hasUri) {
      report(['artifacts', i, 'uri'], `${label}: give either a path or a uri, not both`);
    } else if (!hasPath && !hasUri) {
      report(['artifacts', i], `${label}: give a path (a local file, digested when the release is created) or a uri with its sha256`);
    } else if (hasUri && a.sha256 === undefined) {
      // A remote artifact cannot be read here, so its digest must be stated.
      report(['artifacts', i, 'uri'], `${label}: a uri needs a sha256 (Tollgate does not fetch remote artifacts to digest them)`);
    }
  });

  const known = `artifacts: ${[...names.keys()].join(', ') || 'none'}`;
  list(valueAt(data, ['lineage']).value).forEach((step, i) => {
    if (!isPlainObject(step)) return;
    const label = `lineage step ${i + 1}`;
    list(step.from).forEach((from, j) => {
      if (typeof from === 'string' && from !== '' && !names.has(from)) report(['lineage', i, 'from', j], `${label}: unknown artifact "${from}" (${known})`);
    });
    const to = step.to;
    if (typeof to === 'string' && to !== '') {
      if (!names.has(to)) report(['lineage', i, 'to'], `${label}: unknown artifact "${to}" (${known})`);
      else if (list(step.from).includes(to)) report(['lineage', i, 'to'], `${label}: artifact "${to}" cannot be made from itself`);
    }
  });
  return problems;
}

/** How a path reads in a message: `artifact "model", sha256`, `lineage step 2, to`. */
function describeManifestPath(path: YamlPath, data: unknown): string {
  const parts: string[] = [];
  let rest = path;
  if (path[0] === 'artifacts' && typeof path[1] === 'number') {
    const name = valueAt(data, ['artifacts', path[1], 'name']).value;
    parts.push(typeof name === 'string' && name !== '' ? `artifact "${name}"` : `artifact ${path[1] + 1}`);
    rest = path.slice(2);
  } else if (path[0] === 'lineage' && typeof path[1] === 'number') {
    parts.push(`lineage step ${path[1] + 1}`);
    rest = path.slice(2);
  }
  if (rest.length > 0) parts.push(formatPath(rest));
  return parts.join(', ');
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

