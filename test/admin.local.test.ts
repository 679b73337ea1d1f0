// The shared admin suite on the local home: the service layer in this process, as `tollgate token|webhook` runs it without --server.
import { createLocalTokenAdmin, createLocalWebhookAdmin } from '../src/client/admin.js';
import { runAdminSuite } from './admin-suite.js';

runAdminSuite({
  name: 'local',
  remote: false,
  make: async (deps) => ({
    tokens: async (user) => createLocalTokenAdmin(deps, user),
    webhooks: async (user) => createLocalWebhookAdmin(deps, user),
    close: async () => {},
  }),
});
