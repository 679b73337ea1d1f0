// The shared Client suite against the local client: the service layer in this process.
import { createLocalClient } from '../src/client/local-client.js';
import { runClientSuite } from './client-suite.js';

runClientSuite('local', async (deps) => ({
  as: async (user) => createLocalClient(deps, user),
  close: async () => {},
}));
