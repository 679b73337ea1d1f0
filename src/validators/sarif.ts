/**
 * `sarif`: reads SARIF 2.1.0 reports (code scanners, dependency and model scanners) and fails when a
 * finding has a level listed in `failOn` or comes from a rule listed in `rules`.
 *
 * ```yaml
 * - { id: security, uses: sarif, with: { report: reports/scan.sarif, failOn: [error], rules: [py/sql-injection] } }
 * ```
 */
import fs from 'node:fs';
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { digestFile, InputError } from './inputs.js';
import { expandReportPaths, reportPathsSchema, type ReportFile } from './junit.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';
import { pushAll } from '../domain/bounded.js';

// ---------------------------------------------------------------- with

const FAIL_LEVELS = ['error', 'warning', 'note'] as const;

const SarifArgsSchema = z
  .strictObject({
    report: reportPathsSchema.describe('The SARIF 2.1.0 report: a path, a glob with * or ? in the file name, or a list of them.'),
    failOn: z
      .array(z.enum(FAIL_LEVELS, { error: 'failOn holds SARIF levels: error, warning or note' }), {
        error: 'failOn must be a list of levels, e.g. [error, warning]',
      })
      .default(['error'])
      .describe('The levels at which an unsuppressed finding fails: error, warning, note (default [error]).'),
    rules: z
      .array(z.string().min(1, { error: 'a rule id must not be empty' }), { error: 'rules must be a list of rule ids, e.g. [py/sql-injection]' })
      .optional()
      .describe('Rule ids whose findings fail at any level, e.g. [py/sql-injection].'),
  })
  .refine((w) => w.failOn.length > 0 || (w.rules?.length ?? 0) > 0, {
    error: 'nothing could fail: with failOn: [] give the rule ids that fail in rules',
  });

/** The `with` block of `sarif`, after defaults. */
export type SarifArgs = z.output<typeof SarifArgsSchema>;

// ---------------------------------------------------------------- the SARIF subset read here

// Loose objects: SARIF has many more properties, and a producer's extra ones are none of our
// business; what is read must have the type the standard gives it.
const Level = z.enum(['none', 'note', 'warning', 'error']);
type Level = z.infer<typeof Level>;

const ArtifactLocation = z.looseObject({ uri: z.string().optional(), index: z.number().int().min(0).optional() });
const Descriptor = z.looseObject({
  id: z.string().optional(),
  defaultConfiguration: z.looseObject({ level: Level.optional() }).optional(),
  messageStrings: z.record(z.string(), z.looseObject({ text: z.string().optional() })).optional(),
});
const DescriptorRef = z.looseObject({
  id: z.string().optional(),
  index: z.number().int().min(0).optional(),
  toolComponent: z.looseObject({ index: z.number().int().min(0).optional() }).optional(),
});
const Component = z.looseObject({ name: z.string().optional(), rules: z.array(Descriptor).optional() });
const Result = z.looseObject({
  ruleId: z.string().optional(),
  ruleIndex: z.number().int().min(0).optional(),
  rule: DescriptorRef.optional(),
  kind: z.enum(['notApplicable', 'pass', 'fail', 'review', 'open', 'informational']).optional(),
  level: Level.optional(),
  message: z.looseObject({ text: z.string().optional(), id: z.string().optional(), arguments: z.array(z.string()).optional() }),
  locations: z
    .array(
      z.looseObject({
        physicalLocation: z
          .looseObject({
            artifactLocation: ArtifactLocation.optional(),
            region: z.looseObject({ startLine: z.number().int().optional() }).optional(),
          })
          .optional(),
        logicalLocations: z.array(z.looseObject({ fullyQualifiedName: z.string().optional(), name: z.string().optional() })).optional(),
      }),
    )
    .optional(),
  suppressions: z.array(z.looseObject({ status: z.enum(['accepted', 'underReview', 'rejected']).optional() })).optional(),
  baselineState: z.enum(['new', 'unchanged', 'updated', 'absent']).optional(),
});
const Run = z.looseObject({
  tool: z.looseObject({ driver: Component, extensions: z.array(Component).optional() }),
  // null and absent both mean "the analysis did not produce results" (SARIF §3.14.23).
  results: z.array(Result).nullable().optional(),
  artifacts: z.array(z.looseObject({ location: ArtifactLocation.optional() })).optional(),
  invocations: z
    .array(
      z.looseObject({
        executionSuccessful: z.boolean().optional(),
        ruleConfigurationOverrides: z
          .array(z.looseObject({ descriptor: DescriptorRef, configuration: z.looseObject({ level: Level.optional() }) }))
          .optional(),
      }),
    )
    .optional(),
});
const SarifLog = z.looseObject({ version: z.literal('2.1.0'), runs: z.array(Run) });
type Run = z.infer<typeof Run>;
type Result = z.infer<typeof Result>;
type Descriptor = z.infer<typeof Descriptor>;

/** One finding, kept as evidence. */
export interface Finding {
  readonly ruleId?: string;
  readonly level: Level;
  readonly message: string;
  readonly location?: string;
  readonly file: string;
  /** It fails the gate: its level is in `failOn` or its rule in `rules`. */
  readonly failing?: true;
  /** Suppressed in the report (an accepted suppression): counted apart, never failing. */
  readonly suppressed?: true;
}

// ---------------------------------------------------------------- reading

function issuePath(p: readonly PropertyKey[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function parseLog(text: string, key: string): z.infer<typeof SarifLog> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${key}: not JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('runs' in doc || 'version' in doc)) {
    throw new InputError(`${key}: not a SARIF report: expected an object with "version": "2.1.0" and "runs"`);
  }
  const version = (doc as { version?: unknown }).version;
  if (version !== '2.1.0') throw new InputError(`${key}: SARIF version ${JSON.stringify(version ?? null)} is not supported; expected "2.1.0"`);
  const parsed = SarifLog.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${key}: not a valid SARIF 2.1.0 report: ${issuePath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

/** The rule a result refers to: by index when given (faster and exact), else by id. */
function ruleOf(run: Run, result: Result): { rule?: Descriptor; id?: string; index?: number; component?: number } {
  const componentIndex = result.rule?.toolComponent?.index;
  const component = componentIndex === undefined ? run.tool.driver : run.tool.extensions?.[componentIndex];
  const index = result.rule?.index ?? result.ruleIndex;
  const id = result.ruleId ?? result.rule?.id;
  let rule = index !== undefined ? component?.rules?.[index] : undefined;
  if (!rule && id !== undefined) {
    rule = [run.tool.driver, ...(run.tool.extensions ?? [])].flatMap((c) => c.rules ?? []).find((r) => r.id === id);
  }
  return { rule, id: id ?? rule?.id, index, component: componentIndex };
}

/**
 * The level of a result as SARIF §3.27.10 resolves it: the result's own `level`; else `none` when
 * its `kind` is not `fail`; else a level the invocation's rule configuration overrides set; else the
 * rule's `defaultConfiguration.level`; else `warning`.
 */
function levelOf(run: Run, result: Result, ref: ReturnType<typeof ruleOf>): Level {
  if (result.level) return result.level;
  if (result.kind && result.kind !== 'fail') return 'none';
  for (const inv of run.invocations ?? []) {
    for (const o of inv.ruleConfigurationOverrides ?? []) {
      const sameComponent = o.descriptor.toolComponent?.index === ref.component;
      const sameRule = (o.descriptor.index !== undefined && o.descriptor.index === ref.index) || (o.descriptor.id !== undefined && o.descriptor.id === ref.id);
      if (sameComponent && sameRule && o.configuration.level) return o.configuration.level;
    }
  }
  return ref.rule?.defaultConfiguration?.level ?? 'warning';
}

function messageOf(result: Result, rule: Descriptor | undefined): string {
  let text = result.message.text;
  if (text === undefined && result.message.id !== undefined) text = rule?.messageStrings?.[result.message.id]?.text;
  if (text === undefined) return '(no message)';
  const args = result.message.arguments ?? [];
  return text.replace(/\{(\d+)\}/g, (m, n: string) => args[Number(n)] ?? m);
}

function locationOf(run: Run, result: Result): string | undefined {
  const loc = result.locations?.[0];
  const physical = loc?.physicalLocation;
  const artifact = physical?.artifactLocation;
  const uri = artifact?.uri ?? (artifact?.index !== undefined ? run.artifacts?.[artifact.index]?.location?.uri : undefined);
  if (uri !== undefined) return physical?.region?.startLine !== undefined ? `${uri}:${physical.region.startLine}` : uri;
  const logical = loc?.logicalLocations?.[0];
  return logical?.fullyQualifiedName ?? logical?.name;
}

/** An accepted suppression hides a result; one still under review does not (SARIF §3.27.23). */
function isSuppressed(result: Result): boolean {
  const s = result.suppressions ?? [];
  return s.some((x) => x.status === undefined || x.status === 'accepted') && !s.some((x) => x.status === 'underReview');
}

/** A rule id matches itself and its hierarchical children: `CA2101` matches `CA2101/pinvoke`. */
function matchesRule(id: string | undefined, rules: readonly string[]): boolean {
  return id !== undefined && rules.some((r) => id === r || id.startsWith(`${r}/`));
}

function readFindings(text: string, key: string, args: SarifArgs): Finding[] {
  const log = parseLog(text, key);
  const findings: Finding[] = [];
  log.runs.forEach((run, i) => {
    const tool = run.tool.driver.name ?? `run ${i}`;
    if (run.invocations?.some((inv) => inv.executionSuccessful === false)) {
      throw new InputError(`${key}: ${tool} reports that its analysis did not complete (executionSuccessful: false)`);
    }
    if (run.results === undefined || run.results === null) {
      throw new InputError(`${key}: ${tool} wrote no results array, which in SARIF means the analysis did not run`);
    }
    for (const result of run.results) {
      // A result the baseline comparison marks `absent` is one that was fixed: not a finding now.
      if (result.baselineState === 'absent') continue;
      const ref = ruleOf(run, result);
      const level = levelOf(run, result, ref);
      const suppressed = isSuppressed(result);
      const atFailLevel = (args.failOn as readonly string[]).includes(level);
      const failing = !suppressed && (atFailLevel || matchesRule(ref.id, args.rules ?? []));
      const location = locationOf(run, result);
      findings.push({
        ...(ref.id !== undefined ? { ruleId: ref.id } : {}),
        level,
        message: messageOf(result, ref.rule),
        ...(location !== undefined ? { location } : {}),
        file: key,
        ...(failing ? { failing: true as const } : {}),
        ...(suppressed ? { suppressed: true as const } : {}),
      });
    }
  });
  return findings;
}

// ---------------------------------------------------------------- judgement

const FINDINGS_SHOWN = 100;
const LEVEL_ORDER: readonly Level[] = ['error', 'warning', 'note', 'none'];

function rank(f: Finding): number {
  return (f.failing ? 0 : f.suppressed ? 20 : 10) + LEVEL_ORDER.indexOf(f.level);
}

function describeFinding(f: Finding): string {
  return `${f.ruleId ?? '(no rule)'} ${f.level}${f.location ? ` at ${f.location}` : ''}: ${f.message.split('\n')[0]}`;
}

/**
 * The `sarif` validator. `failed` when any finding that is not suppressed has a level in `failOn`
 * (default `[error]`) or a rule id in `rules` (a listed rule fails at any level; `failOn` still
 * applies unless set to `[]`); `errored` when a report is missing, is not SARIF 2.1.0, or says the
 * analysis did not run.
 */
export const sarifValidator: Validator<SarifArgs> = {
  name: 'sarif',
  version: '1',
  schema: SarifArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    const findings: Finding[] = [];
    let files: ReportFile[];
    try {
      files = expandReportPaths(ctx.baseDir, args.report);
      for (const { key, file } of files) {
        inputs[key] = await digestFile(file);
        pushAll(findings, readFindings(fs.readFileSync(file, 'utf8'), key, args));
        ctx.progress({ message: `read ${key}` });
      }
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }

    const counted = findings.filter((f) => !f.suppressed);
    const byLevel = Object.fromEntries(LEVEL_ORDER.map((l) => [l, counted.filter((f) => f.level === l).length])) as Record<Level, number>;
    const failing = counted.filter((f) => f.failing);
    const suppressed = findings.length - counted.length;
    const measurements = { ...byLevel, total: counted.length, suppressed, failing: failing.length, files: files.length };
    const thresholds = { failOn: args.failOn, ...(args.rules ? { rules: args.rules } : {}) };
    // Stable sort: failing first, then by level, suppressed last; report order within each group.
    const shown = [...findings].sort((a, b) => rank(a) - rank(b)).slice(0, FINDINGS_SHOWN);
    const details = { findings: shown, ...(findings.length > shown.length ? { findingsNotShown: findings.length - shown.length } : {}) };

    const criteria = [
      ...(args.failOn.length > 0 ? [`at level ${args.failOn.join(' or ')}`] : []),
      ...(args.rules?.length ? [`of rules ${args.rules.join(', ')}`] : []),
    ].join(' or ');
    const breakdown = LEVEL_ORDER.filter((l) => byLevel[l] > 0).map((l) => `${byLevel[l]} ${l}`);
    const suppressedNote = suppressed > 0 ? `; ${suppressed} suppressed` : '';
    if (failing.length > 0) {
      return {
        status: 'failed',
        summary: `${failing.length} finding${failing.length === 1 ? '' : 's'} ${criteria} (max 0); first: ${describeFinding(failing[0]!)}`,
        measurements,
        thresholds,
        inputs,
        details,
      };
    }
    const others = breakdown.length > 0 ? ` (${counted.length} other${counted.length === 1 ? '' : 's'}: ${breakdown.join(', ')}${suppressedNote})` : suppressed > 0 ? ` (${suppressed} suppressed)` : '';
    return { status: 'passed', summary: `no findings ${criteria}${others}`, measurements, thresholds, inputs, details };
  },
};
