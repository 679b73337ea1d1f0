/**
 * Does the SBOM name the release's artifacts? A component names an artifact by content when one of
 * its SHA-256 hashes is the artifact's registered digest; failing that, by name when its name (or
 * `group/name`) is the artifact's and it gives no SHA-256 at all. A component of that name whose
 * SHA-256 is another one describes other bytes: that is a mismatch, not a match.
 */
import type { Artifact } from '../../domain/model.js';
import type { SbomComponent } from './document.js';

export const ARTIFACT_MATCHES = ['digest', 'digest-or-name'] as const;
export type ArtifactMatch = (typeof ARTIFACT_MATCHES)[number];

export interface ArtifactFinding {
  readonly artifact: string;
  readonly sha256: string;
  /** How the SBOM names it; absent when it does not. */
  readonly matchedBy?: 'digest' | 'name';
  /** The component that names it. */
  readonly component?: string;
  /** Why it is not named, when it is not. */
  readonly problem?: string;
}

export function matchArtifact(a: Artifact, components: readonly SbomComponent[], by: ArtifactMatch): ArtifactFinding {
  const base = { artifact: a.name, sha256: a.sha256 };
  const byDigest = components.find((c) => c.sha256.includes(a.sha256));
  if (byDigest) return { ...base, matchedBy: 'digest', component: byDigest.label };
  const named = components.filter((c) => c.name === a.name || c.fullName === a.name);
  const other = named.find((c) => c.sha256.length > 0);
  const plain = named.find((c) => c.sha256.length === 0);
  if (plain && by === 'digest-or-name') return { ...base, matchedBy: 'name', component: plain.label };
  if (other) {
    return { ...base, component: other.label, problem: `the SBOM's ${other.label} has sha256 ${other.sha256.join(', ')}, but the release registered ${a.sha256} for artifact ${a.name}: it describes other bytes` };
  }
  if (plain) return { ...base, component: plain.label, problem: `the SBOM names artifact ${a.name} (${plain.label}) without a SHA-256 hash, and matchArtifactsBy is digest` };
  return { ...base, problem: `the SBOM does not name artifact ${a.name} (no component has its sha256 ${a.sha256}${by === 'digest-or-name' ? ' or its name' : ''})` };
}
