import { createWebhook, listDeliveries, listWebhooks, redeliverWebhook, removeWebhook } from '../../service/webhooks.js';
import { defineRoute } from '../route.js';
import { CreateWebhookBody, DeliveriesQuery, Empty, IdParams } from '../schemas.js';

/** Webhook subscriptions and their delivery log, for admins (locally: `tollgate webhook …`). */
export const webhookRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/webhooks',
    summary: 'Subscribe a URL to events; the signing secret is in this answer only',
    tag: 'webhooks',
    access: 'admin',
    does: 'manage webhooks',
    body: CreateWebhookBody,
    status: 201,
    returns: '{id, url, events, format, secret, createdAt, createdBy, removedAt}',
    handler: ({ deps, user, body, reply }) => {
      void reply.header('cache-control', 'no-store');
      return createWebhook(deps, user, body);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/webhooks',
    summary: 'Every webhook subscription, without its secret',
    tag: 'webhooks',
    access: 'admin',
    does: 'list webhooks',
    returns: '{webhooks: [{id, url, events, format, createdAt, createdBy, removedAt}]}',
    handler: async ({ deps }) => ({ webhooks: await listWebhooks(deps.store) }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/webhooks/:id',
    summary: 'Remove a webhook subscription; its unsent deliveries are dropped',
    tag: 'webhooks',
    access: 'admin',
    does: 'manage webhooks',
    params: IdParams,
    returns: '{id, url, events, format, createdAt, createdBy, removedAt}',
    handler: ({ deps, user, params }) => removeWebhook(deps, user, params.id),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/webhooks/:id/deliveries',
    summary: "A webhook's delivery log, newest first, with every try",
    tag: 'webhooks',
    access: 'admin',
    does: 'read the webhook delivery log',
    params: IdParams,
    query: DeliveriesQuery,
    returns: '{deliveries: [{id, webhookId, event, auditSeq, status, attempts, nextAttemptAt, deliveredAt, lastStatus, lastError, tries}]}',
    handler: async ({ deps, params, query }) => ({ deliveries: await listDeliveries(deps.store, { webhookId: params.id, ...query }) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/webhook-deliveries',
    summary: 'The delivery log of every webhook, newest first',
    tag: 'webhooks',
    access: 'admin',
    does: 'read the webhook delivery log',
    query: DeliveriesQuery,
    returns: '{deliveries: [...]}',
    handler: async ({ deps, query }) => ({ deliveries: await listDeliveries(deps.store, query) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/webhook-deliveries/:id/redeliveries',
    summary: 'Send a delivery again now (a failed one gets one more try; a delivered one is sent again)',
    tag: 'webhooks',
    access: 'admin',
    does: 'redeliver webhooks',
    params: IdParams,
    body: Empty,
    returns: '{id, webhookId, event, auditSeq, status, attempts, nextAttemptAt, deliveredAt, lastStatus, lastError, tries}',
    handler: ({ deps, user, params }) => redeliverWebhook(deps, user, params.id),
  }),
];
