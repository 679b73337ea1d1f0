/**
 * The words a decision shows, checked exactly for every branch of evaluate.ts: the reason text is
 * what a person reads to know what to do next (the command to run, who may provide it, since when a
 * release is held), and `canProvide` feeds the desk's queue. evaluate.test.ts checks outcomes and the
 * key phrases; these tables pin the whole text, so a changed word, a lost clause or a wrong name
 * fails here (mutation testing, docs/reliability.md).
 */
import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from './digest.js';
import { evaluate, matchSigners, releaseOwnerRole, stagePath, stageStays, type EvaluateContext } from './evaluate.js';
import { evidenceSetDigest } from './records.js';
import { generateKeyPair, loadPrivateKey } from './keys.js';
import { gateDigest, itemDigest, validationDigest } from './policy.js';
import { signSignoff } from './signoff.js';
import { followUpDigest, FOLLOW_UP_GATE, signException } from './exception.js';
import type {
  ChecklistCompletion,
  EvidenceSet,
  ExceptionPayload,
  ExceptionSignoff,
  GateDef,
  Policy,
  Promotion,
  Release,
  Signoff,
  SignoffPayload,
  StageHold,
  ValidationDef,
  ValidationResult,
} from './model.js';

const USERS = ['alice', 'bob', 'erin', 'carol', 'dave', 'mallory'] as const;
type User = (typeof USERS)[number];
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<User, ReturnType<typeof generateKeyPair>>;
// Roster order is the order names are listed in reasons.
const ROLES: Record<string, string[]> = { alice: ['ml-engineer'], bob: ['ml-engineer'], erin: ['ml-engineer', 'security'], carol: ['security'], dave: ['release-manager'] };

function policyOf(gates: GateDef[], stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging' }]): Policy {
  return {
    apiVersion: 'tollgate/v1',
    kind: 'Policy',
    name: 'reasons',
    roster: Object.fromEntries(Object.entries(ROLES).map(([u, roles]) => [u, { roles, key: KEYS[u as User].publicKey }])),
    stages,
    gates,
  };
}

const MANIFEST = { subject: 'fraud-detector', version: '2.4.0', risk: 'high' as const, owner: 'alice', artifacts: [{ name: 'model', kind: 'model' as const, sha256: 'a'.repeat(64) }] };
const RELEASE: Release = { subject: 'fraud-detector', version: '2.4.0', digest: digestOf(MANIFEST), manifest: MANIFEST, createdAt: '2026-11-01T00:00:00Z', createdBy: 'alice' };
const OTHER_MANIFEST = { ...MANIFEST, version: '2.3.0' };
const OTHER: Release = { ...RELEASE, version: '2.3.0', digest: digestOf(OTHER_MANIFEST), manifest: OTHER_MANIFEST };
const NOW = new Date('2026-11-30T12:00:00Z');
const NONE: EvidenceSet = { signoffs: [], checklist: [], validations: [] };

function promotion(id: string, stage: string, at: string, release: Release = RELEASE, over: Partial<Promotion> = {}): Promotion {
  return {
    id,
    subject: release.subject,
    stage,
    version: release.version,
    releaseDigest: release.digest,
    policyVersion: 1,
    policyDigest: digestOf('p'),
    kind: 'promotion',
    by: 'dave',
    at,
    ...over,
  };
}
const STAGED = promotion('p1', 'staging', '2026-11-29T00:00:00Z');

function ctx(over: Partial<EvaluateContext> = {}): EvaluateContext {
  return { stage: 'production', policyDigest: digestOf('policy'), history: [STAGED], promoter: 'dave', ...over };
}

function hold(stage: string, promotionId: string, over: Partial<StageHold> = {}): StageHold {
  return {
    id: `rb-${promotionId}`,
    subject: 'fraud-detector',
    stage,
    version: '2.4.0',
    releaseDigest: RELEASE.digest,
    promotionId,
    by: 'dave',
    at: '2026-11-29T06:00:00Z',
    reason: 'drift',
    ...over,
  };
}

function signoff(gate: GateDef, signer: User, role: string, opts: { decision?: 'approve' | 'reject'; at?: string; gateDigest?: Digest; signWith?: User; comment?: string; evidenceDigest?: Digest } = {}): Signoff {
  const payload: SignoffPayload = {
    type: 'tollgate/signoff/v1',
    release: 'fraud-detector@2.4.0',
    releaseDigest: RELEASE.digest,
    stage: gate.stage,
    gate: gate.id,
    gateDigest: opts.gateDigest ?? gateDigest(gate),
    role,
    decision: opts.decision ?? 'approve',
    signer,
    at: opts.at ?? '2026-11-30T10:00:00Z',
    ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
    ...(opts.evidenceDigest !== undefined ? { evidenceDigest: opts.evidenceDigest } : {}),
  };
  return { ...payload, id: `${signer}-${role}-${payload.at}`, signature: signSignoff(payload, loadPrivateKey(KEYS[opts.signWith ?? signer].privateKeyPem)) };
}

function requirementOf(d: ReturnType<typeof evaluate>, gate: string, id: string) {
  const r = d.gates.find((g) => g.id === gate)?.requirements.find((q) => q.id === id);
  if (!r) throw new Error(`no requirement ${gate}/${id} in ${JSON.stringify(d.gates)}`);
  return r;
}

describe('the decision as a whole', () => {
  it('names the release, stage, policy (with its version when given) and time, and lists gates that do not apply', () => {
    const gates: GateDef[] = [
      { id: 'low-only', stage: 'production', when: "release.risk == 'low'", checklist: [{ id: 'x' }] },
      { id: 'other-stage', stage: 'staging', checklist: [{ id: 'y' }] },
    ];
    const d = evaluate(policyOf(gates), RELEASE, NONE, NOW, ctx({ policyVersion: 7 }));
    expect(d).toEqual({
      release: 'fraud-detector@2.4.0',
      releaseDigest: RELEASE.digest,
      stage: 'production',
      policy: { name: 'reasons', digest: digestOf('policy'), version: 7 },
      promotable: true,
      evaluatedAt: '2026-11-30T12:00:00.000Z',
      gates: [{ id: 'stage', outcome: 'satisfied', requirements: [{ id: 'order', kind: 'stage', outcome: 'satisfied', reason: 'was promoted to staging at 2026-11-29T00:00:00Z' }] }],
      notApplicable: ['low-only'],
    });
    expect(evaluate(policyOf(gates), RELEASE, NONE, NOW, ctx()).policy).toStrictEqual({ name: 'reasons', digest: digestOf('policy') });
  });

  it('has no stage gate when the stage asks for nothing of its own', () => {
    const d = evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ stage: 'staging', history: [] }));
    expect(d.gates).toEqual([]);
    expect(d.promotable).toBe(true);
  });

  it('refuses an unknown stage, listing the stages there are', () => {
    expect(() => evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ stage: 'prod' }))).toThrow(
      expect.objectContaining({ code: 'TG_STAGE_UNKNOWN', message: `unknown stage "prod"; the policy's stages are: staging, production` }),
    );
  });

  it.each<[string, string[], string]>([
    ['failed before errored', ['failed', 'errored'], 'failed'],
    ['errored before stale', ['stale', 'errored'], 'errored'],
    ['stale before missing', ['missing', 'stale'], 'stale'],
    ['missing before satisfied', ['satisfied', 'missing'], 'missing'],
  ])('shows the most serious outcome of a gate: %s', (_why, statuses, outcome) => {
    // Each status is produced by a validation of the gate.
    const validations: ValidationDef[] = statuses.map((_, i) => ({ id: `v${i}`, uses: 'metrics' }));
    const gate: GateDef = { id: 'g', stage: 'staging', validations };
    const results = statuses.flatMap((s, i): ValidationResult[] => {
      const v = validations[i]!;
      if (s === 'missing') return [];
      const digest = s === 'stale' ? digestOf('older') : validationDigest(gate, v);
      return [validationResult(gate, v, s === 'stale' || s === 'satisfied' ? 'passed' : (s as 'failed' | 'errored'), { definitionDigest: digest })];
    });
    const d = evaluate(policyOf([gate]), RELEASE, { ...NONE, validations: results }, NOW, ctx({ stage: 'staging', history: [] }));
    expect(d.gates[0]!.outcome).toBe(outcome);
    expect(d.promotable).toBe(false);
  });
});

// ---------------------------------------------------------------- the stage: holder, hold, order, soak, freeze

describe('stage requirements, word for word', () => {
  it('a release that already holds the stage has nothing to promote', () => {
    const d = evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ history: [STAGED, promotion('p2', 'production', '2026-11-29T08:00:00Z')] }));
    expect(requirementOf(d, 'stage', 'holder')).toEqual({
      id: 'holder',
      kind: 'stage',
      outcome: 'failed',
      reason: 'fraud-detector@2.4.0 already holds production (since 2026-11-29T08:00:00Z); there is nothing to promote',
    });
    // Another release holding it, or this one having held it before another: nothing to say.
    const later = evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ history: [STAGED, promotion('p2', 'production', '2026-11-29T08:00:00Z'), promotion('p3', 'production', '2026-11-29T09:00:00Z', OTHER)] }));
    expect(later.gates[0]!.requirements.map((r) => r.id)).toEqual(['order']);
  });

  it('order: satisfied by a promotion into `after`, failed without one, and a rolled-back one does not count', () => {
    expect(requirementOf(evaluate(policyOf([]), RELEASE, NONE, NOW, ctx()), 'stage', 'order')).toEqual({
      id: 'order',
      kind: 'stage',
      outcome: 'satisfied',
      reason: 'was promoted to staging at 2026-11-29T00:00:00Z',
    });
    // Another release's promotion into staging is not this release's.
    expect(requirementOf(evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ history: [promotion('p0', 'staging', '2026-11-28T00:00:00Z', OTHER)] })), 'stage', 'order')).toEqual({
      id: 'order',
      kind: 'stage',
      outcome: 'failed',
      reason: 'production comes after staging, and fraud-detector@2.4.0 has not been promoted to staging; promote it to staging first',
    });
    const pulled = evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ holds: [hold('staging', 'p1', { cleared: { by: 'dave', at: '2026-11-29T07:00:00Z', reason: 'fixed' } })] }));
    expect(requirementOf(pulled, 'stage', 'order')).toEqual({
      id: 'order',
      kind: 'stage',
      outcome: 'failed',
      reason:
        'production comes after staging, and fraud-detector@2.4.0 was rolled back out of staging at 2026-11-29T06:00:00Z; a rolled-back promotion does not count, promote it to staging again first',
    });
    // Promoted there again after the rollback: the new arrival counts.
    const again = evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ history: [STAGED, promotion('p4', 'staging', '2026-11-29T10:00:00Z')], holds: [hold('staging', 'p1', { cleared: { by: 'dave', at: '2026-11-29T07:00:00Z', reason: 'fixed' } })] }));
    expect(requirementOf(again, 'stage', 'order').reason).toBe('was promoted to staging at 2026-11-29T10:00:00Z');
  });

  it('order: a promotion into another stage, or a rollback out of another stage, says nothing about `after`', () => {
    const stages: Policy['stages'] = [{ name: 'canary' }, { name: 'staging' }, { name: 'production', after: 'staging' }];
    const notStaged = 'production comes after staging, and fraud-detector@2.4.0 has not been promoted to staging; promote it to staging first';
    const canary = evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ history: [promotion('p0', 'canary', '2026-11-28T00:00:00Z')] }));
    expect(requirementOf(canary, 'stage', 'order').reason).toBe(notStaged);
    const heldInProduction = evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ history: [], holds: [hold('production', 'p0')] }));
    expect(requirementOf(heldInProduction, 'stage', 'order').reason).toBe(notStaged);
  });

  it('hold: an active rollback names where, how to clear it and the roles that may', () => {
    // staging names its own `clear` roles; production does not, so the default applies to a hold on production.
    const own = evaluate(policyOf([], [{ name: 'staging', clear: ['security'] }, { name: 'production', after: 'staging' }]), RELEASE, NONE, NOW, ctx({ holds: [hold('production', 'p0')] }));
    expect(requirementOf(own, 'stage', 'hold')).toEqual({
      id: 'hold',
      kind: 'stage',
      outcome: 'failed',
      reason:
        'fraud-detector@2.4.0 was rolled back out of production at 2026-11-29T06:00:00Z by dave ("drift"); it is held out of production until cleared: `tollgate release clear fraud-detector@2.4.0 --stage production --reason "…"` (roles: release-manager, admin)',
    });
    // A hold on a stage the order goes through, with the roles that stage names for `clear`.
    const stages: Policy['stages'] = [{ name: 'staging', clear: ['security'] }, { name: 'production', after: 'staging' }];
    const upstream = evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ holds: [hold('staging', 'p1')] }));
    expect(requirementOf(upstream, 'stage', 'hold').reason).toBe(
      'fraud-detector@2.4.0 was rolled back out of staging at 2026-11-29T06:00:00Z by dave ("drift"); it is held out of staging, which production comes after, until cleared: `tollgate release clear fraud-detector@2.4.0 --stage staging --reason "…"` (roles: security)',
    );
  });

  it('hold: the latest active one is shown; a cleared one is satisfied, naming who cleared it; others do not show', () => {
    const holds = [
      hold('production', 'p0', { at: '2026-11-20T00:00:00Z', reason: 'first' }),
      hold('production', 'p5', { at: '2026-11-21T00:00:00Z', reason: 'second' }),
      hold('production', 'p6', { at: '2026-11-22T00:00:00Z', reason: 'third', cleared: { by: 'dave', at: '2026-11-23T00:00:00Z', reason: 'ok' } }),
    ];
    expect(requirementOf(evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ holds })), 'stage', 'hold').reason).toMatch(/^fraud-detector@2\.4\.0 was rolled back out of production at 2026-11-21T00:00:00Z by dave \("second"\); it is held/);
    const cleared = [
      hold('production', 'p0', { at: '2026-11-20T00:00:00Z', reason: 'first', cleared: { by: 'erin', at: '2026-11-20T01:00:00Z', reason: 'one' } }),
      hold('production', 'p5', { at: '2026-11-21T00:00:00Z', reason: 'second', cleared: { by: 'dave', at: '2026-11-21T01:00:00Z', reason: 'two' } }),
      hold('production', 'p6', { at: '2026-11-22T00:00:00Z', reason: 'third', cleared: { by: 'carol', at: '2026-11-22T01:00:00Z', reason: 'three' } }),
    ];
    expect(requirementOf(evaluate(policyOf([]), RELEASE, NONE, NOW, ctx({ holds: cleared })), 'stage', 'hold')).toEqual({
      id: 'hold',
      kind: 'stage',
      outcome: 'satisfied',
      reason: 'fraud-detector@2.4.0 was rolled back out of production at 2026-11-22T00:00:00Z by dave ("third"); cleared by carol at 2026-11-22T01:00:00Z ("three")',
    });
    // Another release's hold, and a hold on a stage outside the order (canary is not before production).
    const stages: Policy['stages'] = [{ name: 'canary' }, { name: 'staging' }, { name: 'production', after: 'staging' }];
    const none = evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ holds: [hold('production', 'p0', { releaseDigest: OTHER.digest }), hold('canary', 'p9')] }));
    expect(none.gates[0]!.requirements.map((r) => r.id)).toEqual(['order']);
  });

  describe('soak', () => {
    const stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging', soak: '24h' }];
    const soakOf = (history: Promotion[], now = NOW, holds: StageHold[] = []) => requirementOf(evaluate(policyOf([], stages), RELEASE, NONE, now, ctx({ history, holds })), 'stage', 'soak');

    it('is satisfied by a stay at least as long as the soak, saying for how long and whether it holds it now', () => {
      expect(soakOf([STAGED])).toEqual({ id: 'soak', kind: 'stage', outcome: 'satisfied', reason: 'held staging for 1d12h from 2026-11-29T00:00:00.000Z (and holds it now); the soak is 24h' });
      // Exactly the soak counts.
      expect(soakOf([STAGED], new Date('2026-11-30T00:00:00Z')).reason).toBe('held staging for 1d from 2026-11-29T00:00:00.000Z (and holds it now); the soak is 24h');
      const left = [STAGED, promotion('p2', 'staging', '2026-11-30T01:00:00Z', OTHER)];
      expect(soakOf(left).reason).toBe('held staging for 1d1h from 2026-11-29T00:00:00.000Z; the soak is 24h');
    });

    it('is missing while the clock runs, with the moment it will be met', () => {
      expect(soakOf([STAGED], new Date('2026-11-29T23:59:59.999Z'))).toEqual({
        id: 'soak',
        kind: 'stage',
        outcome: 'missing',
        reason: 'fraud-detector@2.4.0 has held staging for 23h59m59s999ms of the 24h soak; it may enter production from 2026-11-30T00:00:00.000Z',
        allowedAt: '2026-11-30T00:00:00.000Z',
      });
    });

    it('has failed when the release left too early, or never held the stage', () => {
      const early = [STAGED, promotion('p2', 'staging', '2026-11-29T02:00:00Z', OTHER)];
      expect(soakOf(early)).toEqual({
        id: 'soak',
        kind: 'stage',
        outcome: 'failed',
        reason: 'fraud-detector@2.4.0 left staging after 2h, before the 24h soak was over; promote it to staging again and let it soak',
      });
      // The longest of several short stays is named.
      const twice = [...early, promotion('p3', 'staging', '2026-11-29T03:00:00Z'), promotion('p4', 'staging', '2026-11-29T06:00:00Z', OTHER)];
      expect(soakOf(twice).reason).toBe('fraud-detector@2.4.0 left staging after 3h, before the 24h soak was over; promote it to staging again and let it soak');
      expect(soakOf([])).toEqual({ id: 'soak', kind: 'stage', outcome: 'failed', reason: 'production needs fraud-detector@2.4.0 to have held staging for 24h, and it has not held staging' });
    });

    it('does not count a stay that was rolled back', () => {
      expect(soakOf([STAGED], NOW, [hold('staging', 'p1', { cleared: { by: 'dave', at: '2026-11-29T07:00:00Z', reason: 'ok' } })]).reason).toBe(
        'production needs fraud-detector@2.4.0 to have held staging for 24h, and it has not held staging',
      );
    });

    it('is not asked of a stage without `after`', () => {
      const d = evaluate(policyOf([], [{ name: 'staging', soak: '24h' }]), RELEASE, NONE, NOW, ctx({ stage: 'staging', history: [] }));
      expect(d.gates).toEqual([]);
    });
  });

  it('freeze: open names the window, its source and when it ends; closed says so', () => {
    const stages: Policy['stages'] = [
      { name: 'staging' },
      { name: 'production', freeze: ['2026-11-30T00:00:00Z/2026-12-01T00:00:00Z', { cron: '0 11 * * *', duration: '2h', timezone: 'UTC' }] },
    ];
    const open = evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx());
    expect(requirementOf(open, 'stage', 'freeze')).toEqual({
      id: 'freeze',
      kind: 'stage',
      outcome: 'failed',
      reason: 'production is frozen from 2026-11-30T00:00:00.000Z until 2026-12-01T00:00:00.000Z; promote after the freeze ends',
      allowedAt: '2026-12-01T00:00:00.000Z',
    });
    const recurring = evaluate(policyOf([], [{ name: 'production', freeze: [{ cron: '0 11 * * *', duration: '2h', timezone: 'UTC' }] }]), RELEASE, NONE, NOW, ctx());
    expect(requirementOf(recurring, 'stage', 'freeze').reason).toBe(
      'production is frozen from 2026-11-30T11:00:00.000Z until 2026-11-30T13:00:00.000Z (cron "0 11 * * *" in UTC for 2h); promote after the freeze ends',
    );
    const closed = evaluate(policyOf([], stages), RELEASE, NONE, new Date('2026-12-01T00:00:00Z'), ctx());
    expect(requirementOf(closed, 'stage', 'freeze')).toEqual({ id: 'freeze', kind: 'stage', outcome: 'satisfied', reason: 'no freeze window is open for production' });
  });
});

// ---------------------------------------------------------------- checklist

describe('checklist items, word for word', () => {
  const GATE: GateDef = {
    id: 'readiness',
    stage: 'staging',
    checklist: [
      { id: 'runbook', text: 'The runbook is current' },
      { id: 'datasets', evidence: 'required' },
      { id: 'pen-test', roles: ['security'] },
      { id: 'legal', roles: ['lawyer'] },
    ],
  };
  const c = ctx({ stage: 'staging', history: [] });
  function done(itemId: string, over: Partial<ChecklistCompletion> = {}): ChecklistCompletion {
    return {
      id: `c-${itemId}-${over.at ?? ''}`,
      releaseDigest: RELEASE.digest,
      stage: 'staging',
      gateId: 'readiness',
      itemId,
      itemDigest: itemDigest(GATE, GATE.checklist!.find((i) => i.id === itemId)!),
      by: 'bob',
      at: '2026-11-30T10:00:00Z',
      ...over,
    };
  }
  const decide = (checklist: ChecklistCompletion[]) => evaluate(policyOf([GATE]), RELEASE, { ...NONE, checklist }, NOW, c);

  it('missing: the command to run and who may complete it', () => {
    expect(decide([]).gates[0]!.requirements).toStrictEqual([
      {
        id: 'runbook',
        kind: 'checklist',
        text: 'The runbook is current',
        outcome: 'missing',
        reason: 'not completed; complete it with `tollgate check fraud-detector@2.4.0 runbook --to staging` (any roster member may complete it)',
        canProvide: ['alice', 'bob', 'erin', 'carol', 'dave'],
      },
      {
        id: 'datasets',
        kind: 'checklist',
        outcome: 'missing',
        reason: 'not completed; complete it with `tollgate check fraud-detector@2.4.0 datasets --to staging --evidence FILE|URL` (any roster member may complete it)',
        canProvide: ['alice', 'bob', 'erin', 'carol', 'dave'],
      },
      {
        id: 'pen-test',
        kind: 'checklist',
        outcome: 'missing',
        reason: 'not completed; complete it with `tollgate check fraud-detector@2.4.0 pen-test --to staging` (roles security may complete it: erin, carol)',
        canProvide: ['erin', 'carol'],
      },
      {
        id: 'legal',
        kind: 'checklist',
        outcome: 'missing',
        reason: 'not completed; complete it with `tollgate check fraud-detector@2.4.0 legal --to staging` (roles lawyer may complete it: nobody in the roster)',
        canProvide: [],
      },
    ]);
  });

  it('an item open to several roles names them all, and every member holding one', () => {
    const gate: GateDef = { id: 'readiness', stage: 'staging', checklist: [{ id: 'sign-in', roles: ['security', 'release-manager'] }] };
    const r = requirementOf(evaluate(policyOf([gate]), RELEASE, NONE, NOW, c), 'readiness', 'sign-in');
    expect(r.reason).toBe('not completed; complete it with `tollgate check fraud-detector@2.4.0 sign-in --to staging` (roles security, release-manager may complete it: erin, carol, dave)');
    expect(r.canProvide).toEqual(['erin', 'carol', 'dave']);
  });

  it('an item with an empty `roles` list is open to every member', () => {
    const gate: GateDef = { id: 'readiness', stage: 'staging', checklist: [{ id: 'open', roles: [] }] };
    const r = requirementOf(evaluate(policyOf([gate]), RELEASE, NONE, NOW, c), 'readiness', 'open');
    expect(r.reason).toBe('not completed; complete it with `tollgate check fraud-detector@2.4.0 open --to staging` (any roster member may complete it)');
    expect(r.canProvide).toEqual(['alice', 'bob', 'erin', 'carol', 'dave']);
  });

  it('stale, without the required evidence, and satisfied with and without evidence', () => {
    const d = decide([
      done('runbook', { itemDigest: digestOf('older') }),
      done('datasets'),
      done('pen-test', { by: 'carol', evidence: { name: 'report.pdf', digest: digestOf('report') } }),
      done('legal', { by: 'dave', evidence: { name: 'https://legal.example/ok' } }),
    ]);
    expect(d.gates[0]!.requirements).toEqual([
      {
        id: 'runbook',
        kind: 'checklist',
        text: 'The runbook is current',
        outcome: 'stale',
        reason: 'completed by bob at 2026-11-30T10:00:00Z for an earlier definition of this item; complete it with `tollgate check fraud-detector@2.4.0 runbook --to staging`',
        canProvide: ['alice', 'bob', 'erin', 'carol', 'dave'],
      },
      {
        id: 'datasets',
        kind: 'checklist',
        outcome: 'missing',
        reason: 'completed by bob without the required evidence; complete it with `tollgate check fraud-detector@2.4.0 datasets --to staging --evidence FILE|URL`',
        canProvide: ['alice', 'bob', 'erin', 'carol', 'dave'],
      },
      { id: 'pen-test', kind: 'checklist', outcome: 'satisfied', reason: `completed by carol at 2026-11-30T10:00:00Z with evidence report.pdf (${digestOf('report')})` },
      { id: 'legal', kind: 'checklist', outcome: 'satisfied', reason: 'completed by dave at 2026-11-30T10:00:00Z with evidence https://legal.example/ok' },
    ]);
    expect(requirementOf(decide([done('runbook')]), 'readiness', 'runbook')).toStrictEqual({
      id: 'runbook',
      kind: 'checklist',
      text: 'The runbook is current',
      outcome: 'satisfied',
      reason: 'completed by bob at 2026-11-30T10:00:00Z',
    });
  });

  it('the latest completion counts, and only one for this release, gate, stage and item', () => {
    const latest = decide([done('runbook', { by: 'alice', at: '2026-11-30T09:00:00Z' }), done('runbook', { by: 'erin', at: '2026-11-30T11:00:00Z', itemDigest: digestOf('older') })]);
    expect(requirementOf(latest, 'readiness', 'runbook').outcome).toBe('stale');
    const back = decide([done('runbook', { by: 'erin', at: '2026-11-30T09:00:00Z', itemDigest: digestOf('older') }), done('runbook', { by: 'alice', at: '2026-11-30T11:00:00Z' })]);
    expect(requirementOf(back, 'readiness', 'runbook').reason).toBe('completed by alice at 2026-11-30T11:00:00Z');
    for (const over of [{ releaseDigest: OTHER.digest }, { gateId: 'other' }, { stage: 'production' }, { itemId: 'datasets' }] as Partial<ChecklistCompletion>[]) {
      expect(requirementOf(decide([done('runbook', over)]), 'readiness', 'runbook').outcome).toBe('missing');
    }
  });
});

// ---------------------------------------------------------------- validations

function validationResult(gate: GateDef, v: ValidationDef, status: ValidationResult['status'], over: Partial<ValidationResult> = {}): ValidationResult {
  return {
    id: `r-${v.id}-${status}`,
    releaseDigest: RELEASE.digest,
    stage: gate.stage,
    gateId: gate.id,
    validationId: v.id,
    validator: 'metrics@1',
    validatorVersion: '1',
    definitionDigest: validationDigest(gate, v),
    status,
    summary: 'auc 0.91 >= 0.9',
    measurements: {},
    thresholds: {},
    inputs: {},
    durationMs: 5,
    by: 'ci',
    at: '2026-11-30T09:00:00Z',
    ...over,
  };
}

describe('validations, word for word', () => {
  const V: ValidationDef = { id: 'auc', uses: 'metrics' };
  const GATE: GateDef = { id: 'quality', stage: 'staging', validations: [V] };
  const decide = (validations: ValidationResult[]) => requirementOf(evaluate(policyOf([GATE]), RELEASE, { ...NONE, validations }, NOW, ctx({ stage: 'staging', history: [] })), 'quality', 'auc');

  it.each<[string, ValidationResult[], Record<string, unknown>]>([
    ['none', [], { outcome: 'missing', reason: 'no metrics result recorded; run `tollgate validate fraud-detector@2.4.0 --to staging --only auc`' }],
    [
      'for an earlier definition',
      [validationResult(GATE, V, 'passed', { definitionDigest: digestOf('older') })],
      { outcome: 'stale', reason: 'the result (metrics@1 at 2026-11-30T09:00:00Z) was recorded for an earlier definition of this validation; run `tollgate validate fraud-detector@2.4.0 --to staging --only auc`' },
    ],
    ['passed', [validationResult(GATE, V, 'passed')], { outcome: 'satisfied', reason: 'passed (metrics@1 at 2026-11-30T09:00:00Z): auc 0.91 >= 0.9' }],
    ['failed', [validationResult(GATE, V, 'failed', { summary: 'auc 0.8 < 0.9' })], { outcome: 'failed', reason: 'failed (metrics@1 at 2026-11-30T09:00:00Z): auc 0.8 < 0.9' }],
    [
      'errored',
      [validationResult(GATE, V, 'errored', { summary: 'file not found' })],
      { outcome: 'errored', reason: 'could not run (metrics@1 at 2026-11-30T09:00:00Z): file not found; fix the cause and run `tollgate validate fraud-detector@2.4.0 --to staging --only auc`' },
    ],
    ['failed, then passed: the latest counts', [validationResult(GATE, V, 'failed'), validationResult(GATE, V, 'passed')], { outcome: 'satisfied' }],
    ['passed, then failed: the latest counts', [validationResult(GATE, V, 'passed'), validationResult(GATE, V, 'failed')], { outcome: 'failed' }],
  ])('%s', (_why, results, expected) => {
    expect(decide(results)).toMatchObject({ id: 'auc', kind: 'validation', ...expected });
  });

  it.each<[string, Partial<ValidationResult>]>([
    ['another release', { releaseDigest: OTHER.digest }],
    ['another gate', { gateId: 'other' }],
    ['another stage', { stage: 'production' }],
    ['another validation', { validationId: 'ece' }],
  ])('a result for %s does not count', (_why, over) => {
    expect(decide([validationResult(GATE, V, 'passed', over)]).outcome).toBe('missing');
  });
});

// ---------------------------------------------------------------- sign-offs

describe('sign-off rules, word for word', () => {
  const SOD: GateDef = { id: 'approvals', stage: 'production', separationOfDuties: true, expires: '168h', signoffs: [{ role: 'ml-engineer', count: 1 }, { role: 'security', count: 1 }] };
  const decide = (gate: GateDef, signoffs: Signoff[], over: Partial<EvaluateContext> = {}, evidence: Partial<EvidenceSet> = {}) =>
    evaluate(policyOf([gate]), RELEASE, { ...NONE, ...evidence, signoffs }, NOW, ctx(over)).gates.find((g) => g.id === gate.id)!.requirements;

  it('missing: who is eligible (not the owner or the promoter under separation of duties) and the command', () => {
    expect(decide(SOD, [])).toEqual([
      {
        id: 'signoff:ml-engineer',
        kind: 'signoff',
        role: 'ml-engineer',
        count: 1,
        signers: [],
        outcome: 'missing',
        reason: '0 of 1 sign-off by ml-engineer; needs 1 more from bob, erin: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer`',
        canProvide: ['bob', 'erin'],
      },
      {
        id: 'signoff:security',
        kind: 'signoff',
        role: 'security',
        count: 1,
        signers: [],
        outcome: 'missing',
        reason: '0 of 1 sign-off by security; needs 1 more from erin, carol: `tollgate signoff fraud-detector@2.4.0 --to production --role security`',
        canProvide: ['erin', 'carol'],
      },
    ]);
    // The promoter is left out too; without separation of duties nobody is.
    expect(decide(SOD, [], { promoter: 'carol' })[1]!.canProvide).toEqual(['erin']);
    const open: GateDef = { ...SOD, separationOfDuties: false };
    expect(decide(open, [], { promoter: 'bob' })[0]!.canProvide).toEqual(['alice', 'bob', 'erin']);
  });

  it('satisfied: the count and who counted, singular and plural', () => {
    const two: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 2 }] };
    expect(decide(two, [signoff(two, 'bob', 'ml-engineer'), signoff(two, 'erin', 'ml-engineer')])[0]).toEqual({
      id: 'signoff:ml-engineer',
      kind: 'signoff',
      role: 'ml-engineer',
      count: 2,
      signers: ['bob', 'erin'],
      outcome: 'satisfied',
      reason: '2 of 2 sign-offs by ml-engineer: bob, erin',
    });
    expect(decide(two, [signoff(two, 'bob', 'ml-engineer')])[0]).toMatchObject({
      outcome: 'missing',
      signers: ['bob'],
      reason: '1 of 2 sign-offs by ml-engineer (bob); needs 1 more from alice, erin: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer`',
      canProvide: ['alice', 'erin'],
    });
    // More approvals than needed: only `count` are counted.
    const one: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 1 }] };
    expect(decide(one, [signoff(one, 'bob', 'ml-engineer'), signoff(one, 'erin', 'ml-engineer')])[0]).toMatchObject({ signers: ['bob'], reason: '1 of 1 sign-off by ml-engineer: bob' });
  });

  it('nobody eligible: says so, and names the role', () => {
    const gate: GateDef = { id: 'approvals', stage: 'production', separationOfDuties: true, signoffs: [{ role: 'release-manager', count: 1 }] };
    expect(decide(gate, [])[0]).toMatchObject({
      reason: '0 of 1 sign-off by release-manager; needs 1 more from a release-manager not yet counted (nobody eligible in the roster): `tollgate signoff fraud-detector@2.4.0 --to production --role release-manager`',
      canProvide: [],
    });
  });

  it('a rejection stands, with its comment, and says how it is lifted', () => {
    const rs = decide(SOD, [
      signoff(SOD, 'bob', 'ml-engineer', { decision: 'reject', comment: 'AUC too low' }),
      signoff(SOD, 'erin', 'ml-engineer', { decision: 'reject', at: '2026-11-30T10:30:00Z' }),
      signoff(SOD, 'carol', 'security'),
    ]);
    expect(rs[0]).toEqual({
      id: 'signoff:ml-engineer',
      kind: 'signoff',
      role: 'ml-engineer',
      count: 1,
      signers: [],
      outcome: 'failed',
      reason: 'rejected by bob at 2026-11-30T10:00:00Z: "AUC too low"; erin at 2026-11-30T10:30:00Z; the rejection stands until its signer signs off again',
    });
    // The signer's later approval supersedes it.
    const lifted = decide(SOD, [signoff(SOD, 'bob', 'ml-engineer', { decision: 'reject' }), signoff(SOD, 'bob', 'ml-engineer', { at: '2026-11-30T11:00:00Z' })]);
    expect(lifted[0]).toMatchObject({ outcome: 'satisfied', reason: '1 of 1 sign-off by ml-engineer: bob' });
  });

  it('stale, expired and not counted sign-offs are named in the reason, stale first in the outcome', () => {
    const rs = decide(SOD, [
      signoff(SOD, 'bob', 'ml-engineer', { gateDigest: digestOf('older gate') }),
      signoff(SOD, 'erin', 'ml-engineer', { at: '2026-11-20T00:00:00Z' }),
      signoff(SOD, 'alice', 'ml-engineer'),
      signoff(SOD, 'carol', 'security', { at: '2026-11-23T11:59:59Z' }),
      signoff(SOD, 'dave', 'security'),
    ]);
    expect(rs[0]).toMatchObject({
      outcome: 'stale',
      reason:
        '0 of 1 sign-off by ml-engineer; needs 1 more from bob, erin: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer` (stale: bob signed an earlier definition of gate approvals; expired: erin signed more than 168h ago; not counted: alice (the release owner, under separation of duties))',
    });
    expect(rs[1]).toMatchObject({
      outcome: 'expired',
      reason:
        '0 of 1 sign-off by security; needs 1 more from erin, carol: `tollgate signoff fraud-detector@2.4.0 --to production --role security` (expired: carol signed more than 168h ago; not counted: dave (no longer holds security))',
    });
    // Exactly 168h old still counts; a rejection does not expire.
    const edge = decide(SOD, [signoff(SOD, 'bob', 'ml-engineer', { at: '2026-11-23T12:00:00Z' }), signoff(SOD, 'carol', 'security', { decision: 'reject', at: '2026-11-01T00:00:00Z' })]);
    expect(edge.map((r) => r.outcome)).toEqual(['satisfied', 'failed']);
  });

  it('names sign-offs that do not verify, are not dated in UTC, or are by the promoter', () => {
    const rs = decide(SOD, [
      signoff(SOD, 'bob', 'ml-engineer', { signWith: 'mallory' }),
      { ...signoff(SOD, 'erin', 'ml-engineer'), signatureKind: 'webauthn' } as Signoff,
      signoff(SOD, 'alice', 'ml-engineer', { at: '2026-11-30T10:00:00+01:00' }),
      signoff(SOD, 'carol', 'security'),
    ], { promoter: 'carol' });
    expect(rs[0]!.reason).toBe(
      '0 of 1 sign-off by ml-engineer; needs 1 more from bob, erin: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer` (not counted: a sign-off as bob whose signature does not verify against the roster key; a passkey sign-off as erin that does not verify against a registered, unrevoked passkey of theirs; a sign-off as alice dated "2026-11-30T10:00:00+01:00", not a time in UTC)',
    );
    expect(rs[1]!.reason).toBe(
      '0 of 1 sign-off by security; needs 1 more from erin: `tollgate signoff fraud-detector@2.4.0 --to production --role security` (not counted: carol (the person promoting, under separation of duties))',
    );
  });

  it('a person holding two roles counts once per gate under separation of duties, and the reason says where', () => {
    const rs = decide(SOD, [signoff(SOD, 'erin', 'ml-engineer'), signoff(SOD, 'erin', 'security')]);
    const counted = rs.map((r) => r.signers);
    expect(counted.flat()).toEqual(['erin']);
    const other = rs.find((r) => (r.signers ?? []).length === 0)!;
    expect(other.reason).toMatch(/ \(erin already counted for another role of this gate\)$/);
    // Without separation of duties, the same person counts in both.
    const open: GateDef = { ...SOD, separationOfDuties: false };
    expect(decide(open, [signoff(open, 'erin', 'ml-engineer'), signoff(open, 'erin', 'security')]).map((r) => r.outcome)).toEqual(['satisfied', 'satisfied']);
  });

  it('lists several names in each note, comma-separated', () => {
    const one: GateDef = { id: 'approvals', stage: 'production', expires: '24h', signoffs: [{ role: 'ml-engineer', count: 3 }] };
    const old = '2026-11-28T00:00:00Z';
    expect(decide(one, [signoff(one, 'bob', 'ml-engineer', { gateDigest: digestOf('x') }), signoff(one, 'erin', 'ml-engineer', { gateDigest: digestOf('x') })])[0]!.reason).toMatch(
      / \(stale: bob, erin signed an earlier definition of gate approvals\)$/,
    );
    expect(decide(one, [signoff(one, 'bob', 'ml-engineer', { at: old }), signoff(one, 'erin', 'ml-engineer', { at: old })])[0]!.reason).toMatch(/ \(expired: bob, erin signed more than 24h ago\)$/);
    expect(decide(one, [signoff(one, 'bob', 'ml-engineer'), signoff(one, 'erin', 'ml-engineer')])[0]).toMatchObject({
      outcome: 'missing',
      reason: '2 of 3 sign-offs by ml-engineer (bob, erin); needs 1 more from alice: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer`',
    });
    const fresh: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 1, staleOnNewEvidence: true }] };
    const later: ChecklistCompletion = { id: 'c', releaseDigest: RELEASE.digest, stage: 'production', gateId: 'g', itemId: 'i', itemDigest: digestOf('i'), by: 'alice', at: '2026-11-30T11:00:00Z' };
    expect(decide(fresh, [signoff(fresh, 'bob', 'ml-engineer'), signoff(fresh, 'erin', 'ml-engineer')], {}, { checklist: [later] })[0]!.reason).toMatch(
      / \(stale: evidence was recorded for production after bob, erin signed, and this rule asks for a sign-off on the evidence as it is\)$/,
    );
  });

  it('names everyone counted for another role of the gate under separation of duties', () => {
    const gate: GateDef = { id: 'approvals', stage: 'production', separationOfDuties: true, signoffs: [{ role: 'r1', count: 1 }, { role: 'r2', count: 1 }, { role: 'r3', count: 1 }] };
    const policy: Policy = {
      ...policyOf([gate]),
      roster: { bob: { roles: ['r1', 'r2'], key: KEYS.bob.publicKey }, carol: { roles: ['r1', 'r3'], key: KEYS.carol.publicKey }, erin: { roles: ['r1'], key: KEYS.erin.publicKey } },
    };
    const signoffs = [signoff(gate, 'bob', 'r1'), signoff(gate, 'carol', 'r1'), signoff(gate, 'erin', 'r1'), signoff(gate, 'bob', 'r2'), signoff(gate, 'carol', 'r3')];
    const rs = evaluate(policy, RELEASE, { ...NONE, signoffs }, NOW, ctx()).gates.find((g) => g.id === 'approvals')!.requirements;
    expect(rs.map((r) => [r.signers, r.outcome])).toEqual([
      [['erin'], 'satisfied'],
      [['bob'], 'satisfied'],
      [['carol'], 'satisfied'],
    ]);
    expect(rs[0]!.reason).toBe('1 of 1 sign-off by r1: erin (bob, carol already counted for another role of this gate)');
  });

  it("counts the promoter's own sign-off without separation of duties", () => {
    const open: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 1 }] };
    expect(decide(open, [signoff(open, 'bob', 'ml-engineer')], { promoter: 'bob' })[0]).toMatchObject({ outcome: 'satisfied', signers: ['bob'], reason: '1 of 1 sign-off by ml-engineer: bob' });
  });

  it('only sign-offs for this release, gate, stage and role count', () => {
    const one: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 1 }] };
    const base = signoff(one, 'bob', 'ml-engineer');
    for (const over of [{ releaseDigest: OTHER.digest }, { gate: 'other' }, { stage: 'staging' }, { role: 'security' }] as Partial<Signoff>[]) {
      // The row is edited after signing, so the filter, not the signature, is what leaves it out: no "not counted" note.
      expect(decide(one, [{ ...base, ...over }])[0]!.reason).toBe('0 of 1 sign-off by ml-engineer; needs 1 more from alice, bob, erin: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer`');
    }
  });

  it('under staleOnNewEvidence: stale when evidence was recorded after the approval, and it says which', () => {
    const gate: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 1, staleOnNewEvidence: true }] };
    const seen = evidenceSetDigest(NONE, RELEASE.digest, 'production');
    const completion: ChecklistCompletion = { id: 'c', releaseDigest: RELEASE.digest, stage: 'production', gateId: 'g', itemId: 'i', itemDigest: digestOf('i'), by: 'alice', at: '2026-11-30T11:00:00Z' };
    expect(decide(gate, [signoff(gate, 'bob', 'ml-engineer', { evidenceDigest: seen })])[0]!.outcome).toBe('satisfied');
    expect(decide(gate, [signoff(gate, 'bob', 'ml-engineer', { evidenceDigest: seen })], {}, { checklist: [completion] })[0]).toMatchObject({
      outcome: 'stale',
      reason:
        '0 of 1 sign-off by ml-engineer; needs 1 more from alice, bob, erin: `tollgate signoff fraud-detector@2.4.0 --to production --role ml-engineer` (stale: evidence was recorded for production after bob signed, and this rule asks for a sign-off on the evidence as it is)',
    });
    // A rejection is not made stale by evidence: it still stands.
    expect(decide(gate, [signoff(gate, 'bob', 'ml-engineer', { decision: 'reject', evidenceDigest: seen })], {}, { checklist: [completion] })[0]!.outcome).toBe('failed');
  });

  it('a rule whose `when` does not hold asks for nothing', () => {
    const gate: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'security', count: 1, when: "release.risk == 'low'" }] };
    const d = evaluate(policyOf([gate]), RELEASE, NONE, NOW, ctx());
    expect(d.gates.find((g) => g.id === 'approvals')).toEqual({ id: 'approvals', outcome: 'satisfied', digest: gateDigest(gate), requirements: [] });
  });
});

// ---------------------------------------------------------------- waivers and follow-ups

describe('a waived requirement, word for word', () => {
  const GATE: GateDef = { id: 'security-review', stage: 'production', checklist: [{ id: 'pen-test' }], signoffs: [{ role: 'security', count: 1 }], waivers: ['release-manager'] };
  function waiver(over: Partial<ExceptionPayload> = {}): ExceptionSignoff {
    const payload: ExceptionPayload = {
      type: 'tollgate/exception/v1',
      kind: 'waiver',
      release: 'fraud-detector@2.4.0',
      releaseDigest: RELEASE.digest,
      stage: 'production',
      role: 'release-manager',
      signer: 'dave',
      at: '2026-11-30T10:00:00.000Z',
      reason: 'known CVE, mitigated',
      gate: GATE.id,
      gateDigest: gateDigest(GATE),
      requirement: 'pen-test',
      expiresAt: '2026-12-07T10:00:00.000Z',
      ...over,
    };
    return { ...payload, id: `w-${payload.requirement}-${payload.at}`, signature: signException(payload, loadPrivateKey(KEYS.dave.privateKeyPem)) };
  }

  it('says who waived it, until when, why, and what it would be without', () => {
    const d = evaluate(policyOf([GATE]), RELEASE, { ...NONE, signoffs: [signoff(GATE, 'carol', 'security')], exceptions: [waiver({ reason: 'older', at: '2026-11-30T09:00:00.000Z' }), waiver()] }, NOW, ctx());
    expect(requirementOf(d, 'security-review', 'pen-test')).toEqual({
      id: 'pen-test',
      kind: 'checklist',
      outcome: 'waived',
      reason:
        'waived by dave as release-manager at 2026-11-30T10:00:00.000Z until 2026-12-07T10:00:00.000Z: "known CVE, mitigated" (without the waiver: missing: not completed; complete it with `tollgate check fraud-detector@2.4.0 pen-test --to production` (any roster member may complete it))',
      waiver: { id: 'w-pen-test-2026-11-30T10:00:00.000Z', by: 'dave', role: 'release-manager', reason: 'known CVE, mitigated', at: '2026-11-30T10:00:00.000Z', expiresAt: '2026-12-07T10:00:00.000Z', outcome: 'missing' },
    });
    expect(requirementOf(d, 'security-review', 'signoff:security').outcome).toBe('satisfied');
    expect(d.gates.find((g) => g.id === 'security-review')!.outcome).toBe('waived');
  });

  it('a failed validation can be waived (only a standing rejection cannot)', () => {
    const v: ValidationDef = { id: 'fairness', uses: 'metrics' };
    const gate: GateDef = { id: 'security-review', stage: 'production', validations: [v], waivers: ['release-manager'] };
    const failed = validationResult(gate, v, 'failed', { summary: 'gap 0.2 > 0.1' });
    const d = evaluate(policyOf([gate]), RELEASE, { ...NONE, validations: [failed], exceptions: [waiver({ gateDigest: gateDigest(gate), requirement: 'fairness' })] }, NOW, ctx());
    expect(requirementOf(d, 'security-review', 'fairness')).toMatchObject({
      outcome: 'waived',
      reason: 'waived by dave as release-manager at 2026-11-30T10:00:00.000Z until 2026-12-07T10:00:00.000Z: "known CVE, mitigated" (without the waiver: failed: failed (metrics@1 at 2026-11-30T09:00:00Z): gap 0.2 > 0.1)',
      waiver: { outcome: 'failed' },
    });
  });

  it('a satisfied requirement is left as it is, even with a waiver for it', () => {
    const done: ChecklistCompletion = { id: 'c', releaseDigest: RELEASE.digest, stage: 'production', gateId: GATE.id, itemId: 'pen-test', itemDigest: itemDigest(GATE, GATE.checklist![0]!), by: 'carol', at: '2026-11-30T09:00:00Z' };
    const d = evaluate(policyOf([GATE]), RELEASE, { ...NONE, checklist: [done], signoffs: [signoff(GATE, 'carol', 'security')], exceptions: [waiver()] }, NOW, ctx());
    expect(requirementOf(d, 'security-review', 'pen-test')).toEqual({ id: 'pen-test', kind: 'checklist', outcome: 'satisfied', reason: 'completed by carol at 2026-11-30T09:00:00Z' });
    expect(d.gates.find((g) => g.id === 'security-review')!.outcome).toBe('satisfied');
  });

  it('a gate with an empty `waivers` list waives nothing', () => {
    const gate: GateDef = { ...GATE, waivers: [] };
    const d = evaluate(policyOf([gate]), RELEASE, { ...NONE, exceptions: [waiver({ gateDigest: gateDigest(gate) })] }, NOW, ctx());
    expect(requirementOf(d, 'security-review', 'pen-test').outcome).toBe('missing');
  });
});

describe('follow-ups of a break-glass promotion', () => {
  const item = { id: 'postmortem', text: 'Write the postmortem', evidence: 'required' as const, roles: ['release-manager'] };
  const stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging', breakGlass: { role: 'security', followUp: [item] } }];
  const glass = promotion('p2', 'production', '2026-11-30T08:00:00Z', RELEASE, { breakGlass: { reason: 'incident', signoff: 'bg', signer: 'carol', role: 'security', unmet: [] } });

  it('are listed for the stage the release was forced into, done once completed after it', () => {
    const d = evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ history: [STAGED, glass] }));
    expect(d.followUps).toEqual([{ stage: 'production', promotion: 'p2', item: 'postmortem', text: 'Write the postmortem', evidence: 'required', roles: ['release-manager'] }]);
    const completion: ChecklistCompletion = {
      id: 'f',
      releaseDigest: RELEASE.digest,
      stage: 'production',
      gateId: FOLLOW_UP_GATE,
      itemId: 'postmortem',
      itemDigest: followUpDigest('production', item),
      by: 'dave',
      at: '2026-11-30T09:00:00Z',
      evidence: { name: 'pm.md', digest: digestOf('pm') },
    };
    const done = evaluate(policyOf([], stages), RELEASE, { ...NONE, checklist: [completion] }, NOW, ctx({ history: [STAGED, glass] }));
    expect(done.followUps![0]!.done).toEqual({ by: 'dave', at: '2026-11-30T09:00:00Z', evidence: { name: 'pm.md', digest: digestOf('pm') } });
  });

  it('are not listed without a break-glass promotion of this release into this stage', () => {
    const plain = promotion('p2', 'production', '2026-11-30T08:00:00Z');
    expect(evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ history: [STAGED, plain] })).followUps).toBeUndefined();
    expect(evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ history: [STAGED, { ...glass, releaseDigest: OTHER.digest }] })).followUps).toBeUndefined();
    expect(evaluate(policyOf([], stages), RELEASE, NONE, NOW, ctx({ stage: 'staging', history: [STAGED, glass] })).followUps).toBeUndefined();
    // A break-glass stage without follow-up items lists none.
    const bare: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging', breakGlass: { role: 'security' } }];
    expect(evaluate(policyOf([], bare), RELEASE, NONE, NOW, ctx({ history: [STAGED, glass] })).followUps).toBeUndefined();
  });
});

// ---------------------------------------------------------------- the exported helpers

describe('helpers', () => {
  it('stageStays: each stay in the stage, until the next move into it or now', () => {
    const history = [STAGED, promotion('x', 'production', '2026-11-29T05:00:00Z'), promotion('p2', 'staging', '2026-11-29T10:00:00Z', OTHER)];
    expect(stageStays(history, 'staging', NOW)).toEqual([
      { id: 'p1', releaseDigest: RELEASE.digest, start: Date.parse('2026-11-29T00:00:00Z'), end: Date.parse('2026-11-29T10:00:00Z'), current: false },
      { id: 'p2', releaseDigest: OTHER.digest, start: Date.parse('2026-11-29T10:00:00Z'), end: NOW.getTime(), current: true },
    ]);
  });

  it('stagePath: the stage and those its order goes through, nearest first, stopping at a loop', () => {
    const stages: Policy['stages'] = [{ name: 'dev' }, { name: 'staging', after: 'dev' }, { name: 'production', after: 'staging' }];
    expect(stagePath(policyOf([], stages), 'production')).toEqual(['production', 'staging', 'dev']);
    expect(stagePath(policyOf([], [{ name: 'a', after: 'b' }, { name: 'b', after: 'a' }]), 'a')).toEqual(['a', 'b']);
    // A stage the policy does not define ends the path (parsePolicy refuses such an `after`; this reads any policy).
    expect(stagePath(policyOf([], [{ name: 'production', after: 'ghost' }]), 'production')).toEqual(['production', 'ghost']);
  });

  it('releaseOwnerRole names why someone owns the release', () => {
    expect(releaseOwnerRole({ manifest: { ...MANIFEST, owner: 'bob' }, createdBy: 'alice' }, 'bob')).toBe('the release owner');
    expect(releaseOwnerRole({ manifest: { ...MANIFEST, owner: 'bob' }, createdBy: 'alice' }, 'alice')).toBe('who registered the release');
    expect(releaseOwnerRole({ manifest: { ...MANIFEST, owner: 'bob' }, createdBy: 'alice' }, 'erin')).toBeUndefined();
  });

  it.each([
    [[{ count: 1, signers: ['a', 'b'] }, { count: 1, signers: ['a'] }], [['b'], ['a']]],
    [[{ count: 2, signers: ['a'] }], [['a']]],
    [[{ count: 1, signers: ['a'] }, { count: 1, signers: ['a'] }], [['a'], []]],
    [[{ count: 1, signers: ['a'] }, { count: 1, signers: ['a', 'b'] }, { count: 1, signers: ['b', 'c'] }], [['a'], ['b'], ['c']]],
    // b cannot take a's place (a has nowhere else to go), so b takes the second rule.
    [[{ count: 1, signers: ['a', 'b'] }, { count: 1, signers: ['b'] }], [['a'], ['b']]],
  ])('matchSigners gives the one complete matching there is: %j', (rules, expected) => {
    expect(matchSigners(rules)).toEqual(expected);
  });
});
