/**
 * Who may act on a stage: promote into it, roll it back, clear a rollback's hold on a release. The
 * policy names roles per stage (`promoters`, `rollback`, `clear`). Pure: the policy and a user in, a
 * refusal naming the roles out.
 */
import { tollgateError } from './errors.js';
import { rosterEntry, type Policy, type StageDef } from './model.js';

export type StageAction = 'promote' | 'rollback' | 'clear';

/**
 * Who may clear a hold when the stage does not say. Clearing puts a release that was pulled back in
 * reach of a stage, so it is kept to the people who run releases rather than every member; promoting
 * and rolling back stay open to every member by default, as they were before the policy could say.
 */
export const DEFAULT_CLEAR_ROLES: readonly string[] = Object.freeze(['release-manager', 'admin']);

const FIELD: Record<StageAction, 'promoters' | 'rollback' | 'clear'> = { promote: 'promoters', rollback: 'rollback', clear: 'clear' };
const VERB: Record<StageAction, (stage: string) => string> = {
  promote: (s) => `promote into ${s}`,
  rollback: (s) => `roll back ${s}`,
  clear: (s) => `clear a rollback hold on ${s}`,
};

/** The roles that may take `action` on the stage; undefined when every roster member may. */
export function rolesFor(stage: StageDef, action: StageAction): readonly string[] | undefined {
  const named = stage[FIELD[action]];
  if (named !== undefined) return named;
  return action === 'clear' ? DEFAULT_CLEAR_ROLES : undefined;
}

/** True when `user` (a roster member) may take `action` on the stage. */
export function mayAct(policy: Policy, stage: StageDef, user: string, action: StageAction): boolean {
  const roles = rolesFor(stage, action);
  if (roles === undefined) return true;
  const held = rosterEntry(policy, user)?.roles ?? [];
  return held.some((r) => roles.includes(r));
}

/**
 * Throws TG_NOT_ALLOWED unless `user` may take `action` on the stage. The message names the roles
 * that may, who holds them, and the roles the user holds, so the refusal says whom to ask.
 */
export function requireStageRole(policy: Policy, stageName: string, user: string, action: StageAction): void {
  const stage = policy.stages.find((s) => s.name === stageName);
  if (!stage || mayAct(policy, stage, user, action)) return;
  const roles = rolesFor(stage, action) ?? [];
  const holders = Object.entries(policy.roster)
    .filter(([, e]) => e.roles.some((r) => roles.includes(r)))
    .map(([u]) => u)
    .sort();
  const field = FIELD[action];
  const source = stage[field] !== undefined ? `the policy's "${field}" for ${stageName}` : `the default for "${field}"`;
  const held = rosterEntry(policy, user)?.roles ?? [];
  throw tollgateError(
    'TG_NOT_ALLOWED',
    `${user} may not ${VERB[action](stageName)}: that needs the role ${roles.map((r) => `"${r}"`).join(' or ')} (${source}); ${user} holds ${held.join(', ') || 'no role'}`,
    {
      hint: holders.length > 0 ? `Ask ${holders.join(', ')}, or have the policy give ${user} one of these roles.` : `Nobody in the roster holds ${roles.join(' or ')}: give someone the role in the policy.`,
      details: { action, stage: stageName, roles, user },
    },
  );
}
