import { actorOf } from '../audit/events.js';
import type { Digest } from '../domain/digest.js';
import { change } from './change.js';
import type { ServiceDeps } from './deps.js';

export interface ApplyPolicyResult {
  readonly name: string;
  readonly version: number;
  readonly digest: Digest;
  /** False when the newest version already has this digest: nothing was recorded. */
  readonly changed: boolean;
}

/** Records a new policy version, unless the active one has the same content digest. */
export async function applyPolicy(deps: ServiceDeps, actor: string | undefined, source: string, file: string): Promise<ApplyPolicyResult> {
  // Imported here, not above: every use case is composed in use-cases.ts, and the policy parser (zod,
  // YAML) and the validators (with their parsers and database drivers) are not loaded by a CLI
  // `status` or `release list` (issue 9).
  const [{ parsePolicy }, { VALIDATOR_SCHEMAS }] = await Promise.all([import('../domain/policy.js'), import('../validators/registry.js')]);
  const { policy, digest } = parsePolicy(source, file, { validators: VALIDATOR_SCHEMAS });
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await tx.activePolicy();
    if (active && active.digest === digest) return { name: policy.name, version: active.version, digest, changed: false };
    const by = actor ?? 'local';
    // The store numbers the version; the event names it as its claim does.
    const recorded = await tx.insertPolicy(
      { digest, name: policy.name, policy, source, appliedAt: at, appliedBy: by },
      vouch('PolicyApplied', actorOf(actor), (claims) => ({
        name: policy.name,
        version: Number(claims[0]!.key),
        digest,
        previous: active ? { version: active.version, digest: active.digest } : null,
      })),
    );
    return { name: policy.name, version: recorded.version, digest, changed: true };
  });
}
