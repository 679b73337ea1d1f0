/**
 * Reading a CycloneDX JSON SBOM: the document must be CycloneDX 1.4, 1.5 or 1.6 and valid against
 * that version's JSON Schema, checked with the schemas `@cyclonedx/cyclonedx-library` ships (ajv,
 * offline: the library refuses to fetch a remote schema). Then the few parts the `sbom` validator
 * judges are read into plain types.
 */
import * as z from 'zod';
import { InputError } from '../inputs.js';

/** The CycloneDX versions read here: the ones whose vulnerability and VEX fields this validator reads. */
export const SPEC_VERSIONS = ['1.4', '1.5', '1.6'] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];

// Loose objects: the schema has already checked the whole document; these pick out what is judged.
const Hash = z.looseObject({ alg: z.string(), content: z.string() });
const LicenseChoice = z.looseObject({
  license: z.looseObject({ id: z.string().optional(), name: z.string().optional(), acknowledgement: z.string().optional() }).optional(),
  expression: z.string().optional(),
  acknowledgement: z.string().optional(),
});
export type LicenseChoice = z.infer<typeof LicenseChoice>;

interface RawComponent {
  readonly 'bom-ref'?: string;
  readonly type?: string;
  readonly group?: string;
  readonly name: string;
  readonly version?: string;
  readonly purl?: string;
  readonly hashes?: readonly z.infer<typeof Hash>[];
  readonly licenses?: readonly LicenseChoice[];
  readonly components?: readonly RawComponent[];
}
const Component: z.ZodType<RawComponent> = z.lazy(() =>
  z.looseObject({
    'bom-ref': z.string().optional(),
    type: z.string().optional(),
    group: z.string().optional(),
    name: z.string(),
    version: z.string().optional(),
    purl: z.string().optional(),
    hashes: z.array(Hash).optional(),
    licenses: z.array(LicenseChoice).optional(),
    components: z.array(Component).optional(),
  }),
);

const Vulnerability = z.looseObject({
  'bom-ref': z.string().optional(),
  id: z.string().optional(),
  source: z.looseObject({ name: z.string().optional() }).optional(),
  ratings: z.array(z.looseObject({ severity: z.string().optional(), score: z.number().optional(), method: z.string().optional() })).optional(),
  affects: z.array(z.looseObject({ ref: z.string() })).optional(),
  analysis: z.looseObject({ state: z.string().optional(), justification: z.string().optional(), detail: z.string().optional() }).optional(),
});
export type Vulnerability = z.infer<typeof Vulnerability>;

const Bom = z.looseObject({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.enum(SPEC_VERSIONS),
  metadata: z.looseObject({ component: Component.optional() }).optional(),
  components: z.array(Component).optional(),
  vulnerabilities: z.array(Vulnerability).optional(),
});

/** A component of the SBOM, flattened out of its nesting. */
export interface SbomComponent {
  readonly ref?: string;
  /** `group/name@version`, or as much of it as the SBOM gives: how failures name it. */
  readonly label: string;
  readonly name: string;
  readonly fullName: string;
  readonly purl?: string;
  /** Lowercase hex SHA-256 digests the SBOM gives for it. */
  readonly sha256: readonly string[];
  readonly licenses: readonly LicenseChoice[];
  /** It is the SBOM's subject (`metadata.component` or one nested in it), not a dependency. */
  readonly subject: boolean;
}

export interface SbomDocument {
  readonly specVersion: SpecVersion;
  /** Every component, nested ones included, the subject's first. */
  readonly components: readonly SbomComponent[];
  readonly vulnerabilities: readonly Vulnerability[];
}

function flatten(list: readonly RawComponent[] | undefined, subject: boolean, out: SbomComponent[]): void {
  for (const c of list ?? []) {
    const fullName = c.group ? `${c.group}/${c.name}` : c.name;
    out.push({
      ...(c['bom-ref'] !== undefined ? { ref: c['bom-ref'] } : {}),
      label: c.version ? `${fullName}@${c.version}` : fullName,
      name: c.name,
      fullName,
      ...(c.purl !== undefined ? { purl: c.purl } : {}),
      sha256: (c.hashes ?? []).filter((h) => h.alg.toUpperCase() === 'SHA-256').map((h) => h.content.toLowerCase()),
      licenses: c.licenses ?? [],
      subject,
    });
    flatten(c.components, subject, out);
  }
}

/** The value at a JSON pointer of the document, to show what a schema error is about. */
function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

interface AjvError {
  readonly instancePath?: string;
  readonly message?: string;
}

function describeSchemaErrors(errors: unknown, doc: unknown): string {
  const list = (Array.isArray(errors) ? errors : [errors]) as AjvError[];
  const first = list[0] ?? {};
  const at = first.instancePath || '/';
  const value = valueAt(doc, first.instancePath ?? '');
  const found = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? ` (found ${JSON.stringify(value)})` : '';
  const more = list.length > 1 ? ` (and ${list.length - 1} more schema error${list.length === 2 ? '' : 's'})` : '';
  return `${at}: ${first.message ?? 'does not match the schema'}${found}${more}`;
}

type JsonValidator = { validate(data: string): Promise<unknown> };
const validators = new Map<SpecVersion, Promise<JsonValidator>>();

/**
 * The library's JSON validator for a version, made once per process: compiling a CycloneDX schema
 * (with the SPDX id list it references) takes about a second. Loaded on first use, so that commands
 * that never read an SBOM do not load ajv and the schemas.
 */
function validatorFor(version: SpecVersion): Promise<JsonValidator> {
  let v = validators.get(version);
  if (!v) {
    v = Promise.all([import('@cyclonedx/cyclonedx-library/Validation'), import('@cyclonedx/cyclonedx-library/Spec')]).then(
      ([Validation, Spec]) => {
        const spec = { '1.4': Spec.Version.v1dot4, '1.5': Spec.Version.v1dot5, '1.6': Spec.Version.v1dot6 }[version];
        return new Validation.JsonValidator(spec);
      },
    );
    // A failed load is not kept: the next SBOM tries again (and says why, if it fails again).
    v.catch(() => validators.delete(version));
    validators.set(version, v);
  }
  return v;
}

/**
 * Parses and checks an SBOM. Throws InputError naming the file and what is wrong: not JSON, not
 * CycloneDX, a version other than 1.4–1.6, or the first place the schema is broken.
 */
export async function readSbom(text: string, key: string): Promise<SbomDocument> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${key}: not JSON (${(err as Error).message}); the sbom validator reads CycloneDX JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc as { bomFormat?: unknown }).bomFormat !== 'CycloneDX') {
    throw new InputError(`${key}: not a CycloneDX SBOM: expected a JSON object with "bomFormat": "CycloneDX"`);
  }
  const version = (doc as { specVersion?: unknown }).specVersion;
  if (typeof version !== 'string' || !(SPEC_VERSIONS as readonly string[]).includes(version)) {
    throw new InputError(`${key}: CycloneDX specVersion ${JSON.stringify(version ?? null)} is not supported; expected ${SPEC_VERSIONS.join(', ')}`);
  }
  const errors = await (await validatorFor(version as SpecVersion)).validate(text);
  if (errors !== null) throw new InputError(`${key}: not a valid CycloneDX ${version} document: ${describeSchemaErrors(errors, doc)}`);
  // The schema guarantees what Bom reads; a failure here would be a gap between the two.
  const parsed = Bom.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${key}: cannot read the CycloneDX ${version} document at ${issue.path.join('.')}: ${issue.message}`);
  }
  const components: SbomComponent[] = [];
  flatten(parsed.data.metadata?.component ? [parsed.data.metadata.component] : [], true, components);
  flatten(parsed.data.components, false, components);
  return { specVersion: parsed.data.specVersion, components, vulnerabilities: parsed.data.vulnerabilities ?? [] };
}
