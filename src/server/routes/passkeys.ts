import { defineRoute } from '../route.js';
import { PasskeyIdParams, PasskeysQuery } from '../schemas.js';

/**
 * Passkeys over the API (locally: `tollgate passkey list|revoke`). Registering one needs a browser and
 * happens on the review desk. Any roster member may call these: an admin sees and revokes anyone's,
 * everyone else only their own (the service refuses the rest with TG_NOT_ALLOWED, audited as a 403).
 */
export const passkeyRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/passkeys',
    summary: "Passkeys: everyone's for an admin, else the caller's own; `user` narrows",
    tag: 'passkeys',
    access: 'member',
    query: PasskeysQuery,
    returns: '{passkeys: [{id, user, algorithm, transports, rpId, origin, createdAt, createdBy, revokedAt, revokedBy}]}',
    handler: async ({ passkeyUseCases, query }) => ({ passkeys: await passkeyUseCases().list(query.user) }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/passkeys/:id',
    summary: 'Revoke a passkey by its credential id (an admin, or its owner): its sign-offs stop counting',
    tag: 'passkeys',
    access: 'member',
    params: PasskeyIdParams,
    returns: '{id, user, algorithm, transports, rpId, origin, createdAt, createdBy, revokedAt, revokedBy}',
    handler: ({ passkeyUseCases, params }) => passkeyUseCases().revoke(params.id),
  }),
];
