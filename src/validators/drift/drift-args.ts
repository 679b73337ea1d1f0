/** The `with` block of `drift` (see index.ts for what each field means to the user). */
import * as z from 'zod';

const probability = z.number().min(0).max(1);
const psiRule = z.strictObject({ max: z.number().min(0).describe('The highest population stability index allowed, e.g. 0.2.') });
const ksRule = z.strictObject({
  maxStatistic: probability.optional().describe('The highest Kolmogorov–Smirnov statistic allowed (numeric columns).'),
  minPvalue: probability.optional().describe('The lowest Kolmogorov–Smirnov p-value allowed (numeric columns).'),
});
const chi2Rule = z.strictObject({ minPvalue: probability.optional().describe('The lowest chi-square p-value allowed (categorical columns).') });
const psi = () => psiRule.optional().describe('Population stability index over ten bins at the reference\'s deciles (numeric) or over every category: { max }.');
const ks = () => ksRule.optional().describe('Two-sample Kolmogorov–Smirnov test (numeric columns): { maxStatistic, minPvalue }.');
const chi2 = () => chi2Rule.optional().describe('Chi-square test of homogeneity (categorical columns): { minPvalue }.');
const columnRules = z.strictObject({ psi: psi(), ks: ks(), chi2: chi2() });

/** The `with` block of a drift validation; strict, so a misspelt threshold is an error, not a no-op. */
export const driftArgsSchema = z.strictObject({
  /** Path of the reference dataset (CSV or Parquet, by extension). */
  reference: z.string().min(1).describe('The reference dataset (CSV or Parquet, by extension), or artifact:NAME.'),
  /** Path of the current dataset. */
  current: z.string().min(1).describe('The current dataset (CSV or Parquet, by extension), or artifact:NAME.'),
  /** Columns to compare; default: every column both files have, in the reference's order. */
  columns: z.array(z.string().min(1)).min(1).optional().describe('The columns to compare (default: every column both files have, in the reference\'s order, but date and time columns).'),
  /** Columns to treat as categorical although DuckDB types them as numbers (codes, zip codes). */
  categorical: z.array(z.string().min(1)).optional().describe('Columns read as categories although the files type them as numbers (codes, zip codes).'),
  psi: psi(),
  ks: ks(),
  chi2: chi2(),
  /** Rules for single columns, merged field by field over the rules for all columns. */
  perColumn: z.record(z.string().min(1), columnRules).optional().describe('Rules for single columns, by name, merged field by field over the rules for every column: { psi, ks, chi2 }.'),
});

export type DriftArgs = z.infer<typeof driftArgsSchema>;
/** The thresholds for one column, after `perColumn` is merged in. */
export type ColumnRules = z.infer<typeof columnRules>;
