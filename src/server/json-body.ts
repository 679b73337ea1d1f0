/**
 * The JSON body parser of every API route: Fastify's own (prototype poisoning refused), after a scan
 * that refuses bodies nesting deeper than {@link MAX_JSON_DEPTH}. `JSON.parse` itself copes with any
 * depth, but what reads the value afterwards (schemas, canonical JSON for digests, the store) recurses,
 * and a 1 MiB body of `[` would end there in a stack overflow (issue 13, finding 3).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tollgateError } from '../domain/errors.js';

/** Arrays and objects inside each other; real bodies (validation details included) stay far below. */
export const MAX_JSON_DEPTH = 100;

/** The deepest nesting of `[` and `{` in JSON text, outside strings; stops counting past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Replaces the app's `application/json` parser with the bounded one. */
export function useBoundedJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(tollgateError('TG_REQUEST_INVALID', `the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`), undefined);
      return;
    }
    parse(req, text, done);
  });
}
