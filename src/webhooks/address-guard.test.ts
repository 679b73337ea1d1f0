import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, nonPublicKind, WebhookTargetRefused } from './address-guard.js';
import { postPinned } from './pinned-post.js';

describe('webhook address guard (issue 13, finding 5)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.100.100.200', 'private'],
    ['fd00:ec2::254', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'link-local (cloud metadata)'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local (cloud metadata)'],
    ['64:ff9b::a9fe:a9fe', 'link-local (cloud metadata)'],
    ['224.0.0.1', 'reserved'],
  ])('%s is %s', (ip, kind) => {
    expect(nonPublicKind(ip)).toBe(kind);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (ip) => {
    expect(nonPublicKind(ip)).toBeUndefined();
  });

  it.each([
    ['http://127.0.0.1:9/x', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]:9/x', /::1 is a loopback address/],
    ['http://0x7f000001/x', /127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/x', /127\.0\.0\.1 is a loopback address/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local \(cloud metadata\) address/],
    ['http://[::ffff:7f00:1]/x', /loopback/],
  ])('refuses %s without a lookup', async (url, message) => {
    await expect(checkWebhookTarget(url, () => Promise.reject(new Error('no lookup expected')))).rejects.toThrow(message);
  });

  it('refuses a host name when any address it resolves to is not public, and accepts one that resolves to public ones only', async () => {
    const lookup = async (host: string) =>
      host === 'rebind.example' ? [{ address: '93.184.215.14', family: 4 }, { address: '10.0.0.5', family: 4 }] : [{ address: '93.184.215.14', family: 4 }];
    await expect(checkWebhookTarget('https://rebind.example/x', lookup)).rejects.toThrow(/the host rebind\.example resolves to 10\.0\.0\.5, a private address/);
    expect((await checkWebhookTarget('https://hooks.example/x', lookup)).addresses).toEqual([{ address: '93.184.215.14', family: 4 }]);
  });

  it('a host that cannot be resolved is refused as retryable', async () => {
    const err = await checkWebhookTarget('https://nowhere.invalid/x', () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookTargetRefused);
    expect((err as WebhookTargetRefused).retryable).toBe(true);
  });

  it('postPinned connects to the checked address, never resolving the host name again', async () => {
    const got: string[] = [];
    const server = http.createServer((req, res) => {
      got.push(String(req.headers.host));
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // The name does not resolve anywhere: the connection can only have gone to the pinned address.
      const status = await postPinned({ url: new URL(`http://receiver.invalid:${port}/hook`), addresses: [{ address: '127.0.0.1', family: 4 }] }, { 'content-type': 'application/json' }, '{}', 2000);
      expect(status).toBe(204);
      expect(got).toEqual([`receiver.invalid:${port}`]);
    } finally {
      server.close();
    }
  });
});
