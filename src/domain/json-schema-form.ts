/**
 * The JSON Schemas of the files people write (`schemas/*.schema.json`, `npm run schemas`) are
 * generated from the zod schemas that parse those files. A few zod schemas read any value and sort it
 * out in a transform (so that a problem is reported at its own field): JSON Schema cannot describe a
 * transform, so such a schema names here the shape it accepts, and the generator shows that instead.
 */
import type * as z from 'zod';

const forms = new WeakMap<z.ZodType, z.ZodType>();

/** Records that `schema`'s JSON Schema is `as`'s; returns `schema`. */
export function withJsonSchemaForm<S extends z.ZodType>(schema: S, as: z.ZodType): S {
  forms.set(schema, as);
  return schema;
}

/** The schema whose JSON Schema stands for `schema`'s, if one was recorded. */
export function jsonSchemaFormOf(schema: z.ZodType): z.ZodType | undefined {
  return forms.get(schema);
}
