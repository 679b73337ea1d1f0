import { defineRoute } from '../route.js';
import { ApplyPolicyBody, PolicyVersionParams } from '../schemas.js';

/** The policy: apply a new version (admin), read the active one and the history, and preview a change. */
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
  defineRoute({
    method: 'GET',
    url: '/api/policies',
    summary: 'Every recorded policy version, newest first (no text: GET /api/policies/:version has it)',
    tag: 'policy',
    access: 'member',
    returns: '{policies: [{version, digest, name, appliedAt, appliedBy, active}]}',
    handler: async ({ useCases }) => ({ policies: await useCases().listPolicies() }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/policies/:version',
    summary: 'One policy version (a number, or `active`): its text as applied and the policy it parsed to',
    tag: 'policy',
    access: 'member',
    params: PolicyVersionParams,
    returns: 'PolicyDetail: {version, digest, name, appliedAt, appliedBy, active, source, policy}',
    handler: ({ useCases, params }) => useCases().showPolicy(params.version === 'active' ? undefined : Number(params.version)),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/policies/diff',
    summary: 'What applying a policy would change, without applying it: releases whose outcome changes per stage, sign-offs that would go stale',
    tag: 'policy',
    access: 'member',
    body: ApplyPolicyBody,
    returns: 'PolicyDiff: {active, proposed, evaluatedAt, releases, stages, changes: [{release, stage, before, after, gates}], staleSignoffs}',
    handler: ({ useCases, body }) => useCases().diffPolicy(body.source, body.file),
  }),
];
