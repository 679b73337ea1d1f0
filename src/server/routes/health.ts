import { defineRoute, type RouteSpec } from '../route.js';
import { openApiDocument } from '../openapi.js';

/** What operators and tools read without a token: liveness, readiness, metrics, the API description. */
export function healthRoutes(api: () => readonly RouteSpec[], version: string): RouteSpec[] {
  let openapi: unknown;
  return [
    defineRoute({
      method: 'GET',
      url: '/healthz',
      summary: 'Liveness: the process answers',
      tag: 'operations',
      access: 'public',
      returns: '{ok: true}',
      handler: async () => ({ ok: true }),
    }),
    defineRoute({
      method: 'GET',
      url: '/readyz',
      summary: 'Readiness: the store answers a query; 503 when it does not',
      tag: 'operations',
      access: 'public',
      returns: '{ok: true} or 503 {ok: false}',
      handler: async ({ deps, reply }) => {
        try {
          await deps.store.auditHead();
          return { ok: true };
        } catch (err) {
          reply.log.error({ err }, 'readiness check: the store does not answer');
          void reply.code(503);
          return { ok: false };
        }
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      summary: 'Prometheus metrics: requests by route and status, promotions, blocked promotions by reason, validation outcomes',
      tag: 'operations',
      access: 'public',
      returns: 'Prometheus text exposition format',
      handler: async ({ metrics, reply }) => {
        void reply.type(metrics.contentType);
        return metrics.text();
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      summary: 'This API, described in OpenAPI 3.1',
      tag: 'operations',
      access: 'public',
      returns: 'OpenAPI 3.1 document',
      handler: async () => (openapi ??= openApiDocument(api(), { version })),
    }),
  ];
}
