import { actorOf } from '../audit/events.js';
import { releaseDigest } from '../domain/release-digest.js';
import { tollgateError } from '../domain/errors.js';
import { releaseName, type ReleaseManifest } from '../domain/model.js';
import type { Digest } from '../domain/digest.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy } from './lookup.js';

export interface CreateReleaseResult {
  readonly release: string;
  readonly digest: Digest;
  /** False when the same name with the same content was already registered. */
  readonly created: boolean;
}

/**
 * Registers a release. A name is bound to one digest forever: the same content again is a no-op,
 * other content under a known name is refused.
 */
export async function createRelease(deps: ServiceDeps, actor: string | undefined, manifest: ReleaseManifest): Promise<CreateReleaseResult> {
  const digest = releaseDigest(manifest);
  const name = releaseName(manifest);
  return change(deps, async ({ tx, at, vouch }) => {
    const policy = await requirePolicy(tx);
    const by = requireMember(policy.policy, actor);
    const existing = await tx.findRelease(manifest.subject, manifest.version);
    if (existing) {
      if (existing.digest === digest) return { release: name, digest, created: false };
      throw tollgateError('TG_RELEASE_CONFLICT', `${name} is already registered with digest ${existing.digest}; this manifest has ${digest}`);
    }
    await tx.insertRelease(
      { subject: manifest.subject, version: manifest.version, digest, manifest, createdAt: at, createdBy: by },
      vouch('ReleaseCreated', actorOf(by), {
        release: name,
        digest,
        risk: manifest.risk,
        owner: manifest.owner,
        artifacts: manifest.artifacts.map((a) => ({ name: a.name, sha256: a.sha256 })),
        // What the delivery metrics read (docs/metrics.md), only when the manifest says it.
        ...(manifest.unplanned !== undefined ? { unplanned: manifest.unplanned } : {}),
        ...(manifest.commitTime !== undefined ? { commitTime: manifest.commitTime } : {}),
      }),
    );
    return { release: name, digest, created: true };
  });
}
