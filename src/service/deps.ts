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
   * Where hand-offs to deployment run (docs/handoff.md): the environment a command or `git` gets (a
   * few variables, never Tollgate's own secrets) and the folder relative paths are read from.
   */
  readonly handoff?: { readonly env: Readonly<Record<string, string>>; readonly cwd: string };
  /**
   * Webhooks may point at loopback, private, link-local and reserved addresses (`serve
   * --allow-private-webhooks`; locally TOLLGATE_ALLOW_PRIVATE_WEBHOOKS=1). Off unless set.
   */
  readonly allowPrivateWebhooks?: boolean;
}

