/**
 * verifyAttestation offline, in process: a real bundle (a parsed policy, Ed25519 sign-offs, a waiver,
 * the promotion's audit event in a three-event log, its inclusion proof and a signed checkpoint,
 * all in a DSSE envelope) verifies with every step named; each edit an attacker or a broken exporter
 * could make is then refused with the words that say what does not hold. The CLI's `verify` and the
 * end-to-end tests (test/cli.attest.test.ts) cover bundles made by `attest` itself; this covers each
 * check on its own (mutation testing, docs/reliability.md).
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestBytes, digestOf } from '../domain/digest.js';
import { evaluate } from '../domain/evaluate.js';
import { signException } from '../domain/exception.js';
import { generateKeyPair, loadPrivateKey } from '../domain/keys.js';
import type { BreakGlassMark, ChecklistCompletion, PasskeyKey, EvidenceSet, ExceptionPayload, ExceptionSignoff, Promotion, ReleaseManifest, Signoff, SignoffPayload, ValidationResult } from '../domain/model.js';
import { gateDigest, itemDigest, parsePolicy, validationDigest } from '../domain/policy.js';
import { releaseDigest } from '../domain/release-digest.js';
import { signSignoff } from '../domain/signoff.js';
import { rowClaim } from '../domain/records.js';
import { signoffChallenge } from '../domain/webauthn.js';
import { buildStatement, type AttestedPasskey, PREDICATE_TYPE, STATEMENT_TYPE, verifyAttestation, waiversOf, type PromotionPredicate } from './attestation.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import type { AuditEvent } from './events.js';
import { eventHash, GENESIS_HASH } from './log.js';
import { createMerkleTree } from './merkle.js';
import { auditLeafHash, signCheckpointNote } from './tree.js';

const SERVER = loadPrivateKey(generateKeyPair().privateKeyPem);
const SERVER_PUBLIC = createPublicKey(SERVER);
const OTHER_SERVER = createPublicKey(loadPrivateKey(generateKeyPair().privateKeyPem));
const KEYS = { bob: generateKeyPair(), carol: generateKeyPair(), dave: generateKeyPair() };

const SOURCE = `apiVersion: tollgate/v1
kind: Policy
name: fraud-platform
roster:
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
  carol: { roles: [security], key: "${KEYS.carol.publicKey}" }
  dave: { roles: [release-manager], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
  - name: production
    after: staging
    breakGlass: { role: security }
gates:
  - id: approvals
    stage: production
    waivers: [release-manager]
    checklist:
      - { id: runbook, evidence: required }
      - { id: pen-test }
    validations:
      - { id: tests, uses: junit, with: { report: junit.xml } }
    signoffs:
      - { role: ml-engineer, count: 1 }
`;
const PARSED = parsePolicy(SOURCE, 'policy.yaml');
const GATE = PARSED.policy.gates[0]!;

const MANIFEST: ReleaseManifest = { subject: 'fraud-detector', version: '2.4.0', risk: 'high', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', sha256: 'a'.repeat(64) }] };
const DIGEST = releaseDigest(MANIFEST);
const NAME = 'fraud-detector@2.4.0';
const FILE = Buffer.from('<testsuite tests="3"/>');
const RUNBOOK = Buffer.from('# runbook');

const STAGED: Promotion = { id: 'p1', subject: 'fraud-detector', stage: 'staging', version: '2.4.0', releaseDigest: DIGEST, policyVersion: 2, policyDigest: PARSED.digest, kind: 'promotion', by: 'dave', at: '2026-11-29T00:00:00.000Z' };
const PROMOTION: Promotion = { ...STAGED, id: 'p2', stage: 'production', at: '2026-11-30T12:00:00.000Z' };

function signoff(signer: 'bob' | 'carol', role: string, signWith: 'bob' | 'carol' = signer): Signoff {
  const payload: SignoffPayload = {
    type: 'tollgate/signoff/v1',
    release: NAME,
    releaseDigest: DIGEST,
    stage: 'production',
    gate: 'approvals',
    gateDigest: gateDigest(GATE),
    role,
    decision: 'approve',
    signer,
    at: '2026-11-30T10:00:00.000Z',
  };
  return { ...payload, id: `s-${signer}`, signature: signSignoff(payload, loadPrivateKey(KEYS[signWith].privateKeyPem)) };
}

function waiver(): ExceptionSignoff {
  const payload: ExceptionPayload = {
    type: 'tollgate/exception/v1',
    kind: 'waiver',
    release: NAME,
    releaseDigest: DIGEST,
    stage: 'production',
    role: 'release-manager',
    signer: 'dave',
    at: '2026-11-30T11:00:00.000Z',
    reason: 'pen test next week',
    gate: 'approvals',
    gateDigest: gateDigest(GATE),
    requirement: 'pen-test',
    expiresAt: '2026-12-07T11:00:00.000Z',
  };
  return { ...payload, id: 'w1', signature: signException(payload, loadPrivateKey(KEYS.dave.privateKeyPem)) };
}

const COMPLETION: ChecklistCompletion = {
  id: 'c1',
  releaseDigest: DIGEST,
  stage: 'production',
  gateId: 'approvals',
  itemId: 'runbook',
  itemDigest: itemDigest(GATE, GATE.checklist![0]!),
  by: 'bob',
  at: '2026-11-30T09:00:00.000Z',
  evidence: { name: 'runbook.md', digest: digestBytes(RUNBOOK) },
};
const RESULT: ValidationResult = {
  id: 'v1',
  releaseDigest: DIGEST,
  stage: 'production',
  gateId: 'approvals',
  validationId: 'tests',
  validator: 'junit',
  validatorVersion: '1',
  definitionDigest: validationDigest(GATE, GATE.validations![0]!),
  status: 'passed',
  summary: '3 tests passed',
  measurements: {},
  thresholds: {},
  inputs: { 'junit.xml': digestBytes(FILE) },
  durationMs: 3,
  by: 'ci',
  at: '2026-11-30T08:00:00.000Z',
};
const EVIDENCE: EvidenceSet = { checklist: [COMPLETION], signoffs: [signoff('bob', 'ml-engineer')], validations: [RESULT], exceptions: [waiver()] };

/** An audit event linked after `prev`, with its hash. */
function event(seq: number, prev: string, type: string, data: Record<string, unknown>, actor = 'user:dave'): AuditEvent {
  const e = { seq, at: `2026-11-30T12:00:0${seq}.000Z`, actor, type, data, prev };
  return { ...e, hash: eventHash(e) };
}

interface Built {
  predicate: PromotionPredicate;
}

/** The bundle `attest` would make, with `edit` applied to its predicate (and to the event, re-hashed) before it is signed. */
function bundle(
  opts: {
    promotion?: Promotion;
    evidence?: EvidenceSet;
    eventData?: (d: Record<string, unknown>) => Record<string, unknown>;
    actor?: string;
    edit?: (b: Built) => void;
    /** A passkey row the first event of the log vouches for, carried in the bundle. */
    passkey?: { row: AttestedPasskey['row']; key: PasskeyKey };
  } = {},
) {
  const promotion = opts.promotion ?? PROMOTION;
  const evidence = opts.evidence ?? EVIDENCE;
  const release = { subject: 'fraud-detector', version: '2.4.0', digest: DIGEST, manifest: MANIFEST, createdAt: '2026-11-01T00:00:00.000Z', createdBy: 'alice' };
  const decision = evaluate(PARSED.policy, release, evidence, new Date(promotion.at), {
    stage: 'production',
    policyDigest: PARSED.digest,
    policyVersion: 2,
    history: [STAGED],
    holds: [],
    promoter: promotion.by,
    passkeys: new Map(opts.passkey ? [[opts.passkey.key.credentialId, opts.passkey.key]] : []),
  });
  const first = opts.passkey
    ? event(1, GENESIS_HASH, 'PasskeyRegistered', { user: 'bob', rows: [rowClaim('passkeys', opts.passkey.row.id, opts.passkey.row)] })
    : event(1, GENESIS_HASH, 'ReleaseCreated', { release: NAME });
  const data: Record<string, unknown> = {
    id: promotion.id,
    release: NAME,
    releaseDigest: DIGEST,
    stage: 'production',
    policy: { digest: PARSED.digest, version: 2 },
    ...(promotion.breakGlass ? { breakGlass: promotion.breakGlass } : {}),
  };
  const promoted = event(2, first.hash, 'ReleasePromoted', opts.eventData ? opts.eventData(data) : data, opts.actor);
  const third = event(3, promoted.hash, 'SignoffRecorded', { release: NAME });
  const tree = createMerkleTree([first, promoted, third].map(auditLeafHash));
  const checkpoint = signCheckpointNote({ origin: 'tollgate.example/audit', size: 3, root: tree.root(), at: '2026-11-30T12:00:04.000Z', head: third.hash, key: SERVER });
  const predicate: PromotionPredicate = {
    release: { name: NAME, digest: DIGEST, manifest: MANIFEST, createdAt: release.createdAt, createdBy: release.createdBy },
    stage: 'production',
    policy: { name: 'fraud-platform', version: 2, digest: PARSED.digest, source: SOURCE },
    decision,
    evidence,
    history: [STAGED],
    promotion,
    ...(waiversOf(decision).length > 0 ? { waivers: waiversOf(decision) } : {}),
    ...(promotion.breakGlass ? { breakGlass: promotion.breakGlass } : {}),
    lineage: [],
    files: { [digestBytes(FILE)]: FILE.toString('base64'), [digestBytes(RUNBOOK)]: RUNBOOK.toString('base64') },
    ...(opts.passkey ? { passkeys: [{ row: opts.passkey.row, log: { event: first, leafIndex: 0, inclusionProof: tree.inclusionProof(0).map((h) => h.toString('hex')) } }] } : {}),
    log: { event: promoted, leafIndex: 1, treeSize: 3, inclusionProof: tree.inclusionProof(1).map((h) => h.toString('hex')), checkpoint },
  };
  const built = { predicate: structuredClone(predicate) };
  opts.edit?.(built);
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(buildStatement(built.predicate))), SERVER, 'server');
}

/** Sign a statement of our own making (for edits of the statement itself). */
const envelopeOf = (statement: unknown, key: KeyObject = SERVER) => signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key, 'server');

const GOOD_CHECKS = [
  'envelope signature (DSSE v1, server key)',
  'in-toto Statement v1',
  `policy fraud-platform v2 (${PARSED.digest})`,
  `release ${NAME} (${DIGEST}), 1 subjects`,
  '1 sign-off signatures against the policy\'s roster keys',
  '1 waiver and break-glass signatures against the policy\'s roster keys',
  '2 evidence files carried, each with the digest the evidence names',
  'decision re-evaluated: 2 gates satisfied (1 requirement waived), as recorded',
  'promotion event 2 (ReleasePromoted by user:dave at 2026-11-30T12:00:02.000Z)',
  'inclusion proof of event 2 in a tree of 3',
  'checkpoint signed by the server key (tollgate.example/audit, size 3)',
];

describe('verifyAttestation', () => {
  it('verifies a bundle as attest makes it, naming every step it checked', () => {
    const b = bundle();
    const statement = JSON.parse(Buffer.from(b.payload, 'base64').toString('utf8'));
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement.predicateType).toBe(PREDICATE_TYPE);
    expect(statement.subject).toEqual([{ name: 'model', digest: { sha256: 'a'.repeat(64) } }]);
    expect(verifyAttestation(b, SERVER_PUBLIC)).toEqual({ ok: true, checked: GOOD_CHECKS });
  });

  it('without waivers, files or exceptions, says so in fewer steps', () => {
    const evidence: EvidenceSet = { checklist: [COMPLETION, { ...COMPLETION, id: 'c2', itemId: 'pen-test', itemDigest: itemDigest(GATE, GATE.checklist![1]!), evidence: undefined }], signoffs: [signoff('bob', 'ml-engineer')], validations: [RESULT] };
    const b = bundle({ evidence, edit: ({ predicate }) => void delete (predicate as { files?: unknown }).files });
    expect(verifyAttestation(b, SERVER_PUBLIC)).toEqual({
      ok: true,
      checked: [...GOOD_CHECKS.slice(0, 5), 'decision re-evaluated: 2 gates satisfied, as recorded', ...GOOD_CHECKS.slice(8)],
    });
  });

  const first = (checks: number) => GOOD_CHECKS.slice(0, checks);

  // Each bundle is made inside its test: nothing under test runs while the file is collected (note.test.ts says why).
  it.each<[string, () => unknown, number, string]>([
    ['not an envelope', () => ({ payload: 1, signatures: [] }), 0, 'not a DSSE envelope (payload, payloadType, signatures)'],
    ['an array', () => [], 0, 'not a DSSE envelope (payload, payloadType, signatures)'],
    ['signatures not a list', () => ({ payload: '', payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: {} }), 0, 'not a DSSE envelope (payload, payloadType, signatures)'],
    ['another payload type', () => ({ ...bundle(), payloadType: 'text/plain' }), 0, `payloadType is "text/plain", not ${IN_TOTO_PAYLOAD_TYPE}`],
    ['signed by another key', () => envelopeOf({}, loadPrivateKey(generateKeyPair().privateKeyPem)), 0, 'the envelope signature does not verify with the given server key'],
    ['a payload that is not JSON', () => signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('{'), SERVER, 'server'), 1, 'the payload is not JSON'],
    ['another statement type', () => ({ _type: 'x', subject: [], predicateType: PREDICATE_TYPE, predicate: {} }), 1, `the statement type is "x", not ${STATEMENT_TYPE}`],
    ['another predicate type', () => ({ _type: STATEMENT_TYPE, subject: [], predicateType: 'y', predicate: {} }), 1, 'the predicate type is "y"'],
    ['a predicate without its parts', () => ({ _type: STATEMENT_TYPE, subject: [], predicateType: PREDICATE_TYPE, predicate: { policy: {}, release: {}, log: {}, promotion: {} } }), 1, 'the predicate is missing parts'],
  ])('refuses %s', (_why, make, checks, failure) => {
    const input = make();
    const env = typeof input === 'object' && input !== null && '_type' in input ? envelopeOf(input) : input;
    expect(verifyAttestation(env, SERVER_PUBLIC)).toEqual({ ok: false, checked: first(checks), failure });
  });

  it.each<[string, (b: Built) => void, number, string]>([
    ['a policy that does not parse', ({ predicate: p }) => void ((p.policy as { source: string }).source = 'kind: [') , 2, 'the policy in the bundle does not parse: '],
    [
      'an edited policy',
      ({ predicate: p }) => void ((p.policy as { source: string }).source = SOURCE.replace('waivers: [release-manager]', 'waivers: [release-manager, security]')),
      2,
      'the policy text has digest ',
    ],
    ['an edited manifest', ({ predicate: p }) => void ((p.release.manifest as { risk: string }).risk = 'low'), 3, 'the release manifest has digest '],
    ['an artifact digest not in the subjects', ({ predicate: p }) => void ((p.release.manifest.artifacts[0] as { sha256: string }).sha256 = 'b'.repeat(64)), 3, 'the release manifest has digest '],
    ['a forged sign-off', ({ predicate: p }) => void ((p.evidence.signoffs as Signoff[])[0] = signoff('bob', 'ml-engineer', 'carol')), 4, "the sign-off by bob as ml-engineer (gate approvals) does not verify against bob's key in the policy"],
    ['a forged waiver', ({ predicate: p }) => void ((p.evidence.exceptions as ExceptionSignoff[])[0] = { ...waiver(), reason: 'edited' }), 5, "the waiver by dave as release-manager does not verify against dave's key in the policy"],
    ['exceptions that are not a list', ({ predicate: p }) => void ((p.evidence as { exceptions: unknown }).exceptions = { a: 1 }), 5, 'the waivers and break-glass sign-offs of the bundle are not a list'],
    ['files that are not a map', ({ predicate: p }) => void ((p as { files: unknown }).files = ['x']), 6, 'the files of the bundle are not a map of digest to base64'],
    ['a file with another digest', ({ predicate: p }) => void ((p.files as Record<string, string>)[digestBytes(FILE)] = Buffer.from('edited').toString('base64')), 6, `the file carried as ${digestBytes(FILE)} does not have that digest`],
    ['a file that is not text', ({ predicate: p }) => void ((p.files as Record<string, unknown>)[digestBytes(FILE)] = 7), 6, `the file carried as ${digestBytes(FILE)} does not have that digest`],
    ['a file no evidence names', ({ predicate: p }) => void ((p.files as Record<string, string>)[digestBytes(Buffer.from('x'))] = Buffer.from('x').toString('base64')), 6, `the file ${digestBytes(Buffer.from('x'))} is not named by any evidence in the bundle`],
    ['evidence that does not re-evaluate', ({ predicate: p }) => void ((p as { stage: string }).stage = 'qa'), 7, 'the decision cannot be re-evaluated: unknown stage "qa"; the policy\'s stages are: staging, production'],
    ['a recorded decision with another outcome', ({ predicate: p }) => void ((p.decision.gates[1]!.requirements[0] as { outcome: string }).outcome = 'missing'), 7, 'the recorded decision does not match the re-evaluation (approvals/runbook: satisfied)'],
    ['a recorded decision with a requirement more', ({ predicate: p }) => void (p.decision.gates[1]!.requirements as unknown[]).push({ id: 'x', outcome: 'satisfied' }), 7, 'the recorded decision does not match the re-evaluation (the number of requirements)'],
    ['a recorded decision said unpromotable', ({ predicate: p }) => void ((p.decision as { promotable: boolean }).promotable = false), 7, 'the recorded decision does not match the re-evaluation (promotable)'],
    ['a list of waivers that is not the one counted', ({ predicate: p }) => void delete (p as { waivers?: unknown }).waivers, 7, "the bundle's list of waivers is not the waivers the decision counted"],
    ['an edited event', ({ predicate: p }) => void ((p.log.event as { at: string }).at = '2026-11-30T13:00:00.000Z'), 8, 'the promotion event in the bundle does not match its own hash'],
    ['another event of the log', ({ predicate: p }) => void ((p.log as { event: AuditEvent }).event = event(1, GENESIS_HASH, 'ReleaseCreated', { release: NAME })), 8, 'the audit event is not the promotion of this release to this stage'],
    ['a promotion to another stage', ({ predicate: p }) => void ((p.promotion as { stage: string }).stage = 'staging'), 8, 'the audit event is not the promotion of this release to this stage'],
    [
      'a promotion under another policy digest',
      ({ predicate: p }) => void ((p.promotion as { policyDigest: string }).policyDigest = digestOf('other')),
      8,
      `the bundle's policy ${PARSED.digest} is not the one the logged promotion was decided under (${PARSED.digest})`,
    ],
    ['a promotion under another policy version', ({ predicate: p }) => void ((p.promotion as { policyVersion: number }).policyVersion = 3), 8, "the bundle's policy version 2 is not the logged one (2)"],
    ['another promoter', ({ predicate: p }) => void ((p.promotion as { by: string }).by = 'erin'), 8, 'the bundle says erin promoted, the log says user:dave'],
    [
      'a break-glass the log does not record',
      ({ predicate: p }) => void ((p.promotion as { breakGlass?: BreakGlassMark }).breakGlass = { reason: 'x', signoff: 'bg', signer: 'carol', role: 'security', unmet: [] }),
      8,
      "the bundle's break-glass is not the one the logged promotion records",
    ],
    ['another lineage', ({ predicate: p }) => void ((p as { lineage: unknown }).lineage = [{ kind: 'dataset', uri: 's3://x' }]), 8, "the bundle's lineage is not the release manifest's"],
    ['a checkpoint by another key', ({ predicate: p }) => void ((p.log as { checkpoint: string }).checkpoint = p.log.checkpoint.replace(/ \S+$/m, ' AAAA')), 9, 'the checkpoint does not verify with the given server key: '],
    ['a tree size that is not the checkpoint\'s', ({ predicate: p }) => void ((p.log as { treeSize: number }).treeSize = 4), 9, 'the checkpoint covers 3 events, the proof 4'],
    ['a malformed proof', ({ predicate: p }) => void ((p.log.inclusionProof as string[])[0] = 'zz'), 9, 'the inclusion proof is malformed'],
    ['a proof of another leaf', ({ predicate: p }) => void ((p.log as { leafIndex: number }).leafIndex = 0), 9, 'the inclusion proof does not lead from event 2 to the checkpoint\'s root'],
    ['a proof with a hash changed', ({ predicate: p }) => void ((p.log.inclusionProof as string[])[0] = '0'.repeat(64)), 9, 'the inclusion proof does not lead from event 2 to the checkpoint\'s root'],
  ])('refuses %s', (_why, edit, checks, failure) => {
    const verdict = verifyAttestation(bundle({ edit }), SERVER_PUBLIC);
    expect(verdict.ok).toBe(false);
    expect(verdict.checked).toEqual(first(checks));
    expect(verdict.failure!.startsWith(failure)).toBe(true);
  });

  it('refuses a bundle with evidence taken out, naming what the release lacks without it', () => {
    const b = bundle({ edit: ({ predicate: p }) => void ((p.evidence as unknown as { signoffs: Signoff[] }).signoffs = []) });
    expect(verifyAttestation(b, SERVER_PUBLIC)).toEqual({
      ok: false,
      checked: [...first(4), "0 sign-off signatures against the policy's roster keys", ...GOOD_CHECKS.slice(5, 7)],
      failure: `re-evaluated from the evidence in the bundle, ${NAME} was not promotable to production: approvals/signoff:ml-engineer missing`,
    });
  });

  it('refuses a bundle whose logged event says something else than the bundle', () => {
    const cases: [string, (d: Record<string, unknown>) => Record<string, unknown>, string][] = [
      ['another promotion id', (d) => ({ ...d, id: 'p9' }), 'the audit event is not the promotion of this release to this stage'],
      ['another release digest', (d) => ({ ...d, releaseDigest: digestOf('x') }), 'the audit event is not the promotion of this release to this stage'],
      ['another stage', (d) => ({ ...d, stage: 'staging' }), 'the audit event is not the promotion of this release to this stage'],
      ['another release name', (d) => ({ ...d, release: 'fraud-detector@9' }), `the bundle names the release ${NAME}, the logged promotion fraud-detector@9`],
      ['another policy digest', (d) => ({ ...d, policy: { digest: digestOf('x'), version: 2 } }), `the bundle's policy ${PARSED.digest} is not the one the logged promotion was decided under (${digestOf('x')})`],
      ['no policy', (d) => ({ ...d, policy: 'x' }), `the bundle's policy ${PARSED.digest} is not the one the logged promotion was decided under (undefined)`],
      ['another policy version', (d) => ({ ...d, policy: { digest: PARSED.digest, version: 1 } }), "the bundle's policy version 2 is not the logged one (1)"],
      ['a break-glass', (d) => ({ ...d, breakGlass: { reason: 'x' } }), 'the logged promotion is a break-glass the bundle does not say'],
    ];
    for (const [why, eventData, failure] of cases) {
      expect({ why, ...verifyAttestation(bundle({ eventData }), SERVER_PUBLIC) }).toEqual({ why, ok: false, checked: first(8), failure });
    }
    expect(verifyAttestation(bundle({ actor: 'user:erin' }), SERVER_PUBLIC)).toEqual({ ok: false, checked: first(8), failure: 'the bundle says dave promoted, the log says user:erin' });
  });

  it('refuses a bundle verified with another server key, and one whose recorded policy digest differs', () => {
    expect(verifyAttestation(bundle(), OTHER_SERVER)).toEqual({ ok: false, checked: [], failure: 'the envelope signature does not verify with the given server key' });
    const edited = bundle({ edit: ({ predicate: p }) => void ((p.decision.policy as { digest: string }).digest = digestOf('x')) });
    expect(verifyAttestation(edited, SERVER_PUBLIC).failure).toBe(`the bundle's policy ${PARSED.digest} is not the one the logged promotion was decided under (${PARSED.digest})`);
  });

  it('answers a malformed bundle without throwing', () => {
    const b = bundle({ edit: ({ predicate: p }) => void ((p.evidence as { signoffs: unknown }).signoffs = 5) });
    expect(verifyAttestation(b, SERVER_PUBLIC)).toMatchObject({ ok: false, checked: first(4), failure: expect.stringMatching(/^the bundle is malformed: /) });
  });
});

describe('verifyAttestation of a break-glass promotion', () => {
  function glass(over: Partial<ExceptionPayload> = {}): ExceptionSignoff {
    const payload: ExceptionPayload = {
      type: 'tollgate/exception/v1',
      kind: 'break-glass',
      release: NAME,
      releaseDigest: DIGEST,
      stage: 'production',
      role: 'security',
      signer: 'carol',
      at: '2026-11-30T11:30:00.000Z',
      reason: 'incident 7',
      ...over,
    };
    return { ...payload, id: 'bg1', signature: signException(payload, loadPrivateKey(KEYS.carol.privateKeyPem)) };
  }
  // bob's approval is missing: the release was not promotable, and went in on carol's break-glass.
  const UNMET = ['approvals/signoff:ml-engineer missing'];
  const MARK: BreakGlassMark = { reason: 'incident 7', signoff: 'bg1', signer: 'carol', role: 'security', unmet: UNMET };
  const evidence = (exceptions: ExceptionSignoff[]): EvidenceSet => ({ ...EVIDENCE, signoffs: [], exceptions: [waiver(), ...exceptions] });
  const glassBundle = (opts: { exceptions?: ExceptionSignoff[]; mark?: BreakGlassMark; edit?: (b: Built) => void } = {}) =>
    bundle({ promotion: { ...PROMOTION, breakGlass: opts.mark ?? MARK }, evidence: evidence(opts.exceptions ?? [glass()]), ...(opts.edit ? { edit: opts.edit } : {}) });
  const upTo = (n: number) => [...GOOD_CHECKS.slice(0, 4), "0 sign-off signatures against the policy's roster keys", "2 waiver and break-glass signatures against the policy's roster keys", ...GOOD_CHECKS.slice(6, n)];

  it('stands on the break-glass sign-off the evidence holds, and says so', () => {
    expect(verifyAttestation(glassBundle(), SERVER_PUBLIC)).toEqual({
      ok: true,
      checked: [
        ...upTo(7),
        'decision re-evaluated: not promotable, as recorded; BREAK-GLASS on the sign-off of carol as security ("incident 7"), past approvals/signoff:ml-engineer missing',
        ...GOOD_CHECKS.slice(8),
      ],
    });
  });

  it('does not stand without a break-glass sign-off that counts', () => {
    expect(verifyAttestation(glassBundle({ exceptions: [glass({ stage: 'staging' })] }), SERVER_PUBLIC)).toEqual({
      ok: false,
      checked: upTo(7),
      failure: `re-evaluated from the evidence in the bundle, the break-glass promotion of ${NAME} to production does not stand: break-glass into production needs a sign-off by the role "security" (someone else than the promoter and the release owner): \`tollgate signoff ${NAME} --to production --role security --break-glass --reason "…"\``,
    });
  });

  it.each<[string, BreakGlassMark]>([
    ['another sign-off', { ...MARK, signoff: 'bg2' }],
    ['another signer', { ...MARK, signer: 'erin' }],
    ['other requirements gone past', { ...MARK, unmet: ['stage/freeze failed'] }],
  ])('refuses a mark that names %s than the evidence shows', (_why, mark) => {
    expect(verifyAttestation(glassBundle({ mark }), SERVER_PUBLIC)).toEqual({
      ok: false,
      checked: upTo(7),
      failure: `the break-glass of the bundle (${mark.signer}, past ${mark.unmet.join('; ')}) is not what the evidence shows (carol, past approvals/signoff:ml-engineer missing)`,
    });
  });

  it("refuses a predicate whose break-glass is not the promotion's", () => {
    const b = glassBundle({ edit: ({ predicate: p }) => void ((p as { breakGlass?: BreakGlassMark }).breakGlass = { ...MARK, reason: 'edited' }) });
    expect(verifyAttestation(b, SERVER_PUBLIC)).toEqual({ ok: false, checked: upTo(7), failure: "the bundle's break-glass is not the promotion's" });
  });
});

describe('verifyAttestation of a passkey sign-off', () => {
  const RP_ID = 'tollgate.example.com';
  const ORIGIN = 'https://tollgate.example.com';
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const publicKey = createPublicKey(ec).export({ type: 'spki', format: 'der' }).toString('base64');
  const sha256 = (b: string | Uint8Array) => createHash('sha256').update(b).digest();
  const ROW = { id: 'cred', user_name: 'bob', public_key: publicKey, rp_id: RP_ID, origin: ORIGIN, created_at: '2026-11-20T00:00:00.000Z', revoked_at: null };
  const KEY: PasskeyKey = { credentialId: 'cred', user: 'bob', publicKey, rpId: RP_ID };
  /** bob's approval, signed with his passkey as a browser does (webauthn.test.ts). */
  function byPasskey(): Signoff {
    const { signature: _s, id: _i, ...payload } = signoff('bob', 'ml-engineer');
    const authData = Buffer.concat([sha256(RP_ID), Buffer.from([0x05]), Buffer.from([0, 0, 0, 7])]);
    const client = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: signoffChallenge(payload), origin: ORIGIN }));
    return {
      ...payload,
      id: 's-bob-passkey',
      signature: sign('sha256', Buffer.concat([authData, sha256(client)]), ec).toString('base64url'),
      signatureKind: 'webauthn',
      webauthn: { credentialId: 'cred', authenticatorData: authData.toString('base64url'), clientDataJSON: client.toString('base64url'), rpId: RP_ID, origin: ORIGIN },
    };
  }
  const passkeyBundle = (row: AttestedPasskey['row'] = ROW, edit?: (b: Built) => void) =>
    bundle({ evidence: { ...EVIDENCE, signoffs: [byPasskey()] }, passkey: { row, key: KEY }, ...(edit ? { edit } : {}) });
  const before = [...GOOD_CHECKS.slice(0, 4)];

  it('verifies the passkey against the row the log vouches for, and says how many', () => {
    expect(verifyAttestation(passkeyBundle(), SERVER_PUBLIC)).toEqual({
      ok: true,
      checked: [
        ...before,
        '1 passkey vouched for by the audit log under the checkpoint',
        "1 passkey sign-off: WebAuthn signature, challenge = the sign-off's digest, origin and RP ID as recorded, user verified",
        "0 sign-off signatures against the policy's roster keys",
        ...GOOD_CHECKS.slice(5),
      ],
    });
  });

  it.each<[string, (b: Built) => void, string]>([
    ['a row edited after its event', ({ predicate: p }) => void ((p.passkeys![0]!.row as { user_name: string }).user_name = 'bob '), 'passkey cred is not what audit event 1 (PasskeyRegistered) vouches for'],
    ['an event edited', ({ predicate: p }) => void ((p.passkeys![0]!.log.event as { at: string }).at = 'x'), 'the audit event that vouches for passkey cred does not match its own hash'],
    ['a proof of another leaf', ({ predicate: p }) => void ((p.passkeys![0]!.log as { leafIndex: number }).leafIndex = 1), "the inclusion proof does not lead from event 1, which vouches for passkey cred, to the checkpoint's root"],
    ['a malformed proof', ({ predicate: p }) => void ((p.passkeys![0]!.log.inclusionProof as string[])[0] = 'zz'), 'the inclusion proof of passkey cred is malformed'],
    ['a passkey without its parts', ({ predicate: p }) => void ((p.passkeys as unknown[])[0] = { row: ROW }), 'a passkey of the bundle is missing parts'],
    ['passkeys that are not a list', ({ predicate: p }) => void ((p as { passkeys: unknown }).passkeys = { cred: ROW }), 'the passkeys of the bundle are not a list'],
  ])('refuses %s', (_why, edit, failure) => {
    expect(verifyAttestation(passkeyBundle(ROW, edit), SERVER_PUBLIC)).toEqual({ ok: false, checked: before, failure });
  });

  it('refuses a passkey registered after the promotion, and does not count one revoked before it', () => {
    expect(verifyAttestation(passkeyBundle({ ...ROW, created_at: '2026-11-30T12:00:00.001Z' }), SERVER_PUBLIC)).toEqual({ ok: false, checked: before, failure: 'passkey cred was registered after the promotion' });
    const revoked = verifyAttestation(passkeyBundle({ ...ROW, revoked_at: '2026-11-30T12:00:00.000Z' }), SERVER_PUBLIC);
    expect(revoked).toMatchObject({ ok: false, failure: expect.stringMatching(/^the passkey sign-off by bob as ml-engineer \(gate approvals\) does not verify: /) });
    // Revoked after the promotion: it still counted then.
    expect(verifyAttestation(passkeyBundle({ ...ROW, revoked_at: '2026-11-30T12:00:00.001Z' }), SERVER_PUBLIC).ok).toBe(true);
  });
});

describe('waiversOf', () => {
  it('lists the waivers a decision counted, with their gate and requirement', () => {
    const statement = JSON.parse(Buffer.from(bundle().payload, 'base64').toString('utf8')) as { predicate: PromotionPredicate };
    expect(statement.predicate.waivers).toEqual([
      { gate: 'approvals', requirement: 'pen-test', id: 'w1', by: 'dave', role: 'release-manager', reason: 'pen test next week', at: '2026-11-30T11:00:00.000Z', expiresAt: '2026-12-07T11:00:00.000Z', outcome: 'missing' },
    ]);
  });
});
