/**
 * A webhook POST that connects only to addresses already checked (address-guard.ts): the host name
 * stays in the URL (Host header, TLS server name and certificate check), but the socket goes to the
 * checked address, so a DNS answer that changes between the check and the connection (DNS
 * rebinding) reaches nothing new. Node's own http(s) client, because fetch takes no lookup.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './address-guard.js';

/** The receiver's status code; throws on a network error (with `cause.code`) or a timeout (`TimeoutError`). */
export function postPinned(target: CheckedTarget, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<number> {
  const lookup: LookupFunction = (_host, options, callback) => {
    const all = target.addresses.map(({ address, family }) => ({ address, family }));
    if ((options as { all?: boolean }).all) (callback as unknown as (err: null, addresses: typeof all) => void)(null, all);
    else callback(null, all[0]!.address, all[0]!.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target.url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, agent: false },
      (res) => {
        // The answer's body is not needed: drop it rather than hold the connection.
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.setTimeout(timeoutMs, () => {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.name = 'TimeoutError';
      req.destroy(err);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'TimeoutError') reject(err);
      else reject(Object.assign(new Error('fetch failed'), { cause: { code: err.code, message: err.message } }));
    });
    req.end(body);
  });
}
