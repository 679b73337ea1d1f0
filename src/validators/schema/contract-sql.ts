/**
 * The contract as SQL, one piece for both engines: what differs between DuckDB and PostgreSQL is a
 * {@link Dialect}; the patterns, the calendar check and the rules are shared, which is what keeps
 * their answers the same (index.ts says how values are judged).
 */
import { describeDuration, parseDuration } from '../../domain/duration.js';
import { numberLiteral, type Row } from '../duckdb.js';
import type { ValidatorContext } from '../validator.js';
import { parseTimeBound, type ColumnType, type Contract } from './contract.js';

/** Offending rows kept per violated rule: enough to see the pattern, small enough to keep as evidence. */
export const SAMPLE_ROWS = 5;

/**
 * What differs between DuckDB and PostgreSQL. Everything else (the patterns, the calendar check,
 * the rules) is one piece of SQL for both, which is what keeps their answers the same.
 */
export interface Dialect {
  ident(name: string): string;
  literal(text: string): string;
  /** The value as text. */
  text(expr: string): string;
  /** True when the text contains a match of the pattern. */
  matches(textExpr: string, pattern: string): string;
  /** Digits to an integer; only reached for text that the patterns already accepted. */
  int(textExpr: string): string;
  number(textExpr: string): string;
  /** A date or timestamp text to epoch milliseconds (UTC when it has no zone). */
  epochMs(textExpr: string): string;
}

// Written in the subset of regular expressions that RE2 (DuckDB) and PostgreSQL read alike.
const DATE_PART = '[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])';
const PATTERNS = {
  integer: '^[+-]?[0-9]+(\\.0*)?$',
  number: '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]{1,3})?$',
  date: `^${DATE_PART}$`,
  timestamp: `^${DATE_PART}([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?)? ?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$`,
} as const;

/** SQL that is TRUE when the non-null text is a valid value of the type (never NULL for non-null text). */
function validSql(d: Dialect, type: ColumnType, t: string): string {
  switch (type) {
    case 'string':
      return 'TRUE';
    case 'integer':
    case 'number':
      return d.matches(t, PATTERNS[type]);
    case 'boolean':
      return `lower(${t}) IN ('true', 'false', 't', 'f', '1', '0')`;
    case 'date':
    case 'timestamp': {
      // The pattern bounds month and day; February 30th and April 31st need the calendar. The CASE
      // keeps PostgreSQL from casting text the pattern rejected (it does not promise AND's order).
      const y = d.int(`substr(${t}, 1, 4)`);
      const leap = `((${y} % 4 = 0 AND ${y} % 100 <> 0) OR ${y} % 400 = 0)`;
      const days = `CASE ${d.int(`substr(${t}, 6, 2)`)} WHEN 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END`;
      return `CASE WHEN ${d.matches(t, PATTERNS[type])} THEN ${d.int(`substr(${t}, 9, 2)`)} <= ${days} ELSE FALSE END`;
    }
  }
}

/** The value for min/max comparisons: a number or epoch milliseconds, NULL when null or invalid. */
function typedSql(d: Dialect, type: ColumnType, t: string): string {
  const valid = validSql(d, type, t);
  const value = type === 'integer' || type === 'number' ? d.number(t) : d.epochMs(t);
  return `CASE WHEN ${valid} THEN ${value} END`;
}

/** The rules a contract can report as violated. */
export type ViolationRule =
  | 'missing-column'
  | 'extra-column'
  | 'type'
  | 'not-null'
  | 'min'
  | 'max'
  | 'allowed'
  | 'regex'
  | 'unique'
  | 'rows'
  | 'freshness';

/** One violated rule, as kept in `details.violations`. */
export interface ContractViolation {
  readonly column?: string;
  readonly rule: ViolationRule;
  /** Offending rows (values for `unique`: rows beyond the first of each value); 1 for a rule about the whole dataset. */
  readonly count: number;
  readonly message: string;
  /** Up to SAMPLE_ROWS offending rows, whole. */
  readonly samples: readonly Row[];
}

/** A check that counts offending rows: `predicate` is TRUE exactly for them. */
interface RowCheck {
  readonly column: string;
  readonly rule: ViolationRule;
  /** The aggregate that counts offenders. */
  readonly countSql: string;
  /** WHERE clause selecting sample offenders. */
  readonly sampleWhere: string;
  readonly message: (n: number) => string;
}

const TYPE_WORDS: Record<ColumnType, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true/false/t/f/1/0)',
  date: 'a date (YYYY-MM-DD)',
  timestamp: 'a timestamp (ISO 8601)',
};

/** `1 value`, `3 values`: a count and its noun. */
export function values(n: number, word = 'value'): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function rowChecks(d: Dialect, from: string, contract: Contract, present: ReadonlySet<string>): RowCheck[] {
  const checks: RowCheck[] = [];
  for (const [name, col] of Object.entries(contract.columns)) {
    if (!present.has(name)) continue;
    const c = d.ident(name);
    const t = d.text(c);
    const add = (rule: ViolationRule, predicate: string, message: (n: number) => string) =>
      checks.push({ column: name, rule, countSql: `count(*) FILTER (WHERE ${predicate})`, sampleWhere: predicate, message });
    if (col.type !== 'string') add('type', `${c} IS NOT NULL AND NOT (${validSql(d, col.type, t)})`, (n) => `${name}: ${values(n)} not ${TYPE_WORDS[col.type]}`);
    if (!col.nullable) add('not-null', `${c} IS NULL`, (n) => `${name}: ${values(n, 'null')} (nullable: false)`);
    const bound = (v: number | string) => (typeof v === 'number' ? numberLiteral(v) : String(parseTimeBound(col.type as 'date' | 'timestamp', v)));
    if (col.min !== undefined) add('min', `${typedSql(d, col.type, t)} < ${bound(col.min)}`, (n) => `${name}: ${values(n)} below min ${col.min}`);
    if (col.max !== undefined) add('max', `${typedSql(d, col.type, t)} > ${bound(col.max)}`, (n) => `${name}: ${values(n)} above max ${col.max}`);
    if (col.allowed !== undefined) {
      const list = col.allowed.map((v) => (typeof v === 'number' ? numberLiteral(v) : d.literal(v))).join(', ');
      const lhs = col.type === 'string' ? t : typedSql(d, col.type, t);
      add('allowed', `${c} IS NOT NULL AND ${lhs} NOT IN (${list})`, (n) => `${name}: ${values(n)} not in allowed [${col.allowed!.join(', ')}]`);
    }
    if (col.regex !== undefined) add('regex', `${c} IS NOT NULL AND NOT ${d.matches(t, col.regex)}`, (n) => `${name}: ${values(n)} not matching /${col.regex}/`);
    if (col.unique) {
      checks.push({
        column: name,
        rule: 'unique',
        // Rows beyond the first of each value: a value seen three times counts two.
        countSql: `count(${c}) - count(DISTINCT ${t})`,
        sampleWhere: `${t} IN (SELECT ${t} FROM ${from} AS dup WHERE ${c} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)`,
        message: (n) => `${name}: ${values(n, 'duplicate')} (unique)`,
      });
    }
  }
  return checks;
}

/** Where the data is: the columns it has and a way to run SQL over it. */
export interface DataSource {
  readonly dialect: Dialect;
  /** The relation to read, ready for `FROM`. */
  readonly from: string;
  readonly columns: readonly string[];
  query(sql: string): Promise<Row[]>;
}

/** What the checks found: rows scanned, checks run, every violated rule. */
export interface Evaluation {
  readonly rows: number;
  readonly checks: number;
  readonly violations: ContractViolation[];
}

/** Runs every rule of the contract over the source: one aggregate scan, then samples for what broke. */
export async function evaluateContract(src: DataSource, contract: Contract, now: Date, ctx: ValidatorContext): Promise<Evaluation> {
  const d = src.dialect;
  const present = new Set(src.columns);
  const checks = rowChecks(d, src.from, contract, present);
  const fresh = contract.freshness !== undefined && present.has(contract.freshness.column) ? contract.freshness : undefined;
  const freshType = fresh ? contract.columns[fresh.column]!.type : undefined;

  const aggregates = [`count(*) AS ${d.ident('rows')}`, ...checks.map((c, i) => `${c.countSql} AS ${d.ident(`c${i}`)}`)];
  if (fresh) aggregates.push(`max(${typedSql(d, freshType!, d.text(d.ident(fresh.column)))}) AS ${d.ident('newest')}`);
  const [agg = {}] = await src.query(`SELECT ${aggregates.join(', ')} FROM ${src.from} AS src`);
  const rows = Number(agg.rows ?? 0);
  ctx.progress({ rows });

  const violations: ContractViolation[] = [];
  const dataset = (v: Omit<ContractViolation, 'count' | 'samples'>) => violations.push({ ...v, count: 1, samples: [] });

  if (contract.rows?.min !== undefined && rows < contract.rows.min) dataset({ rule: 'rows', message: `${values(rows, 'row')} < min ${contract.rows.min}` });
  if (contract.rows?.max !== undefined && rows > contract.rows.max) dataset({ rule: 'rows', message: `${values(rows, 'row')} > max ${contract.rows.max}` });

  const counts = checks.map((_, i) => Number(agg[`c${i}`] ?? 0));
  for (const name of Object.keys(contract.columns)) {
    if (!present.has(name)) dataset({ column: name, rule: 'missing-column', message: `column ${name} is missing` });
    for (const [i, check] of checks.entries()) {
      if (check.column !== name || counts[i] === 0) continue;
      const samples = await src.query(`SELECT * FROM ${src.from} AS src WHERE ${check.sampleWhere} LIMIT ${SAMPLE_ROWS}`);
      violations.push({ column: name, rule: check.rule, count: counts[i]!, message: check.message(counts[i]!), samples });
    }
  }
  if (!contract.allowExtraColumns) {
    for (const name of src.columns) {
      if (!(name in contract.columns)) dataset({ column: name, rule: 'extra-column', message: `column ${name} is not in the contract (allowExtraColumns: false)` });
    }
  }
  if (fresh) {
    const newest = agg.newest === null || agg.newest === undefined ? undefined : Number(agg.newest);
    const maxAgeMs = parseDuration(fresh.maxAge);
    if (newest === undefined) dataset({ column: fresh.column, rule: 'freshness', message: `${fresh.column}: no ${freshType} value to judge freshness by (maxAge ${fresh.maxAge})` });
    else if (now.getTime() - newest > maxAgeMs) {
      dataset({
        column: fresh.column,
        rule: 'freshness',
        message: `${fresh.column}: newest ${new Date(newest).toISOString()} is ${describeDuration(now.getTime() - newest)} old > maxAge ${fresh.maxAge}`,
      });
    }
  }
  return { rows, checks: checks.length + (contract.rows ? 1 : 0) + (fresh ? 1 : 0), violations };
}
