import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_RELEASE, testContext } from '../../test/fixtures/validators/context.js';
import { digestBytes } from '../domain/digest.js';
import { BACKOFF_MS, httpValidator, type HttpArgs } from './http.js';

/** One scripted answer: a status, a body, and optional headers. */
interface Scripted {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

// Each path answers from its script in turn (the last answer repeats); `hang` never answers.
const scripts: Record<string, (Scripted | 'hang')[]> = {};
const received: { path: string; headers: http.IncomingHttpHeaders; body: unknown; at: number }[] = [];
let server: http.Server;
let base: string;

function script(path: string, ...answers: (Scripted | 'hang')[]): string {
  scripts[path] = answers;
  return `${base}${path}`;
}

const json = (status: number, body: unknown): Scripted => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: text ? JSON.parse(text) : undefined, at: Date.now() });
      const list = scripts[path] ?? [{ status: 404, body: 'no such check' }];
      const answer = list.length > 1 ? list.shift()! : list[0]!;
      if (answer === 'hang') return;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
});

function run(w: Record<string, unknown>, ctx = testContext('/nowhere')) {
  return httpValidator.run(httpValidator.schema.parse(w) as HttpArgs, ctx);
}

describe('http: schema', () => {
  it('defaults timeout to 30s and retries to 2', () => {
    expect(httpValidator.schema.parse({ url: 'https://risk.example/check' })).toEqual({ url: 'https://risk.example/check', timeout: '30s', retries: 2 });
  });

  it.each([
    [{}, /url must be an http:\/\/ or https:\/\/ URL/],
    [{ url: 'ftp://risk.example/check' }, /url must be an http:\/\/ or https:\/\/ URL/],
    [{ url: 'risk.example' }, /url must be an http:\/\/ or https:\/\/ URL/],
    [{ url: 'http://a', timeout: 'soon' }, /timeout must be a duration/],
    [{ url: 'http://a', retries: -1 }, /retries must be a whole number from 0 to 10/],
    [{ url: 'http://a', retries: 11 }, /retries must be a whole number from 0 to 10/],
    [{ url: 'http://a', headers: { 'X Team': 'a' } }, /"X Team" is not an HTTP header name/],
    [{ url: 'http://a', headers: { 'X-Team': 1 } }, /a header value must be a string/],
    [{ url: 'http://a', method: 'GET' }, /method/],
  ])('rejects %j', (w, message) => {
    const r = httpValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.message} ${'keys' in i ? (i.keys as string[]).join(',') : ''}`).join('\n')).toMatch(message);
  });
});

describe('http: answers', () => {
  it('posts the release and where it is going, and takes the answer as the result', async () => {
    const answer = { status: 'passed', summary: 'risk review approved', measurements: { score: 0.12 }, thresholds: { score: { max: 0.3 } }, details: { ticket: 'RISK-12' }, extra: 1 };
    const url = script('/pass', json(200, answer));
    const out = await run({ url, headers: { 'X-Team': 'fraud' } }, testContext('/nowhere', { stage: 'production', gateId: 'approvals', validationId: 'risk' }));
    expect(out).toEqual({
      status: 'passed',
      summary: 'risk review approved',
      measurements: { score: 0.12 },
      thresholds: { score: { max: 0.3 } },
      inputs: { [url]: digestBytes(JSON.stringify(answer)) },
      details: { url, attempts: 1, httpStatus: 200, answer: { ticket: 'RISK-12' } },
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toEqual({
      release: { subject: 'fraud-detector', version: '2.4.0', digest: TEST_RELEASE.digest, risk: 'high' },
      stage: 'production',
      gate: 'approvals',
      validation: 'risk',
    });
    expect(received[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-team': 'fraud' });
  });

  it.each(['failed', 'errored'] as const)('keeps a %s answer, with a summary when the service gives none', async (status) => {
    const url = script(`/${status}`, json(200, { status }));
    const out = await run({ url });
    expect(out.status).toBe(status);
    expect(out.summary).toBe(`${new URL(base).host} answered ${status}`);
    expect(out.measurements).toEqual({});
  });

  it('retries a 503 after a backoff and takes the next answer', async () => {
    const url = script('/flaky', { status: 503, body: 'warming up' }, json(200, { status: 'passed', summary: 'ok' }));
    const out = await run({ url });
    expect(out.status).toBe('passed');
    expect(out.details).toMatchObject({ attempts: 2 });
    expect(received).toHaveLength(2);
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(BACKOFF_MS - 20);
  });

  it('errors after the retries when the service keeps failing, saying the last failure', async () => {
    const url = script('/down', { status: 500, body: 'database unavailable' });
    const out = await run({ url, retries: 1 });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe(`HTTP 500 from ${url}: database unavailable (2 attempts)`);
    expect(received).toHaveLength(2);
  });

  it('does not retry a 4xx', async () => {
    const url = script('/forbidden', { status: 403, body: 'bad token' });
    const out = await run({ url });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe(`HTTP 403 from ${url}: bad token`);
    expect(out.details).toMatchObject({ attempts: 1, httpStatus: 403, body: 'bad token' });
    expect(received).toHaveLength(1);
  });

  it('does not follow a redirect (it would turn the POST into a GET)', async () => {
    const url = script('/moved', { status: 302, headers: { location: '/pass' } });
    const out = await run({ url });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe(`HTTP 302 from ${url}: redirected to /pass; write the final URL in the policy`);
    expect(received).toHaveLength(1);
  });

  it.each([
    ['/html', { status: 200, body: '<html>Service Unavailable</html>' }, /is not JSON: <html>Service Unavailable<\/html>$/],
    ['/empty', { status: 200 }, /is not JSON: \(empty\)$/],
    ['/wrong-status', json(200, { status: 'ok' }), /is not a check result: status: status must be "passed", "failed" or "errored"$/],
    ['/wrong-measurements', json(200, { status: 'passed', measurements: [1] }), /is not a check result: measurements: measurements must be an object$/],
    ['/array', json(200, [{ status: 'passed' }]), /is not a check result: /],
  ])('errors on a malformed answer (%s)', async (path, answer, message) => {
    const url = script(path, answer);
    const out = await run({ url });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
    expect(out.details).toMatchObject({ attempts: 1, httpStatus: 200 });
    expect(received).toHaveLength(1);
  });

  it('errors when the service does not answer in time, per attempt', async () => {
    const url = script('/hang', 'hang');
    const started = Date.now();
    const out = await run({ url, timeout: '200ms', retries: 1 });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe(`no answer from ${url} within 200ms (2 attempts)`);
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('errors when nothing listens, after retrying', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const out = await run({ url: `http://127.0.0.1:${port}/check`, retries: 1 });
    expect(out.status).toBe('errored');
    expect(out.summary).toBe(`cannot reach http://127.0.0.1:${port}/check: ECONNREFUSED (2 attempts)`);
    expect(out.details).toMatchObject({ attempts: 2, failures: [expect.stringMatching(/ECONNREFUSED/), expect.stringMatching(/ECONNREFUSED/)] });
  });

  it('stops waiting when the run is cancelled', async () => {
    const url = script('/hang-cancel', 'hang');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const out = await run({ url, timeout: '30s' }, testContext('/nowhere', { signal: ac.signal }));
    expect(out.status).toBe('errored');
    expect(out.summary).toBe(`cancelled while asking ${url}`);
    expect(received).toHaveLength(1);
  });
});
