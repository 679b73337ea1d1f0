/**
 * The `sbom` validator end to end from the CLI binary: a release carries this project's own SBOM
 * (made by cyclonedx-npm) as an artifact, and `validate` passes it with a permissive rule set; a
 * denied license and an unsuppressed critical vulnerability fail, naming the component and the rule
 * in `validate`, `status` and the report; `policy check` lints the `with` block.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

const REPO = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(REPO, 'test/fixtures/validators/sbom');
const REL = 'fraud-detector@2.5.0';
const PERMISSIVE = '[MIT, ISC, Apache-2.0, BSD-2-Clause, BSD-3-Clause, 0BSD, BlueOak-1.0.0, CC0-1.0, CC-BY-3.0, Python-2.0]';
const SECURITY = '      - { id: security, uses: sarif, with: { report: reports/scan.sarif, failOn: [error] } }\n';

let p: Project;

function requirement(d: any, gate: string, id: string): any {
  return d.gates.find((g: any) => g.id === gate)?.requirements.find((r: any) => r.id === id);
}

beforeAll(() => {
  p = createProject();
  fs.mkdirSync(path.join(p.dir, 'build'));
  // The project's own production dependency tree, as package-lock.json records it (see the unit test
  // for why --package-lock-only).
  execFileSync(process.execPath, [path.join(REPO, 'node_modules/@cyclonedx/cyclonedx-npm/bin/cyclonedx-npm-cli.js'), '--output-format', 'JSON', '--spec-version', '1.6', '--omit', 'dev', '--package-lock-only', '--output-file', path.join(p.dir, 'build/bom.cdx.json')], { cwd: REPO, stdio: 'pipe' });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(p.dir, 'build/package.json'));
  for (const f of ['critical-vuln.cdx.json', 'vex-not-affected.cdx.json', 'denied-license.cdx.json']) fs.copyFileSync(path.join(FIXTURES, f), path.join(p.dir, 'build', f));
  // A release whose artifacts include the SBOM and the code it describes (named `tollgate`, as the SBOM names its subject).
  p.write('release-sbom.yaml', p.read('release.yaml').replace('version: 2.4.0', 'version: 2.5.0').replace('artifacts:\n', 'artifacts:\n  - { name: sbom, kind: other, path: build/bom.cdx.json }\n  - { name: tollgate, kind: code, path: build/package.json }\n'));
  const validations = [
    `      - { id: sbom, uses: sbom, with: { sbom: artifact:sbom, allow: ${PERMISSIVE}, failOn: low, artifacts: [tollgate] } }`,
    '      - { id: sbom-denied, uses: sbom, with: { sbom: build/denied-license.cdx.json, deny: [GPL-3.0-only], artifacts: [] } }',
    '      - { id: sbom-vuln, uses: sbom, with: { sbom: build/critical-vuln.cdx.json, failOn: critical, artifacts: [] } }',
    '      - { id: sbom-vex, uses: sbom, with: { sbom: build/vex-not-affected.cdx.json, failOn: critical, artifacts: [] } }',
  ];
  p.write('tollgate.yaml', p.read('tollgate.yaml').replace(SECURITY, `${SECURITY}${validations.join('\n')}\n`));
  for (const args of [['policy', 'check'], ['policy', 'apply', 'tollgate.yaml', '--as', 'dave'], ['release', 'create', 'release-sbom.yaml', '--as', 'alice']]) {
    const r = p.run(args);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
}, 90_000);
afterAll(() => removeProjects());

describe('validate with an sbom validation', () => {
  it('passes on the project\'s own SBOM with a permissive rule set, bound to the registered artifact', () => {
    const r = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'sbom', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [x] = r.json().results;
    expect(x).toMatchObject({ id: 'sbom', validator: 'sbom', outcome: 'passed' });
    expect(Object.keys(x.inputs)).toEqual(['artifact:sbom']);
    expect(x.measurements).toMatchObject({ specVersion: '1.6', unknownLicenses: 0, artifacts: { required: 1, byName: 1, missing: 0 }, vulnerabilities: { critical: 0, high: 0 } });
    expect(x.measurements.components).toBeGreaterThan(100);
    expect(x.measurements.licenses.MIT).toBeGreaterThan(100);
    expect(x.summary).toMatch(/^CycloneDX 1\.6, \d+ components: \d+ license ids, each component allowed; no vulnerability at low or above; names the 1 artifact \(1 by name\)$/);
    expect(requirement(p.run(['status', REL, '--to', 'staging', '--json']).json(), 'automated', 'sbom').outcome).toBe('satisfied');
  });

  it('fails on a denied license and on an unsuppressed critical vulnerability, naming the component and the rule; a VEX not_affected passes', () => {
    const r = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect(r.code).toBe(3);
    const byId = Object.fromEntries(r.json().results.map((x: any) => [x.id, x]));
    expect(byId['sbom-denied'].outcome).toBe('failed');
    expect(byId['sbom-denied'].summary).toBe('1 problem (max 0): 1 license.deny; first: license.deny: copyleft-lib@2.1.0 is licensed GPL-3.0-only, and GPL-3.0-only is denied');
    expect(byId['sbom-vuln'].outcome).toBe('failed');
    expect(byId['sbom-vuln'].summary).toMatch(/^1 problem \(max 0\): 1 vulnerability; first: vulnerability: CVE-2021-44228 \(critical\) in org\.apache\.logging\.log4j\/log4j-core@2\.14\.1: at or above failOn critical/);
    expect(byId['sbom-vuln'].measurements.vulnerabilities).toMatchObject({ critical: 1 });
    expect(byId['sbom-vex'].outcome).toBe('passed');
    expect(byId['sbom-vex'].measurements.suppressedVulnerabilities).toMatchObject({ critical: 1 });

    const d = p.run(['status', REL, '--to', 'staging', '--json']).json();
    expect(requirement(d, 'automated', 'sbom-denied')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('license.deny: copyleft-lib@2.1.0') });
    expect(requirement(d, 'automated', 'sbom-vuln')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('vulnerability: CVE-2021-44228 (critical) in org.apache.logging.log4j/log4j-core@2.14.1') });
  });

  it('draws the results in the report', () => {
    const r = p.run(['report', REL, '-o', 'out/report.html']);
    expect(r.code, r.stderr).toBe(0);
    const html = p.read('out/report.html');
    expect(html).toContain('vulnerabilities by severity (failOn critical)');
    expect(html).toMatch(/components by license \(\d+ components\)/);
    expect(html).toContain('<td>license.deny</td><td>copyleft-lib@2.1.0</td><td>yes</td>');
    expect(html).toContain('<td>tollgate</td><td>name</td><td>tollgate@0.1.0</td>');
  });

  it('errors on an SBOM that is not valid CycloneDX, and on a release artifact it does not name', () => {
    const q = p.clone();
    fs.copyFileSync(path.join(FIXTURES, 'invalid.cdx.json'), path.join(q.dir, 'build/denied-license.cdx.json'));
    q.write('tollgate.yaml', q.read('tollgate.yaml').replace('sbom: build/critical-vuln.cdx.json, failOn: critical, artifacts: []', 'sbom: build/critical-vuln.cdx.json, failOn: critical, artifacts: [model]'));
    expect(q.run(['policy', 'apply', 'tollgate.yaml', '--as', 'dave']).code).toBe(0);
    const r = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect(r.code).toBe(3);
    const byId = Object.fromEntries(r.json().results.map((x: any) => [x.id, x]));
    expect(byId['sbom-denied']).toMatchObject({ outcome: 'errored', summary: expect.stringMatching(/^build\/denied-license\.cdx\.json: not a valid CycloneDX 1\.6 document: \/components\/0\/licenses\/0\/license\/id: .*\(found "Not-A-License"\)/) });
    expect(byId['sbom-vuln'].summary).toMatch(/^2 problems \(max 0\): 1 artifact, 1 vulnerability; first: artifact: the SBOM does not name artifact model /);
  });

  it('policy check names a with block the validator does not accept at file:line:col', () => {
    const q = p.clone();
    q.write('tollgate.yaml', q.read('tollgate.yaml').replace('deny: [GPL-3.0-only]', 'deny: [gpl-3.0]').replace('critical-vuln.cdx.json, failOn: critical', 'critical-vuln.cdx.json, failOn: severe'));
    const r = q.run(['policy', 'check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/tollgate\.yaml:\d+:\d+: sbom: "with\.deny\.0" "gpl-3\.0" is not an SPDX license id/);
    expect(r.stdout).toMatch(/tollgate\.yaml:\d+:\d+: sbom: "with\.failOn" failOn is the least severity that fails: critical, high, medium or low/);
    expect(r.stdout).toMatch(/TG_POLICY_INVALID/);
  });
});
