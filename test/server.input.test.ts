/**
 * Bad input over the API: malformed JSON, wrong types, unknown fields, oversize bodies, path tricks in
 * evidence names. Each gets a 4xx with a stable code and a message, never a 500, and nothing is
 * written (the audit head is the same before and after). Unexpected failures answer a generic 500
 * without internals, and the logs never hold a token or a signature.
 */
import { Writable } from 'node:stream';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from './client-suite.js';
import { buildTemplate, carolSignoff, serve, V1, type Served, type Template } from './server-fixture.js';

let template: Template;
let s: Served;
let auth: Record<string, string>;
const ref = encodeURIComponent(V1);

beforeAll(async () => {
  template = await buildTemplate();
  s = await serve(template);
  auth = { authorization: template.headers['release-manager']! };
});
afterAll(async () => {
  await s.close();
  const fs = await import('node:fs');
  fs.rmSync(template.dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly req: InjectOptions;
  readonly status: number;
  readonly code: string;
  /** A part of the message or a problem path that must name what is wrong. */
  readonly says?: RegExp;
}

const json = { 'content-type': 'application/json' };
/** Marks a case to be sent with the admin's token (the template, and so the token, exists only in beforeAll). */
const admin = (): Record<string, string> => ({ 'x-test-as': 'admin' });
const MiB = 1024 * 1024;
const post = (url: string, payload: unknown, headers: Record<string, string> = {}): InjectOptions => ({
  method: 'POST',
  url,
  headers: { ...json, ...headers },
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});
const file = (name: string, content = Buffer.from('evidence').toString('base64')) => ({
  stage: 'staging',
  item: 'datasets-listed',
  evidence: { kind: 'file', name, content },
});

const CASES: Case[] = [
  // Malformed bodies.
  { name: 'malformed JSON', req: post('/api/releases', '{"subject": '), status: 400, code: 'TG_REQUEST_INVALID', says: /JSON/ },
  { name: 'empty JSON body', req: post('/api/releases', ''), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'a JSON array instead of an object', req: post('/api/releases', '[]'), status: 400, code: 'TG_REQUEST_INVALID', says: /object/ },
  { name: 'JSON null', req: post('/api/audit/verify', 'null'), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'text/plain body', req: { method: 'POST', url: '/api/releases', headers: { 'content-type': 'text/plain' }, payload: 'hello' }, status: 400, code: 'TG_REQUEST_INVALID', says: /application\/json/ },
  { name: 'form body', req: { method: 'POST', url: '/api/audit/verify', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'since=x' }, status: 400, code: 'TG_REQUEST_INVALID' },
  { name: '__proto__ key', req: post('/api/audit/verify', '{"__proto__": {"admin": true}}'), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'constructor.prototype key', req: post('/api/audit/verify', '{"constructor": {"prototype": {"admin": true}}}'), status: 400, code: 'TG_REQUEST_INVALID' },
  // Wrong types and missing fields.
  { name: 'a number where a stage belongs', req: post(`/api/releases/${ref}/promotions`, { stage: 5 }), status: 400, code: 'TG_REQUEST_INVALID', says: /body\.stage/ },
  { name: 'a missing field', req: post(`/api/releases/${ref}/promotions`, {}), status: 400, code: 'TG_REQUEST_INVALID', says: /body\.stage/ },
  { name: 'an empty stage', req: post(`/api/releases/${ref}/promotions`, { stage: '' }), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'a bad risk tier', req: post('/api/releases', { ...manifest('9.0.0'), risk: 'extreme' }), status: 400, code: 'TG_REQUEST_INVALID', says: /risk/ },
  { name: 'a bad sha256', req: post('/api/releases', { ...manifest('9.0.0'), artifacts: [{ name: 'm', kind: 'model', path: 'm', sha256: 'abc' }] }), status: 400, code: 'TG_REQUEST_INVALID', says: /sha256/ },
  { name: 'lineage naming an unknown artifact', req: post('/api/releases', { ...manifest('9.0.0'), lineage: [{ from: ['ghost'], to: 'model' }] }), status: 400, code: 'TG_REQUEST_INVALID', says: /ghost/ },
  { name: 'a decision that is neither approve nor reject', req: post(`/api/releases/${ref}/signoff-drafts`, { stage: 'production', role: 'security', decision: 'maybe' }), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'a bad digest in a validation result', req: post(`/api/releases/${ref}/validations`, { results: [{ releaseDigest: 'sha256:xyz' }] }), status: 400, code: 'TG_REQUEST_INVALID', says: /releaseDigest/ },
  { name: 'a bad inputs map on promote', req: post(`/api/releases/${ref}/promotions`, { stage: 'staging', inputs: { 'a.csv': 'md5:1' } }), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'a repeated query parameter', req: { method: 'GET', url: `/api/releases/${ref}/status?stage=staging&stage=production` }, status: 400, code: 'TG_REQUEST_INVALID', says: /query\.stage/ },
  { name: 'a missing query parameter', req: { method: 'GET', url: `/api/releases/${ref}/status` }, status: 400, code: 'TG_REQUEST_INVALID', says: /query\.stage/ },
  { name: 'inputs that are not JSON', req: { method: 'GET', url: `/api/releases/${ref}/status?stage=staging&inputs=%7Bnope` }, status: 400, code: 'TG_REQUEST_INVALID', says: /inputs/ },
  { name: 'evidence that is not base64', req: post(`/api/releases/${ref}/checklist`, file('a.txt', 'not base64!')), status: 400, code: 'TG_REQUEST_INVALID', says: /content/ },
  { name: 'an evidence kind that does not exist', req: post(`/api/releases/${ref}/checklist`, { stage: 'staging', item: 'datasets-listed', evidence: { kind: 's3', uri: 'x' } }), status: 400, code: 'TG_REQUEST_INVALID' },
  // Unknown fields, in the body, nested, and in the query.
  { name: 'an unknown body field', req: post(`/api/releases/${ref}/promotions`, { stage: 'staging', force: true }), status: 400, code: 'TG_REQUEST_INVALID', says: /force/ },
  { name: 'an unknown manifest field', req: post('/api/releases', { ...manifest('9.0.0'), approvedBy: 'me' }), status: 400, code: 'TG_REQUEST_INVALID', says: /approvedBy/ },
  { name: 'an unknown nested field', req: post(`/api/releases/${ref}/checklist`, { stage: 'staging', item: 'x', evidence: { kind: 'url', uri: 'https://x', trusted: true } }), status: 400, code: 'TG_REQUEST_INVALID', says: /trusted/ },
  { name: 'an unknown query parameter', req: { method: 'GET', url: '/api/releases?subject=a&limit=5' }, status: 400, code: 'TG_REQUEST_INVALID', says: /limit/ },
  { name: 'a signed sign-off with an extra field', req: post(`/api/releases/${ref}/signoffs`, { signoffs: [{ type: 'tollgate/signoff/v1', extra: 1 }] }), status: 400, code: 'TG_REQUEST_INVALID', says: /extra/ },
  // Webhook subscriptions (as an admin): bad URLs, events and secrets, and unknown fields.
  { name: 'a webhook URL that is not http', req: post('/api/webhooks', { url: 'file:///etc/passwd', events: ['*'] }, admin()), status: 400, code: 'TG_USAGE', says: /http or https/ },
  { name: 'a webhook event that does not exist', req: post('/api/webhooks', { url: 'https://x.example/h', events: ['release.deleted'] }, admin()), status: 400, code: 'TG_USAGE', says: /release\.deleted/ },
  { name: 'a webhook without events', req: post('/api/webhooks', { url: 'https://x.example/h', events: [] }, admin()), status: 400, code: 'TG_REQUEST_INVALID', says: /events/ },
  { name: 'a short webhook secret', req: post('/api/webhooks', { url: 'https://x.example/h', events: ['*'], secret: 'short' }, admin()), status: 400, code: 'TG_REQUEST_INVALID', says: /secret/ },
  { name: 'an unknown webhook field', req: post('/api/webhooks', { url: 'https://x.example/h', events: ['*'], insecure: true }, admin()), status: 400, code: 'TG_REQUEST_INVALID', says: /insecure/ },
  { name: 'a delivery limit that is not a number', req: { method: 'GET', url: '/api/webhook-deliveries?limit=lots', headers: admin() }, status: 400, code: 'TG_REQUEST_INVALID', says: /limit/ },
  { name: 'the deliveries of an unknown webhook', req: { method: 'GET', url: '/api/webhooks/whk_nope/deliveries', headers: admin() }, status: 404, code: 'TG_WEBHOOK_NOT_FOUND' },
  // Oversize bodies.
  { name: 'a 1.5 MiB manifest', req: post('/api/releases', { ...manifest('9.0.0'), labels: { pad: 'x'.repeat(1.5 * MiB) } }), status: 413, code: 'TG_REQUEST_TOO_LARGE' },
  { name: 'a 15 MiB evidence file', req: post(`/api/releases/${ref}/checklist`, file('big.bin', Buffer.alloc(11 * MiB).toString('base64'))), status: 413, code: 'TG_REQUEST_TOO_LARGE' },
  // Path tricks in evidence names.
  { name: 'evidence named ../../etc/passwd', req: post(`/api/releases/${ref}/checklist`, file('../../etc/passwd')), status: 400, code: 'TG_REQUEST_INVALID', says: /file name/ },
  { name: 'evidence named /etc/passwd', req: post(`/api/releases/${ref}/checklist`, file('/etc/passwd')), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'evidence named with a Windows path', req: post(`/api/releases/${ref}/checklist`, file('C:\\Windows\\win.ini')), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'evidence named ..', req: post(`/api/releases/${ref}/checklist`, file('..')), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'evidence named with a NUL byte', req: post(`/api/releases/${ref}/checklist`, file('a.txt\u0000.png')), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'evidence named with a newline', req: post(`/api/releases/${ref}/checklist`, file('a\nb.txt')), status: 400, code: 'TG_REQUEST_INVALID' },
  { name: 'an empty evidence name', req: post(`/api/releases/${ref}/checklist`, file('')), status: 400, code: 'TG_REQUEST_INVALID' },
  // Names the service refuses, in its own codes.
  { name: 'a release name without a version', req: { method: 'GET', url: '/api/releases/fraud-detector/status?stage=staging' }, status: 400, code: 'TG_RELEASE_REF_INVALID' },
  { name: 'a release path with an encoded slash', req: { method: 'GET', url: '/api/releases/..%2F..%2Fetc@1' }, status: 404, code: 'TG_RELEASE_NOT_FOUND' },
  { name: 'an unknown route', req: { method: 'GET', url: '/api/nothing-here' }, status: 404, code: 'TG_ROUTE_NOT_FOUND' },
  { name: 'a method the route does not have', req: { method: 'PUT', url: '/api/releases', headers: json, payload: '{}' }, status: 404, code: 'TG_ROUTE_NOT_FOUND' },
  { name: 'a release name longer than any route allows', req: { method: 'GET', url: `/api/releases/${'a'.repeat(600)}@1` }, status: 400, code: 'TG_REQUEST_INVALID', says: /too long/ },
  { name: 'a malformed percent-encoding in the path', req: { method: 'GET', url: '/api/releases/%E0%A4%A' }, status: 400, code: 'TG_REQUEST_INVALID' },
];

describe('bad input over the API', () => {
  it.each(CASES)('$name → $status $code, nothing written', async ({ req, status, code, says }) => {
    const before = await s.deps.store.auditHead();
    const { 'x-test-as': as, ...headers } = (req.headers ?? {}) as Record<string, string>;
    const who = as === 'admin' ? { authorization: template.headers.admin! } : auth;
    const res = await s.app.inject({ ...req, headers: { ...who, ...headers } });
    expect(res.statusCode, res.body.slice(0, 400)).toBe(status);
    const body = res.json();
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(5);
    expect(body.error.hint.length).toBeGreaterThan(5);
    expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/);
    if (says) expect(`${body.error.message} ${JSON.stringify(body.error.problems ?? [])}`).toMatch(says);
    expect(await s.deps.store.auditHead()).toEqual(before);
  });

  it('lists every problem of a request, each with its path', async () => {
    const res = await s.app.inject({ ...post('/api/releases', { subject: 'Bad Subject', version: '', risk: 'x', artifacts: [] }), headers: { ...auth, ...json } });
    const problems = res.json().error.problems as { path: string }[];
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['body.subject', 'body.version', 'body.risk', 'body.owner', 'body.artifacts']));
  });

  it('accepts evidence up to the larger limit of its route, keeping a plain base name', async () => {
    const copy = await serve(template);
    try {
      const bytes = Buffer.alloc(2 * MiB, 7);
      const res = await copy.app.inject({ ...post(`/api/releases/${ref}/checklist`, file('report.pdf', bytes.toString('base64'))), headers: { ...auth, ...json } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().evidence).toMatchObject({ name: 'report.pdf', size: bytes.byteLength });
    } finally {
      await copy.close();
    }
  });

  it('refuses a sign-off sent to another release\'s path, writing nothing', async () => {
    const before = await s.deps.store.auditHead();
    const other = encodeURIComponent('fraud-detector@2.0.0');
    const res = await s.app.inject({
      ...post(`/api/releases/${other}/signoffs`, { signoffs: await carolSignoff(s.deps) }),
      headers: { authorization: template.headers.security!, ...json },
    });
    expect([res.statusCode, res.json().error.code]).toEqual([400, 'TG_REQUEST_INVALID']);
    expect(await s.deps.store.auditHead()).toEqual(before);
  });
});

describe('unexpected failures', () => {
  it('answer 500 TG_INTERNAL with a generic message, and log the details', async () => {
    const lines: string[] = [];
    const copy = await serve(template, { logger: { stream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) } });
    try {
      // The store breaks under the running app (a disk that went away, say).
      const store = copy.deps.store as unknown as Record<string, unknown>;
      store.listReleases = async () => {
        throw new Error('SQLITE_IOERR: disk I/O error at /var/lib/tollgate/secret.db');
      };
      const res = await copy.app.inject({ method: 'GET', url: '/api/releases', headers: auth });
      expect(res.statusCode).toBe(500);
      const error = res.json().error;
      expect(error.code).toBe('TG_INTERNAL');
      expect(res.body).not.toContain('secret.db');
      expect(res.body).not.toContain('SQLITE');
      expect(res.body).not.toMatch(/\.(ts|js):\d+/);
      expect(lines.join('')).toContain('secret.db');
    } finally {
      await copy.close();
    }
  });
});

describe('logs', () => {
  it('hold neither tokens nor sign-off signatures', async () => {
    const lines: string[] = [];
    const copy = await serve(template, { logger: { level: 'trace', stream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) } });
    try {
      const carol = { authorization: template.headers.security!, ...json };
      const signoffs = (await carolSignoff(copy.deps)) as { signature: string }[];
      const res = await copy.app.inject({ ...post(`/api/releases/${ref}/signoffs`, { signoffs }), headers: carol });
      expect(res.statusCode).toBe(201);
      const admin = { authorization: template.headers.admin!, ...json };
      const issued = await copy.app.inject({ ...post('/api/tokens', { user: 'bob' }), headers: admin });
      await copy.app.inject({ method: 'GET', url: '/api/policy', headers: { authorization: 'Bearer tg_not-a-real-token' } });
      const text = lines.join('');
      expect(text.length).toBeGreaterThan(100);
      for (const secret of [template.headers.security!, template.headers.admin!, issued.json().token, 'tg_not-a-real-token', signoffs[0]!.signature]) {
        expect(text).not.toContain(secret.replace(/^Bearer /, ''));
      }
      // Every line is JSON (pino), with the request's route and status.
      for (const line of text.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      await copy.close();
    }
  });
});
