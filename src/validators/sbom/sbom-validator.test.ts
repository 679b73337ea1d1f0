import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, TEST_RELEASE, testContext } from '../../../test/fixtures/validators/context.js';
import type { Artifact, Release } from '../../domain/model.js';
import { digestFile } from '../inputs.js';
import { sbomValidator, type SbomArgs, type SbomProblem, type SbomVulnerability } from './index.js';

const DIR = fixtureDir('sbom');
const REPO = path.resolve(import.meta.dirname, '../../..');
const ctx = testContext(DIR);

function run(w: Record<string, unknown>, c = ctx) {
  return sbomValidator.run(sbomValidator.schema.parse(w) as SbomArgs, c);
}

function problemsOf(details: unknown): SbomProblem[] {
  return (details as { problems: SbomProblem[] }).problems;
}

function releaseWith(artifacts: Artifact[]): Release {
  return { ...TEST_RELEASE, manifest: { ...TEST_RELEASE.manifest, artifacts } };
}

// A permissive rule set: the licenses this project's production dependencies hold today, read off
// the real SBOM below. A dependency under another license fails the first test, which is the point.
const PERMISSIVE = ['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'CC0-1.0', 'CC-BY-3.0', 'Python-2.0'];
const COPYLEFT = ['GPL-2.0-only', 'GPL-2.0-or-later', 'GPL-3.0-only', 'GPL-3.0-or-later', 'AGPL-3.0-only', 'AGPL-3.0-or-later', 'LGPL-2.1-only', 'LGPL-3.0-only', 'SSPL-1.0'];

describe('sbom: the project\'s own SBOM, made by cyclonedx-npm', () => {
  let tmp: string;
  let file: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-sbom-'));
    file = path.join(tmp, 'tollgate.cdx.json');
    // --package-lock-only: the production tree as package-lock.json records it, so the SBOM does not
    // depend on what else a shared node_modules happens to hold (npm ls calls dev packages there
    // "extraneous" and would list them).
    execFileSync(process.execPath, [path.join(REPO, 'node_modules/@cyclonedx/cyclonedx-npm/bin/cyclonedx-npm-cli.js'), '--output-format', 'JSON', '--spec-version', '1.6', '--omit', 'dev', '--package-lock-only', '--output-file', file], { cwd: REPO, stdio: 'pipe' });
  }, 60_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('passes with a permissive allow list, names the project as its artifact, and records what it found', async () => {
    const code: Artifact = { name: 'tollgate', kind: 'code', path: 'package.json', sha256: 'cd'.repeat(32) };
    const out = await run({ sbom: file, allow: PERMISSIVE, failOn: 'low' }, testContext(tmp, { release: releaseWith([code]) }));
    expect(out.status, out.summary).toBe('passed');
    const m = out.measurements as any;
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const production = Object.entries(lock.packages).filter(([k, p]) => k !== '' && !p.dev).length;
    expect(m.specVersion).toBe('1.6');
    expect(m.components).toBe(production);
    expect(m.licenses.MIT).toBeGreaterThan(100);
    expect(Object.keys(m.licenses).every((id) => PERMISSIVE.includes(id) || id === 'WTFPL')).toBe(true);
    expect(m.unknownLicenses).toBe(0);
    expect(m.vulnerabilities).toEqual({ critical: 0, high: 0, medium: 0, low: 0, info: 0, none: 0, unknown: 0 });
    expect(m.artifacts).toEqual({ required: 1, byDigest: 0, byName: 1, missing: 0 });
    expect(out.summary).toMatch(new RegExp(`^CycloneDX 1\\.6, ${production} components: \\d+ license ids, each component allowed; no vulnerability at low or above; names the 1 artifact \\(1 by name\\)$`));
    expect(out.inputs).toEqual({ [file]: await digestFile(file) });
  });

  it('passes with a copyleft deny list too', async () => {
    const out = await run({ sbom: file, deny: COPYLEFT }, testContext(tmp));
    expect(out.status, out.summary).toBe('passed');
  });

  it('fails when a licence it holds is denied, naming the component and the rule', async () => {
    const out = await run({ sbom: file, deny: ['ISC'] }, testContext(tmp));
    expect(out.status).toBe('failed');
    const isc = (out.measurements as any).licenses.ISC as number;
    expect(out.summary).toMatch(new RegExp(`^${isc} problems \\(max 0\\): ${isc} license\\.deny; first: license\\.deny: \\S+@\\S+ is licensed [^;]*ISC[^;]*, and ISC is denied$`));
  });
});

describe('sbom: licenses', () => {
  it('fails on a denied license, naming the component, its purl and the rule', async () => {
    const out = await run({ sbom: 'denied-license.cdx.json', deny: ['GPL-3.0-only', 'AGPL-3.0-only'] });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('1 problem (max 0): 1 license.deny; first: license.deny: copyleft-lib@2.1.0 is licensed GPL-3.0-only, and GPL-3.0-only is denied');
    expect(problemsOf(out.details)).toEqual([
      { rule: 'license.deny', component: 'copyleft-lib@2.1.0', purl: 'pkg:npm/copyleft-lib@2.1.0', message: 'copyleft-lib@2.1.0 is licensed GPL-3.0-only, and GPL-3.0-only is denied', failing: true },
    ]);
    expect(out.measurements).toMatchObject({ components: 3, licenses: { '0BSD': 1, 'GPL-3.0-only': 1, MIT: 1 }, failing: { licenses: 1, vulnerabilities: 0, artifacts: 0 } });
    expect(out.thresholds).toMatchObject({ deny: ['GPL-3.0-only', 'AGPL-3.0-only'], failOn: 'high', unknownLicense: 'fail' });
  });

  it('passes the same SBOM when nothing it holds is denied', async () => {
    const out = await run({ sbom: 'denied-license.cdx.json', deny: ['AGPL-3.0-only'] });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('CycloneDX 1.6, 3 components: 3 license ids, none denied; no vulnerability at high or above');
  });

  it('an allow list: an OR needs one allowed side, an AND every part; WITH is judged by its license', async () => {
    const out = await run({ sbom: 'allow-list.cdx.json', allow: ['MIT', 'Apache-2.0', 'GPL-2.0-only'] });
    expect(out.status).toBe('failed');
    expect(problemsOf(out.details)).toEqual([
      {
        rule: 'license.allow',
        component: '@acme/mixed@3.2.0',
        purl: 'pkg:npm/%40acme/mixed@3.2.0',
        message: '@acme/mixed@3.2.0 is licensed Apache-2.0 AND BSD-3-Clause, which the allow list does not satisfy (not allowed: BSD-3-Clause)',
        failing: true,
      },
    ]);
    expect((await run({ sbom: 'allow-list.cdx.json', allow: ['MIT', 'Apache-2.0', 'BSD-3-Clause', 'GPL-2.0-only'] })).status).toBe('passed');
    // Without GPL-2.0-only the WITH exception no longer passes; dual still does through MIT.
    const strict = await run({ sbom: 'allow-list.cdx.json', allow: ['MIT', 'Apache-2.0', 'BSD-3-Clause'] });
    expect(problemsOf(strict.details).map((p) => [p.rule, p.component])).toEqual([['license.allow', 'classpath@1.0.0']]);
  });

  it('an unknown license fails, warns or is allowed as unknownLicense says; a concluded license wins over a declared one', async () => {
    const failing = await run({ sbom: 'unknown-license.cdx.json', deny: ['GPL-3.0-only'] });
    expect(failing.status).toBe('failed');
    expect(problemsOf(failing.details).map((p) => [p.rule, p.component, p.message, p.failing])).toEqual([
      ['license.unknown', 'named@1.0.0', 'named@1.0.0 is licensed "Acme Proprietary License", which holds no SPDX license id for "Acme Proprietary License" (unknownLicense: fail)', true],
      ['license.unknown', 'unlicensed@0.1.0', 'unlicensed@0.1.0 has no license (unknownLicense: fail)', true],
      // Several entries all apply: MIT AND the proprietary one.
      ['license.unknown', 'either@1.0.0', 'either@1.0.0 is licensed MIT AND "Acme Proprietary License", which holds no SPDX license id for "Acme Proprietary License" (unknownLicense: fail)', true],
    ]);
    expect(failing.measurements).toMatchObject({ unknownLicenses: 3, licenses: { MIT: 2 } });
    const warned = await run({ sbom: 'unknown-license.cdx.json', unknownLicense: 'warn' });
    expect(warned.status).toBe('passed');
    expect(warned.summary).toBe('CycloneDX 1.6, 4 components: 1 license id; 3 unknown licenses (warn); no vulnerability at high or above');
    expect(problemsOf(warned.details).every((p) => !p.failing)).toBe(true);
    const allowed = await run({ sbom: 'unknown-license.cdx.json', unknownLicense: 'allow' });
    expect(allowed.status).toBe('passed');
    expect(problemsOf(allowed.details)).toEqual([]);
  });
});

describe('sbom: vulnerabilities', () => {
  it('fails on an unsuppressed critical vulnerability, naming the vulnerability, the component and the rule', async () => {
    const out = await run({ sbom: 'critical-vuln.cdx.json', failOn: 'critical' });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe(
      '1 problem (max 0): 1 vulnerability; first: vulnerability: CVE-2021-44228 (critical) in org.apache.logging.log4j/log4j-core@2.14.1: at or above failOn critical, and no VEX analysis marks it not_affected, false_positive, resolved, resolved_with_pedigree (state: in_triage)',
    );
    expect(problemsOf(out.details)[0]).toMatchObject({ rule: 'vulnerability', component: 'org.apache.logging.log4j/log4j-core@2.14.1', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' });
    // The second one has no severity but a CVSS 3.1 score of 3.1: low.
    expect(out.measurements).toMatchObject({
      vulnerabilities: { critical: 1, high: 0, medium: 0, low: 1, info: 0, none: 0, unknown: 0 },
      suppressedVulnerabilities: { critical: 0, low: 0 },
      failing: { vulnerabilities: 1 },
    });
    expect((out.details as { vulnerabilities: SbomVulnerability[] }).vulnerabilities).toEqual([
      { id: 'CVE-2021-44228', severity: 'critical', components: ['org.apache.logging.log4j/log4j-core@2.14.1'], state: 'in_triage', failing: true },
      { id: 'GHSA-57j2-w4cx-62h2', severity: 'low', components: ['com.fasterxml.jackson.core/jackson-databind@2.13.0'] },
    ]);
    expect((await run({ sbom: 'critical-vuln.cdx.json', failOn: 'low' })).measurements).toMatchObject({ failing: { vulnerabilities: 2 } });
  });

  it.each(['vex-not-affected.cdx.json', 'vex-resolved.cdx.json'])('passes when a VEX analysis suppresses it (%s)', async (sbom) => {
    const out = await run({ sbom, failOn: 'critical' });
    expect(out.status, out.summary).toBe('passed');
    expect(out.summary).toBe('CycloneDX 1.6, 2 components: 1 license id; no vulnerability at critical or above (others: 1 low; 1 suppressed by VEX)');
    expect(out.measurements).toMatchObject({ vulnerabilities: { critical: 0, low: 1 }, suppressedVulnerabilities: { critical: 1 } });
  });

  it('reads CycloneDX 1.4 and 1.5', async () => {
    const v14 = await run({ sbom: 'spec-1.4.cdx.json' });
    expect(v14.status, v14.summary).toBe('passed');
    expect(v14.measurements).toMatchObject({ specVersion: '1.4', components: 2, suppressedVulnerabilities: { critical: 1 } });
    const v15 = await run({ sbom: 'spec-1.5.cdx.json' });
    expect(v15.status).toBe('failed');
    expect(v15.measurements).toMatchObject({ specVersion: '1.5' });
    expect(v15.summary).toMatch(/first: vulnerability: CVE-2021-44228 \(critical\) in org\.apache\.logging\.log4j\/log4j-core@2\.14\.1: .*\(no analysis\)$/);
  });
});

describe('sbom: the release\'s artifacts', () => {
  const model: Artifact = { name: 'model', kind: 'model', path: 'model.onnx', sha256: '9cb7487000bc86ac36ce83c4acfabe8878552be99572a6770f65ab1d048a5c48' };
  const code: Artifact = { name: 'code', kind: 'code', uri: 'git+https://git.example/fraud@4e1d', sha256: 'ef'.repeat(32) };
  const data: Artifact = { name: 'train-data', kind: 'dataset', uri: 's3://ml/train.parquet', sha256: '12'.repeat(32) };
  const scores: Artifact = { name: 'scores', kind: 'dataset', uri: 's3://ml/scores.parquet', sha256: '34'.repeat(32) };

  it('matches by digest, else by name; another digest under the name and a missing artifact fail', async () => {
    const out = await run({ sbom: 'artifacts.cdx.json' }, testContext(DIR, { release: releaseWith([model, code, data, scores]) }));
    expect(out.status).toBe('failed');
    expect((out.details as { artifacts: unknown[] }).artifacts).toEqual([
      { artifact: 'model', sha256: model.sha256, matchedBy: 'digest', component: 'fraud-detector@2.4.0' },
      { artifact: 'code', sha256: code.sha256, matchedBy: 'name', component: 'code@2.4.0' },
      { artifact: 'train-data', sha256: data.sha256, component: 'train-data', problem: expect.stringMatching(/^the SBOM's train-data has sha256 [0-9a-f]{64}, but the release registered 1212\S+ for artifact train-data: it describes other bytes$/) },
      { artifact: 'scores', sha256: scores.sha256, problem: `the SBOM does not name artifact scores (no component has its sha256 ${scores.sha256} or its name)` },
    ]);
    expect(out.measurements).toMatchObject({ artifacts: { required: 4, byDigest: 1, byName: 1, missing: 2 }, failing: { artifacts: 2 } });
    expect(out.summary).toMatch(/^2 problems \(max 0\): 2 artifact; first: artifact: the SBOM's train-data has sha256/);
  });

  it('artifacts chooses which it must name; matchArtifactsBy: digest refuses a match by name', async () => {
    const c = testContext(DIR, { release: releaseWith([model, code, data, scores]) });
    const out = await run({ sbom: 'artifacts.cdx.json', artifacts: ['model', 'code'] }, c);
    expect(out.status, out.summary).toBe('passed');
    expect(out.summary).toMatch(/; names the 2 artifacts \(1 by digest, 1 by name\)$/);
    const strict = await run({ sbom: 'artifacts.cdx.json', artifacts: ['model', 'code'], matchArtifactsBy: 'digest' }, c);
    expect(strict.status).toBe('failed');
    expect(problemsOf(strict.details)[0]!.message).toBe('the SBOM names artifact code (code@2.4.0) without a SHA-256 hash, and matchArtifactsBy is digest');
    const unknown = await run({ sbom: 'artifacts.cdx.json', artifacts: ['model', 'weights'] }, c);
    expect(unknown.status).toBe('errored');
    expect(unknown.summary).toBe('artifacts: the release has no artifact "weights" (artifacts: model, code, train-data, scores)');
  });

  it('the SBOM artifact itself is not one it must name', async () => {
    const self: Artifact = { name: 'sbom', kind: 'other', path: 'artifacts.cdx.json', sha256: (await digestFile(path.join(DIR, 'artifacts.cdx.json'))).slice('sha256:'.length) };
    const out = await run({ sbom: 'artifacts.cdx.json' }, testContext(DIR, { release: releaseWith([model, self]) }));
    expect(out.status, out.summary).toBe('passed');
    expect(out.thresholds).toMatchObject({ artifacts: ['model'] });
  });
});

describe('sbom: the with block', () => {
  it('has defaults', () => {
    expect(sbomValidator.schema.parse({ sbom: 'sbom.json' })).toEqual({ sbom: 'sbom.json', unknownLicense: 'fail', failOn: 'high', matchArtifactsBy: 'digest-or-name' });
  });

  it.each([
    [{}, /sbom must be the path of a CycloneDX JSON file/],
    [{ sbom: 'a.json', deny: ['mit'] }, /"mit" is not an SPDX license id \(ids are case-sensitive/],
    [{ sbom: 'a.json', allow: ['MIT OR Apache-2.0'] }, /"MIT OR Apache-2.0" is not an SPDX license id/],
    [{ sbom: 'a.json', allow: 'MIT' }, /allow must be a list of SPDX license ids/],
    [{ sbom: 'a.json', allow: ['MIT'], deny: ['MIT'] }, /MIT both allowed and denied/],
    [{ sbom: 'a.json', failOn: 'severe' }, /failOn is the least severity that fails: critical, high, medium or low/],
    [{ sbom: 'a.json', unknownLicense: 'ignore' }, /unknownLicense is fail, warn or allow/],
    [{ sbom: 'a.json', matchArtifactsBy: 'name' }, /matchArtifactsBy is digest or digest-or-name/],
    [{ sbom: 'a.json', licenses: ['MIT'] }, /licenses/],
  ])('rejects %j', (w, message) => {
    const r = sbomValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.message} ${'keys' in i ? (i.keys as string[]).join() : ''}`).join('\n')).toMatch(message);
  });

  it('accepts LicenseRef ids', () => {
    expect(sbomValidator.schema.safeParse({ sbom: 'a.json', allow: ['LicenseRef-acme-internal'] }).success).toBe(true);
  });
});

describe('sbom: documents it cannot judge', () => {
  it.each([
    ['missing.cdx.json', /missing\.cdx\.json: no such file/],
    ['not-json.cdx.json', /^not-json\.cdx\.json: not JSON \(.*\); the sbom validator reads CycloneDX JSON$/],
    ['spdx.json', /^spdx\.json: not a CycloneDX SBOM: expected a JSON object with "bomFormat": "CycloneDX"$/],
    ['spec-1.3.cdx.json', /^spec-1\.3\.cdx\.json: CycloneDX specVersion "1\.3" is not supported; expected 1\.4, 1\.5, 1\.6$/],
    ['invalid.cdx.json', /^invalid\.cdx\.json: not a valid CycloneDX 1\.6 document: \/components\/0\/licenses\/0\/license\/id: must be equal to one of the allowed values \(found "Not-A-License"\)/],
  ])('errors on %s', async (sbom, message) => {
    const out = await run({ sbom, allow: ['MIT'] });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });
});
