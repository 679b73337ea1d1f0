import { actorOf } from '../audit/events.js';
import { tollgateError } from '../domain/errors.js';
import { ADMIN_ROLE, rosterEntry, type PolicyVersion } from '../domain/model.js';
import { requireMember } from './lookup.js';
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

/**
 * Records a new policy version, unless the active one has the same content digest. Once a policy is
 * active, only a member holding its `admin` role may replace it (the same rule in local mode as over
 * the API), and the version is recorded as theirs; the very first policy has no roster to ask, so
 * anyone may apply it (`init` does).
 */
export async function applyPolicy(deps: ServiceDeps, actor: string | undefined, source: string, file: string): Promise<ApplyPolicyResult> {
  // Imported here, not above: every use case is composed in use-cases.ts, and the policy parser (zod,
  // YAML) and the validators (with their parsers and database drivers) are not loaded by a CLI
  // `status` or `release list` (issue 9).
  const [{ parsePolicy }, { VALIDATOR_SCHEMAS }] = await Promise.all([import('../domain/policy.js'), import('../validators/registry.js')]);
  const { policy, digest } = parsePolicy(source, file, { validators: VALIDATOR_SCHEMAS });
  return change(deps, async ({ tx, at, vouch }) => {
    const active = await tx.activePolicy();
    if (active) requireAdmin(active, actor);
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

/**
 * The caller may change the policy: a member of the active policy's roster holding `admin`. Checked
 * inside the transaction that records the new version, against the version it replaces (not the new
 * one: nobody grants themselves `admin` by writing it into the file they apply).
 */
export function requireAdmin(active: PolicyVersion, actor: string | undefined): string {
  const user = requireMember(active.policy, actor);
  if (!rosterEntry(active.policy, user)!.roles.includes(ADMIN_ROLE)) {
    throw tollgateError('TG_NOT_ALLOWED', `${user} may not apply a policy: that needs the "${ADMIN_ROLE}" role in the roster of policy ${active.policy.name} (version ${active.version})`, {
      hint: `Ask a roster member with the "${ADMIN_ROLE}" role (${adminsOf(active).join(', ') || 'no one holds it in this version'}) to apply it.`,
    });
  }
  return user;
}

function adminsOf(active: PolicyVersion): string[] {
  return Object.entries(active.policy.roster)
    .filter(([, e]) => e.roles.includes(ADMIN_ROLE))
    .map(([u]) => u);
}
