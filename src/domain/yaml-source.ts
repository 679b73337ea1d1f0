/**
 * YAML input files (policy, release manifest) read the same way: parsed with `yaml` so that every
 * value keeps its position, validated with a zod schema, and every problem reported as
 * `file:line:col` at the node a person has to edit. Pure: the caller reads the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, type CST, type Document, type DocumentOptions, type Node, type ParseOptions, type SchemaOptions } from 'yaml';
import type * as z from 'zod';
import { formatProblem, tollgateError, type Problem } from './errors.js';

/** A path into a parsed document: map keys and sequence indexes, as zod reports them. */
export type YamlPath = readonly PropertyKey[];

/** A 1-based position in the source text. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A parsed YAML file: its plain data plus a way back from any path to where it is written. */
export interface YamlSource {
  readonly file: string;
  /** The document as plain JavaScript data (maps become objects, aliases are resolved). */
  readonly data: unknown;
  /**
   * Where the node at `path` is written. With `key: true`, the key of the last segment instead of
   * its value (for unknown or badly named keys). A path that does not exist (a missing field)
   * resolves to the deepest node that does, which is the map the field is missing from.
   */
  positionOf(path: YamlPath, opts?: { key?: boolean }): Position;
  /** A problem positioned at `path`, carrying the path in its printable form. */
  problemAt(path: YamlPath, message: string, opts?: { key?: boolean }): Problem;
  /**
   * The text of the scalar at `path` exactly as written (`3.10` stays `3.10`), or undefined when
   * there is no scalar there. For fields that are strings by meaning but often written unquoted.
   */
  scalarText(path: YamlPath): string | undefined;
}

/** Options for {@link validateYaml}. */
export interface ValidateOptions {
  /**
   * How a path reads in a message, e.g. `gate "approvals", sign-off rule 2`. Defaults to
   * {@link formatPath}. Gets the raw data so it can name things by their ids.
   */
  readonly describe?: (path: YamlPath, data: unknown) => string;
  /**
   * What to validate instead of `src.data`, when the caller adjusted it first (e.g. read numbers
   * back as written). Must keep the same shape, so that paths still lead to the same nodes.
   */
  readonly data?: unknown;
}

/**
 * Bounds on any YAML text Tollgate parses (policies, manifests, contracts, OIDC files, parity inputs).
 * The parser composes nested collections recursively: 50,000 `[` or 400,000 `- ` nest that deep and
 * exhausted the stack (and with it V8's regular expression compiler, a fatal error that killed the
 * server: issue 13, finding 3). No real file nests more than a few levels or comes near a MiB.
 */
export const YAML_LIMITS = Object.freeze({
  /** Characters of text. */
  maxChars: 1024 * 1024,
  /** Collections inside collections (a map in a list in a map is 3). */
  maxDepth: 64,
});

/** A YAML text outside {@link YAML_LIMITS}: where (an offset into the text) and what. */
export class YamlBoundsError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
    this.name = 'YamlBoundsError';
  }
}

/**
 * Parses one YAML document as `yaml`'s parseDocument does, but first checks the text's size and,
 * on the concrete syntax tree (built without recursion), how deep its collections nest: a text
 * outside {@link YAML_LIMITS} throws {@link YamlBoundsError} before anything recursive sees it.
 */
export function parseBoundedDocument(text: string, options: ParseOptions & DocumentOptions & SchemaOptions = {}): Document.Parsed {
  if (text.length > YAML_LIMITS.maxChars) {
    throw new YamlBoundsError(YAML_LIMITS.maxChars, `the text is too large (${text.length} characters; at most ${YAML_LIMITS.maxChars})`);
  }
  // The concrete syntax tree is built without recursion; parseDocument, which builds it again, is
  // only given a text whose depth is known to be safe.
  checkDepth([...new Parser().parse(text)]);
  return parseDocument(text, options);
}

/** How deep the tree nests, walked with an explicit stack; throws at the first node too deep. */
function checkDepth(tokens: readonly CST.Token[]): void {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [tok, depth] = stack.pop()!;
    if (depth > YAML_LIMITS.maxDepth) {
      throw new YamlBoundsError(tok.offset, `collections nest too deep (more than ${YAML_LIMITS.maxDepth} levels)`);
    }
    if (tok.type === 'document' && tok.value) stack.push([tok.value, depth]);
    else if ('items' in tok && Array.isArray(tok.items)) {
      for (const item of tok.items as { key?: CST.Token | null; value?: CST.Token }[]) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
}

/** The outcome of {@link validateYaml}: the schema's output, or every problem found. */
export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: Problem[] };

/**
 * Parses YAML text. Duplicate keys, several documents in one file and any other syntax error or
 * warning throw TG_YAML_SYNTAX with every problem positioned; nothing is guessed.
 */
export function loadYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // uniqueKeys stays on (the default): a duplicated key silently overriding the first is how a
  // gate ends up weaker than the reviewer read it.
  let doc: Document.Parsed;
  try {
    doc = parseBoundedDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    if (!(err instanceof YamlBoundsError)) throw err;
    // The line counter is filled by parseDocument, which a text out of bounds never reaches.
    const { line, col } = positionIn(text, err.offset);
    const problems: Problem[] = [{ file, line, col, message: `YAML: ${err.message}` }];
    throw tollgateError('TG_YAML_SYNTAX', formatProblems(problems), { problems });
  }
  const issues = [...doc.errors, ...doc.warnings];
  if (issues.length > 0) {
    const problems = sortProblems(
      issues.map((e): Problem => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        // The yaml package says "Map keys must be unique" without saying which: name it.
        const duplicate = e.code === 'DUPLICATE_KEY' ? (/^("[^"\n]*"|'[^'\n]*'|[^:\s,{}[\]]+)/.exec(text.slice(e.pos[0], e.pos[0] + 200))?.[1] ?? '') : '';
        const message = duplicate !== '' ? `duplicate key "${duplicate}": a key may appear once in a map` : e.message;
        return { file, line, col, message: `YAML: ${message}` };
      }),
    );
    throw tollgateError('TG_YAML_SYNTAX', formatProblems(problems), { problems });
  }
  let data: unknown;
  try {
    // The alias bound stops a few lines of aliases from expanding into gigabytes ("billion laughs").
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const problems: Problem[] = [{ file, line: 1, col: 1, message: `YAML: ${(err as Error).message}` }];
    throw tollgateError('TG_YAML_SYNTAX', formatProblems(problems), { problems });
  }
  return createYamlSource(doc, data, lineCounter, file);
}

/**
 * Validates a source against a zod schema. Every issue becomes a problem at the offending node: an
 * unknown key at the key itself, a missing field at the map it is missing from.
 */
export function validateYaml<S extends z.ZodType>(src: YamlSource, schema: S, opts: ValidateOptions = {}): Validated<z.output<S>> {
  const data = 'data' in opts ? opts.data : src.data;
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const describe = opts.describe ?? formatPath;
  const problems = result.error.issues.flatMap((issue) => problemsOfIssue(src, data, issue, describe));
  return { ok: false, problems: sortProblems(problems) };
}

/** The 1-based line and column of `offset` in `text`. */
function positionIn(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, col: offset - lineStart + 1 };
}

/** Problems in reading order: by line, then column; unpositioned ones last. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const key = (p: Problem): number => (p.line ?? Number.MAX_SAFE_INTEGER) * 1e6 + (p.col ?? 0);
  return [...problems].sort((a, b) => key(a) - key(b));
}

/** Every problem as `file:line:col: message`, one a line: the first line alone says what is wrong first. */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map(formatProblem).join('\n');
}

/** A path as people write it: `gates[2].signoffs[0].role`, `dependencies["scikit-learn"]`. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** The value at `path` in plain data, and whether it is there at all. */
export function valueAt(data: unknown, path: YamlPath): { readonly found: boolean; readonly value: unknown } {
  let cur: unknown = data;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number' && seg < cur.length) cur = cur[seg];
    else if (isPlainObject(cur) && typeof seg === 'string' && Object.hasOwn(cur, seg)) cur = cur[seg];
    else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/** True for a map read from YAML (a plain object), false for lists, null and scalars. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

// ---------------------------------------------------------------- internals

function createYamlSource(doc: Document.Parsed, data: unknown, lineCounter: LineCounter, file: string): YamlSource {

  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

  /** The node at `path` (or the deepest existing ancestor) and, if asked, the key node of the last segment. */
  const locate = (path: YamlPath, wantKey: boolean): Node | undefined => {
    let node: unknown = resolve(doc.contents);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(resolve(p.key)) === String(seg));
        if (!pair) return node;
        if (last && wantKey && pair.key) return resolve(pair.key) as Node;
        // A key written with no value (`owner:`) has no value, or an empty one after the colon:
        // the key is what a person looks for.
        if (pair.value == null || isEmptyScalar(pair.value)) return resolve(pair.key) as Node;
        node = resolve(pair.value);
      } else if (isSeq(node)) {
        const item = typeof seg === 'number' ? node.items[seg] : undefined;
        if (item === undefined) return node;
        node = resolve(item);
      } else {
        return node as Node | undefined;
      }
    }
    return node as Node | undefined;
  };

  const positionOf = (path: YamlPath, opts: { key?: boolean } = {}): Position => {
    const node = locate(path, opts.key === true);
    const offset = node?.range?.[0] ?? 0;
    return lineCounter.linePos(offset);
  };

  return {
    file,
    data,
    positionOf,
    problemAt(path, message, opts) {
      const { line, col } = positionOf(path, opts);
      return { file, line, col, path: formatPath(path), message };
    },
    scalarText(path) {
      const { found } = valueAt(data, path);
      if (!found) return undefined;
      const node = locate(path, false);
      if (!isScalar(node)) return undefined;
      return typeof node.source === 'string' ? node.source : String(node.value);
    },
  };
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.source === undefined || node.source === '');
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

type Issue = z.core.$ZodIssue;

/**
 * `{ id: x, text: A, B }`: in a flow map a comma ends the value, so `B` reads as a field with no
 * value. When an unknown field has no value and follows a text value, say to quote the text.
 */
function commaHint(map: unknown, key: string): string {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return '';
  const entries = Object.entries(map);
  const i = entries.findIndex(([k]) => k === key);
  if (i <= 0 || entries[i]![1] !== null) return '';
  const [prev, value] = entries[i - 1]!;
  if (typeof value !== 'string') return '';
  return ` (a comma inside { } ends a value: if "${key}" belongs to ${prev}, quote it: ${prev}: "${value}, ${key}")`;
}

function problemsOfIssue(src: YamlSource, data: unknown, issue: Issue, describe: (path: YamlPath, data: unknown) => string): Problem[] {
  const path = issue.path;
  // `about` is the path the message names; for a missing or unknown field it is the map that
  // holds (or lacks) the field, while `p` still positions the problem.
  const at = (p: YamlPath, text: string, key = false, about: YamlPath = p): Problem => {
    const where = describe(about, data);
    return src.problemAt(p, where ? `${where}: ${text}` : text, { key });
  };
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => at([...path, k], `unknown field "${k}"${commaHint(valueAt(data, path).value, k)}`, true, path));
    case 'invalid_key': {
      const inner = issue.issues[0];
      const why = inner?.code === 'invalid_format' || inner?.code === 'custom' ? inner.message : 'this key is not allowed here';
      return [at(path, why, true)];
    }
    case 'invalid_type': {
      const { found, value } = valueAt(data, path);
      if (!found && path.length > 0) {
        const field = String(path[path.length - 1]);
        return [at(path, `missing required field "${field}"`, false, path.slice(0, -1))];
      }
      if (path.length === 0 && (value === null || value === undefined)) return [at(path, `the file is empty: expected ${article(issue.expected)}`)];
      return [at(path, `expected ${article(issue.expected)}, got ${kindOf(value)}`)];
    }
    case 'invalid_value':
      return [at(path, expectedValues(issue.values, valueAt(data, path).value))];
    case 'too_small':
      if (issue.origin === 'array') return [at(path, issue.minimum === 1 ? 'must not be empty' : `needs at least ${issue.minimum} entries`)];
      if (issue.origin === 'string') return [at(path, issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`)];
      return [at(path, `must be ${issue.inclusive ? 'at least' : 'greater than'} ${String(issue.minimum)}`)];
    case 'too_big':
      return [at(path, `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`)];
    case 'invalid_union': {
      // A value of the right kind for exactly one branch (a list where a list or a map is allowed) has
      // that branch's problems, at their own positions, rather than a bare "expected a list or a map".
      const matching = issue.errors.filter((branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
      if (matching.length === 1) {
        return matching[0]!.flatMap((inner) => problemsOfIssue(src, data, { ...inner, path: [...path, ...inner.path] } as Issue, describe));
      }
      return [at(path, `expected ${unionExpectation(issue)}, got ${kindOf(valueAt(data, path).value)}`)];
    }
    default:
      // Our schemas give their own messages for formats and custom checks.
      return [at(path, issue.message)];
  }
}

function article(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    array: 'a list',
    object: 'a map',
    record: 'a map',
    null: 'null',
  };
  return names[expected] ?? expected;
}

function unionExpectation(issue: Extract<Issue, { code: 'invalid_union' }>): string {
  const expected = new Set<string>();
  for (const branch of issue.errors) {
    for (const inner of branch) {
      if (inner.code === 'invalid_type' && inner.path.length === 0) expected.add(article(inner.expected));
    }
  }
  // A JSON value rejects only what JSON cannot hold (dates, binary, infinities).
  if (expected.size >= 5) return 'a plain value (string, number, true/false, null, list or map)';
  return expected.size > 0 ? [...expected].join(' or ') : 'another value';
}

function expectedValues(values: readonly unknown[], got: unknown): string {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  const shown = got === undefined ? '' : `, got ${typeof got === 'string' ? JSON.stringify(got) : kindOf(got)}`;
  return values.length === 1 ? `must be ${list}${shown}` : `must be one of ${list}${shown}`;
}

/** What a value is, in the words of a YAML author. */
function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : Number.isFinite(v) ? `the number ${v}` : `${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v;
}
