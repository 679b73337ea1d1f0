/** The DuckDB engine: the contract's SQL over a CSV or Parquet file, scanned where it is. */
import { dataFormatOf, duckDbMessage, openDuckDb, quoteIdent, quoteLiteral, readFileSql, type Row } from '../duckdb.js';
import { InputError } from '../inputs.js';
import type { ValidatorContext } from '../validator.js';
import type { Contract } from './contract.js';
import { evaluateContract, type DataSource, type Dialect, type Evaluation } from './contract-sql.js';

const duckDialect: Dialect = {
  ident: quoteIdent,
  literal: quoteLiteral,
  text: (e) => `CAST(${e} AS VARCHAR)`,
  matches: (e, p) => `regexp_matches(${e}, ${quoteLiteral(p)})`,
  int: (e) => `TRY_CAST(${e} AS INTEGER)`,
  number: (e) => `TRY_CAST(${e} AS DOUBLE)`,
  epochMs: (e) => `epoch_ms(TRY_CAST(${e} AS TIMESTAMPTZ))`,
};

/** Runs the contract over a CSV or Parquet file in DuckDB; `label` names the file in messages. */
export async function checkFile(file: string, label: string, contract: Contract, now: Date, ctx: ValidatorContext): Promise<Evaluation> {
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
