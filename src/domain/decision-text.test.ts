import { describe, expect, it } from 'vitest';
import { OUTCOME_MARK, decisionHeadline, requirementLabel } from './decision-text.js';

describe('the words of a decision', () => {
  it('mark each outcome as status prints it', () => {
    expect(OUTCOME_MARK).toEqual({ satisfied: '✔', missing: '○', failed: '✘', errored: '!', stale: '~', expired: '⌛', waived: '≈' });
  });

  it('label a requirement by its kind', () => {
    expect(requirementLabel({ kind: 'signoff', id: 'sec', role: 'security' })).toBe('sign-off by security');
    expect(requirementLabel({ kind: 'checklist', id: 'model-card', role: undefined })).toBe('checklist model-card');
    expect(requirementLabel({ kind: 'validation', id: 'drift', role: undefined })).toBe('validation drift');
  });

  it('head a decision with what it allows', () => {
    const d = { release: 'fraud-detector@2.4.0', stage: 'production' };
    expect(decisionHeadline({ ...d, promotable: true })).toBe('fraud-detector@2.4.0 can be promoted to production');
    expect(decisionHeadline({ ...d, promotable: false })).toBe('fraud-detector@2.4.0 cannot be promoted to production');
    expect(decisionHeadline({ ...d, promotable: false, promoted: true })).toBe('fraud-detector@2.4.0 promoted to production');
    expect(decisionHeadline({ ...d, promotable: true, promoted: false })).toBe('fraud-detector@2.4.0 can be promoted to production');
  });
});
