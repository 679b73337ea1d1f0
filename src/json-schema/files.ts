/**
 * Where the JSON Schemas are: their file names under schemas/ in the package, and the line that
 * points an editor at one (`# yaml-language-server: $schema=…`). Kept apart from the generator, which
 * loads every zod schema, so that `init` can write the line without loading them.
 */
import path from 'node:path';

/** The package's folder of JSON Schemas. */
export const JSON_SCHEMA_DIR = 'schemas';

/** Each schema's file under schemas/. */
export const JSON_SCHEMA_FILES = Object.freeze({
  policy: 'policy.schema.json',
  manifest: 'manifest.schema.json',
  contract: 'contract.schema.json',
  oidc: 'oidc.schema.json',
});

export type JsonSchemaName = keyof typeof JSON_SCHEMA_FILES;

/** The package as npm knows it: a local install is node_modules/tollgate, the published files are on unpkg. */
const PACKAGE = 'tollgate';

const MODELINE = /^# yaml-language-server: \$schema=\S*[^\S\n]*\n/;

/**
 * What a file in `dir` (of the project in `projectDir`) names as its schema: the copy in the
 * project's node_modules/tollgate when Tollgate is installed there (relative, so the file reads the
 * same on every machine and offline), else the published copy of this `version` on unpkg (Tollgate
 * installed globally, or run with npx).
 */
export function schemaReference(name: JsonSchemaName, opts: { readonly projectDir: string; readonly dir: string; readonly version: string; readonly installed: boolean }): string {
  const file = JSON_SCHEMA_FILES[name];
  if (!opts.installed) return `https://unpkg.com/${PACKAGE}@${opts.version}/${JSON_SCHEMA_DIR}/${file}`;
  const up = relativeUp(opts.projectDir, opts.dir);
  return `${up}node_modules/${PACKAGE}/${JSON_SCHEMA_DIR}/${file}`;
}

/** The path in a project where an installed Tollgate keeps a schema, relative to the project. */
export function installedSchemaPath(name: JsonSchemaName): string {
  return `node_modules/${PACKAGE}/${JSON_SCHEMA_DIR}/${JSON_SCHEMA_FILES[name]}`;
}

/**
 * `text` with `# yaml-language-server: $schema=REF` as its first line: replaces a modeline already
 * there (the example project's point into this repository), else adds one. A YAML comment, so the
 * file means the same; positions in messages (`file:line:col`) are the file's own, modeline included.
 */
export function withModeline(text: string, ref: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return `# yaml-language-server: $schema=${ref}${eol}${text.replace(MODELINE, '')}`;
}

/** `../` once for each folder `dir` is below `projectDir`. */
function relativeUp(projectDir: string, dir: string): string {
  const rel = path.relative(projectDir, dir).split(path.sep).filter((s) => s !== '');
  return rel.map(() => '../').join('');
}
