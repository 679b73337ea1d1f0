/**
 * How a delivery is signed, and how a receiver checks it: HMAC-SHA256, keyed with the webhook's
 * secret, over `TIMESTAMP.BODY`, where TIMESTAMP is the `Tollgate-Timestamp` header (Unix seconds).
 * Binding the time stops a captured delivery from being replayed later; a receiver refuses deliveries
 * older than a few minutes. The header reads `Tollgate-Signature: v1=<hex>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'tollgate-signature';
export const TIMESTAMP_HEADER = 'tollgate-timestamp';
export const EVENT_HEADER = 'tollgate-event';
export const DELIVERY_HEADER = 'tollgate-delivery';

/** `v1=` and the hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function signDelivery(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * What a receiver does: true when `signature` is the body's HMAC at `timestamp` and the timestamp is
 * within `toleranceSeconds` (default 300) of `now`. Compared in constant time.
 */
export function verifyDelivery(opts: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  now?: Date;
  toleranceSeconds?: number;
}): boolean {
  const { secret, body, timestamp, signature } = opts;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  const seconds = Number(timestamp);
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - seconds) > (opts.toleranceSeconds ?? 300)) return false;
  const want = Buffer.from(signDelivery(secret, seconds, body), 'utf8');
  // More than one `v1=` may be listed (while a secret is being rotated); any match is enough.
  return signature.split(',').some((part) => {
    const got = Buffer.from(part.trim(), 'utf8');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}
