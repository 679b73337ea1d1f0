// The shared Client suite against the HTTP client, talking to a real server on 127.0.0.1 (port 0).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHttpClient } from '../src/client/http-client.js';
import { TollgateError } from '../src/domain/errors.js';
import { createApp } from '../src/server/app.js';
import { createApiToken } from '../src/service/tokens.js';
import { runClientSuite } from './client-suite.js';

runClientSuite('http', async (deps) => {
  const app = createApp(deps);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    as: async (user) => createHttpClient({ url, token: (await createApiToken(deps, undefined, user)).token }),
    close: () => app.close(),
  };
});

describe('HTTP client, transport errors', () => {
  it('names the URL when the server cannot be reached (TG_SERVER_UNREACHABLE, exit 1)', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const client = createHttpClient({ url: `http://127.0.0.1:${port}/`, token: 'tg_x' });
    const err = await client.listReleases().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TollgateError);
    expect(err).toMatchObject({ code: 'TG_SERVER_UNREACHABLE', exit: 1 });
    expect((err as Error).message).toContain(`http://127.0.0.1:${port}`);
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('refuses a URL that is not http(s), and asks for a token before sending anything', async () => {
    expect(() => createHttpClient({ url: 'ftp://x', token: 't' })).toThrow(expect.objectContaining({ code: 'TG_USAGE' }));
    expect(() => createHttpClient({ url: 'not a url' })).toThrow(expect.objectContaining({ code: 'TG_USAGE' }));
    let called = false;
    const client = createHttpClient({ url: 'http://localhost:1', fetch: async () => ((called = true), new Response('{}')) });
    await expect(client.activePolicy()).rejects.toMatchObject({ code: 'TG_TOKEN_INVALID' });
    expect(called).toBe(false);
  });

  it('reports a server that is not Tollgate (no JSON, or no error code) as TG_SERVER_UNREACHABLE', async () => {
    const html = createHttpClient({ url: 'http://proxy', token: 't', fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }) });
    await expect(html.listReleases()).rejects.toMatchObject({ code: 'TG_SERVER_UNREACHABLE' });
    const okHtml = createHttpClient({ url: 'http://proxy', token: 't', fetch: async () => new Response('<html></html>', { status: 200 }) });
    await expect(okHtml.listReleases()).rejects.toMatchObject({ code: 'TG_SERVER_UNREACHABLE' });
  });

  it('keeps the text of an error code it does not know, as TG_INTERNAL', async () => {
    const body = JSON.stringify({ error: { code: 'TG_FROM_THE_FUTURE', message: 'something new', hint: 'upgrade' } });
    const client = createHttpClient({ url: 'http://new', token: 't', fetch: async () => new Response(body, { status: 418 }) });
    await expect(client.listReleases()).rejects.toMatchObject({ code: 'TG_INTERNAL', message: 'TG_FROM_THE_FUTURE: something new', hint: 'upgrade' });
  });

  it('sends the bearer token and JSON, and encodes release names in the path', async () => {
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const client = createHttpClient({
      url: 'http://srv:7480/',
      token: 'tg_secret',
      fetch: async (url, init) => {
        seen.push({ url: String(url), init });
        return new Response(JSON.stringify({ release: 'a@1' }), { status: 200 });
      },
    });
    await client.showRelease('a/b@1 2');
    expect(seen[0]!.url).toBe('http://srv:7480/api/releases/a%2Fb%401%202');
    expect((seen[0]!.init!.headers as Record<string, string>).authorization).toBe('Bearer tg_secret');
  });
});
