/**
 * A rejection stands until its own signer signs again: another person's approval does not lift it
 * (issue 13, "tests that let real bugs through": no end-to-end test checked this). Through the real
 * binary, with real keys and files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects } from './helpers/cli.js';

afterAll(() => removeProjects());

describe('a rejection, end to end', () => {
  it('is not lifted by another approver; only its signer lifts it', () => {
    const p = createProject();
    const users = p.init.users as Record<string, string>;
    p.write(
      'review.yaml',
      `apiVersion: tollgate/v1
kind: Policy
name: review
roster:
  alice: { roles: [ml-engineer], key: "${users.alice}" }
  bob:   { roles: [security], key: "${users.bob}" }
  carol: { roles: [security], key: "${users.carol}" }
  dave:  { roles: [release-manager, admin], key: "${users.dave}" }
stages:
  - name: staging
gates:
  - id: security-review
    stage: staging
    signoffs:
      - { role: security, count: 1 }
`,
    );
    expect(p.run(['policy', 'apply', 'review.yaml', '--as', 'dave']).code).toBe(0);
    expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
    const rel = 'fraud-detector@2.4.0';
    const reject = p.run(['signoff', rel, '--to', 'staging', '--role', 'security', '--reject', '--comment', 'PII in logs', '--as', 'carol']);
    expect(reject.code, reject.stderr).toBe(0);
    expect(p.run(['signoff', rel, '--to', 'staging', '--role', 'security', '--as', 'bob']).code).toBe(0);

    const status = p.run(['status', rel, '--to', 'staging', '--json']);
    expect(status.code).toBe(3);
    const r = status.json().gates.find((g: any) => g.id === 'security-review').requirements[0];
    expect(r).toMatchObject({ id: 'signoff:security', outcome: 'failed' });
    expect(r.reason).toMatch(/rejected by carol .*PII in logs/);
    const promote = p.run(['promote', rel, '--to', 'staging', '--as', 'dave', '--json']);
    expect(promote.code).toBe(3);
    expect(promote.json().error.code).toBe('TG_PROMOTION_BLOCKED');

    // carol's own approval supersedes her rejection.
    expect(p.run(['signoff', rel, '--to', 'staging', '--role', 'security', '--as', 'carol']).code).toBe(0);
    expect(p.run(['status', rel, '--to', 'staging', '--json']).code).toBe(0);
    expect(p.run(['promote', rel, '--to', 'staging', '--as', 'dave']).code).toBe(0);
  });
});
