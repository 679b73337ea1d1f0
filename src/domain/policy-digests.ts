/**
 * What a decision needs of a policy besides the policy itself: the digests that sign-offs, checklist
 * completions, validation results and promotions bind to, and the roster's lookups. Apart from the
 * parser (policy.ts: zod and YAML), so that `status` and the server's decisions do not load it.
 */
import { digestOf, type Digest } from './digest.js';
import type { ChecklistItemDef, GateDef, Policy, ValidationDef } from './model.js';

/** Roster user names, roles, stage names and ids: they travel as CLI arguments and in URLs. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The digest a promotion records: canonical JSON of the parsed policy. */
export function policyDigest(policy: Policy): Digest {
  return digestOf(policy);
}

/** What a sign-off binds to: a change to this gate makes its sign-offs stale, a change elsewhere does not. */
export function gateDigest(gate: GateDef): Digest {
  return digestOf(gate);
}

/** What a checklist completion binds to; the gate id and stage are in it so a moved item is a new item. */
export function itemDigest(gate: GateDef, item: ChecklistItemDef): Digest {
  return digestOf({ gate: gate.id, stage: gate.stage, item });
}

/** What a validation result binds to: a changed validation (its `with`, say) makes old results stale. */
export function validationDigest(gate: GateDef, validation: ValidationDef): Digest {
  return digestOf({ gate: gate.id, stage: gate.stage, validation });
}

/** Every role some roster member holds, sorted. */
export function rolesOf(policy: Policy): string[] {
  return [...new Set(Object.values(policy.roster).flatMap((e) => e.roles))].sort();
}

/** The roster members who hold `role`, sorted. */
export function holdersOf(policy: Policy, role: string): string[] {
  return Object.entries(policy.roster)
    .filter(([, e]) => e.roles.includes(role))
    .map(([user]) => user)
    .sort();
}
