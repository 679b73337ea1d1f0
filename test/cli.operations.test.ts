/**
 * Delivery operations, end to end through the real binary on real files (issue 12): who may promote
 * and roll back a stage, a rollback that holds its release out until someone clears it, and soak.
 * Time is fixed per command with TOLLGATE_NOW, so the record's times are known.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

afterAll(() => removeProjects());

const V = (n: number) => `fraud-detector@1.${n}.0`;

/** The example users with their real keys, in the roles these tests need (dave is also admin). */
function roster(p: Project, roles: Record<string, string> = {}): string {
  const users = p.init.users as Record<string, string>;
  const base: Record<string, string> = { alice: 'ml-engineer', bob: 'ml-engineer', carol: 'security', dave: 'release-manager, admin', ci: 'validator', ...roles };
  return ['roster:', ...Object.entries(base).map(([u, r]) => `  ${u}: { roles: [${r}], key: "${users[u]}" }`)].join('\n');
}

/** A project with `stages` (YAML under `stages:`) and releases 1.1.0 … 1.n.0 registered by alice. */
function setUp(stages: string, releases: number, roles?: Record<string, string>): Project {
  const p = createProject();
  p.write('ops.yaml', `apiVersion: tollgate/v1\nkind: Policy\nname: ops\n${roster(p, roles)}\nstages:\n${stages}\ngates: []\n`);
  const a = p.run(['policy', 'apply', 'ops.yaml', '--as', 'dave']);
  if (a.code !== 0) throw new Error(`policy apply failed: ${a.stdout}${a.stderr}`);
  const manifest = p.read('release.yaml');
  for (let n = 1; n <= releases; n++) {
    p.write(`r${n}.yaml`, manifest.replace('version: 2.4.0', `version: 1.${n}.0`));
    const r = p.run(['release', 'create', `r${n}.yaml`, '--as', 'alice']);
    if (r.code !== 0) throw new Error(`release create failed: ${r.stdout}${r.stderr}`);
  }
  return p;
}

function at(p: Project, now: string) {
  return (args: string[]) => p.run([...args, '--json'], { env: { TOLLGATE_NOW: now } });
}

function requirement(d: any, gateId: string, id: string): any {
  const r = d.gates.find((g: any) => g.id === gateId)?.requirements.find((x: any) => x.id === id);
  if (!r) throw new Error(`no requirement ${gateId}/${id} in ${JSON.stringify(d.gates)}`);
  return r;
}

describe('who may act: promoters and rollback per stage', () => {
  const stages = `  - name: staging
  - name: production
    after: staging
    promoters: [release-manager]
    rollback: [release-manager, security]`;
  let p: Project;

  it('any member promotes into a stage that names no promoters; a CI identity with only validator is refused production, naming the role', () => {
    p = setUp(stages, 2);
    expect(p.run(['promote', V(1), '--to', 'staging', '--as', 'ci']).code).toBe(0);
    const r = p.run(['promote', V(1), '--to', 'production', '--as', 'ci', '--json']);
    expect(r.code).toBe(2);
    const e = r.json().error;
    expect(e.code).toBe('TG_NOT_ALLOWED');
    expect(e.message).toBe('ci may not promote into production: that needs the role "release-manager" (the policy\'s "promoters" for production); ci holds validator');
    expect(e.hint).toContain('Ask dave');
    // Nothing was promoted.
    expect(p.run(['release', 'show', V(1), '--json']).json().holds).toEqual(['staging']);
  });

  it('the release manager promotes', () => {
    expect(p.run(['promote', V(1), '--to', 'production', '--as', 'dave']).code).toBe(0);
    expect(p.run(['promote', V(2), '--to', 'staging', '--as', 'alice']).code).toBe(0);
    expect(p.run(['promote', V(2), '--to', 'production', '--as', 'dave']).code).toBe(0);
  });

  it('rollback: an ml-engineer is refused naming both roles; security may', () => {
    const r = p.run(['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'p95 latency doubled', '--as', 'alice', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_NOT_ALLOWED');
    expect(r.json().error.message).toContain('alice may not roll back production: that needs the role "release-manager" or "security"');
    const ok = p.run(['rollback', 'fraud-detector', '--stage', 'production', '--reason', 'p95 latency doubled', '--as', 'carol', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ from: V(2), to: V(1) });
  });

  it('`policy check` names a role nobody holds at its line and column', () => {
    p.write('bad.yaml', p.read('ops.yaml').replace('promoters: [release-manager]', 'promoters: [release-managers]'));
    const r = p.run(['policy', 'check', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('bad.yaml:14:17: stage "production": unknown role "release-managers" in "promoters"');
  });
});
