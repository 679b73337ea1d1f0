/**
 * Acceptance, end to end through the real binary: bad input, each with a clear message, a stable
 * error code, exit 2 and no change to the store: YAML syntax error, unknown field, duplicate gate id,
 * bad CEL expression, unknown role in a sign-off rule, manifest missing a field, artifact path that
 * does not exist, unknown release, unknown user. Policy problems also carry `file:line:col` in the
 * plain output of `policy check`. The store is compared row by row, table by table, before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, snapshotDb, type Project } from './helpers/cli.js';

const REL = 'fraud-detector@2.4.0';

let p: Project;
let policySource: string;
let manifestSource: string;
let auditBefore: { ok: boolean; events: number; head: string };

/** Replaces exactly one occurrence of `from` (the first), failing loudly if it is not there. */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`fixture: ${String(from)} not found`);
  return out;
}
/** 1-based line number of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture: no line with ${needle}`);
  return i + 1;
}
/** 1-based column of `needle` on its line. */
function colOf(text: string, needle: string): number {
  const line = text.split('\n').find((l) => l.includes(needle))!;
  return line.indexOf(needle) + 1;
}

beforeAll(() => {
  p = createProject();
  policySource = p.read('tollgate.yaml');
  manifestSource = p.read('release.yaml');
  const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
  if (r.code !== 0) throw new Error(`release create failed: ${r.stderr}`);
  const v = p.run(['audit', 'verify', '--json']);
  auditBefore = v.json();
  if (v.code !== 0 || !auditBefore.ok) throw new Error(`audit verify failed: ${v.stdout}`);
}, 60_000);

afterAll(() => removeProjects());

interface PolicyCase {
  readonly name: string;
  readonly file: string;
  readonly make: (src: string) => string;
  readonly code: 'TG_YAML_SYNTAX' | 'TG_POLICY_INVALID';
  /** Where the problem is: the line holding `at`, the column of `at` on it. */
  readonly at: (text: string) => { line: number; col: number };
  readonly message: RegExp;
}

const policyCases: PolicyCase[] = [
  {
    name: 'YAML syntax error',
    file: 'bad-syntax.yaml',
    make: (src) => replaceOnce(src, /^ {4}stage: staging$/m, '    stage: staging: oops'),
    code: 'TG_YAML_SYNTAX',
    at: (t) => ({ line: lineOf(t, 'staging: oops'), col: colOf(t, 'staging: oops') }),
    message: /YAML: /,
  },
  {
    name: 'unknown field',
    file: 'unknown-field.yaml',
    make: (src) => replaceOnce(src, /^( {2}- id: inventory\n)/m, '$1    colour: red\n'),
    code: 'TG_POLICY_INVALID',
    at: (t) => ({ line: lineOf(t, 'colour: red'), col: colOf(t, 'colour') }),
    message: /gate "inventory": unknown field "colour"/,
  },
  {
    name: 'duplicate gate id',
    file: 'duplicate-gate.yaml',
    make: (src) => replaceOnce(src, /^ {2}- id: peer-review$/m, '  - id: inventory'),
    code: 'TG_POLICY_INVALID',
    at: (t) => {
      const lines = t.split('\n');
      const second = lines.findIndex((l, i) => l === '  - id: inventory' && i > lines.indexOf('  - id: inventory'));
      return { line: second + 1, col: 9 };
    },
    message: /duplicate gate id "inventory" \(first defined at line \d+\)/,
  },
  {
    name: 'bad CEL expression',
    file: 'bad-cel.yaml',
    make: (src) => replaceOnce(src, `when: "release.risk in ['high', 'critical']"`, `when: "release.risk in ['high', 'critical'"`),
    code: 'TG_POLICY_INVALID',
    at: (t) => ({ line: lineOf(t, `when: "release.risk`), col: colOf(t, `"release.risk`) }),
    message: /invalid condition "release\.risk in \['high', 'critical'"/,
  },
  {
    name: 'unknown role in a sign-off rule',
    file: 'unknown-role.yaml',
    make: (src) => replaceOnce(src, /^( {6}- \{ role: )ml-engineer(, count: 1 \})$/m, '$1auditor$2'),
    code: 'TG_POLICY_INVALID',
    at: (t) => ({ line: lineOf(t, 'role: auditor'), col: colOf(t, 'auditor') }),
    message: /gate "peer-review": unknown role "auditor" in sign-off rule/,
  },
];

describe('bad policies: exit 2, a stable code, file:line:col, and no change to the store', () => {
  for (const c of policyCases) {
    it(`${c.name}: policy apply --json → ${c.code}; policy check → ${c.file}:line:col`, () => {
      const text = c.make(policySource);
      p.write(c.file, text);
      const { line, col } = c.at(text);
      const before = snapshotDb(p);

      const apply = p.run(['policy', 'apply', c.file, '--json']);
      expect(apply.code).toBe(2);
      const err = apply.json().error;
      expect(err.code).toBe(c.code);
      expect(err.message).toMatch(c.message);
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatchObject({ file: c.file, line, col });
      expect(typeof err.hint).toBe('string');

      const check = p.run(['policy', 'check', c.file]);
      expect(check.code).toBe(2);
      const lines = check.stdout.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${c.file.replace('.', '\\.')}:${line}:${col}: `));
      expect(lines[0]).toMatch(c.message);
      expect(lines.at(-1)).toBe(`1 problem (${c.code})`);

      expect(snapshotDb(p)).toEqual(before);
    });
  }

  it('the unchanged example policy still checks clean (the fixtures differ from it only by the edit)', () => {
    const r = p.run(['policy', 'check', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, file: 'tollgate.yaml', problems: [] });
  });
});

interface InputCase {
  readonly name: string;
  readonly files?: (manifest: string) => Record<string, string>;
  readonly args: readonly string[];
  readonly code: string;
  readonly message: RegExp;
  readonly check?: (err: any) => void;
}

const inputCases: InputCase[] = [
  {
    name: 'manifest with a YAML syntax error',
    files: (m) => ({ 'bad-syntax-release.yaml': replaceOnce(m, /^risk: high.*$/m, 'risk: [high') }),
    args: ['release', 'create', 'bad-syntax-release.yaml', '--as', 'alice'],
    code: 'TG_YAML_SYNTAX',
    message: /bad-syntax-release\.yaml:\d+:\d+: YAML: /,
  },
  {
    name: 'manifest missing a field',
    files: (m) => ({ 'no-owner.yaml': replaceOnce(m.replace('version: 2.4.0', 'version: 2.6.0'), /^owner: alice\n/m, '') }),
    args: ['release', 'create', 'no-owner.yaml', '--as', 'alice'],
    code: 'TG_MANIFEST_INVALID',
    message: /missing required field "owner"/,
    check: (err) => {
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatchObject({ path: 'owner', line: expect.any(Number), col: expect.any(Number) });
      expect(err.problems[0].file).toMatch(/no-owner\.yaml$/);
    },
  },
  {
    name: 'artifact path that does not exist',
    files: (m) => ({ 'missing-artifact.yaml': replaceOnce(m.replace('version: 2.4.0', 'version: 2.7.0'), 'model/model.onnx', 'model/missing.onnx') }),
    args: ['release', 'create', 'missing-artifact.yaml', '--as', 'alice'],
    code: 'TG_ARTIFACT_NOT_FOUND',
    message: /artifact "model": no file at model\/missing\.onnx/,
  },
  {
    name: 'registering the same subject@version with other content',
    files: (m) => ({ 'conflict.yaml': replaceOnce(m, /^risk: high/m, 'risk: low') }),
    args: ['release', 'create', 'conflict.yaml', '--as', 'alice'],
    code: 'TG_RELEASE_CONFLICT',
    message: /fraud-detector@2\.4\.0 is already registered with digest sha256:[0-9a-f]{64}; this manifest has sha256:[0-9a-f]{64}/,
  },
  {
    name: 'unknown release (status)',
    args: ['status', 'fraud-detector@9.9.9', '--to', 'staging'],
    code: 'TG_RELEASE_NOT_FOUND',
    message: /unknown release fraud-detector@9\.9\.9; known versions of fraud-detector: 2\.4\.0/,
  },
  {
    name: 'unknown release (check, a state change)',
    args: ['check', 'fraud-detector@9.9.9', 'model-card', '--to', 'staging', '--as', 'alice'],
    code: 'TG_RELEASE_NOT_FOUND',
    message: /unknown release fraud-detector@9\.9\.9/,
  },
  {
    name: 'unknown user',
    args: ['check', REL, 'model-card', '--to', 'staging', '--as', 'mallory'],
    code: 'TG_USER_UNKNOWN',
    message: /unknown user "mallory": not in the roster of policy fraud-platform/,
  },
  {
    name: 'sign-off in a role the user does not hold',
    args: ['signoff', REL, '--to', 'production', '--role', 'security', '--as', 'bob'],
    code: 'TG_ROLE_NOT_HELD',
    message: /bob does not hold the role "security"/,
  },
  {
    name: 'check without the required evidence',
    args: ['check', REL, 'datasets-listed', '--to', 'staging', '--as', 'alice'],
    code: 'TG_EVIDENCE_REQUIRED',
    message: /"datasets-listed" of gate inventory needs evidence/,
  },
  {
    name: 'a policy file that does not exist',
    args: ['policy', 'apply', 'no-such-policy.yaml'],
    code: 'TG_FILE_NOT_FOUND',
    message: /no-such-policy\.yaml: no such file/,
  },
  {
    name: 'a release not named SUBJECT@VERSION',
    args: ['status', 'fraud-detector', '--to', 'staging'],
    code: 'TG_RELEASE_REF_INVALID',
    message: /"fraud-detector" is not a release name/,
  },
  {
    name: 'a stage the policy does not have',
    args: ['status', REL, '--to', 'qa'],
    code: 'TG_STAGE_UNKNOWN',
    message: /unknown stage "qa"/,
  },
  {
    // Issue 13, a new user's bug: this said TG_STAGE_EMPTY, as if the subject existed.
    name: 'rollback of a subject with no release',
    args: ['rollback', 'nosuch', '--stage', 'staging', '--reason', 'r', '--as', 'dave'],
    code: 'TG_RELEASE_NOT_FOUND',
    message: /unknown subject "nosuch": no release of it is registered; subjects: fraud-detector/,
  },
  {
    name: 'rollback of a known subject that holds no stage yet',
    args: ['rollback', 'fraud-detector', '--stage', 'staging', '--reason', 'r', '--as', 'dave'],
    code: 'TG_STAGE_EMPTY',
    message: /no release of fraud-detector holds staging/,
  },
  {
    // Issue 13, a new user's bug: the hint spoke of checklist items.
    name: 'validate --only an id that is no validation',
    args: ['validate', REL, '--to', 'staging', '--only', 'nope', '--as', 'ci'],
    code: 'TG_ITEM_UNKNOWN',
    message: /no validation "nope" in the gates of staging .*; validations: tests, contract, drift, quality, security/,
    check: (err) => expect(err.hint).toMatch(/^Name a validation of a gate that applies to this release at staging/),
  },
  {
    name: 'unknown command',
    args: ['frobnicate'],
    code: 'TG_USAGE',
    message: /unknown command 'frobnicate'/,
  },
  {
    name: 'unknown option',
    args: ['release', 'list', '--frobnicate'],
    code: 'TG_USAGE',
    message: /unknown option '--frobnicate'/,
  },
];

// Security finding 6 (issue 13): a name Object.prototype has was taken for a roster member
// (`--as constructor` recorded as user:constructor) or crashed the lookup (TG_INTERNAL).
for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
  for (const [what, args] of [
    ['check', ['check', REL, 'model-card', '--to', 'staging']],
    ['signoff', ['signoff', REL, '--to', 'staging', '--role', 'ml-engineer']],
    ['promote', ['promote', REL, '--to', 'staging']],
    ['validate', ['validate', REL, '--to', 'staging']],
    ['policy apply', ['policy', 'apply', 'tollgate.yaml']],
    ['rollback', ['rollback', 'fraud-detector', '--stage', 'staging', '--reason', 'r']],
  ] as const) {
    inputCases.push({ name: `${what} --as ${name}`, args: [...args, '--as', name], code: 'TG_USER_UNKNOWN', message: new RegExp(`unknown user "${name}": not in the roster`) });
  }
}

describe('bad input: exit 2, a stable code, a clear message, and no change to the store', () => {
  for (const c of inputCases) {
    it(`${c.name} → ${c.code}`, () => {
      for (const [file, text] of Object.entries(c.files?.(manifestSource) ?? {})) p.write(file, text);
      const before = snapshotDb(p);
      const r = p.run([...c.args, '--json']);
      expect(r.code).toBe(2);
      const err = r.json().error;
      expect(err.code).toBe(c.code);
      expect(err.message).toMatch(c.message);
      c.check?.(err);
      expect(snapshotDb(p)).toEqual(before);
    });
  }

  it('without --json the error goes to stderr as "error CODE: message" with a hint, exit 2', () => {
    const r = p.run(['check', REL, 'model-card', '--to', 'staging', '--as', 'mallory']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error TG_USER_UNKNOWN: unknown user "mallory"/);
    expect(r.stderr).toMatch(/\nhint: The user must be in the active policy's roster\.\n/);
  });

  it('an unknown command without --json exits 2 with a message on stderr', () => {
    const r = p.run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('registering the same subject@version with the same content again exits 0 and records nothing', () => {
    const before = snapshotDb(p);
    const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ release: REL, created: false, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(snapshotDb(p)).toEqual(before);
  });

  it('after all of the above the audit log is exactly as before: same events, same head', () => {
    const r = p.run(['audit', 'verify', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual(auditBefore);
    const db = p.openDb();
    const counts = {
      policies: (db.prepare('SELECT count(*) AS n FROM policies').get() as { n: number }).n,
      releases: (db.prepare('SELECT count(*) AS n FROM releases').get() as { n: number }).n,
      signoffs: (db.prepare('SELECT count(*) AS n FROM signoffs').get() as { n: number }).n,
      checklist: (db.prepare('SELECT count(*) AS n FROM checklist_completions').get() as { n: number }).n,
    };
    db.close();
    expect(counts).toEqual({ policies: 1, releases: 1, signoffs: 0, checklist: 0 });
  });
});

describe('control: the store comparison does see a real change', () => {
  it('a valid checklist completion changes the snapshot and adds one audit event', () => {
    const before = snapshotDb(p);
    const r = p.run(['check', REL, 'model-card', '--to', 'staging', '--as', 'alice']);
    expect(r.code).toBe(0);
    const after = snapshotDb(p);
    expect(after).not.toEqual(before);
    expect(after.checklist_completions!.count).toBe(before.checklist_completions!.count + 1);
    expect(after.audit_events!.count).toBe(before.audit_events!.count + 1);
  });
});
