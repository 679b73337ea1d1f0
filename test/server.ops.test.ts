/**
 * What operators and tools read: /healthz, /readyz, /metrics (Prometheus text) and /openapi.json
 * (OpenAPI 3.1, generated from the same schemas that validate requests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../src/server/app.js';
import { buildTemplate, passingResults, serve, V1, V2, type Served, type Template } from './server-fixture.js';

let template: Template;
let s: Served;

beforeAll(async () => {
  template = await buildTemplate();
  s = await serve(template);
});
afterAll(async () => {
  await s.close();
  const fs = await import('node:fs');
  fs.rmSync(template.dir, { recursive: true, force: true });
});

describe('health', () => {
  it('/healthz answers while the process lives, /readyz while the store answers', async () => {
    expect((await s.app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    expect((await s.app.inject({ url: '/readyz' })).json()).toEqual({ ok: true });
    const copy = await serve(template);
    const store = copy.deps.store as unknown as Record<string, unknown>;
    store.auditHead = async () => {
      throw new Error('database is locked');
    };
    try {
      const res = await copy.app.inject({ url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ ok: false });
    } finally {
      await copy.close();
    }
  });
});

describe('/metrics', () => {
  it('counts requests by route pattern and status, promotions, blocked reasons and validation outcomes', async () => {
    const copy = await serve(template);
    try {
      const as = (who: 'release-manager' | 'validator' | 'ml-engineer') => ({ authorization: template.headers[who]! });
      const ref = encodeURIComponent(V1);
      // Bob signed V1 off: his own promotion is refused (separation of duties), dave's goes through.
      expect((await copy.app.inject({ method: 'POST', url: `/api/releases/${ref}/promotions`, headers: as('ml-engineer'), payload: { stage: 'production' } })).statusCode).toBe(409);
      expect((await copy.app.inject({ method: 'POST', url: `/api/releases/${ref}/promotions`, headers: as('release-manager'), payload: { stage: 'production' } })).statusCode).toBe(201);
      const results = await passingResults(copy.deps, V2, 'staging');
      expect((await copy.app.inject({ method: 'POST', url: `/api/releases/${encodeURIComponent(V2)}/validations`, headers: as('validator'), payload: { results } })).statusCode).toBe(201);
      await copy.app.inject({ url: `/api/releases/${ref}` });
      await copy.app.inject({ url: '/nowhere' });

      const res = await copy.app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.body;
      expect(text).toContain('tollgate_promotions_total{stage="production",outcome="blocked"} 1');
      expect(text).toContain('tollgate_promotions_total{stage="production",outcome="promoted"} 1');
      expect(text).toContain('tollgate_promotions_blocked_reasons_total{stage="production",reason="signoff:missing"} 1');
      expect(text).toContain('tollgate_validation_results_total{validator="junit",outcome="passed"} 1');
      expect(text).toContain('tollgate_validation_results_total{validator="metrics",outcome="passed"} 1');
      expect(text).toContain('tollgate_http_requests_total{method="POST",route="/api/releases/:ref/promotions",status="409"} 1');
      expect(text).toContain('tollgate_http_requests_total{method="GET",route="/api/releases/:ref",status="401"} 1');
      expect(text).toContain('tollgate_http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect(text).toMatch(/tollgate_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/releases\/:ref\/promotions"\}/);
      // Concrete release names never become label values.
      expect(text).not.toContain('fraud-detector@');
    } finally {
      await copy.close();
    }
  });
});

describe('/openapi.json', () => {
  let doc: any;
  beforeAll(async () => {
    const res = await s.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
  });

  it('is OpenAPI 3.1 with bearer security', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('describes every route the app registers, and no other', () => {
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`),
    );
    expect(documented.sort()).toEqual(registeredRoutes(s.app).map((r) => `${r.method} ${r.url}`).sort());
  });

  it('gives each body the schema that validates it: strict objects, required fields, parameters', () => {
    const promote = doc.paths['/api/releases/{ref}/promotions'].post;
    const schema = promote.requestBody.content['application/json'].schema;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['stage'] });
    expect(promote.parameters).toEqual([expect.objectContaining({ name: 'ref', in: 'path', required: true })]);
    expect(promote.responses['201']).toBeDefined();
    const status = doc.paths['/api/releases/{ref}/status'].get;
    expect(status.parameters.map((p: any) => [p.name, p.in, p.required])).toEqual([
      ['ref', 'path', true],
      ['stage', 'query', true],
    ]);
    const check = doc.paths['/api/releases/{ref}/checklist'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(check)).toContain('"contentEncoding":"base64"');
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/api/tokens'].post.description).toMatch(/admin/);
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining(['TG_PROMOTION_BLOCKED', 'TG_TOKEN_INVALID', 'TG_REQUEST_INVALID']));
  });

  it('has unique operation ids', () => {
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
