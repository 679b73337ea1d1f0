/**
 * What the HTTP server answers to a request it could not read (headers over 16 KiB, a timeout,
 * garbage): the same JSON error with a TG_ code as every other refusal, instead of Fastify's default
 * body without one (issue 13, finding 9). Node calls this before any route, hook or error handler.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { tollgateError, type ErrorCode } from '../domain/errors.js';

const BY_NODE_CODE: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  HPE_HEADER_OVERFLOW: { code: 'TG_REQUEST_HEADERS_TOO_LARGE', message: 'the request headers are larger than this server reads (16 KiB in all)' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'TG_REQUEST_TIMEOUT', message: 'the request did not arrive in time' },
};

/** Fastify's `clientErrorHandler`: writes the answer on the raw socket and closes it. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = (err.code !== undefined && BY_NODE_CODE[err.code]) || { code: 'TG_REQUEST_INVALID' as const, message: 'the request is not valid HTTP' };
  const error = tollgateError(known.code, known.message);
  const body = JSON.stringify(error.toJSON());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
