import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, TollgateError, formatProblem } from './errors.js';

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

  it('formats problems as file:line:col', () => {
    expect(formatProblem({ file: 'tollgate.yaml', line: 3, col: 7, message: 'bad' })).toBe('tollgate.yaml:3:7: bad');
    expect(formatProblem({ message: 'bad' })).toBe('bad');
  });
});
