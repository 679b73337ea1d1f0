/**
 * Acceptance, end to end through the real binary on real files: who may change the policy (an admin
 * of the active policy, audited as that person), the policy history (`policy list`, `policy show`),
 * `policy diff` listing exactly the releases whose outcome would change and the sign-offs that would
 * go stale (checked against what `status` answers once the policy is applied), and reading the audit
 * log with its filters and pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import { createUseCases } from '../src/service/use-cases.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { createProject, removeProjects, rosterYaml, snapshotDb, type Project } from './helpers/cli.js';

afterAll(() => removeProjects());

const A = 'fraud-detector@2.4.0'; // high risk: in staging, production promotable
const B = 'fraud-detector@2.4.1'; // low risk: staging promotable, not yet in staging
const C = 'scorer@1.0.0'; // low risk: nothing recorded
const D = 'scorer@2.0.0'; // high risk: nothing recorded; no change touches it
const RELEASES = [A, B, C, D];
const STAGES = ['staging', 'production'];

/** The policy of this file: `next` counts two ml-engineers and asks the inventory of high risks only. */
function policy(p: Project, next: boolean): string {
  return `apiVersion: tollgate/v1
kind: Policy
name: history
${rosterYaml(p)}
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: inventory
    stage: staging
${next ? `    when: "release.risk in ['high', 'critical']"\n` : ''}    checklist:
      - { id: datasets-listed }
  - id: approvals
    stage: production
    signoffs:
      - { role: ml-engineer, count: ${next ? 2 : 1} }
  - id: runbook
    stage: production
    checklist:
      - { id: runbook }
`;
}

function ok(p: Project, args: string[]): any {
  const r = p.run([...args, '--json']);
  if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return r.json();
}

/**
 * Every release's decision in every stage, as `status` decides it over the project's database:
 * promotable and each gate's outcome. In this process (the service layer `status` runs), not eight
 * runs of the binary: the binary's `policy diff` is what is under test, this is its yardstick.
 */
async function decisions(p: Project): Promise<Record<string, { promotable: boolean; gates: Record<string, string> }>> {
  const store = await createSqliteStore(p.dbFile);
  try {
    const status = createUseCases({ store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'test', now: () => new Date() }, undefined).status;
    const out: Record<string, { promotable: boolean; gates: Record<string, string> }> = {};
    for (const rel of RELEASES) {
      for (const stage of STAGES) {
        const d = await status(rel, stage);
        out[`${rel} ${stage}`] = { promotable: d.promotable, gates: Object.fromEntries(d.gates.map((g) => [g.id, g.outcome])) };
      }
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('policy history, policy diff and the audit log, from the CLI', () => {
  let p: Project;
  let v1Source: string;

  beforeAll(() => {
    p = createProject();
    v1Source = policy(p, false);
    p.write('history.yaml', v1Source);
    p.write('next.yaml', policy(p, true));
    const manifest = p.read('release.yaml');
    p.write('release-b.yaml', manifest.replace('version: 2.4.0', 'version: 2.4.1').replace(/^risk: high\b/m, 'risk: low'));
    p.write('release-c.yaml', manifest.replace('subject: fraud-detector', 'subject: scorer').replace('version: 2.4.0', 'version: 1.0.0').replace(/^risk: high\b/m, 'risk: low'));
    p.write('release-d.yaml', manifest.replace('subject: fraud-detector', 'subject: scorer').replace('version: 2.4.0', 'version: 2.0.0'));
  });

  it('refuses policy apply without an identity, or by someone without the admin role, and records nothing', () => {
    const before = snapshotDb(p);
    const anonymous = p.run(['policy', 'apply', 'history.yaml', '--json']);
    expect([anonymous.code, anonymous.json().error.code]).toEqual([2, 'TG_IDENTITY_REQUIRED']);
    const alice = p.run(['policy', 'apply', 'history.yaml', '--as', 'alice']);
    expect(alice.code).toBe(2);
    expect(alice.stderr).toContain('error TG_NOT_ALLOWED: alice may not apply a policy: that needs the "admin" role in the roster of policy fraud-platform (version 1)');
    expect(alice.stderr).toContain('(dave)');
    const stranger = p.run(['policy', 'apply', 'history.yaml', '--as', 'mallory', '--json']);
    expect([stranger.code, stranger.json().error.code]).toEqual([2, 'TG_USER_UNKNOWN']);
    expect(snapshotDb(p)).toEqual(before);
  });

  it('applies as an admin, recorded as that person', () => {
    expect(ok(p, ['policy', 'apply', 'history.yaml', '--as', 'dave'])).toMatchObject({ name: 'history', version: 2, changed: true });
    const list = ok(p, ['policy', 'list']).policies;
    expect(list.map((v: any) => [v.version, v.name, v.appliedBy, v.active])).toEqual([
      [2, 'history', 'dave', true],
      [1, 'fraud-platform', 'local', false],
    ]);
    expect(list[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const applied = ok(p, ['audit', 'log', '--type', 'PolicyApplied']).events;
    expect(applied.map((e: any) => [e.actor, e.data.version])).toEqual([
      ['system', 1],
      ['user:dave', 2],
    ]);
  });

  it('shows a version as its text exactly as applied, and as the parsed policy with --json', () => {
    const v1 = p.run(['policy', 'show', '1']);
    expect(v1.code).toBe(0);
    expect(v1.stdout).toBe(p.read('tollgate.yaml'));
    expect(v1.stderr).toMatch(/^# policy fraud-platform version 1, sha256:[0-9a-f]{64}, applied \S+ by local\n$/);
    const active = p.run(['policy', 'show']);
    expect(active.stdout).toBe(v1Source);
    const json = ok(p, ['policy', 'show']);
    expect(json).toMatchObject({ version: 2, name: 'history', active: true, appliedBy: 'dave', source: v1Source });
    expect(json.policy.gates.map((g: any) => g.id)).toEqual(['inventory', 'approvals', 'runbook']);
    expect(json.policy.roster.dave.roles).toEqual(['release-manager', 'admin']);
    for (const bad of [['policy', 'show', '9'], ['policy', 'show', 'latest']]) {
      const r = p.run([...bad, '--json']);
      expect([r.code, r.json().error.code], bad.join(' ')).toEqual([2, 'TG_USAGE']);
    }
  });

  it('records four releases in known states', async () => {
    for (const f of ['release.yaml', 'release-b.yaml', 'release-c.yaml', 'release-d.yaml']) ok(p, ['release', 'create', f, '--as', 'alice']);
    ok(p, ['check', A, 'datasets-listed', '--to', 'staging', '--as', 'alice']);
    ok(p, ['promote', A, '--to', 'staging', '--as', 'dave']);
    ok(p, ['signoff', A, '--to', 'production', '--role', 'ml-engineer', '--as', 'bob']);
    ok(p, ['check', A, 'runbook', '--to', 'production', '--as', 'dave']);
    ok(p, ['check', B, 'datasets-listed', '--to', 'staging', '--as', 'alice']);
    ok(p, ['signoff', B, '--to', 'production', '--role', 'ml-engineer', '--as', 'bob']);
    const now = await decisions(p);
    expect(now[`${A} production`]!.promotable).toBe(true);
    expect(now[`${B} staging`]!.promotable).toBe(true);
    expect(now[`${C} staging`]!.promotable).toBe(false);
  });

  it('policy diff lists exactly the releases whose outcome changes, and the sign-offs that would go stale, writing nothing', async () => {
    const before = await decisions(p);
    const snapshot = snapshotDb(p);
    const diff = ok(p, ['policy', 'diff', 'next.yaml']);
    expect(snapshotDb(p)).toEqual(snapshot);
    expect(diff).toMatchObject({
      active: { version: 2, name: 'history' },
      proposed: { file: 'next.yaml', name: 'history', same: false },
      releases: 4,
      stages: ['staging', 'production'],
    });
    expect(diff.changes.map((c: any) => [c.release, c.stage, c.before.promotable, c.after.promotable, c.gates])).toEqual([
      [A, 'production', true, false, [{ id: 'approvals', before: 'satisfied', after: 'stale' }]],
      [B, 'staging', true, true, [{ id: 'inventory', before: 'satisfied', after: null }]],
      [B, 'production', false, false, [{ id: 'approvals', before: 'satisfied', after: 'stale' }]],
      [C, 'staging', false, true, [{ id: 'inventory', before: 'missing', after: null }]],
    ]);
    expect(diff.staleSignoffs.map((s: any) => [s.release, s.stage, s.gate, s.role, s.signer, s.decision, s.why])).toEqual([
      [A, 'production', 'approvals', 'ml-engineer', 'bob', 'approve', 'gate-changed'],
      [B, 'production', 'approvals', 'ml-engineer', 'bob', 'approve', 'gate-changed'],
    ]);

    const human = p.run(['policy', 'diff', 'next.yaml']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`  ${A} → production: promotable → not promotable\n      gate approvals: satisfied → stale\n`);
    expect(human.stdout).toContain(`  ${C} → staging: not promotable → promotable\n      gate inventory: missing → not applicable\n`);
    expect(human.stdout).toContain('2 sign-offs would go stale:');
    expect(ok(p, ['policy', 'diff', 'history.yaml'])).toMatchObject({ proposed: { same: true }, changes: [], staleSignoffs: [] });

    // Applied, the policy changes exactly what the diff said, and nothing else.
    ok(p, ['policy', 'apply', 'next.yaml', '--as', 'dave']);
    const after = await decisions(p);
    const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    expect(changed).toEqual(diff.changes.map((c: any) => `${c.release} ${c.stage}`));
    for (const c of diff.changes) {
      const d = after[`${c.release} ${c.stage}`]!;
      expect(d.promotable).toBe(c.after.promotable);
      expect(d.gates).toEqual(Object.fromEntries(c.after.gates.map((g: any) => [g.id, g.outcome])));
    }
  });

  it('refuses a policy diff of an invalid policy with every problem, as policy check does', () => {
    p.write('broken.yaml', policy(p, true).replace('count: 2', 'count: many'));
    const r = p.run(['policy', 'diff', 'broken.yaml', '--json']);
    expect([r.code, r.json().error.code]).toEqual([2, 'TG_POLICY_INVALID']);
    expect(r.json().error.problems[0]).toMatchObject({ file: 'broken.yaml' });
  });

  it('audit log filters by type, subject, actor and time', () => {
    const all = ok(p, ['audit', 'log', '--limit', '1000']);
    expect(all.next).toBeNull();
    expect(all.events.map((e: any) => e.seq)).toEqual(all.events.map((_: unknown, i: number) => i + 1));
    expect(all.events.length).toBe(ok(p, ['audit', 'verify']).events);

    const types = (args: string[]) => ok(p, ['audit', 'log', ...args]).events.map((e: any) => `${e.type} ${e.data.release ?? e.data.version}`);
    expect(types(['--subject', 'scorer'])).toEqual([`ReleaseCreated ${C}`, `ReleaseCreated ${D}`]);
    expect(types(['--actor', 'bob'])).toEqual([`SignoffRecorded ${A}`, `SignoffRecorded ${B}`]);
    expect(types(['--actor', 'user:dave', '--subject', 'fraud-detector', '--type', 'ChecklistItemCompleted'])).toEqual([`ChecklistItemCompleted ${A}`]);
    expect(types(['--since', '2999-01-01'])).toEqual([]);
    const promoted = all.events.find((e: any) => e.type === 'ReleasePromoted');
    // From a time on: the promotion and what came after it, of those types.
    expect(types(['--since', promoted.at, '--type', 'PolicyApplied'])).toEqual(['PolicyApplied 3']);

    const human = p.run(['audit', 'log', '--type', 'ReleasePromoted']);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`${String(promoted.seq).padStart(6)}  ${promoted.at}  user:dave  ReleasePromoted  release=${A} stage=staging id=${promoted.data.id}\n`);
  });

  it('audit log pages with --limit and --after, every event exactly once', () => {
    const all = ok(p, ['audit', 'log', '--limit', '1000']).events.map((e: any) => e.seq);
    const seen: number[] = [];
    let after: number | null = 0;
    let pages = 0;
    while (after !== null) {
      const page = ok(p, ['audit', 'log', '--limit', '7', '--after', String(after)]);
      expect(page.events.length).toBeLessThanOrEqual(7);
      seen.push(...page.events.map((e: any) => e.seq));
      after = page.next;
      pages++;
    }
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.floor(all.length / 7) + 1);
    const human = p.run(['audit', 'log', '--limit', '2']);
    expect(human.stdout).toMatch(/\nmore may follow: add --after 2\n$/);
  });

  it('audit log refuses bad filters with TG_USAGE, exit 2', () => {
    for (const args of [
      ['--limit', '1001'],
      ['--after', '-1'],
      ['--since', '2026-12-01T09:00:00'],
    ]) {
      const r = p.run(['audit', 'log', ...args, '--json']);
      expect([r.code, r.json().error?.code], args.join(' ')).toEqual([2, 'TG_USAGE']);
    }
    const r = p.run(['audit', 'log', '--type', 'Promoted']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error TG_USAGE: unknown event type "Promoted"; the types are: PolicyApplied, ReleaseCreated');
  });
});
