import { describe, expect, it } from 'vitest';
import type { Decision, ValidationResult } from '../domain/model.js';
import { renderReport, type ReportInput } from './report-html.js';

const digest = `sha256:${'a'.repeat(64)}` as const;

function result(over: Partial<ValidationResult>): ValidationResult {
  return {
    id: 'r1',
    releaseDigest: digest,
    stage: 'staging',
    gateId: 'automated',
    validationId: 'drift',
    validator: 'drift',
    validatorVersion: '1',
    definitionDigest: digest,
    status: 'failed',
    summary: 'psi 0.31 > max 0.2 on amount',
    measurements: {},
    thresholds: {},
    inputs: { 'data/current.csv': digest },
    durationMs: 1500,
    by: 'ci',
    at: '2026-11-30T10:00:00Z',
    ...over,
  };
}

const decision: Decision = {
  release: 'fraud-detector@2.4.0',
  releaseDigest: digest,
  stage: 'staging',
  policy: { name: 'p', digest },
  promotable: false,
  evaluatedAt: '2026-11-30T10:00:00Z',
  gates: [{ id: 'automated', outcome: 'failed', requirements: [{ id: 'drift', kind: 'validation', outcome: 'failed', reason: 'failed: psi 0.31 > max 0.2 on amount' }] }],
  notApplicable: [],
};

function input(validations: ValidationResult[]): ReportInput {
  return {
    release: {
      release: 'fraud-detector@2.4.0',
      digest,
      risk: 'high',
      owner: 'alice',
      createdAt: '2026-11-01T00:00:00Z',
      holds: [],
      manifest: { artifacts: [{ name: 'model', kind: 'model', path: 'model/<model>.onnx', sha256: 'b'.repeat(64) }], lineage: [{ from: ['data'], to: 'model', step: 'train' }] },
    },
    evidence: { checklist: [], signoffs: [], validations },
    decisions: [decision],
    generatedAt: '2026-11-30T12:00:00Z',
  };
}

describe('renderReport', () => {
  const drift = result({
    measurements: { columns: { amount: { kind: 'numeric', ks_statistic: 0.12, ks_pvalue: 0.001, psi: 0.31 }, country: { kind: 'categorical', psi: 0.02, chi2_statistic: 3.2, chi2_pvalue: 0.36 } } },
    thresholds: { psi: { max: 0.2 } },
    details: { columns: { amount: { bins: { labels: ['b1', 'b2'], reference: [0.5, 0.5], current: [0.2, 0.8] } } } },
  });
  const metrics = result({
    validationId: 'quality',
    validator: 'metrics',
    status: 'passed',
    summary: 'all 1 rules passed',
    measurements: {
      rules: [{ rule: 'accuracy >= baseline.accuracy - 0.01', outcome: 'passed', values: { accuracy: 0.94, 'baseline.accuracy': 0.93 } }],
      metrics: { accuracy: 0.94 },
      baseline: { ref: 'production', release: 'fraud-detector@2.3.0', metrics: { accuracy: 0.93 } },
    },
  });
  const html = renderReport(input([drift, metrics]));

  it('is one self-contained page: no script, no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src="http|url\(http/);
  });

  it('shows each gate, each result with its measured values against the thresholds', () => {
    expect(html).toContain('psi 0.31 &gt; max 0.2 on amount');
    expect(html).toContain('thresholds: <code>{&quot;psi&quot;:{&quot;max&quot;:0.2}}</code>');
    expect(html).toContain('<td>automated</td><td>validation drift</td><td>failed</td>');
    expect(html).toContain('1 passed, 1 failed, 0 errored');
  });

  it('draws the PSI chart with its threshold, the distributions and the metric-vs-baseline chart', () => {
    expect(html).toContain('PSI by column');
    expect(html).toContain('max 0.2');
    expect(html).toContain('amount: share per bin, reference vs current');
    expect(html).toContain('metrics vs baseline fraud-detector@2.3.0');
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
  });

  it('escapes what it shows', () => {
    expect(html).toContain('model/&lt;model&gt;.onnx');
    expect(html).not.toContain('<model>');
  });

  it('judges by the latest result of each validation, and lists the earlier runs apart (issue 13: failed runs were missing)', () => {
    const older = result({ summary: 'OLD RESULT', status: 'failed', at: '2026-11-29T00:00:00Z' });
    const html = renderReport(input([older, drift]));
    const [main, earlier] = html.split('<h2>Earlier runs</h2>');
    expect(main).not.toContain('OLD RESULT');
    expect(main).toContain('1 validation result: 0 passed, 1 failed, 0 errored (the latest of each; 2 runs in all)');
    expect(earlier).toContain('OLD RESULT');
    expect(renderReport(input([drift]))).not.toContain('Earlier runs');
  });

  it('says a stage the release holds is held, not "not promotable", and shows the promotion history (issue 13)', () => {
    const base = input([drift]);
    const held: ReportInput = {
      ...base,
      release: {
        ...base.release,
        holds: ['staging'],
        promotions: [
          { stage: 'staging', at: '2026-11-29T09:00:00Z', by: 'dave', kind: 'promotion', rolledBack: { at: '2026-11-29T10:00:00Z', by: 'sre', reason: 'latency' } },
          { stage: 'staging', at: '2026-11-29T11:00:00Z', by: 'dave', kind: 'promotion' },
        ],
      },
    };
    const html = renderReport(held);
    expect(html).toContain('staging — <span class="badge passed">holds this stage</span>');
    expect(html).not.toContain('not promotable');
    const history = html.split('<h2>Promotion history</h2>')[1]!;
    expect(history).toContain('rolled back at 2026-11-29T10:00:00Z by sre: latency');
    expect(history).toContain('2026-11-29T11:00:00Z');
    expect(renderReport(input([drift]))).toContain('not promotable');
  });

  it('has a break-glass section with its follow-ups and a waivers section, only when there are any', () => {
    const plain = renderReport(input([drift]));
    expect(plain).not.toContain('Break-glass');
    expect(plain).not.toContain('Waivers (accepted risk)');
    const base = input([drift]);
    const html = renderReport({
      ...base,
      release: {
        ...base.release,
        promotions: [
          { stage: 'production', at: '2026-11-30T10:00:00Z', by: 'dave', kind: 'promotion', breakGlass: { reason: 'fraud <spike>', signoff: 'bg1', signer: 'erin', role: 'incident-commander', unmet: ['stage/freeze failed'] } },
        ],
        followUps: [{ stage: 'production', item: 'postmortem', text: 'Write the review' }],
        waivers: [{ stage: 'production', gate: 'approvals', requirement: 'vuln-scan', by: 'frank', role: 'model-risk', reason: 'CVE mitigated', at: '2026-11-30T09:00:00Z', expiresAt: '2026-12-14T09:00:00Z' }],
      },
    });
    expect(html).toContain('<h2>Break-glass</h2>');
    expect(html).toContain('fraud &lt;spike&gt;');
    expect(html).toContain('erin (incident-commander)');
    expect(html).toContain('stage/freeze failed');
    expect(html).toContain('postmortem: Write the review');
    expect(html).toContain('OPEN');
    expect(html).toContain('<h2>Waivers (accepted risk)</h2>');
    expect(html).toContain('frank (model-risk)');
    expect(html).toContain('2026-12-14T09:00:00Z');
  });
});

describe('renderReport: an sbom result', () => {
  const sbom = result({
    validationId: 'sbom',
    validator: 'sbom',
    summary: '1 problem (max 0): 1 license.deny; first: license.deny: copyleft-lib@2.1.0 is licensed GPL-3.0-only, and GPL-3.0-only is denied',
    measurements: {
      specVersion: '1.6',
      components: 3,
      licenses: { MIT: 1, 'GPL-3.0-only': 1, '0BSD': 1 },
      unknownLicenses: 1,
      vulnerabilities: { critical: 0, high: 2, medium: 0, low: 1, info: 0, none: 0, unknown: 0 },
      suppressedVulnerabilities: { critical: 1, high: 0, medium: 0, low: 0, info: 0, none: 0, unknown: 0 },
      artifacts: { required: 1, byDigest: 1, byName: 0, missing: 0 },
      failing: { artifacts: 0, licenses: 1, vulnerabilities: 0 },
    },
    thresholds: { failOn: 'critical', deny: ['GPL-3.0-only'] },
    details: {
      problems: [{ rule: 'license.deny', component: 'copyleft-lib@2.1.0', message: 'copyleft-lib@2.1.0 is licensed GPL-3.0-only, and GPL-3.0-only is denied', failing: true }],
      artifacts: [{ artifact: 'model', sha256: 'b'.repeat(64), matchedBy: 'digest', component: 'fraud-detector@2.4.0' }],
      vulnerabilities: [
        { id: 'CVE-2021-44228', severity: 'critical', components: ['log4j-core@2.14.1'], suppressedBy: 'not_affected' },
        { id: 'GHSA-1', severity: 'high', components: ['a@1', 'b@2'], state: 'in_triage' },
      ],
    },
  });
  const html = renderReport(input([sbom]));

  it('draws vulnerabilities by severity, standing and suppressed, and components by license', () => {
    expect(html).toContain('vulnerabilities by severity (failOn critical)');
    expect(html).toContain('<title>standing high: 2</title>');
    expect(html).toContain('<title>suppressed (VEX) critical: 1</title>');
    expect(html).toContain('components by license (3 components)');
    expect(html).toContain('<title>components GPL-3.0-only: 1</title>');
    expect(html).toContain('<title>components unknown: 1</title>');
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
  });

  it('lists the problems with their rule and component, and how each artifact was named', () => {
    expect(html).toContain('<td>license.deny</td><td>copyleft-lib@2.1.0</td><td>yes</td>');
    expect(html).toContain('<td>model</td><td>digest</td><td>fraud-detector@2.4.0</td>');
    expect(html).toContain('<td>CVE-2021-44228</td><td>critical</td><td>log4j-core@2.14.1</td><td>not_affected</td><td>no</td>');
    expect(html).toContain('<td>GHSA-1</td><td>high</td><td>a@1, b@2</td><td>in_triage</td><td>no</td>');
  });
});

// Security finding 7 (issue 13): `Math.max(...values)` overflowed the stack on a large result, and
// `report` failed on that release for good.
describe('renderReport: a result of any size', () => {
  const N = 300_000;
  it('draws a drift result of 300,000 columns (the first 100 in the chart, 500 rows in the table)', () => {
    const columns = Object.fromEntries(Array.from({ length: N }, (_, i) => [`c${i}`, { kind: 'numeric', psi: (i % 100) / 100 }]));
    const huge = result({ measurements: { columns }, thresholds: { psi: { max: 0.2 } } });
    const html = renderReport(input([huge]));
    expect(html).toContain(`PSI by column (the first 100 of ${N.toLocaleString('en-US')})`);
    expect(html).toContain(`and ${(N - 500).toLocaleString('en-US')} more rows`);
  });

  it('draws metrics of 300,000 names and bins of 300,000 categories', () => {
    const metrics = Object.fromEntries(Array.from({ length: N }, (_, i) => [`m${i}`, i]));
    const labels = Array.from({ length: N }, (_, i) => `v${i}`);
    const shares = labels.map(() => 1 / N);
    const many = [
      result({ validationId: 'quality', validator: 'metrics', measurements: { rules: [], metrics } }),
      result({ measurements: { columns: { id: { kind: 'categorical', psi: 0.1 } } }, details: { columns: { id: { bins: { labels, reference: shares, current: shares } } } } }),
    ];
    const html = renderReport(input(many));
    expect(html).toContain(`metrics (no baseline yet) (the first 100 of ${N.toLocaleString('en-US')})`);
    expect(html).toContain(`id: share per bin, reference vs current (the first 100 of ${N.toLocaleString('en-US')})`);
  });
});
