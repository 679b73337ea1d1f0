/**
 * The tamper suite (issue 10, acceptance 1; docs/reliability.md). On SQLite and (with TOLLGATE_TEST_PG)
 * PostgreSQL: one realistic home is built through the use cases, then at least 1,000 random mutations
 * (a field edited, a row inserted, a row deleted) are made to every table a decision reads and to the
 * audit log's own tables, each inside a transaction that is rolled back afterwards, so that each starts
 * from the same record. For each one:
 * - `audit verify` (in-process) must report it, naming the table and key (an event `seq` for the
 *   audit tables), or
 * - a decision (status, promote, attest, rollback, a token identifying its user) must refuse with
 *   TG_STATE_TAMPERED, or
 * - the mutation must be one listed as harmless, with the reason, and every decision must then give
 *   exactly the answer it gave on the untouched record.
 * Whatever the classification, no promote may succeed where the untouched record blocks it, and no
 * rollback may put into a stage a release that never held it: no forged approval leads to a promotion.
 *
 * The PRNG is seeded; the seed is printed, and TOLLGATE_TAMPER_SEED=N replays a run
 * (TOLLGATE_TAMPER_COUNT=N changes how many mutations each store gets; 1,000 by default).
 */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash } from '../src/audit/log.js';
import { canonicalJson, digestBytes, digestOf } from '../src/domain/digest.js';
import { TollgateError } from '../src/domain/errors.js';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import type { HandoffRecord, ReleaseManifest, SignoffDecision } from '../src/domain/model.js';
import { handoffKey } from '../src/domain/handoff.js';
import { recordHandoffs } from '../src/service/handoff.js';
import { rowKey } from '../src/store/vouched-rows.js';
import { VOUCHED_TABLES, type VouchedTable } from '../src/domain/records.js';
import { signSignoff } from '../src/domain/signoff.js';
import { signException } from '../src/domain/exception.js';
import { draftException, recordException } from '../src/service/exception.js';
import { authenticate } from '../src/server/auth.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { attest } from '../src/service/attest.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { promote } from '../src/service/promote.js';
import { rollback } from '../src/service/rollback.js';
import { openIncident, resolveIncident } from '../src/service/incidents.js';
import { draftSignoffs, recordSignoffs } from '../src/service/signoff.js';
import { decide } from '../src/service/status.js';
import { createApiToken, revokeApiToken } from '../src/service/tokens.js';
import { relyingPartyOf } from '../src/service/passkeys.js';
import { createPasskeyUseCases } from '../src/service/use-cases.js';
import { createSoftAuthenticator } from './helpers/soft-authenticator.js';

const RP = relyingPartyOf('https://desk.example:8443');
import { planValidations, recordValidations } from '../src/service/validate.js';
import { verifyAudit, type AuditVerifyResult } from '../src/service/verify-audit.js';
import { vouchToken } from '../src/service/vouch.js';
import { createWebhook, removeWebhook } from '../src/service/webhooks.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import type { Database } from '../src/store/schema.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import type { Store, StoreTx } from '../src/store/store.js';

// ------------------------------------------------------------------------------------------ PRNG

/** mulberry32: a tiny seeded PRNG, so that a run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const SEED = process.env.TOLLGATE_TAMPER_SEED !== undefined ? Number(process.env.TOLLGATE_TAMPER_SEED) : Math.floor(Math.random() * 2 ** 31);
const COUNT = Number(process.env.TOLLGATE_TAMPER_COUNT ?? 1000);
if (!Number.isSafeInteger(SEED) || !Number.isSafeInteger(COUNT) || COUNT < 1) throw new Error('TOLLGATE_TAMPER_SEED and TOLLGATE_TAMPER_COUNT must be whole numbers');

// -------------------------------------------------------------------------------- the template home

const USERS = ['alice', 'bob', 'carol', 'dave', 'ci'] as const;
type User = (typeof USERS)[number];
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<User, ReturnType<typeof generateKeyPair>>;
const SUBJECT = 'fraud-detector';

function policyYaml(runbookItems: string[]): string {
  return `apiVersion: tollgate/v1
kind: Policy
name: tamper
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
  carol: { roles: [security], key: "${KEYS.carol.publicKey}" }
  dave: { roles: [release-manager, admin], key: "${KEYS.dave.publicKey}" }
  ci: { roles: [validator], key: "${KEYS.ci.publicKey}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: readiness
    stage: staging
    checklist:
      - { id: alerts-tested }
      - { id: model-card }
  - id: tests
    stage: staging
    validations:
      - { id: tests, uses: junit, with: { report: reports/junit.xml } }
  - id: peer-review
    stage: staging
    separationOfDuties: true
    signoffs:
      - { role: ml-engineer, count: 1 }
  - id: security
    stage: production
    signoffs:
      - { role: security, count: 1 }
    waivers: [release-manager]
  - id: runbook
    stage: production
    checklist:
${runbookItems.map((id) => `      - { id: ${id} }\n`).join('')}`;
}

function manifest(version: string): ReleaseManifest {
  return {
    subject: SUBJECT,
    version,
    risk: 'high',
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', sha256: digestBytes(new TextEncoder().encode(version)).slice('sha256:'.length) }],
  };
}

/**
 * The releases of the template and what the untouched record says of them:
 * - A 1.0.0: promoted to staging and production; holds production again after B's rollback.
 * - B 1.1.0: promoted to staging and production, then rolled back out of production.
 * - C 1.2.0: staging blocked by one failed validation only.
 * - D 1.3.0: in staging; production blocked by a security rejection only.
 * - E 1.4.0: staging blocked by one missing checklist item only; production blocked by the stage order only.
 */
const REL = { A: `${SUBJECT}@1.0.0`, B: `${SUBJECT}@1.1.0`, C: `${SUBJECT}@1.2.0`, D: `${SUBJECT}@1.3.0`, E: `${SUBJECT}@1.4.0` } as const;

/** The decisions asked after every mutation: [release, stage]. */
const PAIRS: readonly (readonly [string, string])[] = [
  [REL.A, 'production'],
  [REL.C, 'staging'],
  [REL.D, 'production'],
  [REL.E, 'staging'],
  [REL.E, 'production'],
];
/** The promotions attested after every mutation. */
const ATTESTED: readonly (readonly [string, string])[] = [
  [REL.A, 'production'],
  [REL.D, 'staging'],
];

interface Template {
  readonly deps: ServiceDeps;
  readonly now: Date;
  /** A live token and a revoked one: who each identifies, or why it is refused. */
  readonly tokens: { live: string; revoked: string };
}

async function buildTemplate(store: Store): Promise<Template> {
  let clock = new Date('2026-11-30T09:00:00Z').getTime();
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/tamper', now: () => new Date((clock += 1000)), allowPrivateWebhooks: true };
  await applyPolicy(deps, 'dave', policyYaml(['rollback-plan']), 'tollgate.yaml');
  await createWebhook(deps, 'dave', { url: 'https://chat.example.com/hooks/tollgate', events: ['*'], secret: 'whsec_0123456789abcdef' });
  await createWebhook(deps, 'dave', { url: 'https://ops.example.com/hooks/old', events: ['release.promoted'] });
  await removeWebhook(deps, 'dave', (await store.listWebhooks({ includeRemoved: true })).find((w) => w.url.includes('ops.'))!.id);
  // The policy in force: a second version (one more runbook item), so that two versions are on record.
  await applyPolicy(deps, 'dave', policyYaml(['rollback-plan', 'on-call']), 'tollgate.yaml');

  for (const r of Object.values(REL)) await createRelease(deps, 'alice', manifest(r.split('@')[1]!));

  // Evidence files for the attested releases only: every blob costs audit verify a read.
  const withFiles = (ref: string) => ref === REL.A || ref === REL.D;
  const check = (ref: string, stage: string, item: string, withFile = false) =>
    completeItem(deps, 'dave', {
      release: ref,
      stage,
      item,
      ...(withFile ? { evidence: { kind: 'file' as const, name: `${item}.md`, bytes: new TextEncoder().encode(`# ${item} for ${ref}\n`) } } : {}),
    });
  const validate = async (ref: string, status: 'passed' | 'failed') => {
    const plan = await planValidations(store, ref, 'staging');
    const input = new TextEncoder().encode(`<testsuite name="scorer" tests="3" failures="${status === 'passed' ? 0 : 1}"/>`);
    const digest = digestBytes(input);
    await recordValidations(
      deps,
      'ci',
      ref,
      plan.items.map((i) => ({
        releaseDigest: plan.release.digest,
        stage: i.stage,
        gateId: i.gateId,
        validationId: i.validationId,
        validator: 'junit',
        validatorVersion: '1',
        definitionDigest: i.definitionDigest,
        status,
        summary: status === 'passed' ? '3 tests, 0 failures' : '3 tests, 1 failure',
        measurements: { tests: 3, failures: status === 'passed' ? 0 : 1 },
        thresholds: { failures: { max: 0 } },
        inputs: { 'reports/junit.xml': digest },
        details: { failed: status === 'passed' ? [] : ['test_precision'] },
        durationMs: 12,
      })),
      [{ digest, bytes: input }],
    );
  };
  const sign = async (user: User, ref: string, stage: string, role: string, decision: SignoffDecision = 'approve') => {
    const draft = await draftSignoffs(store, user, { release: ref, stage, role, decision, comment: `${decision} by ${user}` }, deps.now());
    await recordSignoffs(deps, user, draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS[user].privateKeyPem)) })));
  };
  const staging = async (ref: string, opts: { validation?: 'passed' | 'failed'; skip?: string } = {}) => {
    for (const item of ['alerts-tested', 'model-card']) if (item !== opts.skip) await check(ref, 'staging', item, item === 'model-card' && withFiles(ref));
    await validate(ref, opts.validation ?? 'passed');
    await sign('bob', ref, 'staging', 'ml-engineer');
  };
  const production = async (ref: string, decision: SignoffDecision = 'approve') => {
    await check(ref, 'production', 'rollback-plan', withFiles(ref));
    await check(ref, 'production', 'on-call');
    await sign('carol', ref, 'production', 'security', decision);
  };

  await staging(REL.A);
  await promote(deps, 'dave', REL.A, 'staging');
  await production(REL.A);
  const intoProduction = await promote(deps, 'dave', REL.A, 'production');
  // A hand-off to deployment of that promotion, failed and then retried (service/handoff.ts).
  const release = (await store.findRelease(SUBJECT, REL.A.split('@')[1]!))!;
  const handoff = (attempts: number, outcome: 'succeeded' | 'failed'): HandoffRecord => ({
    id: handoffKey(intoProduction.promotion!.id, 0),
    promotionId: intoProduction.promotion!.id,
    subject: SUBJECT,
    stage: 'production',
    version: release.version,
    releaseDigest: release.digest,
    index: 0,
    kind: 'git',
    target: '/srv/git/deploy.git main:values.yaml (image.tag)',
    definitionDigest: digestOf({ git: { repo: '/srv/git/deploy.git', file: 'values.yaml' } }),
    outcome,
    attempts,
    ...(outcome === 'failed' ? { error: 'cannot push to /srv/git/deploy.git (main): rejected' } : { commit: 'a'.repeat(40) }),
    by: 'dave',
    at: deps.now().toISOString(),
  });
  await recordHandoffs(deps, 'dave', release, intoProduction.promotion!, [handoff(1, 'failed')]);
  await recordHandoffs(deps, 'dave', release, intoProduction.promotion!, [handoff(2, 'succeeded')]);
  await staging(REL.B);
  await promote(deps, 'dave', REL.B, 'staging');
  await production(REL.B);
  await promote(deps, 'dave', REL.B, 'production');
  await rollback(deps, 'dave', SUBJECT, 'production', 'latency regression');
  // Incidents on the release holding production: one resolved, one still open (table incidents).
  const incident = await openIncident(deps, 'alice', SUBJECT, 'production', 'alerts firing');
  await resolveIncident(deps, 'dave', incident.id, 'fixed');
  await openIncident(deps, 'alice', SUBJECT, 'production', 'alerts firing again');
  await staging(REL.C, { validation: 'failed' });
  await staging(REL.D);
  await promote(deps, 'dave', REL.D, 'staging');
  await production(REL.D, 'reject');
  // A waiver (table exception_signoffs) of A's security sign-off, given after A entered production: no
  // decision turns on it (A holds production), so no deleted row can make it count where it would unblock.
  const waiver = await draftException(store, 'dave', { release: REL.A, stage: 'production', role: 'release-manager', kind: 'waiver', waive: 'security/signoff:security', reason: 'accepted risk', expires: '30d' }, deps.now());
  await recordException(deps, 'dave', { ...waiver.payload, signature: signException(waiver.payload, loadPrivateKey(KEYS.dave.privateKeyPem)) });
  await staging(REL.E, { skip: 'model-card' });
  await production(REL.E);
  // Refused promotions are on record too (PromotionBlocked events).
  await promote(deps, 'dave', REL.C, 'staging').catch(() => undefined);

  const live = await createApiToken(deps, 'dave', 'dave');
  const revoked = await createApiToken(deps, 'dave', 'bob', '30d');
  await revokeApiToken(deps, 'dave', revoked.id);
  // Passkeys: one in use, one revoked.
  for (const user of ['carol', 'bob'] as const) {
    const auth = createSoftAuthenticator({ rpId: RP.id, origin: RP.origin });
    const { challenge } = await createPasskeyUseCases(deps, user).registrationOptions(RP);
    await createPasskeyUseCases(deps, user).register({ response: auth.register(challenge), expectedChallenge: challenge, rp: RP });
    if (user === 'bob') await createPasskeyUseCases(deps, 'bob').revoke(auth.credentialId);
  }
  const now = deps.now();
  return { deps: { ...deps, now: () => now }, now, tokens: { live: live.token, revoked: revoked.token } };
}

// ------------------------------------------------------------------------------ the stores under test

interface Target {
  readonly name: 'SQLite' | 'PostgreSQL';
  open(): Promise<Store>;
  /** Run first in every mutation's transaction: lets the forger break foreign keys, as one writing the file can. */
  unguard(db: Kysely<Database>): Promise<void>;
  cleanup(): Promise<void>;
}

const pgUrl = process.env.TOLLGATE_TEST_PG;

const targets: Target[] = [
  {
    name: 'SQLite',
    open: () => createSqliteStore(':memory:'),
    // Checked at COMMIT only, and every mutation is rolled back.
    unguard: async (db) => void (await sql`pragma defer_foreign_keys = on`.execute(db)),
    cleanup: async () => {},
  },
];
if (pgUrl) {
  const schema = `tollgate_tamper_${randomUUID().replaceAll('-', '')}`;
  targets.push({
    name: 'PostgreSQL',
    open: () => createPostgresStore(pgUrl, { schema, poolSize: 2 }),
    // Foreign keys are triggers; a superuser (or the owner of a replica) can switch them off.
    unguard: async (db) => void (await sql`set local session_replication_role = replica`.execute(db)),
    cleanup: async () => {
      const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
      await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      await admin.end();
    },
  });
}

/** The Kysely transaction behind a `tx` (the store's query context, store/query-context.ts): the forger's pen. */
function dbOf(tx: StoreTx): Kysely<Database> {
  return (tx as unknown as { db: Kysely<Database> }).db;
}

// ---------------------------------------------------------------------------------------- mutations

/** The tables mutated: every vouched table, the audit log's own tables, and the blobs. */
const TABLES = [...VOUCHED_TABLES, 'audit_events', 'audit_checkpoints', 'audit_nodes', 'blobs'] as const;
type Table = (typeof TABLES)[number];
const AUDIT_TABLES: readonly Table[] = ['audit_events', 'audit_checkpoints', 'audit_nodes'];

type Row = Record<string, unknown>;
type Snapshot = Map<Table, Row[]>;

interface Mutation {
  readonly table: Table;
  /** `rollbacks` for a promotions row of kind rollback: reported apart. */
  readonly label: string;
  readonly kind: 'edit' | 'insert' | 'delete';
  /** The row's key before (and, for an edited key column or an insert, after). */
  readonly key: string;
  readonly newKey?: string;
  readonly column?: string;
  readonly before?: unknown;
  readonly after?: unknown;
  /** For the audit tables: the event `seq` the row is about. */
  readonly seq?: number;
  /** The row as it was (edits and deletions), or the one it was copied from (inserts). */
  readonly row: Row;
  readonly sqlText: string;
  readonly params: readonly unknown[];
}

function keyOf(table: Table, row: Row): string {
  if ((VOUCHED_TABLES as readonly string[]).includes(table)) return rowKey(table as VouchedTable, row);
  if (table === 'audit_events') return String(row.seq);
  if (table === 'audit_checkpoints') return `${row.size}@${row.at}`;
  if (table === 'audit_nodes') return `${row.level}/${row.idx}`;
  return String(row.digest);
}

/** Primary-key columns: an edit there moves the row to another key. */
const KEY_COLUMNS: Record<Table, readonly string[]> = {
  policies: ['version'],
  releases: ['digest'],
  checklist_completions: ['id'],
  signoffs: ['id'],
  validation_results: ['id'],
  promotions: ['id'],
  stage_holders: ['subject', 'stage'],
  stage_holds: ['id'],
  exception_signoffs: ['id'],
  incidents: ['id'],
  handoffs: ['id'],
  passkeys: ['id'],
  api_tokens: ['id'],
  webhooks: ['id'],
  audit_events: ['seq'],
  audit_checkpoints: ['size', 'at'],
  audit_nodes: ['level', 'idx'],
  blobs: ['digest'],
};

const show = (v: unknown): string => {
  if (v instanceof Uint8Array) return `<${v.byteLength} bytes ${Buffer.from(v).toString('hex').slice(0, 16)}…>`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}…` : s;
};

function describeMutation(m: Mutation): string {
  const where = `${m.label} ${m.key}${m.newKey && m.newKey !== m.key ? ` → ${m.newKey}` : ''}`;
  if (m.kind === 'edit') return `edit ${where} .${m.column}: ${show(m.before)} → ${show(m.after)}`;
  if (m.kind === 'insert') return `insert ${where}: ${show(m.after)}`;
  return `delete ${where}`;
}

/** A new value for one field: small, plausible changes as a forger (or bit rot) would make them. */
function newValue(rng: Rng, table: Table, column: string, old: unknown, rows: readonly Row[], maxSeq: number): unknown {
  const others = [...new Set(rows.map((r) => r[column]).filter((v) => v !== old && !(v instanceof Uint8Array)))];
  if (old === null || old === undefined) {
    if (column === 'audit_seq') return rng.pick([1, maxSeq, maxSeq + 1]);
    return others.length > 0 && rng.chance(0.5) ? rng.pick(others) : 'forged';
  }
  if (old instanceof Uint8Array) {
    const b = Buffer.from(old);
    if (rng.chance(0.2)) return b.subarray(0, b.byteLength - 1);
    const i = rng.int(b.byteLength);
    b[i] = b[i]! ^ (1 << rng.int(8));
    return b;
  }
  if (typeof old === 'number') {
    const choices = [old + 1, old - 1, 0, rng.int(maxSeq + 3) + 1, ...others];
    return rng.chance(0.1) ? null : rng.pick(choices.filter((c) => c !== old));
  }
  const s = String(old);
  if (rng.chance(0.15) && others.length > 0) return rng.pick(others);
  if (rng.chance(0.05)) return null;
  if (/^\d{4}-\d\d-\d\dT/.test(s)) {
    const t = Date.parse(s) + rng.pick([1, -1, 1000, -1000, 86_400_000, -86_400_000]);
    return new Date(t).toISOString();
  }
  if ((column.endsWith('_json') || column === 'note' || column === 'data') && s.startsWith('{') || s.startsWith('[')) {
    const parsed = JSON.parse(s) as unknown;
    switch (rng.int(4)) {
      case 0:
        // Whitespace only: the same JSON value.
        return JSON.stringify(parsed, null, 1);
      case 1: {
        const changed = changeLeaf(rng, parsed);
        if (changed.done) return JSON.stringify(changed.value);
        return `${s.slice(0, -1)},"forged":true${s.slice(-1)}`.replace('[,', '[');
      }
      case 2:
        // Not JSON any more.
        return s.slice(0, Math.max(1, s.length - 1 - rng.int(Math.min(10, s.length))));
      default:
        return s.replace(/:/, ': ');
    }
  }
  switch (rng.int(5)) {
    case 0:
      return `${s} `;
    case 1:
      return '';
    case 2: {
      // One character changed.
      if (s.length === 0) return 'x';
      const i = rng.int(s.length);
      const c = s[i]!;
      const repl = /[0-9a-f]/.test(c) ? (c === 'a' ? 'b' : 'a') : c === 'x' ? 'y' : 'x';
      return s.slice(0, i) + repl + s.slice(i + 1);
    }
    case 3:
      return s.toUpperCase() === s ? s.toLowerCase() + 'x' : s.toUpperCase();
    default:
      return `${s}x`;
  }
}

/** Changes one leaf of a JSON value somewhere in it (a roster key, a risk, a count…). */
function changeLeaf(rng: Rng, value: unknown): { done: boolean; value: unknown } {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else paths.push(path);
  };
  walk(value, []);
  if (paths.length === 0) return { done: false, value };
  const path = rng.pick(paths);
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  if (path.length === 0) return { done: false, value };
  let at = copy as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const old = at[last];
  at[last] =
    typeof old === 'string'
      ? old === 'high' ? 'low' : old === 'reject' ? 'approve' : old === 'failed' ? 'passed' : `${old}x`
      : typeof old === 'number'
        ? old + 1
        : typeof old === 'boolean'
          ? !old
          : 0;
  return { done: true, value: copy };
}

function newestCheckpoint(rows: readonly Row[]): Row {
  return [...rows].sort((x, y) => Number(y.size) - Number(x.size) || String(y.at).localeCompare(String(x.at)))[0]!;
}

/** A fresh key for an inserted copy of `row`. */
function freshKey(rng: Rng, table: Table, row: Row, snapshot: Snapshot, maxSeq: number): Row {
  const n = rng.int(1e9);
  switch (table) {
    case 'policies':
      return { version: Math.max(...snapshot.get('policies')!.map((r) => Number(r.version))) + 1 };
    case 'releases':
      return { digest: `sha256:${digestBytes(new TextEncoder().encode(String(n))).slice(7)}`, version: `9.${n}.0` };
    case 'stage_holders':
      return rng.chance(0.5) ? { stage: 'canary' } : { subject: `forged-${n}` };
    case 'audit_events':
      return { seq: maxSeq + 1 };
    case 'audit_checkpoints':
      return rng.chance(0.5) ? { size: Number(row.size) + 1 } : { at: new Date(Date.parse(String(row.at)) + 1).toISOString() };
    case 'audit_nodes':
      return rng.chance(0.5) ? { idx: maxSeq } : { level: 20 };
    case 'blobs': {
      const bytes = new TextEncoder().encode(`forged blob ${n}`);
      return { digest: digestBytes(bytes), content: Buffer.from(bytes), size: bytes.byteLength };
    }
    default: {
      // A UUID-shaped id from the PRNG, so that a replay inserts the same keys.
      const hex = Array.from({ length: 32 }, () => rng.int(16).toString(16)).join('');
      return { id: rng.chance(0.5) ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}` : `forged-${n}` };
    }
  }
}

/**
 * The forged approvals an inserted copy may carry: moved to a release that the untouched record
 * blocks, and turned into an approval, a pass or a staging promotion.
 */
function forgeApproval(rng: Rng, table: Table, copy: Row, digests: Record<keyof typeof REL, string>): void {
  if (!rng.chance(0.6)) return;
  const target = rng.pick(['C', 'D', 'E'] as const);
  if ('release_digest' in copy) copy.release_digest = digests[target];
  if ('release' in copy && table === 'signoffs') copy.release = REL[target];
  if (table === 'signoffs') copy.decision = 'approve';
  if (table === 'validation_results') copy.status = 'passed';
  if (table === 'promotions' || table === 'stage_holders') {
    copy.version = REL[target].split('@')[1];
    copy.stage = 'staging';
  }
}

async function makeMutation(rng: Rng, snapshot: Snapshot, maxSeq: number, digests: Record<keyof typeof REL, string>): Promise<Mutation> {
  const table = rng.pick(TABLES);
  const rows = snapshot.get(table)!;
  // Half the time the newest checkpoint, the one that is read; else any row.
  const row = table === 'audit_checkpoints' && rng.chance(0.5) ? newestCheckpoint(rows) : rng.pick(rows);
  const key = keyOf(table, row);
  const label = table === 'promotions' && row.kind === 'rollback' ? 'rollbacks' : table;
  const seq = table === 'audit_events' ? Number(row.seq) : table === 'audit_checkpoints' ? Number(row.size) : table === 'audit_nodes' ? Number(row.idx) * 2 ** Number(row.level) + 1 : undefined;
  const roll = rng.next();
  const where = KEY_COLUMNS[table];
  const whereSql = where.map((c) => `"${c}" = ?`).join(' and ');
  const whereParams = where.map((c) => row[c]);

  if (roll < 0.6) {
    const columns = Object.keys(row);
    const column = rng.pick(columns);
    const before = row[column];
    let after = newValue(rng, table, column, before, rows, maxSeq);
    if (after === before) after = typeof before === 'number' ? before + 1 : `${String(before)}x`;
    const moved = where.includes(column) ? keyOf(table, { ...row, [column]: after }) : undefined;
    return {
      table,
      label,
      kind: 'edit',
      key,
      row,
      ...(moved !== undefined ? { newKey: moved } : {}),
      column,
      before,
      after,
      ...(seq !== undefined ? { seq } : {}),
      sqlText: `update ${table} set "${column}" = ? where ${whereSql}`,
      params: [after, ...whereParams],
    };
  }
  if (roll < 0.8) {
    const copy: Row = { ...row, ...freshKey(rng, table, row, snapshot, maxSeq) };
    forgeApproval(rng, table, copy, digests);
    if ('audit_seq' in copy && rng.chance(0.5)) copy.audit_seq = rng.pick([null, maxSeq, maxSeq + 1, rng.int(maxSeq) + 1]);
    if (table === 'audit_events') {
      // A well-formed event after the head: linked, with a matching hash.
      const head = snapshot.get('audit_events')!.find((e) => Number(e.seq) === maxSeq)!;
      const data = JSON.parse(String(copy.data_json)) as Record<string, unknown>;
      const body = { seq: maxSeq + 1, at: String(copy.at), actor: String(copy.actor), type: String(copy.type), data, prev: String(head.hash) };
      Object.assign(copy, { seq: body.seq, prev: body.prev, data_json: canonicalJson(data), hash: eventHash(body) });
    }
    const columns = Object.keys(copy);
    return {
      table,
      label,
      kind: 'insert',
      key: keyOf(table, copy),
      row,
      after: copy,
      ...(seq !== undefined ? { seq: table === 'audit_events' ? maxSeq + 1 : seq } : {}),
      sqlText: `insert into ${table} (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
      params: columns.map((c) => copy[c]),
    };
  }
  return { table, label, kind: 'delete', key, row, ...(seq !== undefined ? { seq } : {}), sqlText: `delete from ${table} where ${whereSql}`, params: whereParams };
}

// ----------------------------------------------------------------------------------------- decisions

/** What every decision answered: a comparable outcome per question. */
type Answers = Record<string, string>;

interface Probe {
  readonly answers: Answers;
  /** The decisions that refused with TG_STATE_TAMPERED, and the rows they named. */
  readonly refusals: { question: string; rows: { table: string; key: string }[] }[];
  /** Decisions that failed with something other than a TollgateError (a crash is not a refusal). */
  readonly crashes: string[];
}

/** A store whose `transaction` runs in the mutation's own transaction (inside a savepoint the probe rolls back). */
function storeIn(tx: StoreTx, dialect: Store['dialect']): Store {
  const s = Object.create(tx) as Store & { transaction: Store['transaction'] };
  Object.assign(s, {
    dialect,
    transaction: <T>(fn: (t: StoreTx) => Promise<T>) => fn(tx),
    changeMarker: async () => undefined,
    close: async () => {},
  });
  return s;
}

async function savepointed<T>(db: Kysely<Database>, fn: () => Promise<T>): Promise<T> {
  await sql`savepoint probe`.execute(db);
  try {
    return await fn();
  } finally {
    await sql`rollback to savepoint probe`.execute(db);
    await sql`release savepoint probe`.execute(db);
  }
}

/** Which questions a probe asks: all of them, or those a mutated row can bear on. */
interface Questions {
  readonly pairs: readonly (readonly [string, string])[];
  readonly attested: readonly (readonly [string, string])[];
    /** Ask `promote` whatever `status` answers (else only where status finds the release promotable). */
  readonly alwaysPromote: boolean;
  readonly rollback: boolean;
  readonly tokens: boolean;
}
const ALL_QUESTIONS: Questions = { pairs: PAIRS, attested: ATTESTED, alwaysPromote: true, rollback: true, tokens: true };

async function probe(tx: StoreTx, t: Template, dialect: Store['dialect'], q: Questions = ALL_QUESTIONS): Promise<Probe> {
  const db = dbOf(tx);
  const deps: ServiceDeps = { ...t.deps, store: storeIn(tx, dialect) };
  const answers: Answers = {};
  const refusals: Probe['refusals'] = [];
  const crashes: string[] = [];
  /** `writes`: the question may write (promote, rollback), so it runs in a savepoint rolled back after it. */
  const ask = async (question: string, fn: () => Promise<string>, writes = false) => {
    try {
      answers[question] = writes ? await savepointed(db, fn) : await fn();
    } catch (err) {
      if (err instanceof TollgateError) {
        // A blocked promotion carries its decision: a change in it is a change of answer.
        answers[question] = err.code === 'TG_PROMOTION_BLOCKED' ? `${err.code} ${JSON.stringify({ ...(err.details as object), evaluatedAt: undefined })}` : err.code;
        if (err.code === 'TG_STATE_TAMPERED') {
          const rows = ((err.details as { rows?: { table: string; key: string }[] } | undefined)?.rows ?? []).map((r) => ({ table: r.table, key: r.key }));
          refusals.push({ question, rows });
        }
      } else {
        answers[question] = `crash: ${(err as Error).message}`;
        crashes.push(`${question}: ${(err as Error).message}`);
      }
    }
  };
  for (const [ref, stage] of q.pairs) {
    // `status` first; `promote` when status finds the release promotable (promote decides with the
    // same function in its transaction, so where status refuses or blocks, promote does the same:
    // asking it too only costs a PromotionBlocked event per question).
    await ask(`status ${ref} ${stage}`, async () => {
      const d = await decide(tx, ref, stage, t.now, 'dave');
      return JSON.stringify({ ...d, evaluatedAt: undefined });
    });
    const status = answers[`status ${ref} ${stage}`]!;
    const promotable = status.startsWith('{') && (JSON.parse(status) as { promotable: boolean }).promotable;
    if (q.alwaysPromote || promotable) {
      await ask(`promote ${ref} ${stage}`, async () => {
        const r = await promote(deps, 'dave', ref, stage);
        return `promoted ${r.promotion!.version} to ${r.promotion!.stage}`;
      }, true);
    }
  }
  for (const [ref, stage] of q.attested) {
    await ask(`attest ${ref} ${stage}`, async () => (await attest(deps, ref, stage)).payload);
  }
  if (q.rollback) {
    await ask(`rollback ${SUBJECT} staging`, async () => {
      const r = await rollback(deps, 'dave', SUBJECT, 'staging', 'tamper suite');
      return `rolled back to ${r.to} (previous ${r.promotion.previousVersion ?? 'none'})`;
    }, true);
  }
  if (q.tokens) {
    for (const [name, token] of Object.entries(t.tokens)) {
      await ask(`token ${name}`, async () => {
        // As the server identifies a request (server/app.ts): the token found by its hash, vouched for.
        const lookup = {
          findTokenByHash: async (hash: string) => {
            const found = await tx.findTokenByHash(hash);
            return found && (await vouchToken(tx, found));
          },
        };
        const who = await authenticate(lookup, `Bearer ${token}`, t.now);
        return `${who.user} (${who.tokenId})`;
      });
    }
  }
  return { answers, refusals, crashes };
}

/**
 * The questions a mutated row can bear on, asked whatever audit verify says (the no-forged-promotion
 * property): a release's evidence bears on that release's decisions and attestations; the policy, the
 * releases, the promotions and who holds a stage on every one; a token on identification. The other
 * tables (webhooks, the audit log's own, blobs) are asked everything only when audit verify does not
 * report the mutation.
 */
function questionsFor(m: Mutation, digests: Record<keyof typeof REL, string>): Questions | undefined {
  if (['policies', 'promotions', 'stage_holders'].includes(m.table)) return { ...ALL_QUESTIONS, alwaysPromote: false, tokens: false };
  if (m.table === 'api_tokens') return { pairs: [], attested: [], alwaysPromote: false, rollback: false, tokens: true };
  if (['releases', 'checklist_completions', 'signoffs', 'validation_results', 'exception_signoffs'].includes(m.table)) {
    // The release's own row, or its evidence: that release's decisions.
    const digestOf = (r: Row | undefined) => (r ? String(m.table === 'releases' ? r.digest : r.release_digest) : undefined);
    const touched = new Set([m.before, m.after, digestOf(m.row), ...(m.after && typeof m.after === 'object' ? [digestOf(m.after as Row)] : [])].map(String));
    const refs = (Object.keys(REL) as (keyof typeof REL)[]).filter((k) => touched.has(digests[k])).map((k) => REL[k] as string);
    const mine = <P extends readonly [string, string]>(ps: readonly P[]) => ps.filter(([ref]) => refs.includes(ref));
    return { pairs: mine(PAIRS), attested: mine(ATTESTED), alwaysPromote: false, rollback: false, tokens: false };
  }
  return undefined;
}

/**
 * The questions asked when neither audit verify nor the questions above report a mutation: every one,
 * but for the tables only some decisions read. A checkpoint is read by `attest` (the newest signs the
 * inclusion proof) and by a change, which extends the newest (one `promote`); a blob's bytes only by
 * `attest`.
 */
function questionsWhenUnreported(m: Mutation): Questions {
  if (m.table === 'audit_checkpoints') return { pairs: [[REL.C, 'staging']], attested: ATTESTED, alwaysPromote: true, rollback: false, tokens: false };
  if (m.table === 'blobs') return { pairs: [], attested: ATTESTED, alwaysPromote: false, rollback: false, tokens: false };
  return ALL_QUESTIONS;
}

// --------------------------------------------------------------------------------- classification

/** Whether `audit verify` reports the mutation: naming its table and key, or an event `seq` for the audit tables. */
function verifyNames(m: Mutation, v: AuditVerifyResult): boolean {
  if (v.ok) return false;
  if (AUDIT_TABLES.includes(m.table)) return v.firstBad?.seq !== undefined;
  const keys = new Set([m.key, ...(m.newKey !== undefined ? [m.newKey] : [])]);
  const rows = v.rows ?? (v.firstBad?.table ? [v.firstBad as { table: string; key: string }] : []);
  return rows.some((r) => r.table === m.table && keys.has(r.key));
}

/**
 * An answer as compared with the untouched record's. After a blob is deleted, an attestation that
 * carries the same statement but for that file's bytes is the same answer (a validation input copy
 * is kept only when sent); everything else must be equal byte for byte.
 */
function comparable(m: Mutation, question: string, answer: string | undefined): string | undefined {
  if (answer === undefined || m.table !== 'blobs' || m.kind !== 'delete' || !question.startsWith('attest ') || !/^[A-Za-z0-9+/=]+$/.test(answer)) return answer;
  const statement = JSON.parse(Buffer.from(answer, 'base64').toString('utf8')) as { predicate: { files?: Record<string, string> } };
  if (statement.predicate.files) delete statement.predicate.files[m.key];
  return JSON.stringify(statement);
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(String(a))) === canonicalJson(JSON.parse(String(b)));
  } catch {
    return false;
  }
}

/**
 * The mutations that change nothing a decision or `audit verify` reads, and why. Each is held to it:
 * every decision must then answer exactly as on the untouched record.
 */
function harmless(m: Mutation, latestCheckpoint: Row): string | undefined {
  if (m.table === 'webhooks' && m.kind === 'edit' && m.column === 'secret') {
    return 'webhooks.secret is left out of the row digest (docs/state.md): the HMAC key never reaches the audit log; a changed secret makes receivers refuse deliveries and cannot change a decision';
  }
  if (m.table === 'audit_checkpoints' && m.key !== keyOf('audit_checkpoints', latestCheckpoint)) {
    // Still older than the newest one after the change (inserted, or its size or time edited)?
    const now = m.kind === 'insert' ? (m.after as Row) : m.kind === 'edit' ? { ...m.row, [m.column!]: m.after } : undefined;
    const newer = (x: Row) => Number(x.size) > Number(latestCheckpoint.size) || (Number(x.size) === Number(latestCheckpoint.size) && String(x.at) > String(latestCheckpoint.at));
    if (!now || !newer(now)) {
      return 'an older checkpoint: only the newest is read (audit verify checks its signature, head and root against the log; the next change extends its frontier); earlier ones are superseded history';
    }
  }
  if (m.table === 'audit_events' && m.kind === 'edit' && m.column === 'data_json' && sameJson(m.before, m.after)) {
    return "whitespace or key order inside audit_events.data_json: an event's hash is over the canonical JSON (RFC 8785) of its data, so the same JSON value written otherwise is the same event";
  }
  if (m.table === 'audit_checkpoints' && m.kind === 'edit' && m.column === 'frontier_json' && sameJson(m.before, m.after)) {
    return "whitespace inside the newest checkpoint's frontier_json: it is read as the list of hashes it holds (audit verify compares that list with the log's tree)";
  }
  if (m.table === 'blobs' && m.kind === 'delete') {
    return "a blob's bytes are read by no status or promote (they decide from the vouched rows, which name each file by digest); the attestation of a promotion whose evidence names it refuses when it is checklist evidence (always kept) and carries the digest alone when it is a validation input copy (kept only when the validate run sent one)";
  }
  if (m.table === 'blobs' && m.kind === 'insert') {
    return 'a blob is content-addressed (its key is the SHA-256 of its bytes, which audit verify recomputes); a new well-formed one is named by no vouched row, so nothing reads it';
  }
  return undefined;
}

// -------------------------------------------------------------------------------------------- suite

interface Tally {
  total: number;
  verify: number;
  decision: number;
  harmless: number;
}

describe.each(targets)('tamper suite ($name)', (target) => {
  let store: Store;
  let t: Template;
  let snapshot: Snapshot;
  let baseline: Probe;
  let maxSeq: number;
  let digests: Record<keyof typeof REL, string>;

  beforeAll(async () => {
    store = await target.open();
    t = await buildTemplate(store);
    snapshot = new Map();
    await store.transaction(async (tx) => {
      for (const table of TABLES) snapshot.set(table, (await sql<Row>`select * from ${sql.table(table)}`.execute(dbOf(tx))).rows);
    });
    maxSeq = Math.max(...snapshot.get('audit_events')!.map((e) => Number(e.seq)));
    digests = Object.fromEntries(
      Object.entries(REL).map(([k, ref]) => [k, String(snapshot.get('releases')!.find((r) => `${r.subject}@${r.version}` === ref)!.digest)]),
    ) as Record<keyof typeof REL, string>;
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await target.cleanup();
  });

  it('the untouched record verifies, and its decisions are the ones the template was built for', async () => {
    expect((await verifyAudit(store, t.deps.serverKey)).ok).toBe(true);
    // Every table is mutated, so every table needs rows: a table added to VOUCHED_TABLES needs some here.
    for (const table of TABLES) expect(snapshot.get(table)!.length, `${table} has no row in the template`).toBeGreaterThan(0);
    baseline = await store.transaction((tx) => probe(tx, t, store.dialect));
    const a = baseline.answers;
    expect(baseline.refusals).toEqual([]);
    expect(baseline.crashes).toEqual([]);
    expect(a[`promote ${REL.C} staging`]).toMatch(/^TG_PROMOTION_BLOCKED /);
    expect(a[`promote ${REL.D} production`]).toMatch(/^TG_PROMOTION_BLOCKED /);
    expect(a[`promote ${REL.E} staging`]).toMatch(/^TG_PROMOTION_BLOCKED /);
    expect(a[`promote ${REL.E} production`]).toMatch(/^TG_PROMOTION_BLOCKED /);
    expect(a[`rollback ${SUBJECT} staging`]).toBe(`rolled back to ${REL.B} (previous 1.0.0)`);
    expect(a['token live']).toMatch(/^dave /);
    expect(a['token revoked']).toBe('TG_TOKEN_INVALID');
    expect(a[`attest ${REL.A} production`]).toMatch(/^[A-Za-z0-9+/=]+$/);
    // Each blocked pair is blocked by one thing only, so one forged row would be enough.
    for (const [ref, stage, unmet] of [
      [REL.C, 'staging', /^tests\/tests failed$/],
      [REL.D, 'production', /^security\/signoff:security failed$/],
      [REL.E, 'staging', /^readiness\/model-card missing$/],
      [REL.E, 'production', /^stage\/order failed$/],
    ] as const) {
      const d = JSON.parse(a[`status ${ref} ${stage}`]!) as { gates: { id: string; requirements: { id: string; outcome: string }[] }[] };
      const open = d.gates.flatMap((g) => g.requirements.filter((r) => r.outcome !== 'satisfied').map((r) => `${g.id}/${r.id} ${r.outcome}`));
      expect(open, `${ref} ${stage}`).toHaveLength(1);
      expect(open[0]).toMatch(unmet);
    }
  });

  it(`makes ${COUNT} random mutations; each is reported by audit verify, refused by a decision, or harmless for a stated reason; none promotes`, async () => {
    expect(baseline, 'the baseline test ran').toBeDefined();
    const rng = prng(SEED + (target.name === 'SQLite' ? 0 : 1));
    const latestCheckpoint = newestCheckpoint(snapshot.get('audit_checkpoints')!);
    const perTable = new Map<string, Tally>();
    const perKind = new Map<string, Tally>();
    const harmlessReasons = new Map<string, number>();
    const failures: string[] = [];
    const crashes = new Map<string, number>();
    let refusedBySchema = 0;
    let done = 0;
    const ROLLBACK = new Error('rollback');
    const started = Date.now();
    const cpu = process.cpuUsage();
    const placeholders = (text: string) => (store.dialect === 'postgres' ? ((n) => text.replace(/\?/g, () => `$${++n}`))(0) : text);

    while (done < COUNT) {
      const m = await makeMutation(rng, snapshot, maxSeq, digests);
      let outcome: { verify: boolean; decision: boolean; harmless?: string; missed?: string } | undefined;
      let applied = true;
      try {
        await store.transaction(async (tx) => {
          const db = dbOf(tx);
          await target.unguard(db);
          await sql`savepoint mutation`.execute(db);
          try {
            const params = m.params.map((p) => (p instanceof Uint8Array ? Buffer.from(p) : p));
            const res = await db.executeQuery(CompiledQuery.raw(placeholders(m.sqlText), params));
            if (Number(res.numAffectedRows ?? 1) === 0) throw new Error('no row changed');
          } catch {
            // Not a change a database takes (a duplicate key, NULL in a NOT NULL column): pick another.
            applied = false;
            throw ROLLBACK;
          }
          let verified: AuditVerifyResult | string;
          try {
            verified = await savepointed(db, () => verifyAudit(tx, t.deps.serverKey));
          } catch (err) {
            verified = `audit verify crashed: ${(err as Error).message}`;
          }
          const byVerify = typeof verified !== 'string' && verifyNames(m, verified);
          const asked = questionsFor(m, digests);
          let p = asked ? await probe(tx, t, store.dialect, asked) : undefined;
          const refusedHere = (pr: Probe | undefined) => pr?.refusals.some((r) => r.rows.some((row) => row.table === m.table && (row.key === m.key || row.key === m.newKey))) ?? false;
          let byDecision = refusedHere(p);
          let reason: string | undefined;
          let missed: string | undefined;
          if (!byVerify && !byDecision) {
            // Not reported: every question is asked, and must be answered as on the untouched record.
            p = await probe(tx, t, store.dialect, questionsWhenUnreported(m));
            byDecision = refusedHere(p);
            if (!byDecision) {
              reason = harmless(m, latestCheckpoint);
              const same = (q: string) => comparable(m, q, p!.answers[q]) === comparable(m, q, baseline.answers[q]);
              const changed = Object.keys(p.answers).filter((q) => !same(q));
              const v = typeof verified === 'string' ? verified : verified.ok ? 'ok' : show(verified.firstBad);
              if (!reason || typeof verified === 'string' || !verified.ok || changed.length > 0) {
                missed = `audit verify: ${v}; decisions refusing: ${show(p.refusals)}; answers changed: ${changed.map((q) => `${q} → ${p!.answers[q]!.slice(0, 100)}`).join(' | ') || 'none'}${reason ? `; listed harmless (${reason}) but it is not` : ''}`;
                reason = undefined;
              }
            }
          }
          for (const c of p?.crashes ?? []) {
            const k = `${m.label}: ${c.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|sha256:[0-9a-f]{64}/g, '…')}`;
            crashes.set(k, (crashes.get(k) ?? 0) + 1);
          }
          // The property: no promotion the untouched record blocks, no rollback other than the untouched record's.
          for (const [q, answer] of Object.entries(p?.answers ?? {})) {
            if (q.startsWith('promote ') && answer.startsWith('promoted') && !baseline.answers[q]!.startsWith('promoted')) {
              failures.push(`FORGED PROMOTION (${q}: ${answer}) after ${describeMutation(m)}`);
            }
            if (q.startsWith('rollback ') && answer.startsWith('rolled back') && answer !== baseline.answers[q]) {
              failures.push(`FORGED ROLLBACK (${q}: ${answer}; untouched: ${baseline.answers[q]}) after ${describeMutation(m)}`);
            }
          }
          outcome = { verify: byVerify, decision: byDecision, ...(reason ? { harmless: reason } : {}), ...(missed ? { missed } : {}) };
          throw ROLLBACK;
        });
      } catch (err) {
        if (err !== ROLLBACK) throw err;
      }
      if (!applied) {
        refusedBySchema++;
        continue;
      }
      done++;
      const o = outcome!;
      if (o.missed) {
        failures.push(`MISSED ${describeMutation(m)}: ${o.missed}`);
        continue;
      }
      for (const [map, k] of [
        [perTable, m.label],
        [perKind, m.kind],
      ] as const) {
        const tally = map.get(k) ?? { total: 0, verify: 0, decision: 0, harmless: 0 };
        tally.total++;
        if (o.verify) tally.verify++;
        if (o.decision) tally.decision++;
        if (o.harmless) tally.harmless++;
        map.set(k, tally);
      }
      if (o.harmless) harmlessReasons.set(o.harmless, (harmlessReasons.get(o.harmless) ?? 0) + 1);
    }

    const seconds = (Date.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const line = (k: string, x: Tally) => `| ${k} | ${x.total} | ${x.verify} | ${x.decision} | ${x.harmless} |`;
    const sum = (xs: Iterable<Tally>) => [...xs].reduce((a, x) => ({ total: a.total + x.total, verify: a.verify + x.verify, decision: a.decision + x.decision, harmless: a.harmless + x.harmless }), { total: 0, verify: 0, decision: 0, harmless: 0 });
    const head = ['| mutations | reported by audit verify | refused by a decision (TG_STATE_TAMPERED) | harmless |', '|---:|---:|---:|---:|'];
    const report = [
      `tamper suite, ${target.name}: seed ${SEED} (replay: TOLLGATE_TAMPER_SEED=${SEED}), ${done} mutations in ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU in this process); ${refusedBySchema} more were refused by the schema (duplicate key, NULL in a NOT NULL column) and are not counted`,
      `| table ${head[0]}`,
      `|---${head[1]}`,
      ...[...perTable.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => line(k, x)),
      line('**all**', sum(perTable.values())),
      '',
      `| kind ${head[0]}`,
      `|---${head[1]}`,
      ...[...perKind.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => line(k, x)),
      '',
      ...[...harmlessReasons.entries()].map(([r, n]) => `harmless ×${n}: ${r}`),
      ...(failures.length > 0 ? ['FAILURES:', ...failures] : []),
      ...(crashes.size > 0 ? ['decisions that failed with an error other than a TollgateError:', ...[...crashes.entries()].map(([c, n]) => `  ×${n} ${c}`)] : []),
    ].join('\n');
    console.log(report);
    expect(failures, `seed ${SEED}: replay with TOLLGATE_TAMPER_SEED=${SEED}\n${failures.slice(0, 40).join('\n')}`).toEqual([]);
    expect(done).toBe(COUNT);
    // A guard, not a goal: 1,000 mutations take ~25 s of CPU on SQLite, ~50 s on PostgreSQL (docs/reliability.md),
    // and a machine shared with other work may stretch that many times over.
  }, 1_800_000);
});
