#!/usr/bin/env node
/**
 * Writes the JSON Schemas of the files people write (policy, release manifest, data contract, OIDC
 * configuration) to schemas/, from the zod schemas that parse them (src/json-schema/generate.ts).
 * Run by `npm run schemas`, after a build; test/json-schemas.test.ts fails when the files are behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateJsonSchemaFiles, JSON_SCHEMA_DIR } from '../dist/json-schema/generate.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(repo, JSON_SCHEMA_DIR);
fs.mkdirSync(dir, { recursive: true });
for (const { file, text } of generateJsonSchemaFiles()) {
  const target = path.join(dir, file);
  const before = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  if (before !== text) fs.writeFileSync(target, text);
  console.log(`${before === text ? 'unchanged' : 'wrote'} ${path.relative(repo, target)}`);
}
