import { createApiToken, listApiTokens, revokeApiToken } from '../../service/tokens.js';
import { defineRoute } from '../route.js';
import { CreateTokenBody, IdParams } from '../schemas.js';

/** API tokens, managed over the API by admins (locally: `tollgate token create|revoke`). */
export const tokenRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/tokens',
    summary: 'Issue an API token for a user; the secret is in this answer only',
    tag: 'tokens',
    access: 'admin',
    does: 'issue API tokens',
    body: CreateTokenBody,
    status: 201,
    returns: '{id, user, token, expiresAt}',
    handler: ({ deps, user, body, reply }) => {
      // The answer holds a secret: no cache may keep it.
      void reply.header('cache-control', 'no-store');
      return createApiToken(deps, user, body.user, body.expires);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/tokens',
    summary: 'Every API token, without its secret',
    tag: 'tokens',
    access: 'admin',
    does: 'list API tokens',
    returns: '{tokens: [{id, user, createdAt, createdBy, expiresAt, revokedAt}]}',
    handler: async ({ deps }) => ({ tokens: await listApiTokens(deps.store) }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/tokens/:id',
    summary: 'Revoke an API token by its id',
    tag: 'tokens',
    access: 'admin',
    does: 'revoke API tokens',
    params: IdParams,
    returns: '{id, user, createdAt, createdBy, expiresAt, revokedAt}',
    handler: ({ deps, user, params }) => revokeApiToken(deps, user, params.id),
  }),
];
