// The shared admin suite over the API: a real server on 127.0.0.1 (port 0), each user with a token of their own.
import { createHttpPasskeyAdmin, createHttpTokenAdmin, createHttpWebhookAdmin } from '../src/client/admin.js';
import { createApp } from '../src/server/app.js';
import { createApiToken } from '../src/service/tokens.js';
import { runAdminSuite } from './admin-suite.js';

runAdminSuite({
  name: 'http',
  remote: true,
  make: async (deps) => {
    const app = createApp(deps);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const tokens = new Map<string, string>();
    const as = async (user: string) => {
      if (!tokens.has(user)) tokens.set(user, (await createApiToken(deps, undefined, user)).token);
      return { url, token: tokens.get(user)! };
    };
    return {
      tokens: async (user) => createHttpTokenAdmin(await as(user)),
      webhooks: async (user) => createHttpWebhookAdmin(await as(user)),
      passkeys: async (user) => createHttpPasskeyAdmin(await as(user)),
      close: () => app.close(),
    };
  },
});
