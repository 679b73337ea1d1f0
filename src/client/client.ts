/**
 * The one interface the CLI talks to (DESIGN.md, Shape): a local implementation over the service
 * layer (local-client.ts) and an HTTP one for `--server URL` (http-client.ts), so commands never know
 * which they use. Its operations are the service layer's use cases; a client also holds a connection
 * to close. Token and webhook administration have interfaces of their own, built the same two ways
 * (admin.ts).
 */
import type { PolicyInfo, ReleaseEvidence, UseCases } from '../service/use-cases.js';

export interface Client extends UseCases {
  /** Releases what the client holds (the local store); nothing over HTTP. */
  close(): Promise<void>;
}

export type { PolicyInfo, ReleaseEvidence };
