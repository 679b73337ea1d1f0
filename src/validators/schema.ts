/**
 * `schema`: checks a dataset against a data contract, where the data is. A CSV or Parquet file is
 * scanned by DuckDB; a PostgreSQL table gets the same checks pushed down as SQL, so the rows never
 * leave the database.
 *
 * ```yaml
 * - { id: contract, uses: schema, with: { data: data/current.csv, contract: contracts/tx.yaml } }
 * - { id: contract-db, uses: schema, with: { data: "postgres://ci@db:5432/ml", table: features.tx, contract: contracts/tx.yaml } }
 * ```
 *
 * ## The contract file
 *
 * ```yaml
 * name: transactions                 # optional, for people
 * description: Scored card transactions, one row per authorisation
 * columns:                           # required, at least one; matched by exact name
 *   id:         { type: integer, nullable: false, unique: true }
 *   amount:     { type: number, min: 0, max: 10000 }
 *   currency:   { type: string, allowed: [EUR, USD, GBP] }
 *   email:      { type: string, regex: '^[^@ ]+@[^@ ]+$' }
 *   is_fraud:   { type: boolean }
 *   day:        { type: date, min: '2024-01-01' }
 *   created_at: { type: timestamp, nullable: false }
 * allowExtraColumns: true            # default true; false makes a column the contract does not name a violation
 * rows: { min: 1, max: 5000000 }     # optional bounds on the row count
 * freshness: { column: created_at, maxAge: 24h }   # the newest value must be at most maxAge old
 * ```
 *
 * A column takes: `type` (required: `string`, `integer`, `number`, `boolean`, `timestamp`, `date`),
 * `nullable` (default true), `unique` (default false; nulls are not compared), `min`/`max` (numbers
 * for integer and number columns, `YYYY-MM-DD` for dates, ISO 8601 for timestamps; inclusive),
 * `allowed` (a list of strings for string columns, of numbers for integer and number columns),
 * `regex` (string columns only; a search, so anchor it with `^…$` for a whole-value match; write
 * the common subset of RE2 and PostgreSQL regular expressions) and `description`. Unknown types and
 * unknown fields are refused, so a misspelt rule is never silently skipped.
 *
 * ## How values are judged
 * Every check reads a value as text (`CAST(col AS VARCHAR)` / `::text`) and tests it with the same
 * patterns on both engines, so a bad value is counted rather than aborting the scan, and CSV,
 * Parquet and PostgreSQL give the same answer for the same data:
 * - integer: `-12`, `12`, `12.0`; number: decimal or scientific notation (`NaN` and infinities are
 *   not numbers); boolean: `true`, `false`, `t`, `f`, `1`, `0` (any case);
 * - date: `YYYY-MM-DD`, a real calendar day; timestamp: `YYYY-MM-DD[( |T)hh:mm[:ss[.fff]]][Z|±hh[:mm]]`,
 *   read as UTC when it has no zone.
 * In a CSV file the contract's columns are read as text, not sniffed: DuckDB sniffs types from a
 * sample of rows, and a bad value after the sample would otherwise abort the whole read. A CSV file
 * must have a header row. An empty CSV field is NULL.
 *
 * ## Result
 * `failed` lists every violated rule in `details.violations` (`{column?, rule, count, message,
 * samples}`, up to {@link SAMPLE_ROWS} offending rows each, in scan order); a contract column the
 * data lacks is a violation (`missing-column`), not an error. `errored` when the data or contract
 * cannot be read, the contract is invalid, or the table does not exist.
 *
 * Inputs: the file's sha256, or for PostgreSQL a snapshot digest computed in SQL (see
 * {@link POSTGRES_SNAPSHOT_DIGEST}), keyed by the URL without its password and `#table`; plus the
 * contract file's sha256.
 */
import pg from 'pg';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { describeDuration, isValidDuration, parseDuration } from '../domain/duration.js';
import { dataFormatOf, DATA_EXTENSIONS, duckDbMessage, numberLiteral, openDuckDb, quoteIdent, quoteLiteral, readFileSql, toPlainValue, type Row } from './duckdb.js';
import { digestFile, InputError, readInput, resolveInput } from './inputs.js';
import { errored, type Validator, type ValidatorContext, type ValidatorOutcome } from './validator.js';

/** Offending rows kept per violated rule: enough to see the pattern, small enough to keep as evidence. */
export const SAMPLE_ROWS = 5;
/** Violations spelled out in the summary line; all of them are in `details.violations`. */
const SUMMARY_VIOLATIONS = 4;

// ---------------------------------------------------------------- contract

/** The column types a contract can declare. */
export const COLUMN_TYPES = ['string', 'integer', 'number', 'boolean', 'timestamp', 'date'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

const unknownFields =
  (known: readonly string[]) =>
  (issue: { code?: string; keys?: readonly string[] }): string | undefined =>
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys!.length === 1 ? '' : 's'} ${issue.keys!.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${known.join(', ')})`
      : undefined;

const COLUMN_FIELDS = ['type', 'nullable', 'unique', 'min', 'max', 'allowed', 'regex', 'description'] as const;

const ColumnContractSchema = z
  .strictObject(
    {
      type: z.enum(COLUMN_TYPES, {
        error: (iss) =>
          iss.input === undefined ? `type is required: one of ${COLUMN_TYPES.join(', ')}` : `unknown type ${JSON.stringify(iss.input)}: use one of ${COLUMN_TYPES.join(', ')}`,
      }),
      nullable: z.boolean({ error: 'nullable must be true or false' }).default(true),
      unique: z.boolean({ error: 'unique must be true or false' }).default(false),
      min: z.union([z.number(), z.string()], { error: 'min must be a number, or a date or timestamp in quotes' }).optional(),
      max: z.union([z.number(), z.string()], { error: 'max must be a number, or a date or timestamp in quotes' }).optional(),
      allowed: z
        .array(z.union([z.string(), z.number()]), { error: 'allowed must be a list of values' })
        .min(1, { error: 'allowed must list at least one value' })
        .optional(),
      regex: z.string({ error: 'regex must be a string' }).min(1, { error: 'regex must not be empty' }).optional(),
      description: z.string().optional(),
    },
    { error: unknownFields(COLUMN_FIELDS) },
  )
  .superRefine((col, ctx) => {
    const issue = (message: string, field: string) => ctx.addIssue({ code: 'custom', message, path: [field] });
    const isTime = col.type === 'date' || col.type === 'timestamp';
    const isNumeric = col.type === 'integer' || col.type === 'number';
    for (const bound of ['min', 'max'] as const) {
      const v = col[bound];
      if (v === undefined) continue;
      if (isNumeric && typeof v !== 'number') issue(`${bound} of a ${col.type} column must be a number`, bound);
      else if (isTime && (typeof v !== 'string' || parseTimeBound(col.type as 'date' | 'timestamp', v) === undefined)) {
        issue(`${bound} of a ${col.type} column must be ${col.type === 'date' ? 'a date like "2024-01-31"' : 'a timestamp like "2024-01-31T12:00:00Z"'}`, bound);
      } else if (!isNumeric && !isTime) issue(`${bound} applies to integer, number, date and timestamp columns, not ${col.type} (use allowed or regex)`, bound);
    }
    if (col.min !== undefined && col.max !== undefined && typeof col.min === typeof col.max) {
      const lo = isTime ? parseTimeBound(col.type as 'date' | 'timestamp', String(col.min)) : col.min;
      const hi = isTime ? parseTimeBound(col.type as 'date' | 'timestamp', String(col.max)) : col.max;
      if (lo !== undefined && hi !== undefined && lo > hi) issue(`min ${col.min} is above max ${col.max}`, 'min');
    }
    if (col.allowed !== undefined) {
      if (col.type === 'string' && !col.allowed.every((v) => typeof v === 'string')) issue('allowed values of a string column must be strings (quote them)', 'allowed');
      else if (isNumeric && !col.allowed.every((v) => typeof v === 'number' && (col.type === 'number' || Number.isInteger(v)))) {
        issue(`allowed values of a ${col.type} column must be ${col.type === 'integer' ? 'whole numbers' : 'numbers'}`, 'allowed');
      } else if (col.type !== 'string' && !isNumeric) issue(`allowed applies to string, integer and number columns, not ${col.type}`, 'allowed');
    }
    if (col.regex !== undefined) {
      if (col.type !== 'string') issue(`regex applies to string columns, not ${col.type}`, 'regex');
      else {
        try {
          new RegExp(col.regex);
        } catch (err) {
          issue(`invalid regex ${JSON.stringify(col.regex)}: ${(err as Error).message}`, 'regex');
        }
      }
    }
  });

const count = (what: string) => z.number({ error: `${what} must be a whole number of rows` }).int({ error: `${what} must be a whole number of rows` }).min(0, { error: `${what} must be 0 or more` });

const ContractSchema = z
  .strictObject(
    {
      name: z.string().optional(),
      description: z.string().optional(),
      columns: z
        .record(z.string().min(1, { error: 'a column name must not be empty' }), ColumnContractSchema, { error: 'columns must map column names to their rules' })
        .refine((c) => Object.keys(c).length > 0, { error: 'columns must name at least one column' }),
      allowExtraColumns: z.boolean({ error: 'allowExtraColumns must be true or false' }).default(true),
      rows: z
        .strictObject({ min: count('rows.min').optional(), max: count('rows.max').optional() }, { error: unknownFields(['min', 'max']) })
        .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { error: 'rows.min is above rows.max' })
        .optional(),
      freshness: z
        .strictObject(
          {
            column: z.string({ error: 'freshness.column must name a timestamp or date column' }).min(1),
            maxAge: z.string({ error: 'freshness.maxAge must be a duration like 24h' }).refine(isValidDuration, { error: 'freshness.maxAge must be a duration like 30m, 24h or 7d' }),
          },
          { error: unknownFields(['column', 'maxAge']) },
        )
        .optional(),
    },
    { error: unknownFields(['name', 'description', 'columns', 'allowExtraColumns', 'rows', 'freshness']) },
  )
  .superRefine((c, ctx) => {
    if (c.freshness === undefined) return;
    const col = c.columns[c.freshness.column];
    if (col === undefined) ctx.addIssue({ code: 'custom', path: ['freshness', 'column'], message: `freshness.column ${JSON.stringify(c.freshness.column)} is not among the contract's columns` });
    else if (col.type !== 'timestamp' && col.type !== 'date') {
      ctx.addIssue({ code: 'custom', path: ['freshness', 'column'], message: `freshness.column ${JSON.stringify(c.freshness.column)} is a ${col.type} column; it must be a timestamp or date` });
    }
  });

/** A parsed, valid data contract (defaults filled in). See the module comment for the format. */
export type Contract = z.output<typeof ContractSchema>;
/** One column's rules in a {@link Contract}. */
export type ColumnContract = Contract['columns'][string];

/**
 * Parses a contract (YAML text). Throws InputError naming the file, the field and the problem for
 * YAML syntax errors, unknown fields, unknown types and rules that do not fit the column's type.
 */
export function loadContract(text: string, source: string): Contract {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new InputError(`${source}${at}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const parsed = ContractSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const where = i.path.map(String).join('.');
      return where === '' ? i.message : `${where}: ${i.message}`;
    });
    throw new InputError(`${source}: invalid contract: ${problems.join('; ')}`);
  }
  return parsed.data;
}

// Contract bounds for time columns become epoch milliseconds, compared with the data's in SQL.
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)? ?(?:Z|([+-])(\d{2}):?(\d{2})?)?$/;

/** A date or timestamp bound as epoch milliseconds (UTC when it has no zone), or undefined when it is not one. */
function parseTimeBound(type: 'date' | 'timestamp', text: string): number | undefined {
  const m = (type === 'date' ? DATE_TEXT : TIMESTAMP_TEXT).exec(text);
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((p) => (p === undefined ? undefined : Number(p)));
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const offsetMin = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10] ?? 0));
  // Date.UTC rolls 2024-02-30 over into March; a bound on a day that does not exist is a typo.
  const day = new Date(Date.UTC(y!, mo! - 1, d!));
  if (day.getUTCMonth() !== mo! - 1 || day.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return Date.UTC(y!, mo! - 1, d!, h, mi, s, ms) - offsetMin * 60_000;
}

// ---------------------------------------------------------------- with

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
// Any name is quoted before it reaches SQL; only the dot is taken, as the schema separator.
const TABLE_NAME = /^[^.\0]+(?:\.[^.\0]+)?$/;

const SchemaArgsSchema = z
  .strictObject({
    data: z.string({ error: 'data must be a CSV or Parquet path, or a postgres:// URL' }).min(1, { error: 'data must not be empty' }),
    table: z.string({ error: 'table must be a table name like schema.table' }).optional(),
    contract: z.string({ error: 'contract must be the path of a contract YAML file' }).min(1, { error: 'contract must not be empty' }),
  })
  .superRefine((w, ctx) => {
    if (POSTGRES_URL.test(w.data)) {
      if (w.table === undefined) ctx.addIssue({ code: 'custom', path: ['table'], message: 'PostgreSQL data needs table: the table or view to check, e.g. features.tx' });
      else if (!TABLE_NAME.test(w.table)) ctx.addIssue({ code: 'custom', path: ['table'], message: `table ${JSON.stringify(w.table)} must be a name or schema.name` });
    } else {
      if (w.table !== undefined) ctx.addIssue({ code: 'custom', path: ['table'], message: 'table applies only to PostgreSQL data (a postgres:// URL)' });
      if (dataFormatOf(w.data) === undefined) ctx.addIssue({ code: 'custom', path: ['data'], message: `data ${JSON.stringify(w.data)} must end in ${DATA_EXTENSIONS.join(', ')}, or be a postgres:// URL` });
    }
  });

/** The `with` block of `schema`. */
export type SchemaArgs = z.output<typeof SchemaArgsSchema>;

// ---------------------------------------------------------------- SQL, shared by both engines

/**
 * What differs between DuckDB and PostgreSQL. Everything else (the patterns, the calendar check,
 * the rules) is one piece of SQL for both, which is what keeps their answers the same.
 */
interface Dialect {
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

function values(n: number, word = 'value'): string {
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
interface DataSource {
  readonly dialect: Dialect;
  /** The relation to read, ready for `FROM`. */
  readonly from: string;
  readonly columns: readonly string[];
  query(sql: string): Promise<Row[]>;
}

interface Evaluation {
  readonly rows: number;
  readonly checks: number;
  readonly violations: ContractViolation[];
}

/** Runs every rule of the contract over the source: one aggregate scan, then samples for what broke. */
async function evaluateContract(src: DataSource, contract: Contract, now: Date, ctx: ValidatorContext): Promise<Evaluation> {
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

// ---------------------------------------------------------------- DuckDB (CSV, Parquet)

const duckDialect: Dialect = {
  ident: quoteIdent,
  literal: quoteLiteral,
  text: (e) => `CAST(${e} AS VARCHAR)`,
  matches: (e, p) => `regexp_matches(${e}, ${quoteLiteral(p)})`,
  int: (e) => `TRY_CAST(${e} AS INTEGER)`,
  number: (e) => `TRY_CAST(${e} AS DOUBLE)`,
  epochMs: (e) => `epoch_ms(TRY_CAST(${e} AS TIMESTAMPTZ))`,
};

async function checkFile(file: string, label: string, contract: Contract, now: Date, ctx: ValidatorContext): Promise<Evaluation> {
  const db = await openDuckDb(ctx.signal);
  try {
    const sniffed = readFileSql(file);
    let described: Row[];
    try {
      described = await db.all(`DESCRIBE SELECT * FROM ${sniffed}`);
    } catch (err) {
      throw new InputError(`${label}: cannot read as ${dataFormatOf(file) === 'parquet' ? 'Parquet' : 'CSV'}: ${duckDbMessage(err)}`);
    }
    const columns = described.map((r) => String(r.column_name));
    // Read the contract's columns as written (see the module comment); the sniffer still finds the
    // delimiter, quoting and the types of the columns the contract does not name.
    const pinned = dataFormatOf(file) === 'csv' ? Object.fromEntries(columns.filter((c) => c in contract.columns).map((c) => [c, 'VARCHAR'])) : {};
    const from = readFileSql(file, { types: pinned });
    const source: DataSource = {
      dialect: duckDialect,
      from,
      columns,
      async query(sql) {
        try {
          return await db.all(sql);
        } catch (err) {
          throw new InputError(`${label}: ${duckDbMessage(err)}`);
        }
      },
    };
    return await evaluateContract(source, contract, now, ctx);
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- PostgreSQL

/**
 * The snapshot digest of a PostgreSQL table: sha256 over the md5 of each row's text form, sorted,
 * concatenated. Sorting makes it independent of physical row order (VACUUM, updates that move
 * rows); it changes when any value, column, column order or column type changes. It is computed in
 * the same REPEATABLE READ transaction as the checks, so it names exactly the rows they judged.
 * Cost: one scan and a sort of 32 bytes per row.
 */
export const POSTGRES_SNAPSHOT_DIGEST =
  "SELECT encode(sha256(convert_to(coalesce(string_agg(h, '' ORDER BY h), ''), 'UTF8')), 'hex') AS digest FROM (SELECT md5(CAST(src AS text)) AS h FROM %s AS src) AS snapshot";

const pgDialect: Dialect = {
  ident: pg.escapeIdentifier,
  literal: pg.escapeLiteral,
  text: (e) => `CAST(${e} AS text)`,
  matches: (e, p) => `(${e} ~ ${pg.escapeLiteral(p)})`,
  int: (e) => `CAST(${e} AS integer)`,
  // numeric, not float8: a value like 1e308 that the pattern accepts must not overflow the cast.
  number: (e) => `CAST(${e} AS numeric)`,
  epochMs: (e) => `(extract(epoch FROM CAST(${e} AS timestamptz)) * 1000)`,
};

/** The URL as evidence may show it: without the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

// Numbers as numbers, and dates and timestamps without a zone read as written / as UTC, so that
// sample rows look the same as DuckDB's for the same data.
const OID = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114 } as const;

async function checkPostgres(url: string, table: string, label: string, contract: Contract, now: Date, ctx: ValidatorContext): Promise<Evaluation & { digest: Digest }> {
  const client = new pg.Client({ connectionString: url, application_name: 'tollgate-schema' });
  client.setTypeParser(OID.int8, (v: string) => Number(v));
  client.setTypeParser(OID.numeric, (v: string) => Number(v));
  client.setTypeParser(OID.date, (v: string) => v);
  client.setTypeParser(OID.timestamp, (v: string) => new Date(`${v.replace(' ', 'T')}Z`));
  // Errors on an idle client (the server going away) would otherwise crash the process.
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      await client.connect();
    } catch (err) {
      throw new InputError(`${label}: cannot connect: ${(err as Error).message || (err as NodeJS.ErrnoException).code}`);
    }
    const query = async (sql: string, params: unknown[] = []): Promise<Row[]> => {
      try {
        const res = await client.query(sql, params);
        return res.rows.map((r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlainValue(v)])));
      } catch (err) {
        throw new InputError(`${label}: ${(err as Error).message}`);
      }
    };
    // One snapshot for every query, and nothing written even by mistake.
    await query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await query("SET LOCAL TIME ZONE 'UTC'");
    const qualified = table.split('.').map((p) => pg.escapeIdentifier(p)).join('.');
    const [found] = await query('SELECT to_regclass($1) IS NOT NULL AS found', [qualified]);
    if (found?.found !== true) throw new InputError(`${label}: no table or view named ${table}`);
    const columns = (
      await query('SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [qualified])
    ).map((r) => String(r.attname));
    const evaluation = await evaluateContract({ dialect: pgDialect, from: qualified, columns, query: (sql) => query(sql) }, contract, now, ctx);
    const [snap] = await query(POSTGRES_SNAPSHOT_DIGEST.replace('%s', qualified));
    await query('ROLLBACK');
    return { ...evaluation, digest: `sha256:${String(snap?.digest)}` };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- validator

/** Options for {@link createSchemaValidator}. */
export interface SchemaValidatorOptions {
  /** The clock freshness is judged by; tests pin it. */
  readonly now?: () => Date;
}

/**
 * Creates the `schema` validator: `passed` when the data meets every rule of the contract,
 * `failed` listing every violated rule with counts and sample rows, `errored` when the data or the
 * contract cannot be read or the contract is invalid.
 */
export function createSchemaValidator(options: SchemaValidatorOptions = {}): Validator<SchemaArgs> {
  const now = options.now ?? (() => new Date());
  return {
    name: 'schema',
    version: '1',
    schema: SchemaArgsSchema,
    async run(args, ctx): Promise<ValidatorOutcome> {
      const inputs: Record<string, Digest> = {};
      let contract: Contract;
      let evaluation: Evaluation;
      const isPostgres = POSTGRES_URL.test(args.data);
      const dataKey = isPostgres ? `${redactUrl(args.data)}#${args.table}` : args.data;
      try {
        const contractFile = await readInput(ctx.baseDir, args.contract);
        inputs[args.contract] = contractFile.digest;
        contract = loadContract(contractFile.text, args.contract);
        if (isPostgres) {
          const result = await checkPostgres(args.data, args.table!, dataKey, contract, now(), ctx);
          inputs[dataKey] = result.digest;
          evaluation = result;
        } else {
          const file = resolveInput(ctx.baseDir, args.data);
          inputs[dataKey] = await digestFile(file);
          evaluation = await checkFile(file, args.data, contract, now(), ctx);
        }
      } catch (err) {
        if (err instanceof InputError) return errored(err.message, inputs);
        throw err;
      }

      const { rows, violations } = evaluation;
      const measurements = { rows, violations: violations.length, checks: evaluation.checks };
      const thresholds = { contract };
      const details = { violations };
      if (violations.length === 0) {
        return { status: 'passed', summary: `${values(rows, 'row')} meet contract ${args.contract} (${evaluation.checks} checks)`, measurements, thresholds, inputs, details };
      }
      const shown = violations.slice(0, SUMMARY_VIOLATIONS).map((v) => v.message);
      const more = violations.length > SUMMARY_VIOLATIONS ? `; and ${violations.length - SUMMARY_VIOLATIONS} more` : '';
      const summary = `${values(violations.length, 'contract violation')} in ${values(rows, 'row')} of ${isPostgres ? args.table : args.data}: ${shown.join('; ')}${more}`;
      return { status: 'failed', summary, measurements, thresholds, inputs, details };
    },
  };
}

/** The `schema` validator on the real clock. */
export const schemaValidator: Validator<SchemaArgs> = createSchemaValidator();
