import { describe, expect, it } from 'vitest';
import { fillTemplate, handoffPayload, handoffTarget } from './handoff.js';
import type { Promotion, Release } from './model.js';
import { checkPolicy, parsePolicy } from './policy.js';

const release = {
  subject: 'fraud-detector',
  version: '2.4.0',
  digest: `sha256:${'a'.repeat(64)}`,
  manifest: {
    subject: 'fraud-detector',
    version: '2.4.0',
    risk: 'high',
    owner: 'alice',
    artifacts: [
      { name: 'model', kind: 'model', path: 'model/model.onnx', sha256: 'b'.repeat(64), size: 3 },
      { name: 'image', kind: 'code', uri: 'oci://registry.example/fraud@sha256:cc', sha256: 'c'.repeat(64) },
    ],
  },
  createdAt: '2026-03-01T00:00:00.000Z',
  createdBy: 'alice',
} as unknown as Release;
const promotion = { id: 'p1', stage: 'production', kind: 'promotion', at: '2026-03-02T10:00:00.000Z', by: 'dave', policyVersion: 3 } as Promotion;
const payload = handoffPayload(release, promotion);

describe('hand-off payload and templates', () => {
  it('carries artifact locations and digests, no size', () => {
    expect(payload.artifacts).toEqual([
      { name: 'model', kind: 'model', path: 'model/model.onnx', sha256: 'b'.repeat(64) },
      { name: 'image', kind: 'code', uri: 'oci://registry.example/fraud@sha256:cc', sha256: 'c'.repeat(64) },
    ]);
  });

  it.each([
    ['{version}', '2.4.0'],
    ['{subject}:{version}-{stage}', 'fraud-detector:2.4.0-production'],
    ['{artifact.image.uri}', 'oci://registry.example/fraud@sha256:cc'],
    ['sha256:{artifact.model.sha256}', `sha256:${'b'.repeat(64)}`],
    ['{promotion.id}', 'p1'],
    ['plain', 'plain'],
  ])('fills %s', (template, want) => {
    expect(fillTemplate(template, payload)).toBe(want);
  });

  it.each(['{versions}', '{artifact.model.uri}', '{artifact.nope.sha256}'])('refuses %s, rather than writing nothing', (template) => {
    expect(() => fillTemplate(template, payload)).toThrow(/names nothing this release has/);
  });

  it('names each target for people', () => {
    expect(handoffTarget({ git: { repo: '/srv/deploy.git', file: 'values.yaml', set: { path: 'image.tag', value: '{version}' } } })).toBe('/srv/deploy.git main:values.yaml (image.tag)');
    expect(handoffTarget({ command: ['./deploy.sh', 'a b'] })).toBe("./deploy.sh 'a b'");
    expect(handoffTarget({ webhook: 'https://x.example/h' })).toBe('https://x.example/h');
  });
});

const policy = (handoff: string) => `apiVersion: tollgate/v1
kind: Policy
name: p
roster: {}
stages:
  - name: production
    handoff:
${handoff}
gates: []
`;

describe('hand-offs in the policy', () => {
  it('reads each kind, a YAML number value as text', () => {
    const { policy: p } = parsePolicy(
      policy(`      - { git: { repo: /srv/deploy.git, branch: env/prod, file: values.yaml, set: { path: image.tag, value: 2 } } }
      - { command: [./deploy.sh, production], timeout: 5m }
      - { webhook: whk_4f1c2a9e0b3d }`),
      'p.yaml',
    );
    expect(p.stages[0]!.handoff).toEqual([
      { git: { repo: '/srv/deploy.git', branch: 'env/prod', file: 'values.yaml', set: { path: 'image.tag', value: '2' } } },
      { command: ['./deploy.sh', 'production'], timeout: '5m' },
      { webhook: 'whk_4f1c2a9e0b3d' },
    ]);
  });

  it.each([
    ['      - { git: { repo: --upload-pack=evil, file: a.json } }', '8:24 stage "production", handoff[0].git.repo: repo must not start with "-"'],
    ['      - { git: { repo: r, file: .git/config } }', '8:33 stage "production", handoff[0].git.file: file ".git/config" must be a path inside the repository: relative, without "..", "//" or ".git"'],
    ['      - { git: { repo: r, branch: "-f", file: a } }', '8:35 stage "production", handoff[0].git.branch: branch "-f" is not a branch name: letters, digits, ".", "_", "-" and "/"'],
    ['      - { git: { repo: r, file: a, set: { path: "image..tag", value: x } } }', '8:49 stage "production", handoff[0].git.set.path: path "image..tag" must be field names (or list indexes) joined by ".", e.g. image.tag'],
    ['      - { command: [sh], timeout: soon }', '8:35 stage "production", handoff[0].timeout: invalid duration "soon": write a number and a unit, e.g. 30s, 5m'],
    ['      - { webhook: "ftp://x" }', '8:20 stage "production", handoff[0].webhook: webhook "ftp://x" must be an http(s) URL or the id of a registered webhook (whk_…, `tollgate webhook list`)'],
    ['      - { command: [x], webhook: "https://x" }', '8:9 stage "production", handoff[0]: a hand-off is one of git, command or webhook, not command and webhook: write one entry each'],
  ])('%s: %s', (entry, message) => {
    expect(checkPolicy(policy(entry), 'p.yaml').map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([message]);
  });
});
