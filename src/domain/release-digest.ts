/**
 * What a decision needs of a release manifest besides the manifest itself: its digest, and the
 * patterns of names. Apart from the parser (manifest.ts: zod and YAML), so that `status` and the
 * server's decisions do not load it.
 */
import { digestOf, type Digest } from './digest.js';
import type { ReleaseManifest } from './model.js';

/** A subject: lowercase, because `subject@version` names a release in paths, URLs and CLI arguments. */
export const SUBJECT_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
/** A version: semver and most other schemes (`2.4.0`, `2024.06.1`, `2.4.0-rc.1+build.5`). */
export const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;
/** A time with its zone (RFC 3339), as a manifest's `commitTime`: without a zone it would name another moment on every machine. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The release digest: canonical JSON of the normalized manifest, absent fields left out. */
export function releaseDigest(manifest: ReleaseManifest): Digest {
  return digestOf(dropUndefined(manifest));
}

/** A sha256 as stored: 64 lowercase hex digits, without the `sha256:` prefix. */
export function normalizeSha256(text: string): string {
  return (text.startsWith('sha256:') ? text.slice('sha256:'.length) : text).toLowerCase();
}

/** A copy without undefined fields, so an absent field and an undefined one digest the same. */
export function dropUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => dropUndefined(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, dropUndefined(v)]),
    ) as T;
  }
  return value;
}
