import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, TollgateError } from '../domain/errors.js';
import { parsePolicy } from '../domain/policy.js';
import { VALIDATOR_SCHEMAS, VALIDATORS } from './registry.js';

// The registry is the one list of validators: the message that names the known ones is built from
// it, docs/validators.md documents the same ones, and nothing else spells the list out.
const names = [...VALIDATORS.keys()].sort();

function policyUsing(uses: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const key = `ed25519:${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
  return `apiVersion: tollgate/v1
kind: Policy
name: registry-test
roster:
  ci: { roles: [validator], key: "${key}" }
stages:
  - name: staging
gates:
  - id: automated
    stage: staging
    validations:
      - { id: check, uses: ${uses}, with: {} }
`;
}

describe('the validator registry', () => {
  it('names each validator once, by the name it registers under', () => {
    expect(names.length).toBeGreaterThan(5);
    for (const [name, v] of VALIDATORS) expect(v.name).toBe(name);
    expect([...VALIDATOR_SCHEMAS.keys()].sort()).toEqual(names);
  });

  it('an unknown validator is refused with a message that lists exactly the registry', () => {
    let error: unknown;
    try {
      parsePolicy(policyUsing('sarif2'), 'tollgate.yaml', { validators: VALIDATOR_SCHEMAS });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TollgateError);
    const problem = (error as TollgateError).problems.find((p) => p.message.startsWith('unknown validator'));
    const listed = /^unknown validator "sarif2" \(validators: (.*)\)$/.exec(problem?.message ?? '')?.[1];
    expect(listed?.split(', ')).toEqual(names);
  });

  it('docs/validators.md documents exactly the registry', () => {
    const doc = fs.readFileSync(new URL('../../docs/validators.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual(names);
  });

  it('the hint of TG_VALIDATOR_UNKNOWN points at the docs instead of spelling the list out', () => {
    const hint = ERRORS.TG_VALIDATOR_UNKNOWN.hint;
    expect(hint).toContain('docs/validators.md');
    expect(names.filter((n) => new RegExp(`\\b${n}\\b`).test(hint))).toEqual([]);
    expect(ERRORS.TG_VALIDATOR_UNKNOWN).toMatchObject({ status: 400, exit: 2 });
  });
});
