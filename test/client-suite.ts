/**
 * The shared `Client` suite: the local client (service layer in process) and the HTTP client (the
 * same service layer behind `tollgate serve`) run exactly these tests, so remote mode cannot drift
 * from local mode (STYLE.md rule 3). Usage: `runClientSuite('http', makeClients)`, where
 * `makeClients(deps)` serves a fresh store and hands out a client acting as a given user.
 */
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAttestation } from '../src/audit/attestation.js';
import type { Client } from '../src/client/client.js';
import { digestBytes } from '../src/domain/digest.js';
import { TollgateError } from '../src/domain/errors.js';
import { formatPublicKey, generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import type { Decision, ReleaseManifest } from '../src/domain/model.js';
import { signSignoff } from '../src/domain/signoff.js';
import { signException as signExceptionPayload } from '../src/domain/exception.js';
import type { ExceptionRequest } from '../src/service/exception.js';
import type { ServiceDeps } from '../src/service/deps.js';
import type { Store } from '../src/store/store.js';
import type { NewValidationResult } from '../src/service/validate.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';

/** What an implementation hands the suite. */
export interface ClientHarness {
  /** A client acting as `user` (locally `--as USER`; over HTTP a token for USER). */
  as(user: string): Promise<Client>;
  close(): Promise<void>;
}

export type MakeClients = (deps: ServiceDeps) => Promise<ClientHarness>;

export const USERS = ['root', 'alice', 'bob', 'carol', 'dave', 'ci'] as const;
export type SuiteUser = (typeof USERS)[number];
export const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<SuiteUser, ReturnType<typeof generateKeyPair>>;

export const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: suite
roster:
  root:  { roles: [admin], key: "${KEYS.root.publicKey}" }
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob:   { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
  carol: { roles: [security], key: "${KEYS.carol.publicKey}" }
  dave:  { roles: [release-manager], key: "${KEYS.dave.publicKey}" }
  ci:    { roles: [validator], key: "${KEYS.ci.publicKey}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: inventory
    stage: staging
    checklist:
      - { id: datasets-listed, text: Validation datasets are listed, evidence: required }
      - { id: alerts-tested }
  - id: automated
    stage: staging
    validations:
      - { id: tests, uses: junit, with: { report: reports/junit.xml } }
      - { id: quality, uses: metrics, with: { current: eval/metrics.json, rules: ["accuracy >= 0.8"] } }
  - id: approvals
    stage: production
    separationOfDuties: true
    signoffs:
      - { role: ml-engineer, count: 1 }
      - { role: security, count: 1, when: "release.risk in ['high', 'critical']" }
`;

export const SUBJECT = 'fraud-detector';

export function manifest(version: string): ReleaseManifest {
  return {
    subject: SUBJECT,
    version,
    risk: 'high',
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', path: 'model/model.onnx', sha256: digestBytes(`model ${version}`).slice('sha256:'.length), size: 9 }],
    lineage: [{ from: ['model'], to: 'model', step: 'identity' }],
    testedIn: ['dev'],
    dependencies: { python: '3.11' },
  };
}

export async function makeDeps(makeStore: () => Promise<Store> = () => createSqliteStore(':memory:')): Promise<ServiceDeps> {
  const store = await makeStore();
  return { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/suite', now: () => new Date() };
}

/** Rejects with a TollgateError of `code` (and `exit`), as both clients must. */
export async function expectError(p: Promise<unknown>, code: string, exit = 2): Promise<TollgateError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(TollgateError);
  expect((err as TollgateError).code).toBe(code);
  expect((err as TollgateError).exit).toBe(exit);
  expect((err as TollgateError).message.length).toBeGreaterThan(5);
  return err as TollgateError;
}

async function signAs(client: Client, user: SuiteUser, ref: string, stage: string, role: string) {
  const draft = await client.draftSignoffs({ release: ref, stage, role, decision: 'approve', comment: `ok by ${user}` });
  expect(draft.rosterKey).toBe(KEYS[user].publicKey);
  const key = loadPrivateKey(KEYS[user].privateKeyPem);
  return client.recordSignoffs(draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, key) })));
}

/** Results as `tollgate validate` would submit them: every planned validation passed. */
async function passAll(ci: Client, ref: string, stage: string): Promise<NewValidationResult[]> {
  const plan = await ci.planValidations(ref, stage);
  return plan.items.map((item) => ({
    releaseDigest: plan.release.digest,
    stage: item.stage,
    gateId: item.gateId,
    validationId: item.validationId,
    validator: item.uses,
    validatorVersion: '1.0.0',
    definitionDigest: item.definitionDigest,
    status: 'passed',
    summary: `${item.validationId} passed`,
    measurements: item.uses === 'metrics' ? { metrics: { accuracy: 0.93 } } : { tests: 12, failures: 0 },
    thresholds: {},
    inputs: { [String(item.with.report ?? item.with.current)]: digestBytes(`input of ${item.validationId}`) },
    durationMs: 12,
  }));
}

const requirement = (d: Decision, gate: string, id: string) => d.gates.find((g) => g.id === gate)?.requirements.find((r) => r.id === id);

/** `makeStore` picks the store under the service (SQLite in memory by default; PostgreSQL in CI). */
export function runClientSuite(name: string, makeClients: MakeClients, makeStore?: () => Promise<Store>): void {
  describe(`Client suite: ${name}`, () => {
    let deps: ServiceDeps;
    let harness: ClientHarness;
    const c = {} as Record<SuiteUser | 'mallory', Client>;
    const V1 = `${SUBJECT}@1.0.0`;
    const V2 = `${SUBJECT}@2.0.0`;

    beforeAll(async () => {
      deps = await makeDeps(makeStore);
      harness = await makeClients(deps);
      for (const u of [...USERS, 'mallory'] as const) c[u] = await harness.as(u);
    });
    afterAll(async () => {
      await harness.close();
      await deps.store.close();
    });

    /** Staging readiness for a release: checklist with file evidence, then passing validations. */
    async function readyForStaging(ref: string): Promise<void> {
      await c.alice.check({ release: ref, stage: 'staging', item: 'datasets-listed', evidence: { kind: 'file', name: 'datasets.md', bytes: new TextEncoder().encode(`# datasets of ${ref}\n`) } });
      await c.dave.check({ release: ref, stage: 'staging', item: 'alerts-tested', note: 'paged the on-call' });
      await c.ci.recordValidations(ref, await passAll(c.ci, ref, 'staging'));
    }

    describe('walkthrough', () => {
      it('has no policy before the first apply', async () => {
        expect(await c.root.activePolicy()).toBeUndefined();
        await expectError(c.alice.createRelease(manifest('1.0.0')), 'TG_NO_POLICY');
      });

      it('applies a policy, and applying it again records nothing', async () => {
        const first = await c.root.applyPolicy(POLICY, 'tollgate.yaml');
        expect(first).toMatchObject({ name: 'suite', version: 1, changed: true });
        expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(await c.root.applyPolicy(POLICY, 'tollgate.yaml')).toMatchObject({ version: 1, changed: false, digest: first.digest });
        expect(await c.dave.activePolicy()).toMatchObject({ name: 'suite', version: 1, digest: first.digest, stages: ['staging', 'production'] });
      });

      it('refuses an invalid policy with every problem at file:line:col', async () => {
        const err = await expectError(c.root.applyPolicy(POLICY.replace('count: 1 }', 'count: many }'), 'bad.yaml'), 'TG_POLICY_INVALID');
        expect(err.problems.length).toBeGreaterThan(0);
        expect(err.problems[0]).toMatchObject({ file: 'bad.yaml' });
      });

      it('creates a release; the same manifest again is a no-op, other content is refused', async () => {
        const created = await c.alice.createRelease(manifest('1.0.0'));
        expect(created).toMatchObject({ release: V1, created: true });
        expect(await c.alice.createRelease(manifest('1.0.0'))).toMatchObject({ release: V1, created: false, digest: created.digest });
        await expectError(c.alice.createRelease({ ...manifest('1.0.0'), risk: 'low' }), 'TG_RELEASE_CONFLICT');
        const list = await c.bob.listReleases();
        expect(list.map((r) => r.release)).toEqual([V1]);
        expect(await c.bob.listReleases({ subject: 'other' })).toEqual([]);
        const shown = await c.bob.showRelease(V1);
        expect(shown).toMatchObject({ release: V1, digest: created.digest, owner: 'alice', risk: 'high', createdBy: 'alice', holds: [], promotions: [] });
        expect(shown.manifest).toEqual(manifest('1.0.0'));
      });

      it('status names every missing requirement', async () => {
        const d = await c.dave.status(V1, 'staging');
        expect(d.promotable).toBe(false);
        expect(d.release).toBe(V1);
        expect(requirement(d, 'inventory', 'datasets-listed')?.outcome).toBe('missing');
        expect(requirement(d, 'inventory', 'alerts-tested')?.outcome).toBe('missing');
        expect(requirement(d, 'automated', 'tests')?.outcome).toBe('missing');
      });

      it('completes a checklist item with file evidence, keeping only its base name and digest', async () => {
        await expectError(c.alice.check({ release: V1, stage: 'staging', item: 'datasets-listed' }), 'TG_EVIDENCE_REQUIRED');
        const bytes = new TextEncoder().encode('# datasets\n- train.parquet\n');
        const done = await c.alice.check({ release: V1, stage: 'staging', item: 'datasets-listed', evidence: { kind: 'file', name: 'datasets.md', bytes }, note: 'listed' });
        expect(done).toMatchObject({ release: V1, stage: 'staging', item: 'datasets-listed', gates: ['inventory'], by: 'alice' });
        expect(done.evidence).toEqual({ name: 'datasets.md', digest: digestBytes(bytes), size: bytes.byteLength });
        const url = await c.dave.check({ release: V1, stage: 'staging', item: 'alerts-tested', evidence: { kind: 'url', uri: 'https://runbooks.example/alerts' } });
        expect(url.evidence).toEqual({ name: 'https://runbooks.example/alerts', uri: 'https://runbooks.example/alerts' });
        expect(await deps.store.blob(digestBytes(bytes))).toEqual(bytes);
      });

      it('plans validations for the validator role only, and records their results', async () => {
        await expectError(c.alice.planValidations(V1, 'staging'), 'TG_NOT_ALLOWED');
        const plan = await c.ci.planValidations(V1, 'staging');
        expect(plan.release.digest).toBe((await c.ci.showRelease(V1)).digest);
        expect(plan.items.map((i) => [i.gateId, i.validationId, i.uses])).toEqual([
          ['automated', 'tests', 'junit'],
          ['automated', 'quality', 'metrics'],
        ]);
        expect((await c.ci.planValidations(V1, 'staging', 'quality')).items.map((i) => i.validationId)).toEqual(['quality']);
        await expectError(c.ci.planValidations(V1, 'staging', 'nope'), 'TG_ITEM_UNKNOWN');
        const results = await passAll(c.ci, V1, 'staging');
        await expectError(c.alice.recordValidations(V1, results), 'TG_NOT_ALLOWED');
        await expectError(c.ci.recordValidations(V1, [{ ...results[0]!, definitionDigest: digestBytes('other') }]), 'TG_RESULT_INVALID');
        // What a result may record is bounded (issue 13, finding 7): 1 MiB of measurements, of details.
        await expectError(c.ci.recordValidations(V1, [{ ...results[0]!, measurements: { big: 'x'.repeat(1024 * 1024) } }]), 'TG_RESULT_INVALID');
        await expectError(c.ci.recordValidations(V1, [{ ...results[0]!, details: { big: 'x'.repeat(1024 * 1024) } }]), 'TG_RESULT_INVALID');
        // A copy of an input is kept only when a result names it and its bytes have that digest.
        const input = new TextEncoder().encode(`input of tests`);
        const stranger = new TextEncoder().encode('not an input of any result');
        await expectError(c.ci.recordValidations(V1, results, [{ digest: digestBytes(stranger), bytes: stranger }]), 'TG_RESULT_INVALID');
        await expectError(c.ci.recordValidations(V1, results, [{ digest: digestBytes('other bytes'), bytes: input }]), 'TG_RESULT_INVALID');
        expect(await c.ci.blob(digestBytes(input))).toBeUndefined();
        const recorded = await c.ci.recordValidations(V1, results, [{ digest: digestBytes(input), bytes: input }]);
        expect(await c.alice.blob(digestBytes(input))).toEqual(input);
        // Not a digest: exit 2 either way (TG_USAGE here, TG_REQUEST_INVALID from the API's schema).
        await expect(c.alice.blob('not a digest')).rejects.toMatchObject({ exit: 2 });
        expect(recorded.map((r) => [r.validationId, r.status, r.by])).toEqual([
          ['tests', 'passed', 'ci'],
          ['quality', 'passed', 'ci'],
        ]);
        expect(await c.ci.baselineMetrics(SUBJECT, V1)).toEqual({ release: V1, metrics: { accuracy: 0.93 } });
        expect(await c.ci.baselineMetrics(SUBJECT, 'production')).toBeUndefined();
      });

      it('promotes into staging once every requirement is satisfied', async () => {
        const d = await c.dave.status(V1, 'staging');
        expect(d.promotable).toBe(true);
        const r = await c.dave.promote(V1, 'staging');
        expect(r).toMatchObject({ promoted: true, promotable: true, release: V1, stage: 'staging' });
        expect(r.promotion).toMatchObject({ subject: SUBJECT, stage: 'staging', version: '1.0.0', kind: 'promotion', by: 'dave' });
        expect(await c.ci.baselineMetrics(SUBJECT, 'staging')).toEqual({ release: V1, metrics: { accuracy: 0.93 } });
      });

      it('refuses a promotion with TG_PROMOTION_BLOCKED carrying the whole decision', async () => {
        const err = await expectError(c.dave.promote(V1, 'production'), 'TG_PROMOTION_BLOCKED', 3);
        const decision = err.details as Decision & { promoted: boolean };
        expect(decision).toMatchObject({ release: V1, stage: 'production', promotable: false, promoted: false });
        expect(requirement(decision, 'approvals', 'signoff:ml-engineer')?.outcome).toBe('missing');
        expect(requirement(decision, 'approvals', 'signoff:security')?.outcome).toBe('missing');
        expect(err.message).toMatch(/approvals\/signoff:ml-engineer missing/);
      });

      it('drafts, signs and records sign-offs; a role not held is refused', async () => {
        await expectError(c.alice.draftSignoffs({ release: V1, stage: 'production', role: 'security', decision: 'approve' }), 'TG_ROLE_NOT_HELD');
        await expectError(c.bob.draftSignoffs({ release: V1, stage: 'staging', role: 'ml-engineer', decision: 'approve' }), 'TG_SIGNOFF_NOT_REQUIRED');
        const bob = await signAs(c.bob, 'bob', V1, 'production', 'ml-engineer');
        expect(bob).toHaveLength(1);
        expect(bob[0]).toMatchObject({ release: V1, stage: 'production', gate: 'approvals', role: 'ml-engineer', signer: 'bob', decision: 'approve', comment: 'ok by bob' });
        // Someone else cannot record carol's signed sign-off, and a forged signature is refused.
        const draft = await c.carol.draftSignoffs({ release: V1, stage: 'production', role: 'security', decision: 'approve' });
        const genuine = draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.carol.privateKeyPem)) }));
        await expectError(c.bob.recordSignoffs(genuine), 'TG_NOT_ALLOWED');
        const forged = draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.bob.privateKeyPem)) }));
        await expectError(c.carol.recordSignoffs(forged), 'TG_SIGNATURE_INVALID');
        await expectError(c.carol.recordSignoffs([]), 'TG_USAGE');
        // Dated as RFC 3339 UTC only (issue 13, finding 8): a time without its zone is another instant
        // in every time zone, and the sign-off's expiry would depend on where it is evaluated.
        const at = draft.payloads[0]!.at;
        for (const other of [at.replace(/Z$/, ''), at.replace(/Z$/, '+00:00'), at.replace(/T/, ' '), at.replace(/^\d{4}-\d{2}-\d{2}/, '2026-02-30')]) {
          const dated = draft.payloads.map((p) => ({ ...p, at: other }));
          await expectError(c.carol.recordSignoffs(dated.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.carol.privateKeyPem)) }))), 'TG_TIME_INVALID');
        }
        const recorded = await c.carol.recordSignoffs(genuine);
        expect(recorded).toHaveLength(1);
        // Sent again (a retry after a lost answer), the same signed sign-off is the one recorded, once.
        expect(await c.carol.recordSignoffs(genuine)).toEqual(recorded);
        const mine = (await c.carol.evidence(V1)).evidence.signoffs.filter((x) => x.signer === 'carol');
        expect(mine.map((x) => x.id)).toEqual([recorded[0]!.id]);
      });

      it('promotes into production, and lists what the release holds', async () => {
        const r = await c.dave.promote(V1, 'production');
        expect(r.promoted).toBe(true);
        expect((await c.alice.showRelease(V1)).holds.sort()).toEqual(['production', 'staging']);
      });

      it('rolls a stage back to the release that held it before', async () => {
        await c.alice.createRelease(manifest('2.0.0'));
        await readyForStaging(V2);
        const p = await c.dave.promote(V2, 'staging');
        expect(p.promotion?.previousVersion).toBe('1.0.0');
        await expectError(c.dave.rollback(SUBJECT, 'staging', ' '), 'TG_USAGE');
        await expectError(c.dave.rollback(SUBJECT, 'production', 'nothing before'), 'TG_NO_PREVIOUS_RELEASE');
        const back = await c.dave.rollback(SUBJECT, 'staging', 'precision dropped');
        expect(back).toMatchObject({ subject: SUBJECT, stage: 'staging', from: V2, to: V1 });
        expect(back.promotion).toMatchObject({ kind: 'rollback', reason: 'precision dropped', by: 'dave' });
        expect(back.hold).toMatchObject({ stage: 'staging', version: '2.0.0', reason: 'precision dropped', by: 'dave' });
      });

      it('holds the rolled-back release out of the stage until a release manager clears it', async () => {
        const held = await c.dave.status(V2, 'staging');
        expect(held.gates[0]?.requirements.find((r) => r.id === 'hold')).toMatchObject({ kind: 'stage', outcome: 'failed' });
        expect((await c.bob.showRelease(V2)).rollbacks).toMatchObject([{ stage: 'staging', by: 'dave', reason: 'precision dropped', held: true }]);
        await expectError(c.bob.clearHold(V2, 'staging', 'fixed'), 'TG_NOT_ALLOWED');
        await expectError(c.dave.clearHold(V1, 'staging', 'fixed'), 'TG_NOT_HELD');
        const cleared = await c.dave.clearHold(V2, 'staging', 'fixed');
        expect(cleared).toMatchObject({ release: V2, stage: 'staging', cleared: [{ cleared: { by: 'dave', reason: 'fixed' } }] });
        const after = await c.dave.status(V2, 'staging');
        expect(after.gates[0]?.requirements.find((r) => r.id === 'hold')).toMatchObject({ outcome: 'satisfied' });
      });

      it('returns everything recorded for a release', async () => {
        const e = await c.bob.evidence(V1);
        expect(e.release.release).toBe(V1);
        expect(e.evidence.checklist.map((x) => x.itemId)).toEqual(['datasets-listed', 'alerts-tested']);
        expect(e.evidence.signoffs.map((s) => s.signer).sort()).toEqual(['bob', 'carol']);
        expect(e.evidence.validations).toHaveLength(2);
        expect(e.release.promotions.map((p) => `${p.kind}:${p.stage}`)).toEqual(['promotion:staging', 'promotion:production', 'rollback:staging']);
      });

      it('verifies the audit log and hands out its signed checkpoint', async () => {
        const v = await c.bob.auditVerify();
        expect(v.ok).toBe(true);
        expect(v.events).toBe((await deps.store.auditEvents()).length);
        const cp = await c.bob.auditCheckpoint();
        expect(cp).toMatchObject({ size: v.events, root: v.root });
        expect(cp?.note).toContain('tollgate/suite');
        expect(await c.bob.auditVerify({ since: cp!.note })).toMatchObject({ ok: true, since: { size: v.events } });
        // Text that is not a checkpoint at all is bad input (issue 13), not a log that fails to verify.
        await expect(c.bob.auditVerify({ since: 'not a checkpoint' })).rejects.toMatchObject({ code: 'TG_USAGE' });
      });

      it("hands out the server's public key, the one attestations verify with", async () => {
        expect(await c.bob.serverKey()).toEqual({ publicKey: formatPublicKey(createPublicKey(deps.serverKey)) });
      });

      it('exports an attestation that verifies offline with the server key', async () => {
        const envelope = await c.bob.attest(V1, 'production');
        expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
        const verdict = verifyAttestation(JSON.parse(JSON.stringify(envelope)), createPublicKey(deps.serverKey));
        expect(verdict.failure).toBeUndefined();
        expect(verdict.ok).toBe(true);
        // It carries the copy of the tests' input that validate kept, and the checklist's evidence file,
        // each under the digest the evidence names (the quality input was recorded by digest only).
        const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
        expect(Object.keys(statement.predicate.files)).toHaveLength(2);
        expect(statement.predicate.files[digestBytes('input of tests')]).toBe(Buffer.from('input of tests').toString('base64'));
        expect(verdict.checked).toContain('2 evidence files carried, each with the digest the evidence names');
        await expectError(c.bob.attest(V2, 'production'), 'TG_NOT_PROMOTED');
      });

      it('opens and resolves incidents on the release that holds a stage; any roster member may', async () => {
        await expectError(c.alice.openIncident(SUBJECT, 'production', ' '), 'TG_USAGE');
        await expectError(c.alice.openIncident('other-model', 'production', 'down'), 'TG_STAGE_EMPTY');
        await expectError(c.alice.openIncident(SUBJECT, 'nowhere', 'down'), 'TG_STAGE_UNKNOWN');
        // ci holds only `validator`: whoever sees production fail may say so.
        const opened = await c.ci.openIncident(SUBJECT, 'production', 'p95 latency doubled');
        expect(opened).toMatchObject({ subject: SUBJECT, stage: 'production', release: V1, open: true, openedBy: 'ci', reason: 'p95 latency doubled' });
        expect(opened.id).toMatch(/^inc_[0-9a-f]{12}$/);
        expect(opened.promotion).toBe((await c.bob.showRelease(V1)).promotions.find((p) => p.stage === 'production')?.id);
        expect(await c.bob.listIncidents({ open: true })).toEqual([opened]);
        const resolved = await c.dave.resolveIncident(opened.id, 'rolled the feature flag back');
        expect(resolved).toMatchObject({ id: opened.id, open: false, resolvedBy: 'dave', note: 'rolled the feature flag back' });
        await expectError(c.dave.resolveIncident(opened.id), 'TG_INCIDENT_RESOLVED');
        await expectError(c.dave.resolveIncident('inc_000000000000'), 'TG_INCIDENT_NOT_FOUND');
        expect(await c.bob.listIncidents({ open: true })).toEqual([]);
        expect(await c.bob.listIncidents({ subject: SUBJECT })).toEqual([resolved]);
      });

      it('reads the delivery metrics from the audit log', async () => {
        const m = await c.bob.metrics();
        // One promotion into production, with an incident on it: a failed change, restored once.
        expect(m).toMatchObject({ stage: 'production', subject: null, deployments: 1, failedDeployments: 1, changeFailureRate: 1, restorations: 1, reworkRate: 0 });
        expect(m.subjects).toMatchObject([{ subject: SUBJECT, deployments: 1 }]);
        expect(m.weeks.length).toBe(m.weekCount);
        // Into staging: 1.0.0 and 2.0.0 (a rollback is not a deployment); 2.0.0's was rolled back.
        expect(await c.bob.metrics({ stage: 'staging', subject: SUBJECT })).toMatchObject({ stage: 'staging', subject: SUBJECT, deployments: 2, failedDeployments: 1 });
        expect((await c.bob.metrics({ since: '2999-01-01' })).deployments).toBe(0);
        await expectError(c.bob.metrics({ stage: 'nowhere' }), 'TG_STAGE_UNKNOWN');
        await expectError(c.bob.metrics({ since: 'yesterday' }), 'TG_USAGE');
      });

      it('keeps the audit log intact after everything above', async () => {
        expect((await c.root.auditVerify()).ok).toBe(true);
      });
    });

    describe('policy history and the audit log', () => {
      it('refuses a policy change by a member without the admin role, locally as over the API', async () => {
        const err = await expectError(c.dave.applyPolicy(POLICY.replace('count: 1 }', 'count: 2 }'), 'tollgate.yaml'), 'TG_NOT_ALLOWED');
        expect(err.message).toContain('"admin" role');
        await expectError(c.mallory.applyPolicy(POLICY, 'tollgate.yaml'), 'TG_USER_UNKNOWN');
        // The active version decides, not the one applied: nobody makes themselves admin.
        await expectError(c.alice.applyPolicy(POLICY.replace('alice: { roles: [ml-engineer]', 'alice: { roles: [ml-engineer, admin]'), 'tollgate.yaml'), 'TG_NOT_ALLOWED');
        expect((await c.bob.listPolicies()).map((v) => v.version)).toEqual([1]);
      });

      it('lists the versions and shows one with its text as applied', async () => {
        const list = await c.bob.listPolicies();
        expect(list).toEqual([{ version: 1, digest: expect.stringMatching(/^sha256:/), name: 'suite', appliedAt: expect.any(String), appliedBy: 'root', active: true }]);
        const shown = await c.bob.showPolicy();
        expect(shown).toMatchObject({ ...list[0], source: POLICY });
        expect(shown.policy.stages.map((s) => s.name)).toEqual(['staging', 'production']);
        expect(await c.bob.showPolicy(1)).toEqual(shown);
        await expectError(c.bob.showPolicy(2), 'TG_USAGE');
      });

      it('diffs a policy without applying it: the decisions that change and the sign-offs that would go stale', async () => {
        const size = (await deps.store.auditHead()).size;
        // Sign-offs of the approvals gate expire: the gate changes, so bob's and carol's sign-offs on
        // V1 (which holds production) go stale; V2 has none, and stays missing.
        const diff = await c.bob.diffPolicy(POLICY.replace('    separationOfDuties: true\n', '    separationOfDuties: true\n    expires: 720h\n'), 'next.yaml');
        expect(diff).toMatchObject({ active: { version: 1, name: 'suite' }, proposed: { file: 'next.yaml', same: false }, releases: 2, stages: ['staging', 'production'] });
        expect(diff.changes).toEqual([
          {
            release: V1,
            stage: 'production',
            before: expect.objectContaining({ promotable: false }),
            after: expect.objectContaining({ promotable: false }),
            gates: [{ id: 'approvals', before: 'satisfied', after: 'stale' }],
          },
        ]);
        expect(diff.staleSignoffs.map((s) => [s.release, s.gate, s.signer, s.why]).sort()).toEqual([
          [V1, 'approvals', 'bob', 'gate-changed'],
          [V1, 'approvals', 'carol', 'gate-changed'],
        ]);
        expect(await c.bob.diffPolicy(POLICY, 'same.yaml')).toMatchObject({ proposed: { same: true }, changes: [], staleSignoffs: [] });
        await expectError(c.bob.diffPolicy(POLICY.replace('count: 1 }', 'count: many }'), 'bad.yaml'), 'TG_POLICY_INVALID');
        expect((await deps.store.auditHead()).size).toBe(size);
      });

      it('reads the audit log filtered and page by page, as the store holds it', async () => {
        const log = await deps.store.auditEvents();
        const promoted = log.filter((e) => e.type === 'ReleasePromoted');
        expect(promoted.length).toBeGreaterThanOrEqual(3);
        expect((await c.bob.auditLog({ type: 'ReleasePromoted' })).events).toEqual(promoted);
        expect((await c.bob.auditLog({ actor: 'carol', type: 'SignoffRecorded' })).events.map((e) => e.data.release)).toEqual([V1]);
        expect((await c.bob.auditLog({ subject: SUBJECT, type: 'ReleaseRolledBack' })).events.map((e) => e.data.reason)).toEqual(['precision dropped']);
        expect((await c.bob.auditLog({ since: '2999-01-01' })).events).toEqual([]);
        const first = await c.bob.auditLog({ type: 'ReleasePromoted', limit: 2 });
        expect(first.events).toEqual(promoted.slice(0, 2));
        expect(first.next).toBe(promoted[1]!.seq);
        const rest = await c.bob.auditLog({ type: 'ReleasePromoted', after: first.next!, limit: 1000 });
        expect(rest).toEqual({ events: promoted.slice(2), next: null });
        await expectError(c.bob.auditLog({ type: 'Promoted' }), 'TG_USAGE');
        await expect(c.bob.auditLog({ limit: 0 })).rejects.toMatchObject({ exit: 2 });
      });
    });

    describe('break-glass and waivers', () => {
      // A store of its own: production is always frozen, carol may break the glass, dave may waive.
      let ops: ServiceDeps;
      let opsHarness: ClientHarness;
      const o = {} as Record<SuiteUser, Client>;
      const REL = `${SUBJECT}@1.0.0`;
      const OPS_POLICY = POLICY.replace(
        '  - name: production\n    after: staging\n',
        '  - name: production\n    after: staging\n    freeze: ["2000-01-01T00:00:00Z/2100-01-01T00:00:00Z"]\n    breakGlass: { role: security, followUp: [{ id: postmortem, text: Write the review }] }\n',
      ).replace("      - { role: security, count: 1, when: \"release.risk in ['high', 'critical']\" }\n", "      - { role: security, count: 1, when: \"release.risk in ['high', 'critical']\" }\n    waivers: [release-manager]\n");

      beforeAll(async () => {
        ops = await makeDeps(makeStore);
        opsHarness = await makeClients(ops);
        for (const u of USERS) o[u] = await opsHarness.as(u);
        await o.root.applyPolicy(OPS_POLICY, 'ops.yaml');
        await o.alice.createRelease(manifest('1.0.0'));
      });
      afterAll(async () => {
        await opsHarness.close();
        await ops.store.close();
      });

      async function signException(client: Client, user: SuiteUser, req: Omit<ExceptionRequest, 'release'>) {
        const draft = await client.draftException({ release: REL, ...req });
        expect(draft.rosterKey).toBe(KEYS[user].publicKey);
        return client.recordException({ ...draft.payload, signature: signExceptionPayload(draft.payload, loadPrivateKey(KEYS[user].privateKeyPem)) });
      }

      it('a waiver by a role of the gate makes the requirement `waived`; another role, a forged signature and a missing expiry are refused', async () => {
        const waive = { stage: 'production', kind: 'waiver' as const, waive: 'approvals/signoff:security', reason: 'security review waived for the hotfix', expires: '7d' };
        await expectError(o.bob.draftException({ release: REL, ...waive, role: 'ml-engineer' }), 'TG_NOT_ALLOWED');
        await expectError(o.dave.draftException({ release: REL, ...waive, role: 'release-manager', expires: undefined as unknown as string }), 'TG_USAGE');
        const draft = await o.dave.draftException({ release: REL, ...waive, role: 'release-manager' });
        await expectError(o.dave.recordException({ ...draft.payload, signature: signExceptionPayload(draft.payload, loadPrivateKey(KEYS.bob.privateKeyPem)) }), 'TG_SIGNATURE_INVALID');
        const w = await signException(o.dave, 'dave', { ...waive, role: 'release-manager' });
        expect(w).toMatchObject({ kind: 'waiver', gate: 'approvals', requirement: 'signoff:security', signer: 'dave' });
        const d = await o.bob.status(REL, 'production');
        expect(requirement(d, 'approvals', 'signoff:security')).toMatchObject({ outcome: 'waived', waiver: { by: 'dave', role: 'release-manager' } });
        expect(requirement(d, 'approvals', 'signoff:ml-engineer')?.outcome).toBe('missing');
        expect((await o.bob.showRelease(REL)).waivers).toMatchObject([{ gate: 'approvals', requirement: 'signoff:security', by: 'dave' }]);
      });

      it('break-glass: refused without the sign-off (exit 3) naming the role; promoted on it, and marked', async () => {
        await expectError(o.dave.promote(REL, 'staging'), 'TG_PROMOTION_BLOCKED', 3);
        const blocked = await expectError(o.dave.promote(REL, 'production', { breakGlass: { reason: 'fraud spike' } }), 'TG_PROMOTION_BLOCKED', 3);
        expect(blocked.message).toContain('"security"');
        await expectError(o.bob.draftException({ release: REL, stage: 'production', role: 'ml-engineer', kind: 'break-glass', reason: 'x' }), 'TG_NOT_ALLOWED');
        const glass = await signException(o.carol, 'carol', { stage: 'production', role: 'security', kind: 'break-glass', reason: 'fraud spike, fix now' });
        const r = await o.dave.promote(REL, 'production', { breakGlass: { reason: 'fraud spike' } });
        expect(r.promoted).toBe(true);
        expect(r.promotion?.breakGlass).toMatchObject({ reason: 'fraud spike', signoff: glass.id, signer: 'carol', role: 'security' });
        expect(r.promotion?.breakGlass?.unmet).toContain('stage/freeze failed');
        expect(r.promotion?.breakGlass?.unmet).toContain('stage/order failed');
        const events = await o.bob.auditLog({ type: 'ReleasePromoted' });
        expect(events.events.at(-1)?.data.breakGlass).toMatchObject({ signer: 'carol', reason: 'fraud spike' });
      });

      it('opens the follow-up checklist, completed with `check`', async () => {
        expect((await o.bob.showRelease(REL)).followUps).toMatchObject([{ stage: 'production', item: 'postmortem' }]);
        await o.carol.check({ release: REL, stage: 'production', item: 'postmortem' });
        expect((await o.bob.showRelease(REL)).followUps?.[0]?.done).toMatchObject({ by: 'carol' });
      });

      it('the attestation verifies offline, and the audit log stays intact', async () => {
        const envelope = await o.bob.attest(REL, 'production');
        const verdict = verifyAttestation(JSON.parse(JSON.stringify(envelope)), createPublicKey(ops.serverKey));
        expect(verdict.failure).toBeUndefined();
        expect(verdict.ok).toBe(true);
        expect((await o.root.auditVerify()).ok).toBe(true);
      });
    });

    describe('errors', () => {
      it('unknown release, malformed release name, unknown stage', async () => {
        const err = await expectError(c.bob.showRelease(`${SUBJECT}@9.9.9`), 'TG_RELEASE_NOT_FOUND');
        expect(err.message).toContain('1.0.0');
        await expectError(c.bob.status('no-version', 'staging'), 'TG_RELEASE_REF_INVALID');
        await expectError(c.bob.status(V1, 'qa'), 'TG_STAGE_UNKNOWN');
        await expectError(c.bob.evidence(`${SUBJECT}@9.9.9`), 'TG_RELEASE_NOT_FOUND');
        await expectError(c.dave.promote(`${SUBJECT}@9.9.9`, 'staging'), 'TG_RELEASE_NOT_FOUND');
      });

      it('unknown user: not in the roster', async () => {
        await expectError(c.mallory.createRelease(manifest('3.0.0')), 'TG_USER_UNKNOWN');
        await expectError(c.mallory.check({ release: V1, stage: 'staging', item: 'alerts-tested' }), 'TG_USER_UNKNOWN');
      });

      it('role not held', async () => {
        await expectError(c.dave.draftSignoffs({ release: V1, stage: 'production', role: 'ml-engineer', decision: 'approve' }), 'TG_ROLE_NOT_HELD');
      });

      it('unknown checklist item', async () => {
        await expectError(c.bob.check({ release: V1, stage: 'staging', item: 'nope' }), 'TG_ITEM_UNKNOWN');
      });
    });

    // Last: it applies a policy with a stage of its own. Over HTTP the server runs the hand-offs.
    describe('hand-off to deployment', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-client-handoff-'));
      const V3 = `${SUBJECT}@3.0.0`;
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      it('runs after the promotion, records a failure without undoing it, shows it, and retries it', async () => {
        const script = `test -f '${dir}/ready' || { echo 'not ready' >&2; exit 4; }; cat > '${dir}/release.json'`;
        const policy = POLICY.replace('stages:\n', `stages:\n  - name: canary\n    handoff:\n      - { command: [sh, -c, ${JSON.stringify(script)}] }\n`);
        expect((await c.root.applyPolicy(policy, 'tollgate.yaml')).changed).toBe(true);
        await c.alice.createRelease(manifest('3.0.0'));
        const p = await c.dave.promote(V3, 'canary');
        expect(p.promoted).toBe(true);
        expect(p.handoff).toMatchObject([{ index: 0, kind: 'command', outcome: 'failed', attempts: 1, error: 'exit code 4: not ready', promotionId: p.promotion!.id }]);
        expect((await c.bob.showRelease(V3)).holds).toEqual(['canary']);
        expect((await c.bob.status(V3, 'canary')).handoff).toMatchObject([{ outcome: 'failed', error: 'exit code 4: not ready' }]);
        expect((await c.bob.showRelease(V3)).handoffs).toMatchObject([{ stage: 'canary', outcome: 'failed' }]);

        expect(await c.bob.retryHandoffs(V3, 'canary')).toMatchObject({ release: V3, stage: 'canary', retried: [0], handoff: [{ outcome: 'failed', attempts: 2 }] });
        fs.writeFileSync(path.join(dir, 'ready'), '');
        const done = await c.bob.retryHandoffs(V3, 'canary');
        expect(done).toMatchObject({ promotion: p.promotion!.id, retried: [0], handoff: [{ outcome: 'succeeded', attempts: 3, by: 'bob' }] });
        expect(done.handoff[0]!.error).toBeUndefined();
        expect(JSON.parse(fs.readFileSync(path.join(dir, 'release.json'), 'utf8'))).toMatchObject({ release: V3, stage: 'canary', promotion: { id: p.promotion!.id, by: 'dave' } });
        expect(await c.bob.retryHandoffs(V3, 'canary')).toMatchObject({ retried: [], handoff: [{ outcome: 'succeeded' }] });
        expect((await c.bob.status(V3, 'canary')).handoff).toMatchObject([{ outcome: 'succeeded', attempts: 3 }]);
      });

      it('retries only the release that holds the stage, for someone who may promote into it', async () => {
        await expectError(c.bob.retryHandoffs(V1, 'canary'), 'TG_NOT_IN_STAGE');
        await expectError(c.mallory.retryHandoffs(V3, 'canary'), 'TG_USER_UNKNOWN');
        expect((await c.root.auditVerify()).ok).toBe(true);
      });
    });
  });
}
