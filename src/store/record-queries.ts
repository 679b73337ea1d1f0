/**
 * The record a decision is read from (DESIGN.md, rules 5 and 6): policy versions, releases, their
 * evidence and its attachments (blobs), promotions and who holds each stage.
 */
import { digestBytes, type Digest } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import type {
  ChecklistCompletion,
  EvidenceSet,
  ExceptionSignoff,
  Incident,
  PolicyVersion,
  Promotion,
  Release,
  Signoff,
  StageHold,
  HandoffRecord,
  ValidationResult,
} from '../domain/model.js';
import { compiledOnce } from './compiled-queries.js';
import type { ReadContext, WriteContext } from './query-context.js';
import { toChecklist, toException, toHandoff, toIncident, toPasskey, toPolicyVersion, toPromotion, toRelease, toSignoff, toStageHold, toValidation } from './rows.js';
import type { PolicyVersionInfo, RecordReader, RecordWriter, Vouch } from './store.js';
import { claimOf, readFrom, vouched, fromChecklist, fromException, fromHandoff, fromIncident, fromPasskey, fromPolicyVersion, fromPromotion, fromRelease, fromSignoff, fromStageHold, fromValidation, stageHolderOf } from './vouched-rows.js';

export const recordReads: RecordReader & ThisType<ReadContext> = {
  async activePolicy(): Promise<PolicyVersion | undefined> {
    const db = this.db;
    const [row] = (await db.executeQuery(compiledOnce(db, 'activePolicy', () => db.selectFrom('policies').selectAll().orderBy('version', 'desc').limit(1), [1]))).rows;
    return row && readFrom(toPolicyVersion(row), 'policies', row);
  },

  async policyVersion(version: number): Promise<PolicyVersion | undefined> {
    const row = await this.db.selectFrom('policies').selectAll().where('version', '=', version).executeTakeFirst();
    return row && toPolicyVersion(row);
  },

  async policyVersions(): Promise<PolicyVersionInfo[]> {
    const rows = await this.db
      .selectFrom('policies')
      .select(['version', 'digest', 'name', 'applied_at', 'applied_by'])
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => ({ version: r.version, digest: r.digest as Digest, name: r.name, appliedAt: r.applied_at, appliedBy: r.applied_by }));
  },

  async findRelease(subject: string, version: string): Promise<Release | undefined> {
    const db = this.db;
    const build = () => db.selectFrom('releases').selectAll().where('subject', '=', subject).where('version', '=', version);
    const [row] = (await db.executeQuery(compiledOnce(db, 'findRelease', build, [subject, version]))).rows;
    return row && readFrom(toRelease(row), 'releases', row);
  },

  async listReleases(filter: { subject?: string } = {}): Promise<Release[]> {
    let q = this.db.selectFrom('releases').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    const rows = await q.orderBy('created_at').orderBy('subject').orderBy('version').execute();
    return rows.map(toRelease);
  },

  async findSignoff(releaseDigest: Digest, signer: string, signature: string): Promise<Signoff | undefined> {
    // By the signature alone, so that the planner takes its index (signatures do not repeat): with the
    // release's column in the query too, SQLite may walk every sign-off of the release instead.
    const db = this.db;
    const { rows } = await db.executeQuery(compiledOnce(db, 'findSignoff', () => db.selectFrom('signoffs').selectAll().where('signature', '=', signature), [signature]));
    const row = rows.find((r) => r.release_digest === releaseDigest && r.signer === signer);
    return row && toSignoff(row);
  },

  async evidence(releaseDigest: Digest): Promise<EvidenceSet> {
    // `at` first, then the order they were recorded in (`audit_seq`), so that of two that share a time
    // the one recorded later is later: evaluate counts the last one of each signer or item. `id` last,
    // for rows that name no event (refused anyway), so that every read gives one order.
    const checklist = await this.db
      .selectFrom('checklist_completions')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('audit_seq')
      .orderBy('id')
      .execute();
    const signoffs = await this.db
      .selectFrom('signoffs')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('audit_seq')
      .orderBy('id')
      .execute();
    const validations = await this.db
      .selectFrom('validation_results')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('audit_seq')
      .orderBy('id')
      .execute();
    const exceptions = await this.db
      .selectFrom('exception_signoffs')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('audit_seq')
      .orderBy('id')
      .execute();
    return {
      checklist: checklist.map(toChecklist),
      signoffs: signoffs.map(toSignoff),
      validations: validations.map(toValidation),
      // Absent when there are none, so a record without exceptions reads (and attests) as before.
      ...(exceptions.length > 0 ? { exceptions: exceptions.map(toException) } : {}),
    };
  },

  async promotions(filter: { subject?: string; stage?: string; releaseDigest?: Digest } = {}): Promise<Promotion[]> {
    let q = this.db.selectFrom('promotions').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    if (filter.stage !== undefined) q = q.where('stage', '=', filter.stage);
    if (filter.releaseDigest !== undefined) q = q.where('release_digest', '=', filter.releaseDigest);
    const rows = await q.orderBy('seq').execute();
    return rows.map(toPromotion);
  },

  async stageHolder(subject: string, stage: string): Promise<Promotion | undefined> {
    const row = await this.db
      .selectFrom('stage_holders')
      .innerJoin('promotions', 'promotions.id', 'stage_holders.promotion_id')
      .selectAll('promotions')
      .where('stage_holders.subject', '=', subject)
      .where('stage_holders.stage', '=', stage)
      .executeTakeFirst();
    return row && toPromotion(row);
  },

  async incidents(filter: { subject?: string; stage?: string; open?: boolean } = {}): Promise<Incident[]> {
    let q = this.db.selectFrom('incidents').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    if (filter.stage !== undefined) q = q.where('stage', '=', filter.stage);
    if (filter.open === true) q = q.where('resolved_at', 'is', null);
    if (filter.open === false) q = q.where('resolved_at', 'is not', null);
    const rows = await q.orderBy('opened_at').orderBy('audit_seq').orderBy('id').execute();
    return rows.map(toIncident);
  },

  async findIncident(id: string): Promise<Incident | undefined> {
    const row = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toIncident(row);
  },

  async stageHolds(filter: { subject?: string; stage?: string; releaseDigest?: Digest } = {}): Promise<StageHold[]> {
    let q = this.db.selectFrom('stage_holds').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    if (filter.stage !== undefined) q = q.where('stage', '=', filter.stage);
    if (filter.releaseDigest !== undefined) q = q.where('release_digest', '=', filter.releaseDigest);
    const rows = await q.orderBy('at').orderBy('id').execute();
    return rows.map(toStageHold);
  },

  async handoffs(filter: { promotionIds?: readonly string[]; releaseDigest?: Digest; stage?: string }): Promise<HandoffRecord[]> {
    if (filter.promotionIds !== undefined && filter.promotionIds.length === 0) return [];
    let q = this.db.selectFrom('handoffs').selectAll();
    if (filter.promotionIds !== undefined) q = q.where('promotion_id', 'in', [...filter.promotionIds]);
    if (filter.releaseDigest !== undefined) q = q.where('release_digest', '=', filter.releaseDigest);
    if (filter.stage !== undefined) q = q.where('stage', '=', filter.stage);
    const rows = await q.orderBy('promotion_id').orderBy('idx').execute();
    return rows.map(toHandoff);
  },

  async blob(digest: Digest): Promise<Uint8Array | undefined> {
    const row = await this.db.selectFrom('blobs').select('content').where('digest', '=', digest).executeTakeFirst();
    // Both drivers hand back a Node Buffer; callers get a plain Uint8Array, as the interface says.
    return row && new Uint8Array(row.content);
  },
};

export const recordWrites: RecordWriter & ThisType<WriteContext> = {
  async lockStage(subject: string, stage: string): Promise<void> {
    await this.locks.lockStage(this.db, subject, stage);
  },

  async insertPolicy(p: Omit<PolicyVersion, 'version'>, vouch?: Vouch): Promise<PolicyVersion> {
    await this.locks.serialize(this.db, 'policies');
    const last = await this.db.selectFrom('policies').select('version').orderBy('version', 'desc').limit(1).executeTakeFirst();
    const recorded: PolicyVersion = { ...p, version: (last?.version ?? 0) + 1 };
    const row = fromPolicyVersion(recorded);
    await this.db.insertInto('policies').values({ ...row, audit_seq: await vouched(vouch, [claimOf('policies', row)]) }).execute();
    return recorded;
  },

  async insertRelease(r: Release, vouch?: Vouch): Promise<void> {
    const row = fromRelease(r);
    try {
      await this.db.insertInto('releases').values({ ...row, audit_seq: await vouched(vouch, [claimOf('releases', row)]) }).execute();
    } catch (err) {
      // Two writers can both find the name free and race to insert; the loser gets the product's
      // error rather than a driver's constraint message.
      if (isUniqueViolation(err)) throw releaseConflict(r);
      throw err;
    }
  },

  async insertChecklist(c: ChecklistCompletion, vouch?: Vouch): Promise<void> {
    const row = fromChecklist(c);
    await this.db.insertInto('checklist_completions').values({ ...row, audit_seq: await vouched(vouch, [claimOf('checklist_completions', row)]) }).execute();
  },

  async insertSignoff(s: Signoff, vouch?: Vouch, passkeyCounter?: { readonly id: string; readonly signCount: number }): Promise<void> {
    const row = fromSignoff(s);
    if (!passkeyCounter) {
      await this.db.insertInto('signoffs').values({ ...row, audit_seq: await vouched(vouch, [claimOf('signoffs', row)]) }).execute();
      return;
    }
    const found = await this.db.selectFrom('passkeys').selectAll().where('id', '=', passkeyCounter.id).executeTakeFirst();
    if (!found) throw new Error(`insertSignoff: no passkey ${passkeyCounter.id}`);
    // One event vouches for both: the sign-off, and the passkey as its counter stands after it.
    const passkey = fromPasskey({ ...toPasskey(found), signCount: passkeyCounter.signCount });
    const auditSeq = await vouched(vouch, [claimOf('signoffs', row), claimOf('passkeys', passkey)]);
    await this.db.insertInto('signoffs').values({ ...row, audit_seq: auditSeq }).execute();
    await this.db.updateTable('passkeys').set({ sign_count: passkeyCounter.signCount, audit_seq: auditSeq }).where('id', '=', passkeyCounter.id).execute();
  },

  async insertException(e: ExceptionSignoff, vouch?: Vouch): Promise<void> {
    const row = fromException(e);
    await this.db.insertInto('exception_signoffs').values({ ...row, audit_seq: await vouched(vouch, [claimOf('exception_signoffs', row)]) }).execute();
  },

  async insertValidation(v: ValidationResult, vouch?: Vouch): Promise<void> {
    const row = fromValidation(v);
    await this.db.insertInto('validation_results').values({ ...row, audit_seq: await vouched(vouch, [claimOf('validation_results', row)]) }).execute();
  },

  async putBlob(digest: Digest, bytes: Uint8Array): Promise<void> {
    // A wrong digest would make the content unfindable and break every reference to it: a bug.
    const actual = digestBytes(bytes);
    if (actual !== digest) throw new Error(`putBlob: the bytes have digest ${actual}, not ${digest}`);
    await this.db
      .insertInto('blobs')
      .values({
        digest,
        // Both drivers bind a Buffer as BLOB / BYTEA; a bare Uint8Array is not accepted by better-sqlite3.
        content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        size: bytes.byteLength,
      })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  },

  async insertPromotion(p: Promotion, vouch?: Vouch, hold?: StageHold): Promise<void> {
    await this.locks.serialize(this.db, 'promotions');
    const last = await this.db.selectFrom('promotions').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const row = fromPromotion(p, (last?.seq ?? 0) + 1);
    const holder = stageHolderOf(p);
    const holdRow = hold && fromStageHold(hold);
    // One event vouches for all: the move, who holds the stage after it, and a rollback's hold.
    const auditSeq = await vouched(vouch, [claimOf('promotions', row), claimOf('stage_holders', holder), ...(holdRow ? [claimOf('stage_holds', holdRow)] : [])]);
    await this.db.insertInto('promotions').values({ ...row, audit_seq: auditSeq }).execute();
    if (holdRow) await this.db.insertInto('stage_holds').values({ ...holdRow, audit_seq: auditSeq }).execute();
    await this.db
      .insertInto('stage_holders')
      .values({ ...holder, audit_seq: auditSeq })
      .onConflict((oc) =>
        oc.columns(['subject', 'stage']).doUpdateSet((eb) => ({
          version: eb.ref('excluded.version'),
          release_digest: eb.ref('excluded.release_digest'),
          promotion_id: eb.ref('excluded.promotion_id'),
          audit_seq: eb.ref('excluded.audit_seq'),
        })),
      )
      .execute();
  },

  async insertIncident(i: Incident, vouch?: Vouch): Promise<void> {
    const row = fromIncident(i);
    const auditSeq = await vouched(vouch, [claimOf('incidents', row)]);
    await this.db.insertInto('incidents').values({ ...row, audit_seq: auditSeq }).execute();
  },

  async updateIncident(i: Incident, vouch?: Vouch): Promise<void> {
    const row = fromIncident(i);
    const auditSeq = await vouched(vouch, [claimOf('incidents', row)]);
    await this.db
      .updateTable('incidents')
      .set({ resolved_by: row.resolved_by, resolved_at: row.resolved_at, resolve_note: row.resolve_note, audit_seq: auditSeq })
      .where('id', '=', row.id)
      .execute();
  },

  async updateStageHolds(holds: readonly StageHold[], vouch?: Vouch): Promise<void> {
    if (holds.length === 0) return;
    const rows = holds.map(fromStageHold);
    const auditSeq = await vouched(vouch, rows.map((r) => claimOf('stage_holds', r)));
    for (const row of rows) {
      await this.db
        .updateTable('stage_holds')
        .set({ cleared_by: row.cleared_by, cleared_at: row.cleared_at, clear_reason: row.clear_reason, audit_seq: auditSeq })
        .where('id', '=', row.id)
        .execute();
    }
  },

  async putHandoffs(records: readonly HandoffRecord[], vouch?: Vouch): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map(fromHandoff);
    const auditSeq = await vouched(vouch, rows.map((r) => claimOf('handoffs', r)));
    for (const row of rows) {
      await this.db
        .insertInto('handoffs')
        .values({ ...row, audit_seq: auditSeq })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            target: eb.ref('excluded.target'),
            kind: eb.ref('excluded.kind'),
            definition_digest: eb.ref('excluded.definition_digest'),
            outcome: eb.ref('excluded.outcome'),
            attempts: eb.ref('excluded.attempts'),
            error: eb.ref('excluded.error'),
            commit_id: eb.ref('excluded.commit_id'),
            by_user: eb.ref('excluded.by_user'),
            at: eb.ref('excluded.at'),
            audit_seq: eb.ref('excluded.audit_seq'),
          })),
        )
        .execute();
    }
  },
};

function releaseConflict(r: Release) {
  return tollgateError('TG_RELEASE_CONFLICT', `release ${r.subject}@${r.version} is already registered`, {
    details: { release: `${r.subject}@${r.version}`, digest: r.digest },
  });
}

/** A unique or primary-key violation, as better-sqlite3 and node-postgres report it. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
