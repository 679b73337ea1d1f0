/**
 * Waivers and break-glass sign-offs on their own (evaluate.test.ts checks them inside decisions):
 * exactly what a signature covers, every condition a waiver must meet, and the words of a refused
 * break-glass, which tell the person promoting in an emergency what is missing.
 */
import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { generateKeyPair, loadPrivateKey } from './keys.js';
import {
  BREAK_GLASS_TTL_MS,
  breakGlassFor,
  exceptionMessage,
  exceptionPayload,
  exceptionSignatureValid,
  FOLLOW_UP_GATE,
  followUpDigest,
  followUpsOf,
  MAX_WAIVER_MS,
  signException,
  UNBREAKABLE,
  waiversFor,
} from './exception.js';
import type { ChecklistCompletion, Decision, ExceptionPayload, ExceptionSignoff, Policy, Promotion, Release } from './model.js';

const USERS = ['alice', 'carol', 'dave', 'erin', 'frank', 'mallory'] as const;
type User = (typeof USERS)[number];
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<User, ReturnType<typeof generateKeyPair>>;

const POLICY: Policy = {
  apiVersion: 'tollgate/v1',
  kind: 'Policy',
  name: 'p',
  roster: {
    alice: { roles: ['security', 'release-manager'], key: KEYS.alice.publicKey },
    carol: { roles: ['security'], key: KEYS.carol.publicKey },
    dave: { roles: ['release-manager'], key: KEYS.dave.publicKey },
    erin: { roles: ['ml-engineer'], key: KEYS.erin.publicKey },
    frank: { roles: ['security'], key: KEYS.frank.publicKey },
    // A member whose key cannot be read: nothing of theirs verifies.
    mallory: { roles: ['security', 'release-manager'], key: 'not a key' },
  },
  stages: [
    { name: 'staging' },
    {
      name: 'production',
      after: 'staging',
      breakGlass: { role: 'security', followUp: [{ id: 'postmortem', text: 'Write it up', evidence: 'required', roles: ['release-manager'] }, { id: 'review' }] },
    },
  ],
  gates: [],
};
const manifest = { subject: 'fd', version: '1.0.0', risk: 'high' as const, owner: 'alice', artifacts: [] };
const RELEASE: Release = { subject: 'fd', version: '1.0.0', digest: digestOf(manifest), manifest, createdAt: '2026-11-01T00:00:00Z', createdBy: 'alice' };
const NOW = new Date('2026-11-30T12:00:00.000Z');
const GATE = { id: 'security-review', stage: 'production', waivers: ['release-manager'] };
const GATE_DIGEST = digestOf('gate');

function exception(kind: 'waiver' | 'break-glass', over: Partial<ExceptionPayload> & { signWith?: User; id?: string } = {}): ExceptionSignoff {
  const { signWith, id, ...rest } = over;
  const payload: ExceptionPayload = {
    type: 'tollgate/exception/v1',
    kind,
    release: 'fd@1.0.0',
    releaseDigest: RELEASE.digest,
    stage: 'production',
    role: kind === 'waiver' ? 'release-manager' : 'security',
    signer: kind === 'waiver' ? 'dave' : 'carol',
    at: '2026-11-30T10:00:00.000Z',
    reason: 'incident 42',
    ...(kind === 'waiver' ? { gate: GATE.id, gateDigest: GATE_DIGEST, requirement: 'pen-test', expiresAt: '2026-12-07T10:00:00.000Z' } : {}),
    ...rest,
  };
  const key = KEYS[(signWith ?? payload.signer) as User] ?? KEYS.mallory;
  return { ...payload, id: id ?? `${kind}-${payload.signer}-${payload.at}`, signature: signException(payload, loadPrivateKey(key.privateKeyPem)) };
}

describe('what an exception signature covers', () => {
  it('exactly the payload fields, optional ones only when present; anything else on the row is dropped', () => {
    const w = exception('waiver');
    expect(exceptionPayload({ ...w, extra: 'x' } as ExceptionPayload)).toEqual({
      type: 'tollgate/exception/v1',
      kind: 'waiver',
      release: 'fd@1.0.0',
      releaseDigest: RELEASE.digest,
      stage: 'production',
      role: 'release-manager',
      signer: 'dave',
      at: '2026-11-30T10:00:00.000Z',
      reason: 'incident 42',
      gate: 'security-review',
      gateDigest: GATE_DIGEST,
      requirement: 'pen-test',
      expiresAt: '2026-12-07T10:00:00.000Z',
    });
    const b = exception('break-glass');
    expect(Object.keys(exceptionPayload(b)).sort()).toEqual(['at', 'kind', 'reason', 'release', 'releaseDigest', 'role', 'signer', 'stage', 'type']);
    // The type is fixed, whatever the row says.
    expect(exceptionPayload({ ...b, type: 'other' } as unknown as ExceptionPayload).type).toBe('tollgate/exception/v1');
    expect(exceptionMessage(b)).toBe(
      `{"at":"2026-11-30T10:00:00.000Z","kind":"break-glass","reason":"incident 42","release":"fd@1.0.0","releaseDigest":"${RELEASE.digest}","role":"security","signer":"carol","stage":"production","type":"tollgate/exception/v1"}`,
    );
  });

  it.each<[string, (e: ExceptionSignoff) => ExceptionSignoff, boolean]>([
    ['as signed', (e) => e, true],
    ['with the reason edited', (e) => ({ ...e, reason: 'routine' }), false],
    ['with each optional field edited', (e) => ({ ...e, expiresAt: '2027-01-01T00:00:00.000Z' }), false],
    ['by someone outside the roster', (e) => ({ ...e, signer: 'nobody' }), false],
    ['by a member whose key cannot be read', (e) => ({ ...e, signer: 'mallory' }), false],
    ['signed with another key', () => exception('waiver', { signWith: 'carol' }), false],
  ])('verifies only %s', (_why, edit, ok) => {
    expect(exceptionSignatureValid(POLICY, edit(exception('waiver')))).toBe(ok);
  });

  it('bounds: a waiver runs at most 90 days, a break-glass waits at most 24 hours', () => {
    expect(MAX_WAIVER_MS).toBe(90 * 86_400_000);
    expect(BREAK_GLASS_TTL_MS).toBe(86_400_000);
    expect(UNBREAKABLE).toEqual(['stage/hold', 'stage/holder']);
  });
});

describe('waiversFor', () => {
  const find = (ws: ExceptionSignoff[], now = NOW, gate: typeof GATE | { id: string; stage: string } = GATE) => waiversFor(POLICY, RELEASE, ws, gate, GATE_DIGEST, 'pen-test', now).map((w) => w.id);

  it('counts a waiver that meets every condition, newest last', () => {
    const a = exception('waiver', { id: 'a' });
    const b = exception('waiver', { id: 'b', at: '2026-11-30T11:00:00.000Z' });
    expect(find([a, b])).toEqual(['a', 'b']);
  });

  it.each<[string, Partial<ExceptionPayload> & { signWith?: User }]>([
    ['a break-glass, not a waiver', { kind: 'break-glass' }],
    ['another release', { releaseDigest: digestOf('other') }],
    ['another stage', { stage: 'staging' }],
    ['another gate', { gate: 'other' }],
    ['another definition of the gate', { gateDigest: digestOf('older') }],
    ['another requirement', { requirement: 'signoff:security' }],
    ['a role the gate does not name', { role: 'security', signer: 'carol' }],
    ['someone who does not hold the role', { signer: 'erin', role: 'release-manager' }],
    ['someone outside the roster', { signer: 'zed', signWith: 'dave' }],
    ['the release owner', { signer: 'alice' }],
    ['given after now', { at: '2026-11-30T12:00:00.001Z' }],
    ['without an expiry', { expiresAt: undefined }],
    ['expiring now', { expiresAt: '2026-11-30T12:00:00.000Z' }],
    ['signed with another key', { signWith: 'carol' }],
  ])('does not count a waiver for %s', (_why, over) => {
    expect(find([exception('waiver', over)])).toEqual([]);
  });

  it('counts one given exactly now and expiring a millisecond later', () => {
    expect(find([exception('waiver', { id: 'edge', at: '2026-11-30T12:00:00.000Z', expiresAt: '2026-11-30T12:00:00.001Z' })])).toEqual(['edge']);
  });

  it('a gate without waivers counts none', () => {
    expect(find([exception('waiver')], NOW, { id: GATE.id, stage: GATE.stage })).toEqual([]);
    expect(find([exception('waiver')], NOW, { ...GATE, waivers: [] })).toEqual([]);
  });
});

describe('breakGlassFor', () => {
  const history: Promotion[] = [
    { id: 'p1', subject: 'fd', stage: 'staging', version: '1.0.0', releaseDigest: RELEASE.digest, policyVersion: 1, policyDigest: digestOf('p'), kind: 'promotion', by: 'dave', at: '2026-11-29T00:00:00Z' },
  ];
  const decision = (requirements: { gate: string; id: string; outcome: string }[], stage = 'production'): Decision =>
    ({
      release: 'fd@1.0.0',
      releaseDigest: RELEASE.digest,
      stage,
      policy: { name: 'p', digest: digestOf('p') },
      promotable: false,
      evaluatedAt: NOW.toISOString(),
      gates: [...new Set(requirements.map((r) => r.gate))].map((g) => ({
        id: g,
        outcome: 'failed',
        requirements: requirements.filter((r) => r.gate === g).map((r) => ({ id: r.id, kind: 'stage', outcome: r.outcome, reason: 'x' })),
      })),
      notApplicable: [],
    }) as unknown as Decision;
  const UNMET = decision([
    { gate: 'stage', id: 'freeze', outcome: 'failed' },
    { gate: 'stage', id: 'order', outcome: 'satisfied' },
    { gate: 'approvals', id: 'signoff:security', outcome: 'missing' },
    { gate: 'approvals', id: 'pen-test', outcome: 'waived' },
  ]);
  const NEEDS =
    'break-glass into production needs a sign-off by the role "security" (someone else than the promoter and the release owner): `tollgate signoff fd@1.0.0 --to production --role security --break-glass --reason "…"`';

  it('rests on the newest break-glass that counts, and lists the unmet requirements it goes past (not the satisfied or waived)', () => {
    const older = exception('break-glass', { id: 'older', at: '2026-11-30T09:00:00.000Z' });
    const newer = exception('break-glass', { id: 'newer' });
    expect(breakGlassFor(POLICY, RELEASE, UNMET, [older, newer], history, 'dave', NOW)).toEqual({ ok: true, signoff: newer, unmet: ['stage/freeze failed', 'approvals/signoff:security missing'] });
  });

  it('without a break-glass role on the stage, says how to name one', () => {
    expect(breakGlassFor(POLICY, RELEASE, decision([], 'staging'), [exception('break-glass', { stage: 'staging' })], history, 'dave', NOW)).toEqual({
      ok: false,
      reason: 'the policy names no break-glass role for staging (breakGlass: { role: ROLE } on the stage)',
    });
  });

  it.each(UNBREAKABLE)('never goes past %s', (req) => {
    const [gate, id] = req.split('/') as [string, string];
    const d = decision([{ gate, id, outcome: 'failed' }, { gate: 'stage', id: 'freeze', outcome: 'failed' }]);
    expect(breakGlassFor(POLICY, RELEASE, d, [exception('break-glass')], history, 'dave', NOW)).toEqual({
      ok: false,
      role: 'security',
      reason: `break-glass does not go past ${req} failed: a rollback's hold is lifted with \`tollgate release clear\``,
    });
  });

  it('a stage the policy does not have names no break-glass role', () => {
    expect(breakGlassFor(POLICY, RELEASE, decision([], 'qa'), [], history, 'dave', NOW)).toEqual({ ok: false, reason: 'the policy names no break-glass role for qa (breakGlass: { role: ROLE } on the stage)' });
  });

  it('names every unbreakable requirement in the way', () => {
    const d = decision([{ gate: 'stage', id: 'holder', outcome: 'failed' }, { gate: 'stage', id: 'hold', outcome: 'failed' }]);
    expect(breakGlassFor(POLICY, RELEASE, d, [exception('break-glass')], history, 'dave', NOW)).toMatchObject({
      reason: "break-glass does not go past stage/holder failed, stage/hold failed: a rollback's hold is lifted with `tollgate release clear`",
    });
  });

  it('with none at all, says who must sign and how', () => {
    expect(breakGlassFor(POLICY, RELEASE, UNMET, [], history, 'dave', NOW)).toEqual({ ok: false, role: 'security', reason: NEEDS });
  });

  it('names each one that does not count and why, newest first', () => {
    const ex = [
      exception('break-glass', { id: 'forged', signer: 'carol', signWith: 'erin', at: '2026-11-30T09:00:00.000Z' }),
      exception('break-glass', { id: 'role', signer: 'erin', role: 'ml-engineer' }),
      exception('break-glass', { id: 'not-holder', signer: 'dave', role: 'security' }),
      exception('break-glass', { id: 'promoter', signer: 'carol', at: '2026-11-30T10:01:00.000Z' }),
      exception('break-glass', { id: 'owner', signer: 'alice' }),
      exception('break-glass', { id: 'unreadable', signer: 'mallory' }),
      exception('break-glass', { id: 'used', signer: 'frank', at: '2026-11-30T10:02:00.000Z' }),
      exception('break-glass', { id: 'old', signer: 'frank', at: '2026-11-29T11:59:59.999Z' }),
      exception('break-glass', { id: 'future', signer: 'frank', at: '2026-11-30T12:00:00.001Z' }),
      // Not for this release or stage, or not a break-glass: not mentioned at all.
      exception('break-glass', { id: 'x1', releaseDigest: digestOf('other') }),
      exception('break-glass', { id: 'x2', stage: 'staging' }),
      { ...exception('waiver', { id: 'x3', signer: 'carol', role: 'security' }) },
    ];
    const used: Promotion = { ...history[0]!, id: 'p2', stage: 'production', breakGlass: { reason: 'r', signoff: 'used', signer: 'frank', role: 'security', unmet: [] } };
    const found = breakGlassFor(POLICY, RELEASE, UNMET, ex, [...history, used], 'carol', NOW);
    expect(found).toEqual({
      ok: false,
      role: 'security',
      reason: `${NEEDS} (not counted: frank's of 2026-11-30T12:00:00.001Z is more than 24h old; frank's of 2026-11-29T11:59:59.999Z is more than 24h old; frank's of 2026-11-30T10:02:00.000Z was used by an earlier promotion; mallory's does not verify against the roster key; alice's is by the release owner; carol's is by the person promoting; dave's is not by a holder of security; erin's is not by a holder of security; carol's does not verify against the roster key)`,
    });
  });

  it('counts one given exactly 24 hours ago, or exactly now', () => {
    for (const at of ['2026-11-29T12:00:00.000Z', '2026-11-30T12:00:00.000Z']) {
      expect(breakGlassFor(POLICY, RELEASE, UNMET, [exception('break-glass', { id: at, at })], history, 'dave', NOW)).toMatchObject({ ok: true, signoff: { id: at } });
    }
  });

  it('a sign-off used by an earlier promotion does not count again', () => {
    const b = exception('break-glass', { id: 'bg' });
    const used: Promotion = { ...history[0]!, id: 'p2', stage: 'production', breakGlass: { reason: 'r', signoff: 'bg', signer: 'carol', role: 'security', unmet: [] } };
    expect(breakGlassFor(POLICY, RELEASE, UNMET, [b], [...history, used], 'dave', NOW)).toEqual({
      ok: false,
      role: 'security',
      reason: `${NEEDS} (not counted: carol's of 2026-11-30T10:00:00.000Z was used by an earlier promotion)`,
    });
  });
});

describe('followUpsOf', () => {
  const glass = (id: string, at: string, stage = 'production', releaseDigest = RELEASE.digest): Promotion => ({
    id,
    subject: 'fd',
    stage,
    version: '1.0.0',
    releaseDigest,
    policyVersion: 1,
    policyDigest: digestOf('p'),
    kind: 'promotion',
    by: 'dave',
    at,
    breakGlass: { reason: 'r', signoff: `bg-${id}`, signer: 'carol', role: 'security', unmet: [] },
  });
  const item = POLICY.stages[1]!.breakGlass!.followUp![0]!;
  const done = (over: Partial<ChecklistCompletion> = {}): ChecklistCompletion => ({
    id: 'c',
    releaseDigest: RELEASE.digest,
    stage: 'production',
    gateId: FOLLOW_UP_GATE,
    itemId: 'postmortem',
    itemDigest: followUpDigest('production', item),
    by: 'dave',
    at: '2026-11-30T10:00:00Z',
    ...over,
  });

  it("lists each break-glass promotion's items, with what the policy says of them", () => {
    const plain: Promotion = { ...glass('p0', '2026-11-29T00:00:00Z'), breakGlass: undefined } as Promotion;
    expect(followUpsOf(POLICY, RELEASE.digest, [plain, glass('p1', '2026-11-30T09:00:00Z'), glass('p9', '2026-11-30T09:00:00Z', 'production', digestOf('other'))], [])).toStrictEqual([
      { stage: 'production', promotion: 'p1', item: 'postmortem', text: 'Write it up', evidence: 'required', roles: ['release-manager'] },
      { stage: 'production', promotion: 'p1', item: 'review' },
    ]);
    // A stage without follow-up items opens none, nor one the policy no longer has.
    expect(followUpsOf(POLICY, RELEASE.digest, [glass('p1', '2026-11-30T09:00:00Z', 'staging')], [])).toEqual([]);
    expect(followUpsOf(POLICY, RELEASE.digest, [glass('p1', '2026-11-30T09:00:00Z', 'canary')], [])).toEqual([]);
  });

  it('an item is done by the latest completion after its promotion, for the item as defined now', () => {
    const history = [glass('p1', '2026-11-30T09:00:00Z')];
    const of = (checklist: ChecklistCompletion[]) => followUpsOf(POLICY, RELEASE.digest, history, checklist)[0]!.done;
    expect(of([done({ by: 'erin', at: '2026-11-30T09:00:00Z' }), done({ evidence: { name: 'pm.md' } })])).toEqual({ by: 'dave', at: '2026-11-30T10:00:00Z', evidence: { name: 'pm.md' } });
    expect(of([done({ at: '2026-11-30T09:00:00Z' })])).toEqual({ by: 'dave', at: '2026-11-30T09:00:00Z' });
    for (const over of [
      { at: '2026-11-30T08:59:59Z' },
      { releaseDigest: digestOf('other') },
      { gateId: 'security-review' },
      { stage: 'staging' },
      { itemId: 'review' },
      { itemDigest: digestOf('older') },
    ] as Partial<ChecklistCompletion>[]) {
      expect(of([done(over)])).toBeUndefined();
    }
  });

  it('a second break-glass opens the items again', () => {
    const history = [glass('p1', '2026-11-30T09:00:00Z'), glass('p2', '2026-11-30T11:00:00Z')];
    const items = followUpsOf(POLICY, RELEASE.digest, history, [done()]).filter((f) => f.item === 'postmortem');
    expect(items.map((f) => [f.promotion, f.done?.at])).toEqual([
      ['p1', '2026-11-30T10:00:00Z'],
      ['p2', undefined],
    ]);
  });

  it('binds a completion to the stage and the item definition', () => {
    expect(followUpDigest('production', item)).toBe(digestOf({ gate: 'break-glass:follow-up', stage: 'production', item }));
    expect(followUpDigest('staging', item)).not.toBe(followUpDigest('production', item));
  });
});
