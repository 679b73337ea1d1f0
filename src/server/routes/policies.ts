import { defineRoute } from '../route.js';
import { ApplyPolicyBody } from '../schemas.js';

/** The policy: apply a new version (admin), read the active one. */
export const policyRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/policies',
    summary: 'Record a new policy version (no-op when the active one has the same digest)',
    tag: 'policy',
    access: 'admin',
    does: 'apply a policy',
    // With no policy there is no roster, hence no admin yet: any valid token applies the first one.
    bootstrap: true,
    body: ApplyPolicyBody,
    status: 201,
    returns: 'ApplyPolicyResult: {name, version, digest, changed}',
    handler: ({ useCases, body }) => useCases().applyPolicy(body.source, body.file),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/policy',
    summary: 'The active policy version, or null before any policy was applied',
    tag: 'policy',
    access: 'member',
    returns: '{policy: {name, version, digest, appliedAt, appliedBy, stages} | null}',
    handler: async ({ useCases }) => ({ policy: (await useCases().activePolicy()) ?? null }),
  }),
];
