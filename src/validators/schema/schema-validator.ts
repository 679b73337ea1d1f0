/** The `schema` validator: reads the contract, runs it on the engine where the data is, and says what broke. */
import type { Digest } from '../../domain/digest.js';
import { digestFile, InputError, readInput, resolveInput } from '../inputs.js';
import { errored, type Validator, type ValidatorOutcome } from '../validator.js';
import { loadContract, type Contract } from './contract.js';
import { values, type Evaluation } from './contract-sql.js';
import { checkFile } from './duckdb-engine.js';
import { checkPostgres, redactUrl } from './postgres-engine.js';
import { POSTGRES_URL, SchemaArgsSchema, type SchemaArgs } from './schema-args.js';

/** Violations spelled out in the summary line; all of them are in `details.violations`. */
const SUMMARY_VIOLATIONS = 4;

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
