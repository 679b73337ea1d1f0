import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { fillTemplate, handoffDefinitionDigest, handoffKey, handoffKind, handoffPayload, handoffTarget } from './handoff.js';
import type { Promotion, Release } from './model.js';
import { checkPolicy, parsePolicy } from './policy.js';

function release(): Release {
  return {
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
}
const promotion = { id: 'p1', stage: 'production', kind: 'promotion', at: '2026-03-02T10:00:00.000Z', by: 'dave', policyVersion: 3 } as Promotion;
// Built inside each test, never at collection (docs/reliability.md, "Mutation testing").
const payloadOf = () => handoffPayload(release(), promotion);

describe('hand-off payload and templates', () => {
  it('carries the release, the promotion and each artifact as named', () => {
    const p = payloadOf();
    expect({ ...p, artifacts: undefined }).toEqual({
      subject: 'fraud-detector',
      version: '2.4.0',
      release: 'fraud-detector@2.4.0',
      stage: 'production',
      releaseDigest: `sha256:${'a'.repeat(64)}`,
      promotion: { id: 'p1', kind: 'promotion', at: '2026-03-02T10:00:00.000Z', by: 'dave', policyVersion: 3 },
      artifacts: undefined,
    });
    expect(p.artifacts.map((a) => Object.keys(a))).toEqual([['name', 'kind', 'path', 'sha256'], ['name', 'kind', 'uri', 'sha256']]);
  });

  it('carries artifact locations and digests, no size', () => {
    expect(payloadOf().artifacts).toEqual([
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
    ['{release}/{releaseDigest}', `fraud-detector@2.4.0/sha256:${'a'.repeat(64)}`],
    ['{artifact.model.path}', 'model/model.onnx'],
    ['plain', 'plain'],
  ])('fills %s', (template, want) => {
    expect(fillTemplate(template, payloadOf())).toBe(want);
  });

  it.each(['{versions}', '{artifact.model.uri}', '{artifact.nope.sha256}', '{artifact.model.size}', '{artifact.model.sha256x}', '{xartifact.model.sha256}', '{toString}'])('refuses %s, rather than writing nothing', (template) => {
    expect(() => fillTemplate(`a ${template} b`, payloadOf())).toThrow(
      new Error(`${template} names nothing this release has (use {subject}, {version}, {release}, {stage}, {releaseDigest}, {promotion.id} or {artifact.NAME.sha256|uri|path})`),
    );
  });

  it('knows a hand-off by its kind, its definition and its place', () => {
    const git = { git: { repo: 'r', file: 'f' } };
    expect([handoffKind(git), handoffKind({ command: ['x'] }), handoffKind({ webhook: 'https://x' })]).toEqual(['git', 'command', 'webhook']);
    expect(handoffDefinitionDigest(git)).toBe(digestOf(git));
    expect(handoffKey('p1', 2)).toBe('p1/2');
  });

  it('names each target for people', () => {
    expect(handoffTarget({ git: { repo: '/srv/deploy.git', file: 'values.yaml', set: { path: 'image.tag', value: '{version}' } } })).toBe('/srv/deploy.git main:values.yaml (image.tag)');
    expect(handoffTarget({ git: { repo: 'r', branch: 'env/prod', file: 'f' } })).toBe('r env/prod:f');
    expect(handoffTarget({ command: ['./deploy.sh', 'a b'] })).toBe("./deploy.sh 'a b'");
    expect(handoffTarget({ command: ['x@1%+=:,./-_', "it's", '$HOME', 'a', ''] })).toBe(`x@1%+=:,./-_ 'it'\\''s' '$HOME' a ''`);
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

describe('each check of a hand-off, word for word', () => {
  const FILE = (f: string) => `8:33 stage "production", handoff[0].git.file: file ${JSON.stringify(f)} must be a path inside the repository: relative, without "..", "//" or ".git"`;
  const BRANCH = (b: string) => `8:35 stage "production", handoff[0].git.branch: branch ${JSON.stringify(b)} is not a branch name: letters, digits, ".", "_", "-" and "/"`;
  const PATH = (p: string) => `8:49 stage "production", handoff[0].git.set.path: path ${JSON.stringify(p)} must be field names (or list indexes) joined by ".", e.g. image.tag`;
  const WEBHOOK = (w: string) => `8:20 stage "production", handoff[0].webhook: webhook ${JSON.stringify(w)} must be an http(s) URL or the id of a registered webhook (whk_…, \`tollgate webhook list\`)`;
  const NOT_A_MAP = '8:9 stage "production", handoff[0]: a hand-off is a map with one of git, command or webhook: { git: { repo, file } }, { command: [program, args…] } or { webhook: URL }';
  it.each([
    ['      - { git: { repo: "", file: a } }', ['8:24 stage "production", handoff[0].git.repo: repo must not be empty']],
    ['      - { git: { repo: r, file: /etc/passwd } }', [FILE('/etc/passwd')]],
    ['      - { git: { repo: r, file: "a//b" } }', [FILE('a//b')]],
    ['      - { git: { repo: r, file: "a/" } }', [FILE('a/')]],
    ['      - { git: { repo: r, file: "" } }', [FILE('')]],
    ['      - { git: { repo: r, file: "a/../b" } }', [FILE('a/../b')]],
    ['      - { git: { repo: r, file: "a/.gitx/b" } }', []],
    ['      - { git: { repo: r, branch: "a..b", file: a } }', [BRANCH('a..b')]],
    ['      - { git: { repo: r, branch: "a//b", file: a } }', [BRANCH('a//b')]],
    ['      - { git: { repo: r, branch: "a/", file: a } }', [BRANCH('a/')]],
    ['      - { git: { repo: r, branch: "a.", file: a } }', [BRANCH('a.')]],
    ['      - { git: { repo: r, branch: "a b", file: a } }', [BRANCH('a b')]],
    ['      - { git: { repo: r, branch: "env/prod-1.x_y", file: a } }', []],
    ['      - { git: { repo: r, file: a, set: { path: "", value: x } } }', [PATH('')]],
    ['      - { git: { repo: r, file: a, set: { path: "a.", value: x } } }', [PATH('a.')]],
    ['      - { git: { repo: r, file: a, set: { path: ".a", value: true } } }', [PATH('.a')]],
    ['      - { command: [] }', ['8:20 stage "production", handoff[0].command: must not be empty']],
    ['      - { command: [""] }', ['8:20 stage "production", handoff[0].command: command must name a program first']],
    ['      - { command: [x], timeout: 5 }', ['8:34 stage "production", handoff[0].timeout: expected a string, got the integer 5']],
    ['      - { webhook: "https://x.example/h" }', []],
    ['      - { webhook: "whk_0a9f" }', []],
    ['      - { webhook: "whk_XYZ" }', [WEBHOOK('whk_XYZ')]],
    ['      - { webhook: "http://a b" }', [WEBHOOK('http://a b')]],
    ['      - { webhook: " https://x" }', [WEBHOOK(' https://x')]],
    ['      - { webhook: "https://x", timeout: 2d }', []],
    ['      - x', [NOT_A_MAP]],
    ['      - {}', [NOT_A_MAP]],
    ['      - { git: { repo: r, file: a }, command: [x], webhook: y }', ['8:9 stage "production", handoff[0]: a hand-off is one of git, command or webhook, not git and command and webhook: write one entry each']],
    ['      - { git: { repo: r, file: a, extra: 1 } }', ['8:36 stage "production", handoff[0].git: unknown field "extra"']],
  ])('%s', (entry, messages) => {
    expect(checkPolicy(policy(entry), 'p.yaml').map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual(messages);
  });

  it('sets a value written as a number or a boolean as its text', () => {
    const { policy: p } = parsePolicy(policy('      - { git: { repo: r, file: a, set: { path: a.b, value: true } } }'), 'p.yaml');
    expect(p.stages[0]!.handoff).toEqual([{ git: { repo: 'r', file: 'a', set: { path: 'a.b', value: 'true' } } }]);
  });
});
