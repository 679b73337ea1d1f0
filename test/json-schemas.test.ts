/**
 * The JSON Schemas in schemas/ (issue 14): generated from the zod schemas and committed, so this test
 * regenerates them and fails when the files are behind; each field carries a description; and the
 * schemas agree with the parsers `tollgate` runs. Every example and fixture file of the four kinds
 * that the parser accepts, the schema accepts; every invalid one the parser refuses for a field
 * reason, the schema refuses. What the parser refuses for a reason JSON Schema cannot say (a name
 * that must be defined elsewhere in the file, unique ids, a CEL expression, a time zone) is listed
 * below with that reason, and the test checks the schema does accept it, so the list stays true.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { TollgateError } from '../src/domain/errors.js';
import { parseManifest } from '../src/domain/manifest.js';
import { checkPolicy } from '../src/domain/policy.js';
import { generateJsonSchemaFiles, JSON_SCHEMA_DIR, JSON_SCHEMAS, type JsonSchemaName } from '../src/json-schema/generate.js';
import { loadOidcConfig } from '../src/server/oidc.js';
import { InputError } from '../src/validators/inputs.js';
import { VALIDATOR_SCHEMAS } from '../src/validators/registry.js';
import { loadContract } from '../src/validators/schema/contract.js';
import { BASE as MANIFEST, CASES as MANIFEST_CASES, edit as editManifest } from './fixtures/manifest-cases.js';
import { CASES as OIDC_CASES, VALID as OIDC_VALID } from './fixtures/oidc-cases.js';
import { BASE as POLICY, CASES as POLICY_CASES, edit as editPolicy, publicKey } from './fixtures/policy-cases.js';

const REPO = path.resolve(import.meta.dirname, '..');
/** The shared fixtures, found beside the repository as the other tests find them. */
const SHARED = path.resolve(REPO, '../shared/fixtures');

// Strict: an unknown keyword or format is an error. Ajv's strict mode also wants a `type` beside every
// keyword in subschemas (the if/then, not and anyOf parts that restate a rule need none) and a
// `required` field declared in the same subschema; those are Ajv's style, not JSON Schema's rules.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, strictTuples: false });
// `format: uri` (the http validator's url), which editors check too.
addFormats.default(ajv);
const validators = new Map<JsonSchemaName, ValidateFunction>();
function validatorOf(name: JsonSchemaName): ValidateFunction {
  let v = validators.get(name);
  if (v === undefined) {
    v = ajv.compile(JSON.parse(fs.readFileSync(path.join(REPO, JSON_SCHEMA_DIR, JSON_SCHEMAS[name].file), 'utf8')) as object);
    validators.set(name, v);
  }
  return v;
}

/** The schema's errors for a YAML text, read as an editor's YAML language server reads it (YAML 1.2). */
function schemaErrors(name: JsonSchemaName, text: string): string[] {
  const validate = validatorOf(name);
  return validate(parseYaml(text)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-schemas-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The parser's problems with a file of this kind; empty when it takes it. */
function parserProblems(name: JsonSchemaName, text: string, file: string): string[] {
  const refused = (run: () => unknown): string[] => {
    try {
      run();
      return [];
    } catch (err) {
      if (err instanceof TollgateError || err instanceof InputError) return [err.message];
      throw err;
    }
  };
  switch (name) {
    // As `tollgate policy check` checks it: with the built-in validators' `with` schemas.
    case 'policy':
      return checkPolicy(text, file, { validators: VALIDATOR_SCHEMAS }).map((p) => p.message);
    case 'manifest':
      return refused(() => parseManifest(text, file));
    case 'contract':
      return refused(() => loadContract(text, file));
    case 'oidc': {
      // A JWKS file beside it, for a configuration that names one.
      const dir = fs.mkdtempSync(path.join(tmp, 'oidc-'));
      fs.mkdirSync(path.join(dir, 'keys'));
      fs.writeFileSync(path.join(dir, 'keys', 'ci.json'), JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] }));
      fs.writeFileSync(path.join(dir, 'oidc.yaml'), text);
      return refused(() => loadOidcConfig(path.join(dir, 'oidc.yaml')));
    }
  }
}

describe('the committed schemas', () => {
  // Generated inside the test, not in the table: nothing under test runs while the file is collected
  // (docs/reliability.md, "Mutation testing").
  it.each(Object.keys(JSON_SCHEMAS) as JsonSchemaName[])('the %s schema is what the zod schemas generate', (name) => {
    const { file, text } = generateJsonSchemaFiles().find((f) => f.name === name)!;
    const committed = path.join(REPO, JSON_SCHEMA_DIR, file);
    const have = fs.existsSync(committed) ? fs.readFileSync(committed, 'utf8') : '';
    expect(have === text, `${JSON_SCHEMA_DIR}/${file} is behind the zod schemas: run \`npm run schemas\` and commit the result`).toBe(true);
  });

  it('ship in the package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };
    expect(pkg.files).toContain(JSON_SCHEMA_DIR);
    expect(pkg.scripts.schemas).toMatch(/gen-schemas\.mjs/);
  });

  it.each(Object.keys(JSON_SCHEMAS) as JsonSchemaName[])('%s: compiles under draft 2020-12 in strict mode, and describes every field', (name) => {
    expect(() => validatorOf(name)).not.toThrow();
    const schema = JSON.parse(fs.readFileSync(path.join(REPO, JSON_SCHEMA_DIR, JSON_SCHEMAS[name].file), 'utf8')) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toEqual(expect.any(String));
    const undescribed: string[] = [];
    let fields = 0;
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        // Fields are the keys of `properties`; the if/then/anyOf parts that restate a rule for editors
        // name fields already described, but for a validation's `with`, whose fields are the
        // validator's (then/properties/with).
        const restated = /\/(if|then|anyOf|oneOf|not)(\/|$)/.test(at.replace(/\/allOf\/\d+\/then\/properties\/with\b/g, '/with'));
        if (key === 'properties' && !restated) {
          for (const [field, def] of Object.entries(value as Record<string, Record<string, unknown>>)) {
            fields += 1;
            if (typeof def.description !== 'string' || def.description.length < 10) undescribed.push(`${at}/properties/${field}`);
          }
        }
        walk(value, `${at}/${key}`);
      }
    };
    walk(schema, '');
    expect(fields).toBeGreaterThan(3);
    expect([...new Set(undescribed)]).toEqual([]);
  });
});

// ---------------------------------------------------------------- the example project and the fixtures

/** The example policy as init writes it: each `${user}` a public key. */
function examplePolicy(text: string): string {
  const keys = new Map<string, string>();
  return text.replace(/\$\{(\w+)\}/g, (_, user: string) => {
    if (!keys.has(user)) keys.set(user, publicKey());
    return keys.get(user)!;
  });
}

/** Which schema describes a YAML file, by what it holds; undefined for other YAML (parity inputs…). */
function kindOf(data: unknown): JsonSchemaName | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const d = data as Record<string, unknown>;
  if (d.kind === 'Policy') return 'policy';
  if ('subject' in d && 'artifacts' in d) return 'manifest';
  if ('issuers' in d) return 'oidc';
  if ('columns' in d || 'colums' in d) return 'contract';
  return undefined;
}

function yamlFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
}

/** Every YAML file of the four kinds in examples/, test/fixtures/ and the shared fixtures. */
const FILES = [...yamlFilesUnder(path.join(REPO, 'examples')), ...yamlFilesUnder(path.join(REPO, 'test/fixtures')), ...yamlFilesUnder(SHARED)].flatMap((file) => {
  const raw = fs.readFileSync(file, 'utf8');
  const text = path.relative(REPO, file) === 'examples/project/tollgate.yaml' ? examplePolicy(raw) : raw;
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch {
    // Broken YAML (bad-yaml.yaml) is the YAML parser's to report, before any schema.
    return [];
  }
  const kind = kindOf(data);
  return kind === undefined ? [] : [{ file: path.relative(REPO, file), kind, text }];
});

describe('examples and fixtures: the schema takes what the parser takes, and refuses what it refuses', () => {
  it('finds the example project\'s files and the contract fixtures', () => {
    expect(FILES.map((f) => `${f.kind} ${f.file}`)).toEqual(
      expect.arrayContaining([
        'policy examples/project/tollgate.yaml',
        'manifest examples/project/release.yaml',
        'contract examples/project/contracts/tx.yaml',
        'contract test/fixtures/validators/schema/tx.yaml',
        'contract test/fixtures/validators/schema/bad-type.yaml',
      ]),
    );
  });

  it.each(FILES)('$kind $file', ({ file, kind, text }) => {
    const parser = parserProblems(kind, text, file);
    const schema = schemaErrors(kind, text);
    if (parser.length === 0) expect(schema, `the parser takes ${file}`).toEqual([]);
    else expect(schema.length, `the parser refuses ${file}: ${parser.join('; ')}`).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- the invalid files the parsers' tests use

/** Why JSON Schema cannot refuse what the parser does; the schema must accept these (checked). */
const ROSTER_REF = 'a role must be one the roster gives someone: a reference across the file';
const STAGE_REF = 'a stage must be one the file defines: a reference across the file';
const UNIQUE = 'ids unique within a list of maps: JSON Schema\'s uniqueItems compares whole items only';
const CEL = 'a CEL condition is checked by compiling it';

const PARSER_ONLY: Record<JsonSchemaName, Record<string, string>> = {
  policy: {
    'a duplicate gate id': UNIQUE,
    'a bad CEL expression': CEL,
    'a CEL expression with an unknown variable': CEL,
    'a CEL expression that is not a bool': CEL,
    'an unknown role in a sign-off rule': ROSTER_REF,
    'an unknown role in a checklist item': ROSTER_REF,
    'more sign-offs than people who hold the role': 'compares a count with the number of roster members holding the role',
    'an unknown stage': STAGE_REF,
    'an after naming an unknown stage': STAGE_REF,
    'an after cycle': 'a cycle through several stages\' after',
    'a stage after itself': 'compares two values of one stage',
    'a stage defined twice': UNIQUE,
    'a role nobody holds in a stage\'s promoters': ROSTER_REF,
    'a role nobody holds in a stage\'s rollback': ROSTER_REF,
    'a break-glass role nobody holds': ROSTER_REF,
    'a follow-up item id twice': UNIQUE,
    'a waiver role nobody holds': ROSTER_REF,
    'a recurring freeze window in a time zone that does not exist': 'the IANA time zones are the runtime\'s (ICU) list, not a fixed pattern',
    'a freeze window that ends before it starts': 'compares the two times of an interval',
    'two people sharing a key': 'one key per person: unique values across the roster',
    'a duplicate checklist item id': UNIQUE,
    'a duplicate validation id': UNIQUE,
    'an unknown gate in after': 'a gate must be one the file defines: a reference across the file',
    'its own gate in after': 'compares a rule\'s after with its gate\'s id',
    'an unknown stage in inStage': STAGE_REF,
  },
  manifest: {
    'a duplicate artifact name': UNIQUE,
    'lineage naming an unknown artifact': 'an artifact must be one the manifest lists: a reference across the file',
    'lineage into an unknown artifact': 'an artifact must be one the manifest lists: a reference across the file',
  },
  contract: {
    'a min above its max': 'compares two values of one column',
    'a date bound on a day that does not exist': 'calendar days (2024-02-30) need a date parser; the pattern checks the form',
    'a regex RE2 cannot compile': 'a regular expression is checked by compiling it with RE2',
    'freshness on a string column': 'freshness.column must name a column of the contract with a time type: a reference across the file',
  },
  oidc: {
    'a JWKS URL that is not a URL': 'parsing a URL (https:// with no host); the pattern checks the scheme',
    'a missing JWKS file': 'the file must exist on the server',
    'an issuer listed twice': UNIQUE,
  },
};

interface InvalidCase {
  readonly name: string;
  readonly text: string;
  /** YAML the YAML parser refuses: no schema sees it. */
  readonly yaml?: boolean;
}

/** The approvals gate's sign-off rules in POLICY. */
const SIGNOFFS = `    signoffs:\n      - { role: ml-engineer, count: 1 }\n      - { role: security, count: 1, when: "release.risk in ['high', 'critical']" }\n`;
const ruleEdit = (rule: string) => editPolicy('      - { role: ml-engineer, count: 1 }\n', rule);
const stageEdit = (lines: string) => editPolicy('  - name: staging\n', `  - name: staging\n${lines}`);

const INVALID: Record<JsonSchemaName, readonly InvalidCase[]> = {
  policy: [
    ...POLICY_CASES.map((c) => ({ name: c.name, text: c.text, yaml: c.code === 'TG_YAML_SYNTAX' })),
    // src/domain/policy.test.ts's sign-off preconditions
    { name: 'an unknown gate in after', text: ruleEdit('      - { role: ml-engineer, count: 1, after: [automatd] }\n') },
    { name: 'its own gate in after', text: ruleEdit('      - { role: ml-engineer, count: 1, after: [approvals] }\n') },
    { name: 'an unknown stage in inStage', text: ruleEdit('      - { role: ml-engineer, count: 1, inStage: stagin }\n') },
    { name: 'an empty after', text: ruleEdit('      - { role: ml-engineer, count: 1, after: [] }\n') },
    { name: 'a misspelt field in a rule', text: ruleEdit('      - { role: ml-engineer, cuont: 1 }\n') },
    { name: 'a misspelt field in the map form', text: editPolicy(SIGNOFFS, '    signoffs:\n      rules:\n        - { role: ml-engineer, cuont: 1 }\n') },
    // validations' `with` blocks (test/cli.validate.test.ts: policy check checks them by validator)
    { name: 'a with block its validator does not accept', text: editPolicy('psi: { max: 0.2 }', 'psi: { max: "high" }') },
    { name: 'an unknown validator', text: editPolicy('uses: sarif', 'uses: sarif2') },
    { name: 'an unknown field in a with block', text: editPolicy('failOn: [error]', 'failOn: [error], fialOn: [warning]') },
    { name: 'a with block without a field its validator needs', text: editPolicy('with: { report: reports/junit.xml }', 'with: { minPassRate: 0.9 }') },
    { name: 'a validation without the with block its validator needs', text: editPolicy('{ id: tests, uses: junit, with: { report: reports/junit.xml } }', '{ id: tests, uses: junit }') },
    { name: 'a threshold out of range', text: editPolicy('with: { report: reports/junit.xml }', 'with: { report: reports/junit.xml, minPassRate: 1.5 }') },
    // hand-offs (docs/handoff.md: what `policy check` reports)
    { name: 'a hand-off with two kinds', text: stageEdit('    handoff: [{ git: { repo: /srv/deploy.git, file: s.json }, webhook: "https://x.example/h" }]\n') },
    { name: 'a hand-off of no kind', text: stageEdit('    handoff: [{ deploy: now }]\n') },
    { name: 'a hand-off file outside the repository', text: stageEdit('    handoff: [{ git: { repo: /srv/deploy.git, file: ../s.json } }]\n') },
    { name: 'a hand-off repository that starts with "-"', text: stageEdit('    handoff: [{ git: { repo: --upload-pack=x, file: s.json } }]\n') },
    { name: 'a hand-off branch that is not a branch name', text: stageEdit('    handoff: [{ git: { repo: /srv/deploy.git, branch: "a..b", file: s.json } }]\n') },
    { name: 'a hand-off command without a program', text: stageEdit('    handoff: [{ command: [""] }]\n') },
    { name: 'a hand-off timeout that is not a duration', text: stageEdit('    handoff: [{ command: [./deploy.sh], timeout: soon }]\n') },
    { name: 'a hand-off webhook that is neither a URL nor an id', text: stageEdit('    handoff: [{ webhook: "ftp://x.example" }]\n') },
  ],
  manifest: MANIFEST_CASES.map((c) => ({ name: c.name, text: c.text, yaml: c.code === 'TG_YAML_SYNTAX' })),
  contract: [
    // src/validators/schema/schema-validator.test.ts and its fixtures (bad-rules.yaml, one rule each)
    { name: 'an unknown column field', text: 'columns:\n  id: { type: integer, nullible: false }\n' },
    { name: 'an unknown top-level field', text: 'colums:\n  id: { type: integer }\n' },
    { name: 'an unknown type', text: 'columns:\n  id: { type: float }\n' },
    { name: 'a column without a type', text: 'columns:\n  id: { nullable: false }\n' },
    { name: 'no columns', text: 'columns: {}\n' },
    { name: 'a regex on an integer column', text: "columns:\n  id: { type: integer, regex: '^[0-9]+$' }\n" },
    { name: 'a fraction allowed in an integer column', text: 'columns:\n  id: { type: integer, allowed: [1, 2.5] }\n' },
    { name: 'a number allowed in a string column', text: 'columns:\n  c: { type: string, allowed: [EUR, 1] }\n' },
    { name: 'a min on a string column', text: 'columns:\n  currency: { type: string, min: 1 }\n' },
    { name: 'a string min on a number column', text: "columns:\n  amount: { type: number, min: '1' }\n" },
    { name: 'a date bound that is not a date', text: "columns:\n  day: { type: date, min: '31.01.2024' }\n" },
    { name: 'allowed on a boolean column', text: 'columns:\n  b: { type: boolean, allowed: [true] }\n' },
    { name: 'a min above its max', text: 'columns:\n  amount: { type: number, min: 10, max: 1 }\n' },
    { name: 'a date bound on a day that does not exist', text: "columns:\n  day: { type: date, min: '2024-02-30' }\n" },
    { name: 'a regex RE2 cannot compile', text: "columns:\n  a: { type: string, regex: '(' }\n" },
    { name: 'a regex too long to be written by hand', text: `columns:\n  a: { type: string, regex: '${'a'.repeat(1001)}' }\n` },
    { name: 'a freshness maxAge that is not a duration', text: 'columns:\n  t: { type: timestamp }\nfreshness: { column: t, maxAge: 1 day }\n' },
    { name: 'freshness on a string column', text: 'columns:\n  c: { type: string }\nfreshness: { column: c, maxAge: 1d }\n' },
    { name: 'a row count below 0', text: 'columns:\n  id: { type: integer }\nrows: { min: -1 }\n' },
    { name: 'a nullable that is not true or false', text: 'columns:\n  id: { type: integer, nullable: "no" }\n' },
  ],
  oidc: OIDC_CASES.map((c) => ({ name: c.name, text: c.text.join('\n'), yaml: c.code === 'TG_YAML_SYNTAX' })),
};

describe.each(Object.keys(INVALID) as JsonSchemaName[])('%s: every invalid file the parser refuses', (name) => {
  const cases = INVALID[name];
  const parserOnly = PARSER_ONLY[name];

  it('lists only cases that exist', () => {
    expect(Object.keys(parserOnly).filter((n) => !cases.some((c) => c.name === n))).toEqual([]);
  });

  it.each(cases.filter((c) => !c.yaml))('$name', ({ name: caseName, text }) => {
    expect(parserProblems(name, text, 'file.yaml'), 'the parser refuses it').not.toEqual([]);
    const errors = schemaErrors(name, text);
    const reason = parserOnly[caseName];
    if (reason === undefined) expect(errors.length, 'the schema refuses it').toBeGreaterThan(0);
    // Only the parser can say this one (the reason above); the schema must take the file otherwise.
    else expect(errors, `listed as parser-only: ${reason}`).toEqual([]);
  });
});

describe('valid files beyond the fixtures: the schema takes each', () => {
  const rule = '      - { role: ml-engineer, count: 1 }\n';
  const valid: Record<JsonSchemaName, Record<string, string>> = {
    policy: {
      'DESIGN.md\'s example': POLICY,
      'a sign-off without a count': editPolicy(rule, '      - { role: ml-engineer }\n'),
      'the map form of signoffs': editPolicy(SIGNOFFS, `    signoffs:\n      staleOnNewEvidence: true\n      rules:\n        - { role: ml-engineer, after: [automated], inStage: staging }\n`),
      'stage settings': editPolicy(
        '    after: staging ',
        '    soak: 24h\n    promoters: [security]\n    rollback: [security]\n    clear: [security]\n    breakGlass: { role: security, followUp: [{ id: postmortem, text: Write it, evidence: required, roles: [ml-engineer] }] }\n    after: staging ',
      ),
      'a recurring freeze window': editPolicy('freeze: ["2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"]', 'freeze: ["2026-12-24T00:00:00+01:00/2026-12-27T00:00:00.5Z", { cron: "0 16 * * FRI", duration: 1h30m, timezone: Europe/Berlin }]'),
      'every kind of hand-off': stageEdit(
        '    handoff:\n      - { git: { repo: /srv/deploy.git, file: releases/staging.json } }\n      - { git: { repo: "git@git.example.com:p/d.git", branch: release/v2, file: charts/values.yaml, set: { path: image.tag, value: 2 } } }\n      - { command: [./deploy.sh, staging], timeout: 5m }\n      - { webhook: "https://deploy.example.com/hooks/tollgate", timeout: 10s }\n      - { webhook: whk_4f1c2a9e0b3d }\n',
      ),
      'waivers and a gate condition': editPolicy('    expires: 168h\n', '    expires: 7d\n    when: "release.risk == \'high\'"\n    waivers: [security]\n'),
    },
    manifest: {
      'DESIGN.md\'s example': MANIFEST,
      'numbers where strings are meant': editManifest('version: 2.4.0', 'version: 2.10'),
      'the metrics fields': `${MANIFEST}unplanned: true\ncommitTime: "2026-12-01T09:30:00+01:00"\n`,
      'a path with its sha256 and size': editManifest('path: model/model.onnx }', `path: model/model.onnx, sha256: "sha256:${'ab'.repeat(32)}", size: 12 }`),
    },
    contract: {
      'every rule of the documented contract': [
        'name: transactions',
        'description: Scored card transactions',
        'columns:',
        '  id:         { type: integer, nullable: false, unique: true, min: -5, max: 10, allowed: [1, 2] }',
        '  amount:     { type: number, min: 0, max: 10000.5, allowed: [1.5] }',
        '  currency:   { type: string, allowed: [EUR, USD, GBP], regex: "^[A-Z]{3}$", description: ISO 4217 }',
        '  is_fraud:   { type: boolean }',
        "  day:        { type: date, min: '2024-01-01', max: '2024-12-31' }",
        "  created_at: { type: timestamp, nullable: false, min: '2024-01-31T12:00:00Z', max: '2024-12-31 23:59' }",
        'allowExtraColumns: false',
        'rows: { min: 1, max: 5000000 }',
        'freshness: { column: created_at, maxAge: 24h }',
      ].join('\n'),
    },
    oidc: {
      'docs/oidc.md\'s example, and a desk sign-in': [
        ...OIDC_VALID,
        '    claim: sub',
        '    users: { "repo:acme/fraud-detector:ref:refs/heads/main": ci }',
        '    algorithms: [RS256, EdDSA]',
        '  - issuer: https://login.example.com',
        '    audience: [tollgate, tollgate-desk]',
        '    jwks: http://localhost:8080/jwks',
        '    login: { clientId: tollgate-desk, clientSecret: s3cret, name: Example SSO, scope: openid email }',
      ].join('\n'),
    },
  };
  const all = (Object.keys(valid) as JsonSchemaName[]).flatMap((name) => Object.entries(valid[name]).map(([what, text]) => ({ name, what, text })));

  it.each(all)('$name: $what', ({ name, text }) => {
    expect(parserProblems(name, text, 'file.yaml'), 'the parser takes it').toEqual([]);
    expect(schemaErrors(name, text)).toEqual([]);
  });
});
