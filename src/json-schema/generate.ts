/**
 * The JSON Schemas of the files people write — the policy, the release manifest, a data contract,
 * the OIDC configuration — generated from the zod schemas that parse them (zod's `toJSONSchema`), so
 * that editors complete and check fields with the same rules and descriptions. `npm run schemas`
 * writes them to schemas/ (shipped in the package); test/json-schemas.test.ts keeps them in step.
 *
 * What a JSON Schema cannot say stays with the parser: checks across the file (a stage or role that
 * is named but not defined, unique ids, cycles), CEL conditions, time zones and cron expressions,
 * regular expressions. The zod schemas add `pattern`s and the like (with `.meta`) where their checks
 * are code; docs/schemas.md lists what only `tollgate policy check` finds.
 */
import * as z from 'zod';
import { jsonSchemaFormOf } from '../domain/json-schema-form.js';
import { ManifestSchema } from '../domain/manifest.js';
import { PolicySchema, ValidationSchema } from '../domain/policy.js';
import { OidcConfigSchema } from '../server/oidc.js';
import { VALIDATOR_SCHEMAS } from '../validators/registry.js';
import { ContractSchema } from '../validators/schema/contract.js';
import { JSON_SCHEMA_FILES, type JsonSchemaName } from './files.js';

export { JSON_SCHEMA_DIR, type JsonSchemaName } from './files.js';

/** The schemas by name, each with the file it is written to under schemas/. */
export const JSON_SCHEMAS: Readonly<Record<JsonSchemaName, { readonly file: string; readonly zod: z.ZodType }>> = Object.freeze({
  policy: { file: JSON_SCHEMA_FILES.policy, zod: PolicySchema as z.ZodType },
  manifest: { file: JSON_SCHEMA_FILES.manifest, zod: ManifestSchema as z.ZodType },
  contract: { file: JSON_SCHEMA_FILES.contract, zod: ContractSchema as z.ZodType },
  oidc: { file: JSON_SCHEMA_FILES.oidc, zod: OidcConfigSchema as z.ZodType },
});

type Json = Record<string, unknown>;

const OPTIONS = {
  target: 'draft-2020-12',
  // What a person writes: before transforms and defaults (a default makes no field required).
  io: 'input',
  // A transform that registered no form (jsonSchemaFormOf) accepts anything: the parser checks it.
  unrepresentable: 'any',
  override: (ctx: { zodSchema: unknown; jsonSchema: Json }) => {
    if (ctx.zodSchema === ValidationSchema) {
      withByValidator(ctx.jsonSchema);
      return;
    }
    const form = jsonSchemaFormOf(ctx.zodSchema as z.ZodType);
    if (form === undefined) return;
    const { $schema: _, ...shape } = toJsonSchema(form);
    const { description } = ctx.jsonSchema;
    for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
    Object.assign(ctx.jsonSchema, description === undefined ? {} : { description }, shape);
  },
} as const;

/**
 * A validation's `uses` names a built-in validator, and its `with` is what that validator takes (as
 * `tollgate policy check` checks them): the domain's schema knows no validators, the registry does.
 */
function withByValidator(validation: Json): void {
  const properties = validation.properties as Record<string, Json>;
  const names = [...VALIDATOR_SCHEMAS.keys()].sort();
  properties.uses = { ...properties.uses, enum: names };
  validation.allOf = names.map((name) => {
    const { $schema: _, ...args } = toJsonSchema(VALIDATOR_SCHEMAS.get(name)!);
    // A schema with definitions of its own would need them hoisted to the root; none has any.
    if ('$defs' in args) throw new Error(`the with schema of ${name} has $defs, which the policy schema does not carry`);
    const needsWith = Array.isArray(args.required) && args.required.length > 0;
    return {
      if: { properties: { uses: { const: name } }, required: ['uses'] },
      then: { ...(needsWith ? { required: ['with'] } : {}), properties: { with: { description: `What the ${name} validator takes (docs/validators.md).`, ...args } } },
    };
  });
}

function toJsonSchema(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, OPTIONS) as Json;
}

/** One JSON Schema, generated from its zod schema. */
export function generateJsonSchema(name: JsonSchemaName): Json {
  return toJsonSchema(JSON_SCHEMAS[name].zod);
}

/** A schema as its file holds it: two-space JSON and a final newline. */
export function jsonSchemaText(schema: Json): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Every schema's file name (under schemas/) and text. */
export function generateJsonSchemaFiles(): { readonly name: JsonSchemaName; readonly file: string; readonly text: string }[] {
  return (Object.keys(JSON_SCHEMAS) as JsonSchemaName[]).map((name) => ({ name, file: JSON_SCHEMAS[name].file, text: jsonSchemaText(generateJsonSchema(name)) }));
}
