/**
 * The data contract: its YAML format (index.ts describes it for the user), parsed and checked with
 * zod, so that a misspelt rule or one that does not fit its column's type is refused, never skipped.
 */
import { RE2JS } from 're2js';
import * as z from 'zod';
import { DURATION_PATTERN, isValidDuration } from '../../domain/duration.js';
import { parseBoundedDocument, YamlBoundsError } from '../../domain/yaml-source.js';
import { InputError } from '../inputs.js';

/** The column types a contract can declare. */
export const COLUMN_TYPES = ['string', 'integer', 'number', 'boolean', 'timestamp', 'date'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

const unknownFields =
  (known: readonly string[]) =>
  (issue: { code?: string; keys?: readonly string[] }): string | undefined =>
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys!.length === 1 ? '' : 's'} ${issue.keys!.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${known.join(', ')})`
      : undefined;

// Contract bounds for time columns become epoch milliseconds, compared with the data's in SQL.
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)? ?(?:Z|([+-])(\d{2}):?(\d{2})?)?$/;

/** Longer patterns are not written by hand; the bound keeps compiling one cheap (issue 13, finding 3). */
export const MAX_REGEX_LENGTH = 1000;

/**
 * The rules that depend on a column's type (checked by the superRefine below, with its messages), as
 * JSON Schema for editors: which of min, max, allowed and regex a type takes, and in what form.
 */
const BY_TYPE: Record<ColumnType, Record<string, unknown>> = {
  integer: { min: { type: 'number' }, max: { type: 'number' }, allowed: { items: { type: 'integer' } }, regex: false },
  number: { min: { type: 'number' }, max: { type: 'number' }, allowed: { items: { type: 'number' } }, regex: false },
  date: { min: { type: 'string', pattern: DATE_TEXT.source }, max: { type: 'string', pattern: DATE_TEXT.source }, allowed: false, regex: false },
  timestamp: { min: { type: 'string', pattern: TIMESTAMP_TEXT.source }, max: { type: 'string', pattern: TIMESTAMP_TEXT.source }, allowed: false, regex: false },
  string: { min: false, max: false, allowed: { items: { type: 'string' } } },
  boolean: { min: false, max: false, allowed: false, regex: false },
};

const COLUMN_FIELDS = ['type', 'nullable', 'unique', 'min', 'max', 'allowed', 'regex', 'description'] as const;

const ColumnContractSchema = z
  .strictObject(
    {
      type: z
        .enum(COLUMN_TYPES, {
          error: (iss) =>
            iss.input === undefined ? `type is required: one of ${COLUMN_TYPES.join(', ')}` : `unknown type ${JSON.stringify(iss.input)}: use one of ${COLUMN_TYPES.join(', ')}`,
        })
        .describe(`The column's type: ${COLUMN_TYPES.join(', ')}. Every value is read as text and checked against it.`),
      nullable: z.boolean({ error: 'nullable must be true or false' }).default(true).describe('Whether the column may hold nulls (default true); an empty CSV field is null.'),
      unique: z.boolean({ error: 'unique must be true or false' }).default(false).describe('Whether every value must differ from the others (default false; nulls are not compared).'),
      min: z
        .union([z.number(), z.string()], { error: 'min must be a number, or a date or timestamp in quotes' })
        .optional()
        .describe('The smallest value, inclusive: a number for integer and number columns, "YYYY-MM-DD" for dates, an ISO 8601 timestamp for timestamps.'),
      max: z
        .union([z.number(), z.string()], { error: 'max must be a number, or a date or timestamp in quotes' })
        .optional()
        .describe('The largest value, inclusive: a number for integer and number columns, "YYYY-MM-DD" for dates, an ISO 8601 timestamp for timestamps.'),
      allowed: z
        .array(z.union([z.string(), z.number()]), { error: 'allowed must be a list of values' })
        .min(1, { error: 'allowed must list at least one value' })
        .optional()
        .describe('The only values the column may hold: strings for string columns, numbers for integer and number columns.'),
      regex: z
        .string({ error: 'regex must be a string' })
        .min(1, { error: 'regex must not be empty' })
        .meta({ maxLength: MAX_REGEX_LENGTH })
        .optional()
        .describe('String columns only: a regular expression each value must contain a match of (anchor it with ^…$ for a whole-value match); the common subset of RE2 and PostgreSQL regular expressions.'),
      description: z.string().optional().describe('What the column holds, for people.'),
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
        const problem = regexProblem(col.regex);
        if (problem !== undefined) issue(problem, 'regex');
      }
    }
  })
  .meta({ allOf: COLUMN_TYPES.map((type) => ({ if: { properties: { type: { const: type } }, required: ['type'] }, then: { properties: BY_TYPE[type] } })) })
  .describe('One column\'s rules: type (required), nullable, unique, min, max, allowed, regex, description.');


/**
 * Why a contract's `regex` is refused, or undefined. Checked with RE2's syntax (re2js): DuckDB runs
 * the pattern with RE2, in time linear in the text, so a pattern RE2 cannot run (backreferences,
 * lookaround) would only fail later; and no pattern from a policy is compiled by V8's backtracking
 * engine, whose compiler a huge pattern can exhaust.
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_REGEX_LENGTH) return `regex is ${pattern.length} characters long; at most ${MAX_REGEX_LENGTH}`;
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return `invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`;
  }
}

const count = (what: string) => z.number({ error: `${what} must be a whole number of rows` }).int({ error: `${what} must be a whole number of rows` }).min(0, { error: `${what} must be 0 or more` });

export const ContractSchema = z
  .strictObject(
    {
      name: z.string().optional().describe('The contract\'s name, for people, e.g. transactions.'),
      description: z.string().optional().describe('What the data is, for people.'),
      columns: z
        .record(z.string().min(1, { error: 'a column name must not be empty' }), ColumnContractSchema, { error: 'columns must map column names to their rules' })
        .refine((c) => Object.keys(c).length > 0, { error: 'columns must name at least one column' })
        .meta({ minProperties: 1 })
        .describe('The columns, by exact name, each with its rules; at least one. A contract column the data lacks is a violation.'),
      allowExtraColumns: z
        .boolean({ error: 'allowExtraColumns must be true or false' })
        .default(true)
        .describe('Whether the data may have columns the contract does not name (default true); false makes each one a violation.'),
      rows: z
        .strictObject(
          {
            min: count('rows.min').optional().describe('The fewest rows the data may have.'),
            max: count('rows.max').optional().describe('The most rows the data may have.'),
          },
          { error: unknownFields(['min', 'max']) },
        )
        .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { error: 'rows.min is above rows.max' })
        .optional()
        .describe('Bounds on the row count, e.g. { min: 1, max: 5000000 }.'),
      freshness: z
        .strictObject(
          {
            column: z.string({ error: 'freshness.column must name a timestamp or date column' }).min(1).describe('A timestamp or date column of the contract.'),
            maxAge: z
              .string({ error: 'freshness.maxAge must be a duration like 24h' })
              .refine(isValidDuration, { error: 'freshness.maxAge must be a duration like 30m, 24h or 7d' })
              .meta({ pattern: DURATION_PATTERN })
              .describe('How old the newest value may be, e.g. 30m, 24h or 7d.'),
          },
          { error: unknownFields(['column', 'maxAge']) },
        )
        .optional()
        .describe('The newest value of a timestamp or date column must be at most maxAge old.'),
    },
    { error: unknownFields(['name', 'description', 'columns', 'allowExtraColumns', 'rows', 'freshness']) },
  )
  .meta({
    title: 'Tollgate data contract',
    description: 'A data contract, checked by the schema validator (`uses: schema`) against a CSV or Parquet file or a PostgreSQL table.',
  })
  .superRefine((c, ctx) => {
    if (c.freshness === undefined) return;
    const col = c.columns[c.freshness.column];
    if (col === undefined) ctx.addIssue({ code: 'custom', path: ['freshness', 'column'], message: `freshness.column ${JSON.stringify(c.freshness.column)} is not among the contract's columns` });
    else if (col.type !== 'timestamp' && col.type !== 'date') {
      ctx.addIssue({ code: 'custom', path: ['freshness', 'column'], message: `freshness.column ${JSON.stringify(c.freshness.column)} is a ${col.type} column; it must be a timestamp or date` });
    }
  });

/** A parsed, valid data contract (defaults filled in). See index.ts for the format. */
export type Contract = z.output<typeof ContractSchema>;
/** One column's rules in a {@link Contract}. */
export type ColumnContract = Contract['columns'][string];

/**
 * Parses a contract (YAML text). Throws InputError naming the file, the field and the problem for
 * YAML syntax errors, unknown fields, unknown types and rules that do not fit the column's type.
 */
export function loadContract(text: string, source: string): Contract {
  let doc;
  try {
    doc = parseBoundedDocument(text);
  } catch (err) {
    if (err instanceof YamlBoundsError) throw new InputError(`${source}: invalid YAML: ${err.message}`);
    throw err;
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new InputError(`${source}${at}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // The yaml package throws while building values, not while parsing: an alias to an anchor that
    // is not set (`*a`), or too many aliases (a "billion laughs" document). Found by fuzzing.
    throw new InputError(`${source}: invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const parsed = ContractSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const where = i.path.map(String).join('.');
      return where === '' ? i.message : `${where}: ${i.message}`;
    });
    throw new InputError(`${source}: invalid contract: ${problems.join('; ')}`);
  }
  return parsed.data;
}


/** A date or timestamp bound as epoch milliseconds (UTC when it has no zone), or undefined when it is not one. */
export function parseTimeBound(type: 'date' | 'timestamp', text: string): number | undefined {
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
