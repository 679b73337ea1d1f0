// The shared admin suite on the local home: the service layer in this process, as `tollgate token|webhook` runs it without --server.
import { createLocalPasskeyAdmin, createLocalTokenAdmin, createLocalWebhookAdmin } from '../src/client/admin.js';
import { runAdminSuite } from './admin-suite.js';

runAdminSuite({
  name: 'local',
  remote: false,
  make: async (deps) => ({
    tokens: async (user) => createLocalTokenAdmin(deps, user),
    webhooks: async (user) => createLocalWebhookAdmin(deps, user),
    passkeys: async (user) => createLocalPasskeyAdmin(deps, user),
    close: async () => {},
  }),
});
