import type { KeyObject } from 'node:crypto';
import type { Store } from '../store/store.js';

/** What every use case needs; built once at start-up and passed down (never read from globals). */
export interface ServiceDeps {
  readonly store: Store;
  /** The server's Ed25519 private key: signs audit checkpoints. */
  readonly serverKey: KeyObject;
  /** The log's name in its checkpoints (the signed note's origin line); stable across key rotation. */
  readonly origin: string;
  /** The server's earlier public keys, after rotations: old checkpoints stay verifiable. */
  readonly previousKeys?: readonly KeyObject[];
  readonly now: () => Date;
  /**
   * Webhooks may point at loopback, private, link-local and reserved addresses (`serve
   * --allow-private-webhooks`; locally TOLLGATE_ALLOW_PRIVATE_WEBHOOKS=1). Off unless set.
   */
  readonly allowPrivateWebhooks?: boolean;
}

