/**
 * `junit`: reads JUnit XML test reports and passes when enough of the tests that ran passed.
 *
 * ```yaml
 * - { id: tests, uses: junit, with: { report: "reports/junit-*.xml", minPassRate: 0.99, maxSkipped: 5 } }
 * ```
 */
import fs from 'node:fs';
import path from 'node:path';
import { RE2JS } from 're2js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { digestFile, InputError, resolveInput } from './inputs.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------- report files (shared with sarif)

const WILDCARD = /[*?]/;

/** One report file found for a `report` entry: `key` is how evidence names it (as written, wildcards filled in). */
export interface ReportFile {
  readonly key: string;
  readonly file: string;
}

/** A `report` value: one path or glob, or a list of them. */
export const reportPathsSchema = z.union(
  [z.string().min(1, { error: 'report must not be empty' }), z.array(z.string().min(1, { error: 'a report path must not be empty' })).min(1, { error: 'report must name at least one file' })],
  { error: 'report must be a path or glob (e.g. reports/*.xml), or a list of them' },
);

/**
 * Expands report paths against the project folder. A `*` or `?` is allowed in the file-name part
 * only (`reports/junit-*.xml`): that covers how test runners write one report per shard without a
 * glob library, and a wildcard in a folder would make the set of evidence files hard to predict.
 * Files are returned sorted so the same folder always gives the same result. Throws InputError when
 * a path does not exist or a pattern matches nothing: a gate must not pass on a report that was never
 * written.
 */
export function expandReportPaths(baseDir: string, report: string | readonly string[]): ReportFile[] {
  const out = new Map<string, ReportFile>();
  for (const pattern of typeof report === 'string' ? [report] : report) {
    const slash = pattern.lastIndexOf('/');
    // `/x/*.xml` has the folder `/`, not "" (which would be the project folder).
    const dirPart = slash > 0 ? pattern.slice(0, slash) : slash === 0 ? '/' : '';
    const namePart = pattern.slice(slash + 1);
    if (!WILDCARD.test(pattern)) {
      const file = resolveInput(baseDir, pattern);
      out.set(file, { key: pattern, file });
      continue;
    }
    if (WILDCARD.test(dirPart)) throw new InputError(`${pattern}: wildcards are allowed only in the file name, not in folders`);
    const dir = resolveInput(baseDir, dirPart === '' ? '.' : dirPart);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(code === 'ENOENT' ? `${pattern}: no such folder ${dir}` : `${pattern}: cannot read folder ${dir} (${code ?? (err as Error).message})`);
    }
    const matcher = nameMatcher(namePart);
    const names = entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && matcher.test(e.name))
      // As in a shell, `*` does not match hidden files unless the pattern starts with a dot.
      .filter((e) => namePart.startsWith('.') || !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    if (names.length === 0) throw new InputError(`${pattern}: no file matches`);
    for (const name of names) {
      const file = path.join(dir, name);
      if (!out.has(file)) out.set(file, { key: dirPart === '' ? name : `${dirPart.replace(/\/$/, '')}/${name}`, file });
    }
  }
  return [...out.values()];
}

/**
 * The glob as a whole-name matcher. Compiled with RE2 (re2js), not V8: `a*a*a*…b` is a pattern a
 * backtracking engine needs exponential time for, and the glob comes from the policy (issue 13, finding 3).
 */
function nameMatcher(glob: string): { test(name: string): boolean } {
  const source = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : RE2JS.quote(c))).join('');
  const re = RE2JS.compile(`^${source}$`, RE2JS.DOTALL);
  return { test: (name) => re.matches(name) };
}

// ---------------------------------------------------------------- with

const JunitArgsSchema = z.strictObject({
  report: reportPathsSchema.describe('The JUnit XML report: a path, a glob with * or ? in the file name (reports/junit-*.xml), or a list of them.'),
  minPassRate: z
    .number({ error: 'minPassRate must be a number from 0 to 1, e.g. 0.98' })
    .min(0, { error: 'minPassRate must be at least 0' })
    .max(1, { error: 'minPassRate must be at most 1 (1 means every test that ran passed)' })
    .default(1)
    .describe('The lowest pass rate, passed ÷ (tests − skipped), from 0 to 1 (default 1: every test that ran passed).'),
  maxSkipped: z
    .number({ error: 'maxSkipped must be a whole number of tests' })
    .int({ error: 'maxSkipped must be a whole number of tests' })
    .min(0, { error: 'maxSkipped must be 0 or more' })
    .optional()
    .describe('The most tests that may be skipped.'),
});

/** The `with` block of `junit`, after defaults. */
export type JunitArgs = z.output<typeof JunitArgsSchema>;

// ---------------------------------------------------------------- parsing

const FAILING_SHOWN = 20;
const MESSAGE_MAX = 500;

/** A test that did not pass, kept as evidence. */
export interface FailingTest {
  readonly name: string;
  readonly kind: 'failure' | 'error';
  readonly message: string;
  readonly file: string;
}

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  failing: FailingTest[];
}

type XmlNode = Record<string, unknown>;

// Elements that may repeat are always arrays, so one element and many read the same way.
const REPEATED = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
});

function asNode(v: unknown): XmlNode {
  // `<testsuite/>` and `<skipped/>` parse as empty strings.
  return typeof v === 'object' && v !== null ? (v as XmlNode) : {};
}

function rawChildren(node: XmlNode, tag: string): unknown[] {
  const v = node[tag];
  return Array.isArray(v) ? v : [];
}

function children(node: XmlNode, tag: string): XmlNode[] {
  return rawChildren(node, tag).map(asNode);
}

function attr(node: XmlNode, name: string): string | undefined {
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

function intAttr(node: XmlNode, name: string, key: string): number {
  const text = attr(node, name);
  if (text === undefined || text.trim() === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`${key}: attribute ${name}="${text}" is not a count`);
  return n;
}

function messageOf(raw: unknown): string {
  const node = asNode(raw);
  const body = typeof raw === 'string' ? raw : typeof node['#text'] === 'string' ? node['#text'] : '';
  const text = attr(node, 'message') ?? body;
  const line = text.trim() === '' ? (attr(node, 'type') ?? '') : text.trim();
  return line.length > MESSAGE_MAX ? `${line.slice(0, MESSAGE_MAX)}…` : line;
}

/**
 * Counts one suite. Test cases are counted one by one; a suite that holds no test cases and no
 * nested suites counts by its own attributes, since some runners write only the totals. A case
 * with a `<failure>` counts as a failure, else one with an `<error>` as an error, else one with
 * `<skipped>` as skipped; Surefire's `<flakyFailure>`/`<rerunFailure>` leave a case that passed on
 * a rerun as passed.
 */
function tallySuite(suite: XmlNode, key: string, tally: Tally): void {
  const cases = children(suite, 'testcase');
  const nested = children(suite, 'testsuite');
  if (cases.length === 0 && nested.length === 0) {
    tally.tests += intAttr(suite, 'tests', key);
    tally.failures += intAttr(suite, 'failures', key);
    tally.errors += intAttr(suite, 'errors', key);
    tally.skipped += intAttr(suite, 'skipped', key) || intAttr(suite, 'disabled', key);
    return;
  }
  const suiteName = attr(suite, 'name');
  for (const c of cases) {
    tally.tests += 1;
    // Kept raw: `<failure>text</failure>` without attributes parses as a bare string.
    const failures = rawChildren(c, 'failure');
    const errors = rawChildren(c, 'error');
    const caseName = attr(c, 'name') ?? '(unnamed)';
    const owner = attr(c, 'classname') ?? suiteName;
    const name = owner ? `${owner}.${caseName}` : caseName;
    if (failures.length > 0 || errors.length > 0) {
      const kind = failures.length > 0 ? 'failure' : 'error';
      if (kind === 'failure') tally.failures += 1;
      else tally.errors += 1;
      tally.failing.push({ name, kind, message: messageOf(kind === 'failure' ? failures[0] : errors[0]), file: key });
    } else if ('skipped' in c) {
      tally.skipped += 1;
    }
  }
  for (const s of nested) tallySuite(s, key, tally);
}

/** Parses one report into the tally; throws InputError when it is not JUnit XML. */
function tallyReport(text: string, key: string, tally: Tally): void {
  // The parser itself is lenient about broken XML; a truncated report must not count as a short one.
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new InputError(`${key}: not well-formed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (err) {
    // The validator and the parser disagree on a few broken inputs (an unclosed comment after the
    // root): the report is still not one we can read, and says where it is.
    throw new InputError(`${key}: not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  const doc = asNode(parsed);
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (roots.includes('testsuites')) {
    tallySuite(asNode(doc.testsuites), key, tally);
  } else if (roots.includes('testsuite')) {
    for (const s of children(doc, 'testsuite')) tallySuite(s, key, tally);
  } else {
    const root = roots[0];
    throw new InputError(`${key}: not a JUnit report: ${root === undefined ? 'no root element' : `the root element is <${root}>`}, expected <testsuites> or <testsuite>`);
  }
}

// ---------------------------------------------------------------- judgement

/** A rate for a summary, with as many decimals as it takes to differ from the threshold it is compared with. */
export function formatRate(value: number, threshold?: number): string {
  for (let digits = 4; digits <= 12; digits++) {
    const text = String(Number(value.toFixed(digits)));
    if (threshold === undefined || value === threshold || text !== String(Number(threshold.toFixed(digits)))) return text;
  }
  return String(value);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The `junit` validator. `passRate` is passed / (tests − skipped); `failed` when it is below
 * `minPassRate` (default 1: every test that ran passed), when more than `maxSkipped` tests were
 * skipped, or when no test ran at all (an empty report usually means the test step did not run);
 * `errored` when a report is missing, matches nothing, or is not JUnit XML.
 */
export const junitValidator: Validator<JunitArgs> = {
  name: 'junit',
  version: '1',
  schema: JunitArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    const tally: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0, failing: [] };
    let files: ReportFile[];
    try {
      files = expandReportPaths(ctx.baseDir, args.report);
      for (const { key, file } of files) {
        inputs[key] = await digestFile(file);
        tallyReport(fs.readFileSync(file, 'utf8'), key, tally);
        ctx.progress({ message: `read ${key}` });
      }
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }

    const executed = tally.tests - tally.skipped;
    const passed = Math.max(0, executed - tally.failures - tally.errors);
    const passRate = executed > 0 ? passed / executed : null;
    const measurements = { tests: tally.tests, passed, failures: tally.failures, errors: tally.errors, skipped: tally.skipped, passRate, files: files.length };
    const thresholds = { minPassRate: args.minPassRate, ...(args.maxSkipped !== undefined ? { maxSkipped: args.maxSkipped } : {}) };
    const details = {
      files: files.map((f) => f.key),
      failing: tally.failing.slice(0, FAILING_SHOWN),
      ...(tally.failing.length > FAILING_SHOWN ? { failingNotShown: tally.failing.length - FAILING_SHOWN } : {}),
    };

    const reasons: string[] = [];
    if (passRate === null) {
      reasons.push(tally.tests === 0 ? `no test ran: ${files.length === 1 ? 'the report holds' : `the ${files.length} reports hold`} 0 tests` : `no test ran: all ${plural(tally.tests, 'test')} were skipped`);
    } else if (passRate < args.minPassRate) {
      const first = tally.failing[0];
      const notPassed = tally.failures + tally.errors;
      reasons.push(
        `${notPassed} of ${plural(executed, 'test')} failed (${plural(tally.failures, 'failure')}, ${plural(tally.errors, 'error')}): ` +
          `pass rate ${formatRate(passRate, args.minPassRate)} < min ${args.minPassRate}` +
          (first ? `; first: ${first.name}${first.message ? `: ${first.message.split('\n')[0]}` : ''}` : ''),
      );
    }
    if (args.maxSkipped !== undefined && tally.skipped > args.maxSkipped) reasons.push(`${plural(tally.skipped, 'test')} skipped > max ${args.maxSkipped}`);

    if (reasons.length > 0) return { status: 'failed', summary: reasons.join('; '), measurements, thresholds, inputs, details };
    const skippedNote = tally.skipped > 0 ? `, ${tally.skipped} skipped` : '';
    const summary =
      passed === executed
        ? `${plural(executed, 'test')} passed${skippedNote} (pass rate 1 ≥ min ${args.minPassRate})`
        : `${passed} of ${plural(executed, 'test')} passed${skippedNote}: pass rate ${formatRate(passRate!, args.minPassRate)} ≥ min ${args.minPassRate}`;
    return { status: 'passed', summary, measurements, thresholds, inputs, details };
  },
};
