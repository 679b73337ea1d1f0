import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, loadServeConfig, type ServeFlags } from './config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-config-'));
const bare = loadConfig({}, { home: 'bare' }, dir);
const withOidc = loadConfig({}, { home: 'oidc-home' }, dir);
fs.mkdirSync(withOidc.home);
fs.writeFileSync(path.join(withOidc.home, 'oidc.yaml'), 'issuers: []\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ON: ServeFlags = { webhooks: true };
/** What every case gets when it sets neither the private-webhook allowance nor the rate limits. */
const BASE = { allowPrivateWebhooks: false, rateLimit: { max: 600, writes: 120, windowMs: 60_000 } };

describe('loadServeConfig', () => {
  it.each([
    { name: 'nothing set', env: {}, flags: ON, config: bare, want: { ...BASE, webhooks: {} } },
    { name: 'dispatcher timings', env: { TOLLGATE_WEBHOOK_POLL_MS: '50', TOLLGATE_WEBHOOK_MAX_ATTEMPTS: '3', TOLLGATE_WEBHOOK_LEASE_MS: '' }, flags: ON, config: bare, want: { ...BASE, webhooks: { pollMs: 50, maxAttempts: 3 } } },
    { name: '--no-webhooks, which reads no timing', env: { TOLLGATE_WEBHOOK_POLL_MS: 'soon' }, flags: { webhooks: false }, config: bare, want: { ...BASE, webhooks: false } },
    { name: 'TOLLGATE_OIDC, from the current folder', env: { TOLLGATE_OIDC: 'ci/oidc.yaml' }, flags: ON, config: bare, want: { ...BASE, webhooks: {}, oidcFile: path.join(dir, 'ci/oidc.yaml') } },
    { name: '--oidc over TOLLGATE_OIDC', env: { TOLLGATE_OIDC: 'env.yaml' }, flags: { ...ON, oidc: 'flag.yaml' }, config: bare, want: { ...BASE, webhooks: {}, oidcFile: path.join(dir, 'flag.yaml') } },
    { name: "the home's oidc.yaml when it exists", env: { TOLLGATE_OIDC: '' }, flags: ON, config: withOidc, want: { ...BASE, webhooks: {}, oidcFile: path.join(withOidc.home, 'oidc.yaml') } },
    { name: 'TOLLGATE_PUBLIC_URL, as its origin', env: { TOLLGATE_PUBLIC_URL: 'https://Tollgate.Example.com:443/desk/' }, flags: ON, config: bare, want: { ...BASE, webhooks: {}, publicUrl: 'https://tollgate.example.com' } },
    { name: '--public-url over TOLLGATE_PUBLIC_URL', env: { TOLLGATE_PUBLIC_URL: 'https://env.example' }, flags: { ...ON, publicUrl: 'http://localhost:8080' }, config: bare, want: { ...BASE, webhooks: {}, publicUrl: 'http://localhost:8080' } },
  ])('$name', ({ env, flags, config, want }) => {
    const got = loadServeConfig(env, flags, config);
    expect(got).toEqual(want);
    expect(Object.isFrozen(got)).toBe(true);
  });

  it('reads the rate limits from flags over the environment, 0 turning them off, and the private-webhook allowance (issue 13, findings 4 and 5)', () => {
    expect(loadServeConfig({ TOLLGATE_RATE_LIMIT: '100', TOLLGATE_RATE_LIMIT_WRITES: '10' }, ON, bare).rateLimit).toEqual({ max: 100, writes: 10, windowMs: 60_000 });
    expect(loadServeConfig({ TOLLGATE_RATE_LIMIT: '100' }, { ...ON, rateLimit: '50', rateLimitWrites: '500' }, bare).rateLimit).toEqual({ max: 50, writes: 50, windowMs: 60_000 });
    expect(loadServeConfig({ TOLLGATE_RATE_LIMIT: '0' }, ON, bare).rateLimit).toBe(false);
    expect(() => loadServeConfig({ TOLLGATE_RATE_LIMIT: 'lots' }, ON, bare)).toThrow(expect.objectContaining({ code: 'TG_USAGE', message: 'TOLLGATE_RATE_LIMIT=lots is not a whole number of requests a minute (0: no limits)' }));
    expect(loadServeConfig({}, { ...ON, allowPrivateWebhooks: true }, bare).allowPrivateWebhooks).toBe(true);
    expect(loadServeConfig({}, ON, loadConfig({ TOLLGATE_ALLOW_PRIVATE_WEBHOOKS: '1' }, { home: 'bare' }, dir)).allowPrivateWebhooks).toBe(true);
  });

  it.each(['soon', '0', '1.5', '-2'])('refuses TOLLGATE_WEBHOOK_TIMEOUT_MS=%s with TG_USAGE', (value) => {
    expect(() => loadServeConfig({ TOLLGATE_WEBHOOK_TIMEOUT_MS: value }, ON, bare)).toThrow(
      expect.objectContaining({ code: 'TG_USAGE', message: `TOLLGATE_WEBHOOK_TIMEOUT_MS=${value} is not a whole number of at least 1` }),
    );
  });

  it.each([
    ['not a url', 'is not a URL'],
    ['ftp://tollgate.example.com', 'must start with https://'],
    ['https://root:pw@tollgate.example.com', 'must not hold a user name or password'],
  ])('refuses TOLLGATE_PUBLIC_URL=%s with TG_USAGE', (value, says) => {
    expect(() => loadServeConfig({ TOLLGATE_PUBLIC_URL: value }, ON, bare)).toThrow(expect.objectContaining({ code: 'TG_USAGE', message: expect.stringContaining(says) }));
  });

  it('leaves the global configuration alone: other commands never read the serve variables', () => {
    expect(loadConfig({ TOLLGATE_WEBHOOK_POLL_MS: 'soon', TOLLGATE_OIDC: 'x.yaml' }, {}, dir)).toEqual(loadConfig({}, {}, dir));
  });
});
