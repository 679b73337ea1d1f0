/**
 * `metrics`: judges evaluation metrics (a JSON file the training or evaluation job writes) by CEL
 * rules, optionally against the metrics recorded with a baseline release.
 *
 * ```yaml
 * - { id: quality, uses: metrics, with: { current: eval/metrics.json, baseline: production,
 *     rules: ["accuracy >= baseline.accuracy - 0.01", "latency_p95_ms <= 50"] } }
 * ```
 *
 * The metrics file is a JSON object of numbers, nested objects allowed:
 * `{"accuracy": 0.93, "latency": {"p95_ms": 41}}`. A rule reads:
 * - `metrics` — the current metrics (`metrics.latency.p95_ms`, `metrics["f1-score"]`);
 * - each top-level metric by its bare name (`accuracy`, `latency.p95_ms`) when the name is a CEL
 *   identifier and not `metrics` or `baseline`;
 * - `baseline` — the metrics recorded with the baseline release (`with.baseline`: a stage such as
 *   `production`, meaning the release that holds it now, or a pinned `subject@version`).
 *
 * Every number is a CEL double, and so is every whole-number literal in a rule: CEL does not mix
 * int and double in arithmetic (`accuracy - 1` is "no such overload: double - int"), and a metric
 * such as `count` is 12 in one file and 12.5 in none, so rules are written as people write numbers
 * and `1` is read as `1.0` before the rule is checked. Unsigned literals (`1u`) are left alone.
 *
 * A rule that reads `baseline` when no release holds the baseline stage yet is `errored` with that
 * reason; the other rules still run. The result is `failed` when any rule is false, else `errored`
 * when any rule could not be evaluated, else `passed`. Each rule reports the value of every metric
 * it reads, not only true or false.
 */
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { serialize } from '@marcbachmann/cel-js/serialize';
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { InputError, readInput } from './inputs.js';
import { errored, type Validator, type ValidatorContext, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------- metrics files

/** Metrics as recorded: numbers, nested in objects as deep as the evaluation job likes. */
export interface MetricsDocument {
  readonly [name: string]: number | MetricsDocument;
}

/**
 * Metrics whose meaning bounds them, by the name of the leaf (case-insensitive): a file saying
 * `"accuracy": -1` is wrong, and a rule like `accuracy >= baseline.accuracy - 0.01` would otherwise
 * judge it as a number like any other (issue 13, finding 9). docs/validators.md lists the same names.
 */
export const METRIC_RANGES: ReadonlyMap<string, readonly [number, number]> = new Map(
  ['accuracy', 'balanced_accuracy', 'auc', 'roc_auc', 'pr_auc', 'average_precision', 'precision', 'recall', 'f1', 'f1_score', 'ece', 'brier', 'brier_score', 'specificity', 'sensitivity', 'tpr', 'fpr', 'tnr', 'fnr', 'error_rate'].map(
    (name): [string, readonly [number, number]] => [name, [0, 1]],
  ),
);

/** Leaves under a key starting with `latency` (`latency`, `latency_p99_ms`, `latency: {p50: …}`) are durations: never negative. */
const LATENCY = /^latency/i;

/** Why the number at `path` (its keys) is impossible, or undefined when it is possible. */
export function metricRangeProblem(path: readonly string[], value: number): string | undefined {
  const leaf = path[path.length - 1]!.toLowerCase();
  const range = METRIC_RANGES.get(leaf);
  if (range && (value < range[0] || value > range[1])) return `${leaf} must be between ${range[0]} and ${range[1]}`;
  if (path.some((k) => LATENCY.test(k)) && value < 0) return 'a latency must not be negative';
  return undefined;
}

/**
 * Checks that a value is a {@link MetricsDocument}: a non-empty object whose leaves are finite
 * numbers, each within the range its name implies ({@link METRIC_RANGES}, latencies ≥ 0). Throws
 * InputError naming `source` and the first bad path otherwise.
 */
export function asMetrics(value: unknown, source: string): MetricsDocument {
  if (!isObject(value)) throw new InputError(`${source}: metrics must be a JSON object of numbers, e.g. {"accuracy": 0.93}, not ${describe(value)}`);
  if (Object.keys(value).length === 0) throw new InputError(`${source}: holds no metrics`);
  const visit = (v: Record<string, unknown>, at: string, keys: readonly string[]): void => {
    for (const [k, child] of Object.entries(v)) {
      const p = at === '' ? k : `${at}.${k}`;
      if (isObject(child)) visit(child, p, [...keys, k]);
      else if (typeof child !== 'number' || !Number.isFinite(child)) {
        throw new InputError(`${source}: ${p} is ${describe(child)}; every metric must be a number (objects may nest them)`);
      } else {
        const problem = metricRangeProblem([...keys, k], child);
        if (problem !== undefined) throw new InputError(`${source}: ${p} is ${child}; ${problem}`);
      }
    }
  };
  visit(value, '', []);
  return value as MetricsDocument;
}

/**
 * Reads a metrics JSON file (relative paths against `baseDir`) with its digest: what the service
 * stores with a release so that a later release can use it as a baseline. Throws InputError when
 * the file is missing, not JSON, or not a {@link MetricsDocument}.
 */
export async function readMetricsFile(baseDir: string, p: string): Promise<{ file: string; metrics: MetricsDocument; digest: Digest }> {
  const { file, text, digest } = await readInput(baseDir, p);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${p}: not valid JSON: ${(err as Error).message}`);
  }
  return { file, metrics: asMetrics(value, p), digest };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  if (typeof v === 'number') return String(v);
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

// ---------------------------------------------------------------- rules

const RESERVED = new Set(
  'true false null in as break const continue else for function if import let loop package namespace return var void while metrics baseline'.split(' '),
);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The base environment: `metrics` and `baseline` are maps of numbers and nested maps. Each run
// clones it and declares the top-level metrics of that file as variables of their own.
const baseEnv = new Environment({ unlistedVariablesAreDyn: false })
  .registerVariable('metrics', 'map<string, dyn>', { description: 'The current metrics' })
  .registerVariable('baseline', 'map<string, dyn>', { description: 'The metrics recorded with the baseline release' });
// For checking a rule before any metrics file is known (policy check): any bare name may be a metric.
const lintEnv = baseEnv.clone({ unlistedVariablesAreDyn: true });

interface CelError {
  summary?: string;
  message?: string;
  range?: { start: number };
}

function celMessage(err: unknown): string {
  const e = err as CelError;
  const summary = e.summary ?? e.message?.split('\n')[0] ?? String(err);
  return e.range ? `${summary} at character ${e.range.start + 1}` : summary;
}

/** A rule parsed once: the text as written, the text evaluated (doubles only) and its syntax tree. */
interface PreparedRule {
  readonly source: string;
  readonly doubles: string;
  readonly ast: ASTNode;
  readonly usesBaseline: boolean;
}

/** Parses a rule; throws with a message naming it when its syntax is wrong. */
function prepareRule(source: string): PreparedRule {
  let parsed: ParseResult;
  try {
    parsed = lintEnv.parse(source);
  } catch (err) {
    throw new InputError(`invalid rule ${JSON.stringify(source)}: ${celMessage(err)}`);
  }
  return { source, doubles: intLiteralsAsDoubles(source, parsed.ast), ast: parsed.ast, usesBaseline: nodes(parsed.ast).some((n) => n.op === 'id' && n.args === 'baseline') };
}

/** Rewrites each int literal (`1`, `0xFF`) as a double (`1.0`, `255.0`); see the module comment. */
export function intLiteralsAsDoubles(source: string, ast: ASTNode): string {
  const ints = nodes(ast)
    .filter((n): n is ASTNode & { op: 'value'; args: bigint } => n.op === 'value' && typeof n.args === 'bigint')
    .sort((a, b) => b.range.start - a.range.start);
  let out = source;
  for (const n of ints) out = `${out.slice(0, n.range.start)}${n.args.toString()}.0${out.slice(n.range.end)}`;
  return out;
}

/** Every node of a syntax tree, the root first. */
function nodes(root: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isAstNode(v)) {
      out.push(v);
      visit(v.args);
    }
  };
  visit(root);
  return out;
}

function isAstNode(v: unknown): v is ASTNode {
  return typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string' && 'args' in v;
}

/**
 * The metric references a rule reads, outermost first: `accuracy`, `baseline.accuracy`,
 * `metrics.latency.p95_ms`, `metrics["f1-score"]`. Only chains of fixed names from a known root are
 * references; `metrics[k]` inside a macro is not (its value depends on the loop).
 */
function references(ast: ASTNode, roots: ReadonlySet<string>): ASTNode[] {
  const isRef = (n: ASTNode): boolean => {
    if (n.op === 'id') return roots.has(n.args);
    if (n.op === '.') return isRef(n.args[0]);
    if (n.op === '[]') return n.args[1].op === 'value' && typeof n.args[1].args === 'string' && isRef(n.args[0]);
    return false;
  };
  const out: ASTNode[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isAstNode(v)) {
      if (isRef(v)) out.push(v);
      else visit(v.args);
    }
  };
  visit(ast);
  return out;
}

/** The variable a reference starts from: `baseline` for `baseline.accuracy`. */
function rootOf(ref: ASTNode): string | undefined {
  let n: ASTNode = ref;
  while (n.op === '.' || n.op === '[]') n = n.args[0];
  return n.op === 'id' ? n.args : undefined;
}

/**
 * Checks a rule's syntax without any metrics at hand (for `policy check`). Returns undefined when
 * it is fine, else a message naming the rule and the problem.
 */
export function checkRule(rule: string): string | undefined {
  if (typeof rule !== 'string' || rule.trim() === '') return 'a rule must be a CEL expression, e.g. accuracy >= 0.9';
  let prepared: PreparedRule;
  try {
    prepared = prepareRule(rule);
  } catch (err) {
    return (err as Error).message;
  }
  const result = lintEnv.check(prepared.doubles);
  if (!result.valid) return `invalid rule ${JSON.stringify(rule)}: ${celMessage(result.error)}`;
  if (result.type !== 'bool' && result.type !== 'dyn') return `rule ${JSON.stringify(rule)} gives a ${result.type}, not true or false`;
  return undefined;
}

// ---------------------------------------------------------------- with

const BASELINE_REF = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:@[A-Za-z0-9][A-Za-z0-9._+-]*)?$/;

const MetricsArgsSchema = z
  .strictObject({
    current: z.string({ error: 'current must be the path of a metrics JSON file' }).min(1, { error: 'current must not be empty' }).describe('The metrics JSON file (an object of numbers) of this release, or artifact:NAME.'),
    baseline: z
      .string({ error: 'baseline must be a stage (production) or a release (subject@version)' })
      .regex(BASELINE_REF, { error: 'baseline must be a stage (production) or a release (subject@version)' })
      .optional()
      .describe('What to compare with: a stage (production: the release holding it now) or a release (subject@version); rules read its metrics as baseline.NAME.'),
    rules: z
      .array(z.string({ error: 'each rule must be a CEL expression in quotes' }), { error: 'rules must be a list of CEL expressions, e.g. ["accuracy >= 0.9"]' })
      .min(1, { error: 'rules must hold at least one rule' })
      .describe('CEL rules over the metric names, metrics and baseline, each of which must hold, e.g. ["accuracy >= baseline.accuracy - 0.01", "latency_p95_ms <= 50"].'),
    /**
     * When `baseline` names a stage that no release holds yet (the subject's first release), rules
     * that read `baseline` are `skip`ped (the default: a first release has nothing to be compared
     * with, and must still be able to reach production) or make the result `error`ed.
     */
    whenNoBaseline: z.enum(['skip', 'error'], { error: 'whenNoBaseline must be skip or error' }).optional().describe('When no release holds the baseline stage yet (a first release): skip the rules that read baseline (default), or error.'),
  })
  .superRefine((w, ctx) => {
    w.rules.forEach((rule, i) => {
      const message = checkRule(rule);
      if (message !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', i], message });
      else if (w.baseline === undefined && prepareRule(rule).usesBaseline) {
        ctx.addIssue({ code: 'custom', path: ['rules', i], message: `rule ${JSON.stringify(rule)} reads baseline, but with.baseline is not set (e.g. baseline: production)` });
      }
    });
  });

/** The `with` block of `metrics`. */
export type MetricsArgs = z.output<typeof MetricsArgsSchema>;

// ---------------------------------------------------------------- judging

/** How one rule came out, as kept in `measurements.rules`. */
export interface RuleResult {
  readonly rule: string;
  readonly outcome: 'passed' | 'failed' | 'errored' | 'skipped';
  readonly passed: boolean;
  /** Every metric the rule reads and its value (null when absent): `{"accuracy": 0.93, "baseline.accuracy": 0.94}`. */
  readonly values: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

interface Baseline {
  readonly ref: string;
  readonly release?: string;
  readonly metrics?: MetricsDocument;
  /** Why rules that read `baseline` cannot run. */
  readonly unavailable?: string;
  /** No release holds the baseline stage yet: the subject's first release. */
  readonly firstRelease?: boolean;
}

async function loadBaseline(ref: string | undefined, ctx: ValidatorContext): Promise<Baseline | undefined> {
  if (ref === undefined) return undefined;
  let found: Awaited<ReturnType<ValidatorContext['baselineMetrics']>>;
  try {
    found = await ctx.baselineMetrics(ref);
  } catch (err) {
    return { ref, unavailable: `cannot read the baseline ${ref}: ${(err as Error).message}` };
  }
  if (found === undefined) {
    return ref.includes('@')
      ? { ref, unavailable: `${ref} has no recorded metrics (or does not exist)` }
      : { ref, unavailable: `no release holds ${ref} yet, so there is no baseline`, firstRelease: true };
  }
  try {
    return { ref, release: found.release, metrics: asMetrics(found.metrics, `the metrics of ${found.release}`) };
  } catch (err) {
    return { ref, release: found.release, unavailable: (err as Error).message };
  }
}

/** The environment for one metrics file: its top-level metrics become variables. */
function envFor(metrics: MetricsDocument): { env: Environment; roots: Set<string> } {
  const env = baseEnv.clone();
  const roots = new Set(['metrics', 'baseline']);
  for (const [name, value] of Object.entries(metrics)) {
    // Names CEL already uses for a type or a namespace (`int`, `type`, `map`) stay reachable as metrics.NAME.
    if (!IDENTIFIER.test(name) || RESERVED.has(name) || env.hasVariable(name)) continue;
    try {
      env.registerVariable(name, typeof value === 'number' ? 'double' : 'map<string, dyn>');
    } catch {
      continue;
    }
    roots.add(name);
  }
  return { env, roots };
}

function plain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), plain(x)]));
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function judgeRule(
  source: string,
  metrics: MetricsDocument,
  currentName: string,
  baseline: Baseline | undefined,
  run: { env: Environment; roots: Set<string> },
  skipWithoutBaseline: boolean,
): RuleResult {
  const fail = (error: string, values: Record<string, unknown> = {}): RuleResult => ({ rule: source, outcome: 'errored', passed: false, values, error });
  let rule: PreparedRule;
  try {
    rule = prepareRule(source);
  } catch (err) {
    return fail((err as Error).message);
  }
  const context: Record<string, unknown> = { ...metrics, metrics, baseline: baseline?.metrics ?? {} };
  const check = run.env.check(rule.doubles);
  if (!check.valid) {
    const message = celMessage(check.error);
    const unknown = /^Unknown variable: (\S+)/.exec(message)?.[1];
    return fail(unknown ? `${currentName} has no metric ${unknown} (metrics: ${Object.keys(metrics).join(', ')})` : `invalid rule: ${message}`);
  }
  if (check.type !== 'bool' && check.type !== 'dyn') return fail(`gives a ${check.type}, not true or false`);

  // The value of each reference, so a failed rule shows what it compared, not only `false`.
  const values: Record<string, unknown> = {};
  let missing: { key: string; inBaseline: boolean } | undefined;
  const noBaseline = baseline?.metrics === undefined;
  for (const ref of references(rule.ast, run.roots)) {
    const key = serialize(ref);
    if (noBaseline && rootOf(ref) === 'baseline') continue;
    try {
      values[key] = plain(run.env.evaluate(key, context));
    } catch {
      values[key] = null;
      missing ??= { key, inBaseline: rootOf(ref) === 'baseline' };
    }
  }

  if (rule.usesBaseline && noBaseline) {
    const why = baseline?.unavailable ?? 'the rule reads baseline, but with.baseline is not set';
    if (skipWithoutBaseline && baseline?.firstRelease) return { rule: source, outcome: 'skipped', passed: false, values, error: why };
    return fail(why, values);
  }

  let result: unknown;
  try {
    result = run.env.evaluate(rule.doubles, context);
  } catch (err) {
    if (missing !== undefined) {
      return fail(`${missing.key}: no such metric in ${missing.inBaseline ? `the baseline (${baseline?.release})` : currentName}`, values);
    }
    return fail(`cannot evaluate: ${celMessage(err)}`, values);
  }
  if (typeof result !== 'boolean') return fail(`gives ${JSON.stringify(plain(result))}, not true or false`, values);
  return { rule: source, outcome: result ? 'passed' : 'failed', passed: result, values };
}

function formatValues(values: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k} ${typeof v === 'number' ? String(Number(v.toPrecision(6))) : JSON.stringify(v)}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/**
 * The `metrics` validator: every rule over the current metrics and the baseline's; `failed` when a
 * rule is false, `errored` when a rule could not be evaluated (and none is false) or the metrics
 * file cannot be read.
 */
export const metricsValidator: Validator<MetricsArgs> = {
  name: 'metrics',
  version: '1',
  schema: MetricsArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    let metrics: MetricsDocument;
    try {
      const read = await readMetricsFile(ctx.baseDir, args.current);
      inputs[args.current] = read.digest;
      metrics = read.metrics;
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }
    const baseline = await loadBaseline(args.baseline, ctx);
    const run = envFor(metrics);
    const skip = (args.whenNoBaseline ?? 'skip') === 'skip';
    const rules = args.rules.map((r) => judgeRule(r, metrics, args.current, baseline, run, skip));

    const measurements = {
      rules,
      metrics,
      baseline: baseline === undefined ? null : { ref: baseline.ref, release: baseline.release ?? null, metrics: baseline.metrics ?? null },
    };
    const thresholds = {
      rules: args.rules,
      ...(args.baseline !== undefined ? { baseline: args.baseline, whenNoBaseline: args.whenNoBaseline ?? 'skip' } : {}),
    };
    const failed = rules.filter((r) => r.outcome === 'failed');
    const broken = rules.filter((r) => r.outcome === 'errored');
    const of = `of ${rules.length} rule${rules.length === 1 ? '' : 's'}`;
    const brokenText = broken.map((r) => `${r.rule}: ${r.error}`).join('; ');
    if (failed.length > 0) {
      const summary =
        `${failed.length} ${of} failed: ${failed.map((r) => `${r.rule}${formatValues(r.values)}`).join('; ')}` +
        (broken.length > 0 ? `; ${broken.length} could not run: ${brokenText}` : '');
      return { status: 'failed', summary, measurements, thresholds, inputs };
    }
    if (broken.length > 0) return { status: 'errored', summary: `${broken.length} ${of} could not run: ${brokenText}`, measurements, thresholds, inputs };
    const against = baseline?.release ? ` against ${baseline.release} (${baseline.ref})` : '';
    const skipped = rules.filter((r) => r.outcome === 'skipped');
    if (skipped.length > 0) {
      const checked = rules.length - skipped.length;
      return {
        status: 'passed',
        summary: `${checked} ${of} passed; ${skipped.length} not checked (${skipped[0]!.error}: a first release): ${skipped.map((r) => r.rule).join('; ')}`,
        measurements,
        thresholds,
        inputs,
      };
    }
    return { status: 'passed', summary: `${rules.length === 1 ? 'the rule' : `all ${rules.length} rules`} passed${against}`, measurements, thresholds, inputs };
  },
};
