/** The `with` block of `drift` (see index.ts for what each field means to the user). */
import * as z from 'zod';

const probability = z.number().min(0).max(1);
const psiRule = z.strictObject({ max: z.number().min(0) });
const ksRule = z.strictObject({ maxStatistic: probability.optional(), minPvalue: probability.optional() });
const chi2Rule = z.strictObject({ minPvalue: probability.optional() });
const columnRules = z.strictObject({ psi: psiRule.optional(), ks: ksRule.optional(), chi2: chi2Rule.optional() });

/** The `with` block of a drift validation; strict, so a misspelt threshold is an error, not a no-op. */
export const driftArgsSchema = z.strictObject({
  /** Path of the reference dataset (CSV or Parquet, by extension). */
  reference: z.string().min(1),
  /** Path of the current dataset. */
  current: z.string().min(1),
  /** Columns to compare; default: every column both files have, in the reference's order. */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** Columns to treat as categorical although DuckDB types them as numbers (codes, zip codes). */
  categorical: z.array(z.string().min(1)).optional(),
  psi: psiRule.optional(),
  ks: ksRule.optional(),
  chi2: chi2Rule.optional(),
  /** Rules for single columns, merged field by field over the rules for all columns. */
  perColumn: z.record(z.string().min(1), columnRules).optional(),
});

export type DriftArgs = z.infer<typeof driftArgsSchema>;
/** The thresholds for one column, after `perColumn` is merged in. */
export type ColumnRules = z.infer<typeof columnRules>;
