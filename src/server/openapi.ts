/**
 * `/openapi.json`, OpenAPI 3.1, built from the same route declarations and zod schemas that validate
 * the requests: what the document says is what the server enforces.
 */
import * as z from 'zod';
import { ERRORS } from '../domain/errors.js';
import type { RouteSpec } from './route.js';

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): Json {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

/** Path and query parameters, one per property of the (object) schema. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const s = jsonSchema(schema);
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: p }));
}

const ERROR_SCHEMA: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'hint'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
        hint: { type: 'string' },
        problems: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, file: { type: 'string' }, line: { type: 'integer' }, col: { type: 'integer' }, message: { type: 'string' } } },
        },
        details: { description: 'TG_PROMOTION_BLOCKED: the full decision, with promoted: false' },
      },
    },
  },
};

export function openApiDocument(routes: readonly RouteSpec[], info: { version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const errorResponse = { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op: Json = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: r.summary,
      tags: [r.tag],
      ...(r.access === 'public' ? { security: [] } : {}),
      ...(r.access === 'admin' ? { description: 'Needs the `admin` role in the active policy\'s roster.' } : {}),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } }
        : {}),
      responses: {
        [String(r.status ?? 200)]: { description: r.returns },
        ...(r.access !== 'public' ? { '401': errorResponse, '403': errorResponse } : {}),
        '4XX': errorResponse,
        '500': errorResponse,
      },
    };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tollgate API',
      version: info.version,
      description:
        'Guarded promotion of ML releases. Every /api route needs `Authorization: Bearer <token>` (`tollgate token create USER`). ' +
        'Errors answer `{error: {code, message, hint}}` with the codes of docs/errors.md.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token: tg_ and 43 base64url characters' } },
      schemas: { Error: ERROR_SCHEMA },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
