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
 *
 * ## Where the pieces are
 * `contract.ts` the contract file, parsed and checked; `schema-args.ts` the `with` block;
 * `contract-sql.ts` the checks as SQL, shared by both engines through a `Dialect`;
 * `duckdb-engine.ts` and `postgres-engine.ts` the two engines; `schema-validator.ts` the validator.
 */
export { COLUMN_TYPES, loadContract, type ColumnContract, type ColumnType, type Contract } from './contract.js';
export { SAMPLE_ROWS, type ContractViolation, type ViolationRule } from './contract-sql.js';
export { POSTGRES_SNAPSHOT_DIGEST, redactUrl } from './postgres-engine.js';
export type { SchemaArgs } from './schema-args.js';
export { createSchemaValidator, schemaValidator, type SchemaValidatorOptions } from './schema-validator.js';
