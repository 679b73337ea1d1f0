/**
 * The `drift` validator: reads both files (the CSV parser where it applies, DuckDB otherwise),
 * measures every compared column and judges the measurements against the thresholds. index.ts
 * describes what it does for the user.
 */
import fs from 'node:fs';
import type { Digest } from '../../domain/digest.js';
import { duckDbMessage, openDuckDb, type DuckDb } from '../duckdb.js';
import { digestFile, InputError, resolveInput } from '../inputs.js';
import { errored, type Validator, type ValidatorContext, type ValidatorOutcome } from '../validator.js';
import { Unsupported } from './csv-parser.js';
import { startParser, type Parser, type ParserOptions } from './csv-parser-start.js';
import { driftArgsSchema, type DriftArgs } from './drift-args.js';
import { INTEGER_TYPE, isNumericType, isTimeType, readSchema, readWithDuckDb, type FileSchema } from './duckdb-reader.js';
import { fromParsed, type ColumnData, type FileData, type PlannedColumn, type ReadAs } from './file-data.js';
import {
  categoricalBins,
  describeVerdict,
  formatNumber,
  isBroken,
  judgeColumn,
  measureCategorical,
  measureNumeric,
  numericBins,
  rulesFor,
  sum,
  type ColumnMeasurement,
  type DistributionBins,
  type Verdict,
} from './measurements.js';
import { pushAll } from '../../domain/bounded.js';

/** Options for tests and benchmarks; a policy cannot set them. */
export interface DriftRunOptions {
  /** `auto` (default): the fast CSV parser where it applies; `duckdb`: DuckDB for every file. */
  readonly engine?: 'auto' | 'duckdb';
  /** Where the CSV parser runs (worker thread or inline); see {@link ParserOptions}. */
  readonly csvWorker?: ParserOptions;
}

/** Runs a drift validation; {@link driftValidator}'s `run`, with options for tests and benchmarks. */
export async function runDrift(args: DriftArgs, ctx: ValidatorContext, options: DriftRunOptions = {}): Promise<ValidatorOutcome> {
  const started = Date.now();
  const paths = { reference: resolveInput(ctx.baseDir, args.reference), current: resolveInput(ctx.baseDir, args.current) };
  const inputs: Record<string, Digest> = {};
  for (const [role, file] of Object.entries(paths)) {
    try {
      await fs.promises.access(file, fs.constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return errored(`${role} ${code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code})`}`, inputs);
    }
  }
  let db: DuckDb | undefined;
  // CSV parsers start now, in parallel with loading DuckDB and sniffing (see csv-worker.ts); one
  // that turns out not to be needed is stopped in `finally`.
  const fast = (options.engine ?? 'auto') === 'auto';
  const isPlainCsvName = (f: string) => /\.(csv|tsv)$/i.test(f);
  const parsers: Partial<Record<'reference' | 'current', Parser>> = {};
  for (const role of ['reference', 'current'] as const) if (fast && isPlainCsvName(paths[role])) parsers[role] = startParser(paths[role], ctx.signal, options.csvWorker);
  try {
    db = await openDuckDb(ctx.signal);
    const schemas = {} as Record<'reference' | 'current', FileSchema>;
    for (const role of ['reference', 'current'] as const) {
      try {
        schemas[role] = await readSchema(db, paths[role]);
      } catch (err) {
        const what = err instanceof InputError ? err.message : duckDbMessage(err);
        return errored(`cannot read ${role} ${args[role]}: ${what}`, await digestsOf(paths, args));
      }
    }
    const ref = schemas.reference;
    const cur = schemas.current;
    // By default every column both files have, but their times: a timestamp or date column records
    // when a row was made, so two windows of data always "drift" on it. Named in `columns`, it is compared.
    const common = ref.names.filter((n) => cur.types.has(n));
    const timed = args.columns ? [] : common.filter((n) => isTimeType(ref.types.get(n) ?? '') || isTimeType(cur.types.get(n) ?? ''));
    const columns = args.columns ?? common.filter((n) => !timed.includes(n));
    if (columns.length === 0) {
      const why = timed.length > 0 ? ` but their times (${timed.join(', ')}, left out unless named in columns)` : '';
      return errored(`${args.reference} and ${args.current} have no column in common${why}`, await digestsOf(paths, args));
    }
    for (const name of columns) {
      for (const [role, schema] of [['reference', ref], ['current', cur]] as const) {
        if (!schema.types.has(name)) {
          return errored(`column ${name} is not in ${role} ${args[role]} (it has ${schema.names.join(', ')})`, await digestsOf(paths, args));
        }
      }
    }
    for (const [field, names] of [['categorical', args.categorical ?? []], ['perColumn', Object.keys(args.perColumn ?? {})]] as const) {
      const stray = names.filter((n) => !columns.includes(n));
      if (stray.length > 0) {
        return errored(`${field} names ${stray.join(', ')}, which is not among the compared columns`, await digestsOf(paths, args));
      }
    }
    const forced = new Set(args.categorical ?? []);
    const numericIn = (schema: FileSchema, n: string) => isNumericType(schema.types.get(n) ?? '');
    const kinds = new Map(columns.map((n) => [n, !forced.has(n) && numericIn(ref, n) && numericIn(cur, n) ? 'numeric' : 'categorical'] as const));

    const schemaDone = Date.now();
    ctx.progress({ message: `reading ${columns.length} columns` });
    // Rows read so far in each file, as the parsers go: both files are read at once.
    const rowsRead = { reference: 0, current: 0 };
    const read = async (role: 'reference' | 'current'): Promise<FileData> => {
      const schema = schemas[role];
      const plan: PlannedColumn[] = columns.map((name) => {
        const type = (schema.types.get(name) ?? '').toUpperCase();
        const numeric = isNumericType(type);
        const readAs: ReadAs = kinds.get(name) === 'numeric' ? (INTEGER_TYPE.test(type) ? 'integer' : 'number') : numeric ? 'number-as-text' : 'text';
        return { name, index: schema.names.indexOf(name), readAs };
      });
      let reason: string | undefined;
      const parsable = plan.every((c) => c.readAs !== 'text' || (schema.types.get(c.name) ?? '').toUpperCase() === 'VARCHAR');
      const parser = parsers[role];
      delete parsers[role];
      if (parser && schema.csv && parsable) {
        try {
          const parsed = await parser.run({ file: paths[role], delimiter: schema.csv.delimiter, names: schema.names, plan }, (rows) => {
            rowsRead[role] = rows;
            ctx.progress({ rows: rowsRead.reference + rowsRead.current, message: `reading ${columns.length} columns` });
          });
          return fromParsed(parsed, plan);
        } catch (err) {
          if (!(err instanceof Unsupported)) throw err;
          reason = err.message;
        }
      } else {
        parser?.stop();
      }
      const digest = await digestFile(paths[role]);
      return readWithDuckDb(db as DuckDb, paths[role], plan, digest, reason);
    };
    // The two files are parsed at the same time (one worker each); DuckDB reads run one at a time.
    const [refData, curData] = await Promise.all([read('reference'), read('current')]);
    const readDone = Date.now();
    inputs[args.reference] = refData.digest;
    inputs[args.current] = curData.digest;
    if (ctx.signal.aborted) return errored('cancelled', inputs);
    ctx.progress({ rows: refData.rows + curData.rows, message: 'comparing' });

    const measured: Record<string, ColumnMeasurement> = {};
    const verdicts: Verdict[] = [];
    // The shares per bin (the PSI bins of a numeric column, the categories of a categorical one):
    // what the report draws, reference against current.
    const bins: Record<string, { bins: DistributionBins }> = {};
    for (const name of columns) {
      const r = refData.columns.get(name) as ColumnData;
      const c = curData.columns.get(name) as ColumnData;
      const counts = {
        n_reference: r.kind === 'numeric' ? r.sample.n : sum(r.counts.values()),
        n_current: c.kind === 'numeric' ? c.sample.n : sum(c.counts.values()),
        nulls_reference: r.nulls,
        nulls_current: c.nulls,
      };
      for (const [role, n, rows] of [['reference', counts.n_reference, refData.rows], ['current', counts.n_current, curData.rows]] as const) {
        if (n === 0) return errored(`column ${name} has no values in ${role} ${args[role]} (${rows} rows, all null)`, inputs);
      }
      const m: ColumnMeasurement =
        r.kind === 'numeric' && c.kind === 'numeric'
          ? { kind: 'numeric', ...measureNumeric(r.sample, c.sample), ...counts }
          : { kind: 'categorical', ...measureCategorical(asCounts(r), asCounts(c)), ...counts };
      measured[name] = m;
      bins[name] = r.kind === 'numeric' && c.kind === 'numeric' ? numericBins(r.sample, c.sample) : categoricalBins(asCounts(r), asCounts(c));
      pushAll(verdicts, judgeColumn(name, m, rulesFor(args, name)));
    }

    const broken = verdicts.filter(isBroken).sort((a, b) => b.severity - a.severity);
    const closest = [...verdicts].sort((a, b) => b.severity - a.severity)[0];
    let summary: string;
    if (broken.length > 0) {
      const worst = broken[0] as Verdict;
      const more = broken.length - 1;
      const others = broken.slice(1, 4).map((v) => `${v.metric} on ${v.column}`).join(', ') + (more > 3 ? ', …' : '');
      summary = describeVerdict(worst) + (more > 0 ? ` (and ${more} more: ${others})` : '');
    } else if (closest) {
      const near = `${closest.metric} ${formatNumber(closest.value)} vs ${closest.bound} ${formatNumber(closest.limit)} on ${closest.column}`;
      summary = `no drift beyond thresholds on ${plural(columns.length, 'column')}; closest: ${near}`;
    } else {
      summary = `measured ${plural(columns.length, 'column')}; no thresholds set`;
    }
    if (timed.length > 0) summary += ` (time columns left out: ${timed.join(', ')})`;
    return {
      status: broken.length > 0 ? 'failed' : 'passed',
      summary,
      measurements: { reference_rows: refData.rows, current_rows: curData.rows, columns: measured },
      thresholds: {
        ...(args.psi ? { psi: args.psi } : {}),
        ...(args.ks ? { ks: args.ks } : {}),
        ...(args.chi2 ? { chi2: args.chi2 } : {}),
        ...(args.perColumn ? { perColumn: args.perColumn } : {}),
      },
      inputs,
      details: {
        violations: broken.map((v) => ({ column: v.column, metric: v.metric, value: v.value, op: v.op, limit: v.limit })),
        ...(timed.length > 0 ? { leftOut: timed.map((column) => ({ column, type: ref.types.get(column) ?? cur.types.get(column), reason: 'a time column: left out unless named in columns' })) } : {}),
        columns: bins,
        engine: { reference: refData.engine, current: curData.engine },
        ...(refData.fallbackReason || curData.fallbackReason
          ? {
              fallback: {
                ...(refData.fallbackReason ? { reference: refData.fallbackReason } : {}),
                ...(curData.fallbackReason ? { current: curData.fallbackReason } : {}),
              },
            }
          : {}),
        seconds: (Date.now() - started) / 1000,
        // Where the time went: schema (DuckDB sniffing), reading (parse or scan), comparing.
        timings: {
          schema: (schemaDone - started) / 1000,
          read: (readDone - schemaDone) / 1000,
          compare: (Date.now() - readDone) / 1000,
        },
      },
    };
  } catch (err) {
    if (ctx.signal.aborted) return errored('cancelled', inputs);
    const message = err instanceof InputError ? err.message : duckDbMessage(err);
    return errored(`drift could not run: ${message}`, Object.keys(inputs).length > 0 ? inputs : await digestsOf(paths, args).catch(() => ({})));
  } finally {
    for (const parser of Object.values(parsers)) parser.stop();
    db?.close();
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function asCounts(d: ColumnData): Map<string, number> {
  if (d.kind === 'categorical') return d.counts;
  // A column numeric in one file and text in the other: both sides become categories.
  const out = new Map<string, number>();
  const { values, counts } = d.sample;
  values.forEach((v, i) => out.set(String(v), (out.get(String(v)) ?? 0) + (counts ? (counts[i] as number) : 1)));
  return out;
}

async function digestsOf(paths: { reference: string; current: string }, args: DriftArgs): Promise<Record<string, Digest>> {
  const out: Record<string, Digest> = {};
  for (const role of ['reference', 'current'] as const) {
    try {
      out[args[role]] = await digestFile(paths[role]);
    } catch {
      // An unreadable file is already what the result says; its digest is simply absent.
    }
  }
  return out;
}

/** The `drift` validator: per-column KS, PSI and chi-square between a reference and a current dataset. */
export const driftValidator: Validator<DriftArgs> = {
  name: 'drift',
  // 2: time columns are left out of the default column list.
  version: '2',
  schema: driftArgsSchema,
  run: (args, ctx) => runDrift(args, ctx),
};
