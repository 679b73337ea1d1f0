import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { setYamlField } from './yaml-set.js';

const HELM = `# Helm values (kept by hand)
replicaCount: 3
image:
  repository: registry.example/fraud   # where the image lives
  # the tag Tollgate promotes:
  tag: "1.0.0"
  pullPolicy: IfNotPresent
`;

const KUSTOMIZE = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: fraud-detector   # the model server
    newTag: 1.0.0
  - name: sidecar
    newTag: '0.3'
`;

describe('setYamlField', () => {
  it('changes only the value, byte for byte: comments, spacing and quoting stay', () => {
    expect(setYamlField(HELM, 'image.tag', '2.4.0')).toBe(HELM.replace('tag: "1.0.0"', 'tag: "2.4.0"'));
  });

  it.each([
    ['images.0.newTag', '2.4.0', KUSTOMIZE.replace('newTag: 1.0.0', 'newTag: 2.4.0')],
    // A plain value that would read back as a number is quoted, so the field stays a string.
    ['images.0.newTag', '1.10', KUSTOMIZE.replace('newTag: 1.0.0', 'newTag: "1.10"')],
    ['images.0.newTag', 'yes', KUSTOMIZE.replace('newTag: 1.0.0', 'newTag: "yes"')],
    ['images.1.newTag', "it's", KUSTOMIZE.replace("newTag: '0.3'", "newTag: 'it''s'")],
  ])('%s = %s keeps the style of the value it replaces', (path, value, want) => {
    const out = setYamlField(KUSTOMIZE, path, value);
    expect(out).toBe(want);
    expect(parse(out).images[Number(path.split('.')[1])].newTag).toBe(value);
  });

  it('adds a missing key, keeping the comments', () => {
    const out = setYamlField(HELM, 'image.digest', 'sha256:abc');
    expect(parse(out).image).toEqual({ repository: 'registry.example/fraud', tag: '1.0.0', pullPolicy: 'IfNotPresent', digest: 'sha256:abc' });
    expect(out).toContain('# the tag Tollgate promotes:');
    expect(out).toContain('# where the image lives');
  });

  it('sets a field of an empty document', () => {
    expect(parse(setYamlField('', 'image.tag', '2.4.0'))).toEqual({ image: { tag: '2.4.0' } });
  });

  it.each([
    ['images.5.newTag', 'images is a list of 2: "5" is not an index in it'],
    ['images.first.newTag', 'images is a list of 2: "first" is not an index in it'],
    ['kind.name', 'kind is a plain value, not a map or a list: cannot set kind.name inside it'],
    ['images', 'images is a map or a list, not a plain value: name a field inside it'],
  ])('refuses %s: %s', (path, message) => {
    expect(() => setYamlField(KUSTOMIZE, path, 'x')).toThrow(message);
  });

  it('refuses a file that is not YAML', () => {
    expect(() => setYamlField('a: [1, 2\n', 'a', 'x')).toThrow(/^not valid YAML: /);
  });
});
