/**
 * `when` conditions: CEL expressions over the release, e.g. `release.risk in ['high', 'critical']`.
 * One environment declares exactly what a condition may read, so a misspelt field is caught when
 * the policy is checked, not on the day a release is promoted.
 */
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import { tollgateError } from './errors.js';
import { releaseName, type ReleaseManifest } from './model.js';

/** What `release` offers a condition; the policy reference documents the same list. */
export const RELEASE_FIELDS = {
  subject: 'string',
  version: 'string',
  risk: 'string',
  owner: 'string',
  labels: 'map<string, string>',
  testedIn: 'list<string>',
} as const;

// Mutation testing (docs/reliability.md): `unlistedVariablesAreDyn: false` is cel-js's default, written
// here for the reader, and the description is documentation; an empty registration or name makes
// this module throw on import, which fails every suite that loads it (the vitest runner of StrykerJS
// reports a suite that cannot load as a survivor).
// Stryker disable next-line ObjectLiteral: see above
const env = new Environment({ unlistedVariablesAreDyn: false }).registerVariable({
  // Stryker disable next-line StringLiteral: see above
  name: 'release',
  schema: RELEASE_FIELDS,
  // Stryker disable next-line StringLiteral: see above
  description: 'The release being promoted',
});

// Policies hold a handful of conditions evaluated again and again; parsing once each is enough.
// The bound keeps a long-running server that sees many policy versions from growing without end.
const MAX_CACHED = 1000;
const parsed = new Map<string, ParseResult>();

/**
 * Checks a condition without evaluating it: syntax, known variables and fields, and that it gives a
 * bool. Returns undefined when it is fine, else a message that names the expression and the problem.
 */
export function checkCondition(expr: string): string | undefined {
  if (typeof expr !== 'string' || expr.trim() === '') return 'the condition is empty: write a CEL expression, e.g. release.risk == \'high\'';
  if (expr.length > MAX_CONDITION_LENGTH) return `the condition is ${expr.length} characters long; at most ${MAX_CONDITION_LENGTH}`;
  const result = env.check(expr);
  if (!result.valid) {
    const err = result.error as { summary?: string; message?: string; range?: { start: number } } | undefined;
    const summary = err?.summary ?? firstLine(err?.message) ?? 'invalid expression';
    const col = err?.range ? ` at character ${err.range.start + 1}` : '';
    return `invalid condition ${JSON.stringify(expr)}: ${summary}${col}${hintFor(summary, 'check')}`;
  }
  if (result.type !== 'bool') {
    return `condition ${JSON.stringify(expr)} gives a ${result.type ?? 'non-bool value'}, not true or false`;
  }
  if (callsMatches(env.parse(expr).ast)) {
    return `condition ${JSON.stringify(expr)} calls matches(): regular expressions are not allowed in conditions (use ==, in, startsWith, endsWith or contains)`;
  }
  return undefined;
}

/** Conditions are one line or a few; a bound keeps parsing and checking one cheap. */
export const MAX_CONDITION_LENGTH = 2000;

/**
 * True when the expression calls CEL's `matches`. cel-js runs it with V8's backtracking RegExp, which
 * a pattern like `(a+)+$` keeps busy for longer than the universe has left (issue 13, finding 3), and
 * the library does not let its implementation be replaced; so conditions may not use it at all.
 * Walked with an explicit stack: the AST may be as deep as cel-js's own limit.
 */
function callsMatches(ast: unknown): boolean {
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (typeof node === 'object' && node !== null && 'op' in node) {
      const { op, args } = node as { op: unknown; args: unknown };
      if ((op === 'call' || op === 'rcall') && Array.isArray(args) && args[0] === 'matches') return true;
      stack.push(args);
    }
  }
  return false;
}

/**
 * Evaluates a condition for a release. A condition that cannot be evaluated (a label the release
 * does not have, say) throws TG_POLICY_INVALID naming the expression: guessing true or false would
 * silently add or drop requirements.
 */
/** True when a requirement's optional `when` holds for the release (no `when`: always). */
export function conditionHolds(when: string | undefined, manifest: ReleaseManifest): boolean {
  return when === undefined || evaluateCondition(when, manifest);
}

export function evaluateCondition(expr: string, manifest: ReleaseManifest): boolean {
  let result: unknown;
  try {
    result = compile(expr)({ release: contextOf(manifest) });
  } catch (err) {
    const e = err as { summary?: string; message?: string };
    const summary = e.summary ?? firstLine(e.message) ?? String(err);
    throw tollgateError(
      'TG_POLICY_INVALID',
      `condition ${JSON.stringify(expr)} cannot be evaluated for ${releaseName(manifest)}: ${summary}${hintFor(summary, 'evaluate')}`,
    );
  }
  if (typeof result !== 'boolean') {
    throw tollgateError('TG_POLICY_INVALID', `condition ${JSON.stringify(expr)} gave ${typeof result}, not true or false, for ${releaseName(manifest)}`);
  }
  return result;
}

function compile(expr: string): ParseResult {
  let fn = parsed.get(expr);
  if (fn === undefined) {
    fn = env.parse(expr);
    // A policy recorded before conditions were checked for it is not run with a backtracking regex either.
    if (callsMatches(fn.ast)) throw new Error('matches() is not allowed in conditions');
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(expr, fn);
  }
  return fn;
}

/** The release as the condition sees it: optional maps and lists present but empty. */
function contextOf(m: ReleaseManifest): Record<string, unknown> {
  return {
    subject: m.subject,
    version: m.version,
    risk: m.risk,
    owner: m.owner,
    labels: { ...(m.labels ?? {}) },
    testedIn: [...(m.testedIn ?? [])],
  };
}

function hintFor(summary: string, phase: 'check' | 'evaluate'): string {
  if (/^No such key/i.test(summary)) {
    // Checking can only miss a field of `release`; evaluating, a key of `labels`.
    return phase === 'check'
      ? ` (fields of release: ${Object.keys(RELEASE_FIELDS).join(', ')})`
      : ` (guard it: 'KEY' in release.labels && release.labels['KEY'] == …)`;
  }
  if (/^Unknown variable/i.test(summary)) return ' (a condition reads only `release`)';
  return '';
}

function firstLine(text: string | undefined): string | undefined {
  return text?.split('\n')[0];
}
