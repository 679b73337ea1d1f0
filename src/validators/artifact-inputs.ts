/**
 * `artifact:NAME` in a validation's `with`: an input that is one of the release's own artifacts
 * (`with: { current: artifact:eval-metrics }`). It resolves to the artifact's registered path, and
 * the file there must have the registered digest, so the result is bound to the bytes the release
 * names wherever the validation runs; the result records the input as `artifact:NAME`.
 */
import fs from 'node:fs';
import type { Digest } from '../domain/digest.js';
import type { ReleaseManifest } from '../domain/model.js';
import { digestFile, InputError, resolveInput } from './inputs.js';

export const ARTIFACT_PREFIX = 'artifact:';

export interface ResolvedArtifacts {
  /** The `with` block with each `artifact:NAME` replaced by the artifact's path. */
  readonly with: Readonly<Record<string, unknown>>;
  /** Path as substituted → `artifact:NAME`, to name the recorded inputs as the policy does. */
  readonly names: ReadonlyMap<string, string>;
}

/**
 * Replaces every `artifact:NAME` string in `args` (at any depth) with the artifact's path, after
 * checking that the file under `baseDir` is the registered one. Throws InputError saying what is
 * wrong (unknown artifact, no local path, missing file, other bytes): the validation then errors.
 */
export async function resolveArtifactInputs(args: Readonly<Record<string, unknown>>, manifest: ReleaseManifest, baseDir: string): Promise<ResolvedArtifacts> {
  const names = new Map<string, string>();
  const checked = new Map<string, Promise<void>>();
  const resolve = async (value: unknown): Promise<unknown> => {
    if (typeof value === 'string' && value.startsWith(ARTIFACT_PREFIX)) {
      const name = value.slice(ARTIFACT_PREFIX.length);
      const artifact = manifest.artifacts.find((a) => a.name === name);
      if (!artifact) {
        throw new InputError(`${value}: the release has no artifact "${name}" (artifacts: ${manifest.artifacts.map((a) => a.name).join(', ')})`);
      }
      if (artifact.path === undefined) {
        throw new InputError(`${value}: the artifact has no local path (it is at ${artifact.uri}); fetch it and register a release whose manifest gives its path`);
      }
      const p = artifact.path;
      if (!checked.has(p)) checked.set(p, checkArtifactFile(resolveInput(baseDir, p), `sha256:${artifact.sha256}`, value));
      await checked.get(p);
      names.set(p, value);
      return p;
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)] as const)));
    }
    return value;
  };
  return { with: (await resolve(args)) as Record<string, unknown>, names };
}

async function checkArtifactFile(file: string, registered: Digest, ref: string): Promise<void> {
  if (!fs.existsSync(file)) throw new InputError(`${ref}: no file at ${file}`);
  const actual = await digestFile(file);
  if (actual !== registered) {
    throw new InputError(`${ref}: ${file} is not the registered artifact (its digest is ${actual}, the release registered ${registered})`);
  }
}

/** The recorded inputs with each substituted path named back as `artifact:NAME`. */
export function nameArtifactInputs(inputs: Readonly<Record<string, Digest>>, names: ReadonlyMap<string, string>): Record<string, Digest> {
  return Object.fromEntries(Object.entries(inputs).map(([k, d]) => [names.get(k) ?? k, d]));
}
