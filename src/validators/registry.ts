/**
 * The built-in validators by name. `policy check` validates each `with` block against these schemas;
 * `tollgate validate` runs them.
 */
import type { z } from 'zod';
import { commandValidator } from './command.js';
import { driftValidator } from './drift/index.js';
import { httpValidator } from './http.js';
import { junitValidator } from './junit.js';
import { latencyValidator } from './latency.js';
import { metricsValidator } from './metrics.js';
import { parityValidator } from './parity.js';
import { sarifValidator } from './sarif.js';
import { sbomValidator } from './sbom/index.js';
import { schemaValidator } from './schema/index.js';
import { slicesValidator } from './slices.js';
import type { Validator } from './validator.js';

const BUILTIN: readonly Validator<never>[] = [
  junitValidator,
  sarifValidator,
  sbomValidator,
  metricsValidator,
  slicesValidator,
  latencyValidator,
  schemaValidator,
  driftValidator,
  parityValidator,
  commandValidator,
  httpValidator,
] as Validator<never>[];

export const VALIDATORS: ReadonlyMap<string, Validator> = new Map(BUILTIN.map((v) => [v.name, v as unknown as Validator]));

/** The `with` schemas by validator name, for `parsePolicy(…, { validators })`. */
export const VALIDATOR_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map([...VALIDATORS].map(([name, v]) => [name, v.schema]));
