import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from './digest.js';
import type { EvidenceSet } from './model.js';
import { VOUCHED_TABLES, claimsOf, evidenceSetDigest, recordDigest, rowClaim, stageHolderKey } from './records.js';

const D = `sha256:${'a'.repeat(64)}` as Digest;
const E = `sha256:${'b'.repeat(64)}` as Digest;

describe('rows vouched for by the audit log', () => {
  it('list the tables audit verify checks, in its order', () => {
    expect(VOUCHED_TABLES).toEqual(['policies', 'releases', 'checklist_completions', 'signoffs', 'validation_results', 'promotions', 'stage_holders', 'stage_holds', 'exception_signoffs', 'incidents', 'handoffs', 'api_tokens', 'webhooks', 'passkeys']);
  });

  it('digest a record with its table, so two tables never share a digest', () => {
    expect(recordDigest('signoffs', { id: 1 })).toBe(digestOf({ table: 'signoffs', record: { id: 1 } }));
    expect(recordDigest('signoffs', { id: 1 })).not.toBe(recordDigest('promotions', { id: 1 }));
    expect(rowClaim('releases', 'r1', { id: 1 })).toEqual({ table: 'releases', key: 'r1', digest: recordDigest('releases', { id: 1 }) });
    expect(stageHolderKey('fraud', 'production')).toBe('fraud/production');
  });

  it('read the claims of an event, skipping what is not one', () => {
    const good = { table: 'releases', key: 'r1', digest: D };
    expect(claimsOf({ rows: [good, null, 'x', { ...good, table: 'users' }, { ...good, table: 3 }, { ...good, key: 1 }, { ...good, digest: 1 }, { table: 'passkeys', key: 'k', digest: E }] })).toEqual([
      good,
      { table: 'passkeys', key: 'k', digest: E },
    ]);
    expect(claimsOf({})).toEqual([]);
    expect(claimsOf({ rows: { 0: good, length: 1 } })).toEqual([]);
  });

  it('digest the evidence of one release at one stage, by id in order', () => {
    const row = (id: string, releaseDigest: Digest, stage: string) => ({ id, releaseDigest, stage });
    const evidence = {
      checklist: [row('c1', D, 'production'), row('c2', E, 'production'), row('c3', D, 'staging'), row('c4', D, 'production')],
      validations: [row('v1', D, 'staging'), row('v2', D, 'production')],
      signoffs: [],
    } as unknown as EvidenceSet;
    expect(evidenceSetDigest(evidence, D, 'production')).toBe(digestOf({ release: D, stage: 'production', checklist: ['c1', 'c4'], validations: ['v2'] }));
    expect(evidenceSetDigest(evidence, E, 'staging')).toBe(digestOf({ release: E, stage: 'staging', checklist: [], validations: [] }));
  });
});
