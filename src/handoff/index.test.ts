import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffPayload } from '../domain/handoff.js';
import { verifyDelivery } from '../webhooks/signature.js';
import { MAX_ERROR_CHARS, runHandoff, type HandoffContext } from './index.js';

const PAYLOAD: HandoffPayload = {
  subject: 'fraud-detector',
  version: '2.4.0',
  release: 'fraud-detector@2.4.0',
  stage: 'production',
  releaseDigest: `sha256:${'a'.repeat(64)}`,
  promotion: { id: 'p1', kind: 'promotion', at: '2026-03-02T10:00:00.000Z', by: 'dave', policyVersion: 2 },
  artifacts: [{ name: 'model', kind: 'model', uri: 's3://ml/model.onnx', sha256: 'b'.repeat(64) }],
};

const CTX: HandoffContext = { env: { PATH: '/usr/bin:/bin' }, cwd: '.', at: new Date().toISOString() };

describe('command hand-off', () => {
  it('gets the release as JSON on stdin, in only the environment it is given', async () => {
    const r = await runHandoff({ command: ['sh', '-c', 'input=$(cat); [ -z "$HOME" ] && [ -z "$TOLLGATE_TOKEN" ] && echo "$input" | grep -q \'"release": "fraud-detector@2.4.0"\''] }, PAYLOAD, {
      ...CTX,
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(r).toEqual({ outcome: 'succeeded' });
  });

  it.each([
    [['sh', '-c', 'echo "rolling out" ; echo "cluster unreachable" >&2; exit 7'], 'exit code 7: cluster unreachable'],
    [['sh', '-c', 'echo "only stdout"; exit 1'], 'exit code 1: only stdout'],
    [['/no/such/program'], 'command not found: /no/such/program'],
  ])('%j fails with its reason', async (command, error) => {
    expect(await runHandoff({ command }, PAYLOAD, CTX)).toEqual({ outcome: 'failed', error });
  });

  it('is stopped after its timeout', async () => {
    const started = Date.now();
    expect(await runHandoff({ command: ['sleep', '30'], timeout: '300ms' }, PAYLOAD, CTX)).toEqual({ outcome: 'failed', error: 'timed out after 300ms and was stopped' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('keeps a long error bounded', async () => {
    const r = await runHandoff({ command: ['sh', '-c', `printf '%5000s' x >&2; exit 2`] }, PAYLOAD, CTX);
    expect(r.outcome).toBe('failed');
    expect(r.error!.length).toBeLessThanOrEqual(MAX_ERROR_CHARS);
  });
});

describe('webhook hand-off', () => {
  // The receiver listens on loopback, which a hand-off may post to only when private targets are allowed.
  const LOOPBACK_OK: HandoffContext = { ...CTX, allowPrivate: true };
  const received: { headers: http.IncomingHttpHeaders; body: string; url: string }[] = [];
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body, url: req.url ?? '' });
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
        res.statusCode = req.url === '/down' ? 503 : 204;
        res.end(req.url === '/down' ? 'maintenance' : undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a loopback, private or metadata address unless allowed, without connecting (issue 13, SSRF)', async () => {
    const before = received.length;
    for (const url of [`${base}/hook`, 'http://169.254.169.254/latest', 'http://[::1]:9/x']) {
      const run = await runHandoff({ webhook: url }, PAYLOAD, CTX);
      expect(run).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/refused/) });
    }
    expect(received.length).toBe(before);
  });

  it('POSTs the release as JSON to a URL', async () => {
    expect(await runHandoff({ webhook: `${base}/deploy` }, PAYLOAD, LOOPBACK_OK)).toEqual({ outcome: 'succeeded' });
    const got = received.at(-1)!;
    expect(JSON.parse(got.body)).toEqual(PAYLOAD);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['tollgate-event']).toBe('release.handoff');
    expect(got.headers['tollgate-signature']).toBeUndefined();
  });

  it('signs the body with a registered webhook\'s secret, as its deliveries are signed', async () => {
    const r = await runHandoff({ webhook: 'whk_0123456789ab' }, PAYLOAD, { ...LOOPBACK_OK, webhook: { url: `${base}/signed`, secret: 'whsec_test' } });
    expect(r).toEqual({ outcome: 'succeeded' });
    const got = received.at(-1)!;
    expect(got.url).toBe('/signed');
    expect(
      verifyDelivery({ secret: 'whsec_test', body: got.body, timestamp: String(got.headers['tollgate-timestamp']), signature: String(got.headers['tollgate-signature']) }),
    ).toBe(true);
  });

  it.each([
    ['an error status', { webhook: '/down' }, /\/down answered 503: maintenance$/],
    ['no answer in time', { webhook: '/slow', timeout: '200ms' }, /^no answer within 200ms$/],
    ['an unregistered webhook id', { webhook: 'whk_ffff' }, /^no webhook whk_ffff is registered/],
  ])('fails on %s', async (_what, def, error) => {
    const r = await runHandoff({ ...def, webhook: def.webhook.startsWith('/') ? `${base}${def.webhook}` : def.webhook }, PAYLOAD, LOOPBACK_OK);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatch(error);
  });
});
