/** The `with` block of `schema`: a data file, or a PostgreSQL URL with a table; and the contract. */
import * as z from 'zod';
import { dataFormatOf, DATA_EXTENSIONS } from '../duckdb.js';

/** Data given as a PostgreSQL URL: the checks are pushed down to that database. */
export const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
// Any name is quoted before it reaches SQL; only the dot is taken, as the schema separator.
const TABLE_NAME = /^[^.\0]+(?:\.[^.\0]+)?$/;

/** Validates the `with` block of `schema`. */
export const SchemaArgsSchema = z
  .strictObject({
    data: z.string({ error: 'data must be a CSV or Parquet path, or a postgres:// URL' }).min(1, { error: 'data must not be empty' }).describe('The data to check: a CSV or Parquet file (or artifact:NAME), or a postgres:// URL with table.'),
    table: z.string({ error: 'table must be a table name like schema.table' }).optional().describe('With PostgreSQL data: the table or view to check, e.g. features.tx.'),
    contract: z.string({ error: 'contract must be the path of a contract YAML file' }).min(1, { error: 'contract must not be empty' }).describe('The data contract, a YAML file (schemas/contract.schema.json describes it).'),
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
