import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, TollgateError, formatProblem, tollgateError } from './errors.js';

// docs/errors.md is the public list: it and the code must name the same codes with the same exits.
describe('error list', () => {
  const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(TG_[A-Z_]+)` \| (\d) \| (\d{3}) \|/gm)].map((m) => ({ code: m[1]!, exit: Number(m[2]), status: Number(m[3]) }));

  it('documents every code, and only those', () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it.each(rows)('$code has the documented exit and HTTP status', ({ code, exit, status }) => {
    const def = ERRORS[code as keyof typeof ERRORS];
    expect(def.exit).toBe(exit);
    expect(def.status).toBe(status);
    expect(def.hint.length).toBeGreaterThan(10);
  });

  it('uses the exit codes of the command-line contract', () => {
    expect(new TollgateError('TG_PROMOTION_BLOCKED', 'x').exit).toBe(3);
    expect(new TollgateError('TG_AUDIT_BROKEN', 'x').exit).toBe(4);
    expect(new TollgateError('TG_POLICY_INVALID', 'x').exit).toBe(2);
  });

  it('carries its code, status, exit and hint, and writes them as JSON with only what it has', () => {
    const plain = tollgateError('TG_RELEASE_NOT_FOUND', 'no release r@1');
    expect(plain).toBeInstanceOf(Error);
    expect([plain.name, plain.code, plain.message, plain.status, plain.exit, plain.hint]).toEqual(['TollgateError', 'TG_RELEASE_NOT_FOUND', 'no release r@1', 404, 2, ERRORS.TG_RELEASE_NOT_FOUND.hint]);
    expect(plain.problems).toEqual([]);
    expect(plain.toJSON()).toEqual({ error: { code: 'TG_RELEASE_NOT_FOUND', message: 'no release r@1', hint: ERRORS.TG_RELEASE_NOT_FOUND.hint } });
    expect(Object.keys(plain.toJSON().error as object)).toEqual(['code', 'message', 'hint']);
    const full = tollgateError('TG_MANIFEST_INVALID', 'bad', { problems: [{ message: 'p' }], details: { n: 0 }, hint: 'do this' });
    expect(full.hint).toBe('do this');
    expect(full.toJSON()).toEqual({ error: { code: 'TG_MANIFEST_INVALID', message: 'bad', hint: 'do this', problems: [{ message: 'p' }], details: { n: 0 } } });
    expect(tollgateError('TG_USAGE', 'x', { hint: '' }).hint).toBe('');
    expect(tollgateError('TG_USAGE', 'x', { details: null }).toJSON()).toEqual({ error: { code: 'TG_USAGE', message: 'x', hint: ERRORS.TG_USAGE.hint, details: null } });
  });

  it('formats problems as file:line:col', () => {
    expect(formatProblem({ file: 'tollgate.yaml', line: 3, col: 7, message: 'bad' })).toBe('tollgate.yaml:3:7: bad');
    expect(formatProblem({ message: 'bad' })).toBe('bad');
  });
});
