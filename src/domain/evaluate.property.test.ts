/**
 * Property-based tests of the pure evaluation (issue 13, standing suite): for random policies,
 * releases and evidence, no promotion is ever allowed with an unmet, stale, expired, rejected or
 * self-given requirement, and adding an approval never turns a satisfied gate unsatisfied.
 *
 * The oracle below is written from DESIGN.md's rules, not from evaluate.ts: it only says what must
 * hold whenever `evaluate` answers "promotable" (soundness), so it stays simple enough to trust.
 *
 * Runs: 1000 per property in `.ci/run`; `TOLLGATE_PROPERTY_RUNS=20000 npx vitest run
 * src/domain/evaluate.property.test.ts` for a full run (docs/reliability.md). A failure prints
 * fast-check's seed and path; `TOLLGATE_PROPERTY_SEED=N` replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { evaluate, type EvaluateContext } from './evaluate.js';
import { generateKeyPair, loadPrivateKey } from './keys.js';
import { gateDigest, itemDigest } from './policy.js';
import { signSignoff } from './signoff.js';
import { conditionHolds } from './cel.js';
import { parseDuration } from './duration.js';
import type { ChecklistCompletion, Decision, GateDef, Policy, Promotion, Release, RiskTier, Signoff, SignoffPayload } from './model.js';

const RUNS = Number(process.env.TOLLGATE_PROPERTY_RUNS ?? 1000);
const SEED = process.env.TOLLGATE_PROPERTY_SEED !== undefined ? Number(process.env.TOLLGATE_PROPERTY_SEED) : undefined;
const PARAMS = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };
/** A full run takes minutes: the per-test time limit grows with the number of runs. */
const TIMEOUT = Math.max(60_000, RUNS * 60);

// Real Ed25519 keys: evaluate verifies every signature. mallory has a key but is not in the roster.
const MEMBERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'] as const;
const SIGNERS = [...MEMBERS, 'mallory'] as const;
type Signer = (typeof SIGNERS)[number];
const KEYS = Object.fromEntries(SIGNERS.map((u) => [u, generateKeyPair()])) as Record<Signer, ReturnType<typeof generateKeyPair>>;
const PRIVATE = Object.fromEntries(SIGNERS.map((u) => [u, loadPrivateKey(KEYS[u].privateKeyPem)])) as Record<Signer, ReturnType<typeof loadPrivateKey>>;
const ROLES = ['ml-engineer', 'security', 'model-risk'] as const;
const RISKS: readonly RiskTier[] = ['low', 'medium', 'high', 'critical'];
const WHENS = [undefined, "release.risk in ['high', 'critical']", "release.risk == 'low'"] as const;
const NOW = new Date('2026-11-30T12:00:00Z');
const HOUR = 3_600_000;

interface World {
  policy: Policy;
  release: Release;
  signoffs: Signoff[];
  checklist: ChecklistCompletion[];
  promoter: string | undefined;
}

const gateArb = (index: number) =>
  fc.record({
    sod: fc.boolean(),
    expires: fc.constantFrom(undefined, '1h', '24h'),
    when: fc.constantFrom(...WHENS),
    rules: fc.uniqueArray(
      fc.record({ role: fc.constantFrom(...ROLES), count: fc.integer({ min: 1, max: 2 }), when: fc.constantFrom(...WHENS) }),
      { minLength: 0, maxLength: 3, selector: (r) => r.role },
    ),
    items: fc.array(fc.record({ evidence: fc.constantFrom(undefined, 'required' as const), when: fc.constantFrom(...WHENS) }), {
      maxLength: 2,
    }),
  }).map(
    (g): GateDef => ({
      id: `g${index}`,
      stage: 'production',
      ...(g.sod ? { separationOfDuties: true } : {}),
      ...(g.expires !== undefined ? { expires: g.expires } : {}),
      ...(g.when !== undefined ? { when: g.when } : {}),
      signoffs: g.rules.map((r) => ({ role: r.role, count: r.count, ...(r.when !== undefined ? { when: r.when } : {}) })),
      checklist: g.items.map((it, i) => ({
        id: `item${i}`,
        ...(it.evidence !== undefined ? { evidence: it.evidence } : {}),
        ...(it.when !== undefined ? { when: it.when } : {}),
      })),
    }),
  );

const worldArb: fc.Arbitrary<World> = fc
  .record({
    roles: fc.array(fc.subarray([...ROLES]), { minLength: MEMBERS.length, maxLength: MEMBERS.length }),
    gates: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => gateArb(i)))),
    risk: fc.constantFrom(...RISKS),
    owner: fc.constantFrom(...MEMBERS),
    promoter: fc.constantFrom(undefined, ...MEMBERS),
    signoffs: fc.array(
      fc.record({
        // Mostly someone who holds a role the gate asks for (else few gates would ever be satisfied).
        signer: fc.nat(),
        anyone: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
        role: fc.nat(),
        gate: fc.nat(),
        reject: fc.integer({ min: 0, max: 11 }).map((n) => n === 0),
        ageMinutes: fc.oneof(fc.integer({ min: 0, max: 90 }), fc.integer({ min: 0, max: 48 * 60 })),
        otherRelease: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        staleGate: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        forged: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
      }),
      { minLength: 2, maxLength: 16, size: 'large' },
    ),
    completions: fc.array(
      fc.record({
        gate: fc.nat(),
        item: fc.nat(),
        staleItem: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
        withEvidence: fc.integer({ min: 0, max: 3 }).map((n) => n !== 0),
        otherRelease: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
      }),
      { maxLength: 8, size: 'large' },
    ),
  })
  .map((w) => {
    const policy: Policy = {
      apiVersion: 'tollgate/v1',
      kind: 'Policy',
      name: 'property',
      roster: Object.fromEntries(MEMBERS.map((u, i) => [u, { roles: w.roles[i]!, key: KEYS[u].publicKey }])),
      stages: [{ name: 'staging' }, { name: 'production', after: 'staging' }],
      gates: w.gates,
    };
    const manifest = { subject: 'scorer', version: '1.0.0', risk: w.risk, owner: w.owner, artifacts: [{ name: 'model', kind: 'model' as const, sha256: 'a'.repeat(64) }] };
    const release: Release = { subject: 'scorer', version: '1.0.0', digest: digestOf(manifest), manifest, createdAt: '2026-11-01T00:00:00Z', createdBy: w.owner };
    const signoffs = w.signoffs
      .map((s, i) => {
        const gate = w.gates[s.gate % w.gates.length]!;
        const rules = gate.signoffs ?? [];
        const role = rules.length > 0 ? rules[s.role % rules.length]!.role : ROLES[s.role % ROLES.length]!;
        const holders = MEMBERS.filter((_, m) => (w.roles[m]! as readonly string[]).includes(role));
        const signer: Signer = !s.anyone && holders.length > 0 ? holders[s.signer % holders.length]! : SIGNERS[s.signer % SIGNERS.length]!;
        const payload: SignoffPayload = {
          type: 'tollgate/signoff/v1',
          release: 'scorer@1.0.0',
          releaseDigest: s.otherRelease ? digestOf('another release') : release.digest,
          stage: 'production',
          gate: gate.id,
          gateDigest: s.staleGate ? digestOf('an earlier definition') : gateDigest(gate),
          role,
          decision: s.reject ? 'reject' : 'approve',
          signer,
          // Distinct times (a sign-off per millisecond at most), so "newest" is never a tie.
          at: new Date(NOW.getTime() - s.ageMinutes * 60_000 - i).toISOString(),
        };
        const key = PRIVATE[s.forged ? (signer === 'mallory' ? 'alice' : 'mallory') : signer];
        return { ...payload, id: `s${i}`, signature: signSignoff(payload, key) } satisfies Signoff;
      })
      // As the store hands them over: oldest first.
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const checklist: ChecklistCompletion[] = w.completions.flatMap((c, i) => {
      const gate = w.gates[c.gate % w.gates.length]!;
      const items = gate.checklist ?? [];
      if (items.length === 0) return [];
      const item = items[c.item % items.length]!;
      return [
        {
          id: `c${i}`,
          releaseDigest: c.otherRelease ? digestOf('another release') : release.digest,
          stage: 'production',
          gateId: gate.id,
          itemId: item.id,
          itemDigest: c.staleItem ? digestOf('an earlier item') : itemDigest(gate, item),
          by: 'dave',
          at: new Date(NOW.getTime() - HOUR + i).toISOString(),
          ...(c.withEvidence ? { evidence: { name: 'plan.md', digest: digestOf('plan') } } : {}),
        },
      ];
    });
    return { policy, release, signoffs, checklist, promoter: w.promoter };
  });

function decide(w: Pick<World, 'policy' | 'release' | 'promoter'>, signoffs: readonly Signoff[], checklist: readonly ChecklistCompletion[]): Decision {
  // The release already holds staging, so the stage order never blocks; only the gates decide.
  const staged: Promotion = {
    id: 'p-staging',
    subject: 'scorer',
    stage: 'staging',
    version: '1.0.0',
    releaseDigest: w.release.digest,
    policyVersion: 1,
    policyDigest: digestOf('policy'),
    kind: 'promotion',
    by: 'dave',
    at: '2026-11-29T00:00:00Z',
  };
  const ctx: EvaluateContext = { stage: 'production', policyDigest: digestOf('policy'), history: [staged], ...(w.promoter ? { promoter: w.promoter } : {}) };
  return evaluate(w.policy, w.release, { signoffs, checklist, validations: [] }, NOW, ctx);
}

/** Whether `count` places per rule can be filled by distinct people (brute force: gates are small). */
function assignable(needs: ReadonlyArray<{ count: number; people: ReadonlySet<string> }>, used: ReadonlySet<string> = new Set()): boolean {
  const [first, ...rest] = needs;
  if (!first) return true;
  if (first.count === 0) return assignable(rest, used);
  for (const p of first.people) {
    if (used.has(p)) continue;
    if (assignable([{ ...first, count: first.count - 1 }, ...rest], new Set([...used, p]))) return true;
  }
  return false;
}

/**
 * What DESIGN.md requires of a gate before a promotion may pass it, written independently of
 * evaluate.ts. Returns the violations (empty when the gate may be satisfied).
 */
function violations(w: Pick<World, 'policy' | 'release' | 'promoter'>, signoffs: readonly Signoff[], checklist: readonly ChecklistCompletion[], gate: GateDef): string[] {
  const out: string[] = [];
  const { policy, release } = w;
  const excluded = new Set<string>(gate.separationOfDuties ? [release.manifest.owner, release.createdBy, ...(w.promoter ? [w.promoter] : [])] : []);
  const ttl = gate.expires !== undefined ? parseDuration(gate.expires) : Infinity;
  const needs: Array<{ count: number; people: Set<string> }> = [];
  for (const rule of gate.signoffs ?? []) {
    if (!conditionHolds(rule.when, release.manifest)) continue;
    // Each person's newest genuine sign-off for this release, gate and role is the one in effect.
    const newest = new Map<string, Signoff>();
    for (const s of signoffs) {
      if (s.releaseDigest !== release.digest || s.gate !== gate.id || s.role !== rule.role) continue;
      const member = Object.hasOwn(policy.roster, s.signer) ? policy.roster[s.signer] : undefined;
      if (!member || !member.roles.includes(rule.role)) continue;
      const genuine = KEYS[s.signer as Signer] !== undefined && signSignoff(stripSignature(s), PRIVATE[s.signer as Signer]) === s.signature;
      if (!genuine) continue;
      const prev = newest.get(s.signer);
      if (!prev || Date.parse(s.at) > Date.parse(prev.at)) newest.set(s.signer, s);
    }
    const people = new Set<string>();
    for (const [signer, s] of newest) {
      if (s.gateDigest !== gateDigest(gate)) continue; // stale
      if (s.decision === 'reject') out.push(`${rule.role}: a rejection by ${signer} is in effect`);
      else if (NOW.getTime() - Date.parse(s.at) > ttl) continue; // expired
      else if (excluded.has(signer)) continue; // self-given under separation of duties
      else people.add(signer);
    }
    needs.push({ count: rule.count, people });
  }
  if (gate.separationOfDuties) {
    if (!assignable(needs)) out.push('not enough distinct eligible signers for every role');
  } else {
    for (const n of needs) if (n.people.size < n.count) out.push(`only ${n.people.size} of ${n.count} eligible approvals`);
  }
  for (const item of gate.checklist ?? []) {
    if (!conditionHolds(item.when, release.manifest)) continue;
    const latest = checklist.filter((c) => c.releaseDigest === release.digest && c.gateId === gate.id && c.itemId === item.id).at(-1);
    if (!latest) out.push(`${item.id}: not completed`);
    else if (latest.itemDigest !== itemDigest(gate, item)) out.push(`${item.id}: completed for an earlier definition`);
    else if (item.evidence === 'required' && !latest.evidence) out.push(`${item.id}: no evidence`);
  }
  return out;
}

function stripSignature(s: Signoff): SignoffPayload {
  const { id: _id, signature: _sig, ...payload } = s;
  return payload;
}

describe('evaluate: properties over random policies, releases and evidence', () => {
  it('never allows a promotion with an unmet, stale, expired, rejected or self-given requirement', () => {
    let promotable = 0;
    let signedGates = 0;
    fc.assert(
      fc.property(worldArb, (w) => {
        const d = decide(w, w.signoffs, w.checklist);
        for (const gate of w.policy.gates) {
          const result = d.gates.find((g) => g.id === gate.id);
          if (!conditionHolds(gate.when, w.release.manifest)) {
            expect(result, `gate ${gate.id} does not apply (when) but was decided`).toBeUndefined();
            continue;
          }
          if (result?.outcome === 'satisfied' && result.requirements.some((r) => r.kind === 'signoff')) signedGates++;
          if (result?.outcome === 'satisfied') expect(violations(w, w.signoffs, w.checklist, gate), `gate ${gate.id} satisfied`).toEqual([]);
        }
        if (d.promotable) {
          promotable++;
          for (const g of d.gates) expect(g.requirements.every((r) => r.outcome === 'satisfied'), `gate ${g.id}`).toBe(true);
        }
      }),
      PARAMS,
    );
    // The generator must reach both answers, or the property says little.
    expect(promotable).toBeGreaterThan(0);
    expect(signedGates, 'gates satisfied by sign-offs').toBeGreaterThan(RUNS / 20);
  }, TIMEOUT);

  it('answers the same when asked twice, and in the order sign-offs of different people arrive within a time', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        expect(decide(w, w.signoffs, w.checklist)).toEqual(decide(w, w.signoffs, w.checklist));
      }),
      { ...PARAMS, numRuns: Math.max(1, Math.floor(RUNS / 3)) },
    );
  }, TIMEOUT);

  it('never turns a satisfied gate unsatisfied by adding an approval (only a rejection can)', () => {
    fc.assert(
      fc.property(worldArb, fc.constantFrom(...SIGNERS), fc.constantFrom(...ROLES), fc.nat(), (w, signer, role, g) => {
        const gate = w.policy.gates[g % w.policy.gates.length]!;
        const before = decide(w, w.signoffs, w.checklist);
        const payload: SignoffPayload = {
          type: 'tollgate/signoff/v1',
          release: 'scorer@1.0.0',
          releaseDigest: w.release.digest,
          stage: 'production',
          gate: gate.id,
          gateDigest: gateDigest(gate),
          role,
          decision: 'approve',
          signer,
          at: NOW.toISOString(), // newer than anything on record
        };
        const added: Signoff = { ...payload, id: 'added', signature: signSignoff(payload, PRIVATE[signer]) };
        const after = decide(w, [...w.signoffs, added], w.checklist);
        for (const b of before.gates) {
          if (b.outcome !== 'satisfied') continue;
          expect(after.gates.find((a) => a.id === b.id)?.outcome, `gate ${b.id} after ${signer} approved as ${role}`).toBe('satisfied');
        }
        if (before.promotable) expect(after.promotable).toBe(true);
      }),
      PARAMS,
    );
  }, TIMEOUT);

  it('never lets a rejection in effect be lifted by another person approving', () => {
    fc.assert(
      fc.property(worldArb, fc.constantFrom(...MEMBERS), fc.constantFrom(...MEMBERS), (w, rejecter, approver) => {
        const gate = w.policy.gates.find((g) => (g.signoffs ?? []).length > 0 && conditionHolds(g.when, w.release.manifest));
        if (!gate) return;
        const rule = (gate.signoffs ?? []).find((r) => conditionHolds(r.when, w.release.manifest));
        if (!rule || !w.policy.roster[rejecter]!.roles.includes(rule.role) || rejecter === approver) return;
        const sign = (signer: Signer, decision: 'approve' | 'reject', at: Date): Signoff => {
          const p: SignoffPayload = {
            type: 'tollgate/signoff/v1',
            release: 'scorer@1.0.0',
            releaseDigest: w.release.digest,
            stage: 'production',
            gate: gate.id,
            gateDigest: gateDigest(gate),
            role: rule.role,
            decision,
            signer,
            at: at.toISOString(),
          };
          return { ...p, id: `${signer}-${decision}`, signature: signSignoff(p, PRIVATE[signer]) };
        };
        const rejection = sign(rejecter, 'reject', new Date(NOW.getTime() - 2));
        const approval = sign(approver, 'approve', new Date(NOW.getTime() - 1));
        const d = decide(w, [...w.signoffs, rejection, approval], w.checklist);
        const result = d.gates.find((x) => x.id === gate.id)!;
        expect(result.requirements.find((r) => r.id === `signoff:${rule.role}`)?.outcome).toBe('failed');
        expect(d.promotable).toBe(false);
      }),
      PARAMS,
    );
  }, TIMEOUT);
});
