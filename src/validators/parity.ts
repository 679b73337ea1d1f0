/**
 * `parity`: compares the descriptions of two environments (JSON or YAML: images, feature flags,
 * dependency versions, model config…) key by key and fails on any difference not ignored.
 *
 * ```yaml
 * - { id: parity, uses: parity, with: { staging: env/staging.json, production: env/production.json, ignore: [replicas, "services.*.resources"] } }
 * ```
 *
 * The two environments are the two keys besides `ignore`, named as the stages are (`staging` and
 * `production` in most policies, `dev` and `staging` elsewhere); the first written is the left side.
 */
import path from 'node:path';
import * as z from 'zod';
import { parseBoundedDocument } from '../domain/yaml-source.js';
import type { Digest } from '../domain/digest.js';
import { InputError, readInput } from './inputs.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------- with

const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SEGMENT = /^(?:\*\*?|[^*]+)$/;

/**
 * Each `**` lets the matcher try every depth again, so k of them cost depth^k steps: two are enough
 * for any real path, and the bound keeps a hostile policy from hanging a runner (issue 13, finding 3).
 */
const MAX_DOUBLE_STARS = 2;
const MAX_IGNORE_LENGTH = 500;

const ignorePattern = z.string({ error: 'an ignore entry is a dotted path, e.g. services.*.replicas' }).max(MAX_IGNORE_LENGTH, { error: `an ignore entry must be at most ${MAX_IGNORE_LENGTH} characters` }).superRefine((v, ctx) => {
  if (v.split('.').filter((s) => s === '**').length > MAX_DOUBLE_STARS) {
    ctx.addIssue({ code: 'custom', message: `ignore ${JSON.stringify(v)}: at most ${MAX_DOUBLE_STARS} "**" segments in one entry` });
    return;
  }
  const bad = v.split('.').find((s) => !SEGMENT.test(s));
  if (bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `ignore ${JSON.stringify(v)}: ${bad === '' ? 'has an empty segment' : `segment ${JSON.stringify(bad)} mixes * with text`}; write dotted keys where * is one whole key and ** any number of keys`,
    });
  }
});

const ParityArgsSchema = z
  .object({
    ignore: z
      .array(ignorePattern, { error: 'ignore must be a list of dotted paths, e.g. [replicas, services.*.replicas]' })
      .default([])
      .describe('Dotted paths whose differences do not count: * is one key, ** any number of keys, e.g. [replicas, services.*.replicas].'),
  })
  // The environments are named by the with block's own keys, so an unknown key is an environment;
  // a typo still fails below, as a third environment or as a value that is not a path.
  .catchall(
    z
      .string({ error: 'an environment maps to the path of its description (a JSON or YAML file)' })
      .min(1, { error: 'the path must not be empty' })
      .describe('Two environments by name, each the path of its description (JSON or YAML), e.g. staging: env/staging.json.'),
  )
  .superRefine((w, ctx) => {
    const names = Object.keys(w).filter((k) => k !== 'ignore');
    if (names.length !== 2) {
      ctx.addIssue({
        code: 'custom',
        message: `name exactly two environments to compare, e.g. { staging: env/staging.json, production: env/production.json }; found ${names.length}${names.length ? `: ${names.join(', ')}` : ''}`,
      });
    }
    for (const n of names) if (!ENV_NAME.test(n)) ctx.addIssue({ code: 'custom', path: [n], message: `${JSON.stringify(n)} is not an environment name` });
  })
  .transform((w) => {
    const [left, right] = Object.keys(w)
      .filter((k) => k !== 'ignore')
      .map((name) => ({ name, path: w[name] as string }));
    return { left: left!, right: right!, ignore: w.ignore };
  });

/** The `with` block of `parity` as the validator receives it: the two environments in the order written. */
export interface ParityArgs {
  readonly left: { readonly name: string; readonly path: string };
  readonly right: { readonly name: string; readonly path: string };
  readonly ignore: readonly string[];
}

// ---------------------------------------------------------------- comparison

/** One way the two environments differ; `missing-left`: only the right side has it. */
export interface Difference {
  readonly path: string;
  readonly kind: 'changed' | 'missing-left' | 'missing-right';
  readonly left?: unknown;
  readonly right?: unknown;
}

/** True when `pattern` (segments; `*` one key, `**` any number) matches `p` or a prefix of it: ignoring a key ignores what is under it. */
function matchesPrefix(pattern: readonly string[], p: readonly string[], i = 0, j = 0): boolean {
  if (i === pattern.length) return true;
  const seg = pattern[i]!;
  if (seg === '**') {
    for (let k = j; k <= p.length; k++) if (matchesPrefix(pattern, p, i + 1, k)) return true;
    return false;
  }
  if (j === p.length) return false;
  return (seg === '*' || seg === p[j]) && matchesPrefix(pattern, p, i + 1, j + 1);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Every difference between two JSON values, depth first in the left side's key order and then the
 * right side's new keys. Objects compare key by key, arrays index by index (a list whose order
 * matters, like container args, differs when reordered); anything else, and values of different
 * types, compare as a whole.
 */
export function compareValues(left: unknown, right: unknown, at: readonly string[] = []): { path: string[]; diff: Omit<Difference, 'path'> }[] {
  const out: { path: string[]; diff: Omit<Difference, 'path'> }[] = [];
  const walk = (a: unknown, b: unknown, p: string[]): void => {
    if (isObject(a) && isObject(b)) {
      for (const k of Object.keys(a)) {
        if (Object.hasOwn(b, k)) walk(a[k], b[k], [...p, k]);
        else out.push({ path: [...p, k], diff: { kind: 'missing-right', left: a[k] } });
      }
      for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) out.push({ path: [...p, k], diff: { kind: 'missing-left', right: b[k] } });
    } else if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (i >= b.length) out.push({ path: [...p, String(i)], diff: { kind: 'missing-right', left: a[i] } });
        else if (i >= a.length) out.push({ path: [...p, String(i)], diff: { kind: 'missing-left', right: b[i] } });
        else walk(a[i], b[i], [...p, String(i)]);
      }
    } else if (a !== b) {
      out.push({ path: p, diff: { kind: 'changed', left: a, right: b } });
    }
  };
  walk(left, right, [...at]);
  return out;
}

// ---------------------------------------------------------------- reading

/** YAML within the bounds every parsed file keeps (size, nesting, aliases): the first error throws. */
function parseYamlBounded(text: string): unknown {
  const doc = parseBoundedDocument(text);
  if (doc.errors.length > 0) throw doc.errors[0]!;
  return doc.toJS({ maxAliasCount: 100 });
}

async function readEnvironment(baseDir: string, env: { name: string; path: string }, inputs: Record<string, Digest>): Promise<Record<string, unknown>> {
  const input = await readInput(baseDir, env.path);
  inputs[env.path] = input.digest;
  let data: unknown;
  try {
    // YAML is a superset of JSON, but a .json file gets JSON's stricter reading and its messages.
    data = path.extname(env.path).toLowerCase() === '.json' ? JSON.parse(input.text) : parseYamlBounded(input.text);
  } catch (err) {
    // The yaml package appends an excerpt of the source after the first line; the position is enough.
    const first = ((err as Error).message.split('\n')[0] ?? '').replace(/:$/, '');
    throw new InputError(`${env.path} (${env.name}): not valid ${path.extname(env.path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${first}`);
  }
  if (!isObject(data)) throw new InputError(`${env.path} (${env.name}): an environment description must be a mapping of keys to values`);
  return data;
}

// ---------------------------------------------------------------- judgement

const DIFFERENCES_KEPT = 500;
const SHOWN_IN_SUMMARY = 3;

function brief(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function describeDifference(d: Difference, left: string, right: string): string {
  if (d.kind === 'changed') return `${d.path || '(root)'} ${brief(d.left)} in ${left}, ${brief(d.right)} in ${right}`;
  return `${d.path} only in ${d.kind === 'missing-left' ? right : left}`;
}

/**
 * The `parity` validator. `failed` when any difference remains after `ignore`, listing each (up to
 * 500 kept in details); `errored` when a description is missing, not JSON/YAML, or not a mapping.
 * Keys holding dots cannot be named in `ignore` (a dot always separates keys).
 */
export const parityValidator: Validator<ParityArgs> = {
  name: 'parity',
  version: '1',
  schema: ParityArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    let left: Record<string, unknown>;
    let right: Record<string, unknown>;
    try {
      left = await readEnvironment(ctx.baseDir, args.left, inputs);
      right = await readEnvironment(ctx.baseDir, args.right, inputs);
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }

    const patterns = args.ignore.map((p) => p.split('.'));
    const all = compareValues(left, right);
    const kept = all.filter((d) => !patterns.some((pat) => matchesPrefix(pat, d.path)));
    const differences: Difference[] = kept.map((d) => ({ path: d.path.join('.'), ...d.diff }));
    const count = (kind: Difference['kind']) => differences.filter((d) => d.kind === kind).length;
    const measurements = {
      differences: differences.length,
      changed: count('changed'),
      missingLeft: count('missing-left'),
      missingRight: count('missing-right'),
      ignored: all.length - kept.length,
    };
    const thresholds = { maxDifferences: 0, ignore: args.ignore };
    const details = {
      left: args.left.name,
      right: args.right.name,
      differences: differences.slice(0, DIFFERENCES_KEPT),
      ...(differences.length > DIFFERENCES_KEPT ? { differencesNotShown: differences.length - DIFFERENCES_KEPT } : {}),
    };
    const pair = `${args.left.name} and ${args.right.name}`;
    if (differences.length > 0) {
      const shown = differences.slice(0, SHOWN_IN_SUMMARY).map((d) => describeDifference(d, args.left.name, args.right.name));
      const more = differences.length > SHOWN_IN_SUMMARY ? `; and ${differences.length - SHOWN_IN_SUMMARY} more` : '';
      const n = differences.length;
      return { status: 'failed', summary: `${n} difference${n === 1 ? '' : 's'} between ${pair} (max 0): ${shown.join('; ')}${more}`, measurements, thresholds, inputs, details };
    }
    const ignored = measurements.ignored > 0 ? ` (${measurements.ignored} difference${measurements.ignored === 1 ? '' : 's'} ignored)` : '';
    return { status: 'passed', summary: `${pair} match${ignored}`, measurements, thresholds, inputs, details };
  },
};
