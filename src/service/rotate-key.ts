import { createPublicKey, type KeyObject } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { formatPublicKey, signBytes } from '../domain/keys.js';
import { change, serverKeyId } from './change.js';
import type { ServiceDeps } from './deps.js';

/** The bytes the old key signs to hand over to the new one. */
export function rotationMessage(next: string): string {
  return `tollgate-server-key-rotation/v1\n${next}\n`;
}

/**
 * Records a server key rotation in the log: the old public key endorses the new one, and the
 * checkpoint of this change is the first one signed by the new key. Checkpoints signed before stay
 * verifiable with the old key, which the caller keeps.
 */
export async function rotateServerKey(deps: ServiceDeps, actor: string | undefined, next: KeyObject): Promise<{ previous: string; next: string; keyId: string }> {
  const previous = formatPublicKey(createPublicKey(deps.serverKey));
  const nextPublic = formatPublicKey(createPublicKey(next));
  const withNext: ServiceDeps = { ...deps, serverKey: next };
  return change(withNext, async ({ audit }) => {
    await audit('ServerKeyRotated', actorOf(actor), {
      previous,
      previousKeyId: serverKeyId(deps),
      next: nextPublic,
      nextKeyId: serverKeyId(withNext),
      endorsement: signBytes(deps.serverKey, rotationMessage(nextPublic)),
    });
    return { previous, next: nextPublic, keyId: serverKeyId(withNext) };
  });
}
