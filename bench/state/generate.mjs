#!/usr/bin/env node
// Generates a Tollgate home (SQLite) with about N audit events and the rows they vouch for, for the
// state benchmark (bench/state/run.mjs), fast enough for a million events.
//
// How it writes. Through the use cases (dist/service: createRelease, check, recordValidations,
// recordSignoffs, promote) a change costs about 7 ms of CPU here (their reads, the vouching of every
// row a decision counts, a decision per promotion): 1M events would take two hours. So the policy is
// applied by the real `applyPolicy`, and every later change goes through the real `change()` of
// dist/service/change.js with the store's own writers (`insertRelease`, `insertChecklist`,
// `insertSignoff`, `insertValidation`, `insertPromotion`): the audit event with its row claims, the
// Merkle nodes, the signed checkpoint after each change (whatever cadence change.ts has) and the
// webhook outbox are exactly what `tollgate` writes. What is skipped are the use cases' checks, done
// here in memory instead: each event's data is the one the use case writes, sign-offs are signed
// with the signer's own key over the evidence digest they saw, and each promotion is decided by the
// real `evaluate` over the release's evidence and its subject's history (and must be promotable).
// Many changes share one SQLite transaction (`--batch` releases): the store's `transaction()` is
// handed the open one. Any error aborts the run, since a failed change would leave its writes in the
// batch.
//
//   node bench/state/generate.mjs DIR --events N [--batch 200] [--per-subject 25] [--seed 1]
//
// DIR/.tollgate is the home (tollgate.db, server.key, origin, keys/): `tollgate --home DIR/.tollgate
// audit verify` checks it like any other. The seed fixes the shape (risks, rejections, which
// releases stop at staging); ids and keys are random, as Tollgate makes them.
//
// The mix, per release (about 11 events): ReleaseCreated; two checklist items for staging; two
// validation results (junit, metrics) in one change; a peer-review sign-off (one in 15 rejected
// first); the promotion to staging; then for 9 in 10 releases: an ml-engineer sign-off for
// production, a security sign-off when the risk is high (3 in 10), the rollback-plan item, the
// parity result, the promotion to production. Releases are spread over subjects, `--per-subject`
// each, so a subject's history (what `status` reads) is the same size whatever the log's length.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../../dist');
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);

/** Options for `generateHome`; `events` is a lower bound (whole releases are written). */
export async function generateHome({ dir, events, batch = 200, perSubject = 25, seed = 1, writer = 'sql', log = () => {} }) {
  if (writer !== 'sql' && writer !== 'store') throw new Error(`--writer is sql or store, not ${writer}`);
  const [{ createSqliteStore }, { createUseCases }, { change: serviceChange }, keysMod, { signSignoff, signoffPayload }, policyMod, { releaseDigest }, { evaluate }, { evidenceSetDigest }] =
    await Promise.all([
      load('store/sqlite-store.js'),
      load('service/use-cases.js'),
      load('service/change.js'),
      load('domain/keys.js'),
      load('domain/signoff.js'),
      load('domain/policy.js'),
      load('domain/manifest.js'),
      load('domain/evaluate.js'),
      load('domain/records.js'),
    ]);
  const { generateKeyPair, loadPrivateKey } = keysMod;
  const { gateDigest, itemDigest, validationDigest } = policyMod;
  const home = path.join(dir, '.tollgate');
  if (fs.existsSync(home)) throw new Error(`${home} exists already`);
  fs.mkdirSync(path.join(home, 'keys'), { recursive: true, mode: 0o700 });

  // The server key and origin, as `tollgate init` writes them; the users' key pairs.
  const server = generateKeyPair();
  fs.writeFileSync(path.join(home, 'server.key'), server.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(home, 'origin'), 'tollgate/bench-state\n');
  const ROSTER = {
    'eng-a': ['ml-engineer'],
    'eng-b': ['ml-engineer'],
    'eng-c': ['ml-engineer'],
    'eng-d': ['ml-engineer'],
    carol: ['security'],
    dave: ['release-manager'],
    ci: ['validator'],
  };
  const keys = {};
  const pub = {};
  for (const user of Object.keys(ROSTER)) {
    const pair = generateKeyPair();
    fs.writeFileSync(path.join(home, 'keys', `${user}.key`), pair.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(home, 'keys', `${user}.pub`), pair.publicKey + '\n');
    keys[user] = loadPrivateKey(pair.privateKeyPem);
    pub[user] = pair.publicKey;
  }
  const policySource = POLICY.replace(
    'ROSTER',
    Object.entries(ROSTER)
      .map(([u, roles]) => `  ${u}: { roles: [${roles.join(', ')}], key: "${pub[u]}" }`)
      .join('\n'),
  );

  const store = await createSqliteStore(path.join(home, 'tollgate.db'));
  // The store `change()` sees: every read and write goes to the open batch transaction, and its
  // `transaction()` runs in it (see the header).
  let open;
  const batched = new Proxy(store, {
    get(target, prop) {
      if (prop === 'transaction') return (fn) => (open ? fn(open) : target.transaction(fn));
      const src = open && prop in open ? open : target;
      const value = src[prop];
      return typeof value === 'function' ? value.bind(src) : value;
    },
  });
  // A clock that ends about now: each change a few seconds after the one before.
  const STEP_MS = 5000;
  let clock = Date.now() - Math.max(events, 1) * STEP_MS;
  const deps = { store: batched, serverKey: loadPrivateKey(server.privateKeyPem), origin: 'tollgate/bench-state', now: () => new Date((clock += STEP_MS)) };

  let rand = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: the shape of the home is the same for the same seed.
    rand ^= rand << 13;
    rand >>>= 0;
    rand ^= rand >>> 17;
    rand ^= rand << 5;
    rand >>>= 0;
    return rand / 2 ** 32;
  };
  const hex = (n) => {
    let s = '';
    while (s.length < n) s += Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
    return s.slice(0, n);
  };
  const ENGINEERS = ['eng-a', 'eng-b', 'eng-c', 'eng-d'];

  const started = process.hrtime.bigint();
  let storeOpen = true;
  /** How a change is written: the service's `change()` (`--writer store`) or createSqlWriter's. */
  let change;
  let releases = 0;
  let lastProduction;
  try {
    await createUseCases(deps, 'dave').applyPolicy(policySource, 'tollgate.yaml');
    const active = await store.activePolicy();
    const policy = active.policy;
    // No gate of the bench policy has a `when`; the security rule's is `risk in [high, critical]`.
    const gatesOf = (stage) => policy.gates.filter((g) => g.stage === stage);
    /** Subject -> its promotions, oldest first (what `store.promotions({subject})` gives). */
    const histories = new Map();
    /** subject/stage -> the promotion holding it. */
    const holders = new Map();

    const OUTCOMES = {
      tests: () => ({ summary: '412 tests, 0 failures, 3 skipped', measurements: { tests: 412, failures: 0, errors: 0, skipped: 3 }, thresholds: { failures: { max: 0 } } }),
      quality: () => {
        const accuracy = Math.round((0.93 + random() * 0.02) * 1e4) / 1e4;
        return {
          summary: `accuracy ${accuracy} >= 0.92; latency_p95_ms 38 <= 50; ece 0.021 <= 0.05`,
          measurements: { accuracy, latency_p95_ms: 38, ece: 0.021 },
          thresholds: { rules: ['accuracy >= 0.92', 'latency_p95_ms <= 50', 'ece <= 0.05'] },
          details: { rules: [{ rule: 'accuracy >= 0.92', ok: true }, { rule: 'latency_p95_ms <= 50', ok: true }, { rule: 'ece <= 0.05', ok: true }] },
        };
      },
      parity: () => ({ summary: 'staging and production match (2 keys ignored)', measurements: { differences: 0, compared: 41 }, thresholds: { ignore: ['replicas', 'region'] } }),
    };

    /** One release through its stages, each step one change as its use case makes it. */
    const cycle = async (n) => {
      const subject = `model-${String(Math.floor(n / perSubject)).padStart(5, '0')}`;
      const version = `1.${n % perSubject}.0`;
      const name = `${subject}@${version}`;
      const owner = ENGINEERS[n % ENGINEERS.length];
      const reviewer = ENGINEERS[(n + 1) % ENGINEERS.length];
      const risk = random() < 0.3 ? 'high' : random() < 0.5 ? 'medium' : 'low';
      const manifest = {
        subject,
        version,
        risk,
        owner,
        artifacts: [
          { name: 'model', kind: 'model', path: 'model/model.onnx', sha256: hex(64), size: 1_000_000 + Math.floor(random() * 9_000_000) },
          { name: 'train-data', kind: 'dataset', uri: `s3://ml/${subject}/train-${n}.parquet`, sha256: hex(64) },
          { name: 'code', kind: 'code', uri: `git+https://git.example/${subject}@${hex(7)}`, sha256: hex(64) },
        ],
        lineage: [{ from: ['train-data', 'code'], to: 'model', step: 'train' }],
        testedIn: ['dev'],
        dependencies: { python: '3.11', 'scikit-learn': '1.5.0' },
      };
      const digest = releaseDigest(manifest);
      const evidence = { checklist: [], signoffs: [], validations: [] };
      const history = histories.get(subject) ?? [];
      histories.set(subject, history);
      let release;

      // service/create-release.ts
      await change(async ({ tx, at, vouch }) => {
        release = { subject, version, digest, manifest, createdAt: at, createdBy: owner };
        await tx.insertRelease(
          release,
          vouch('ReleaseCreated', `user:${owner}`, { release: name, digest, risk, owner, artifacts: manifest.artifacts.map((a) => ({ name: a.name, sha256: a.sha256 })) }),
        );
      });
      // service/check.ts
      const check = (by, stage, itemId, evidenceUri) =>
        change(async ({ tx, at, vouch }) => {
          for (const gate of gatesOf(stage)) {
            for (const item of (gate.checklist ?? []).filter((i) => i.id === itemId)) {
              const att = evidenceUri ? { name: evidenceUri, uri: evidenceUri } : undefined;
              const c = { id: randomUUID(), releaseDigest: digest, stage, gateId: gate.id, itemId, itemDigest: itemDigest(gate, item), by, at, ...(att ? { evidence: att } : {}) };
              await tx.insertChecklist(
                c,
                vouch('ChecklistItemCompleted', `user:${by}`, { id: c.id, release: name, releaseDigest: digest, stage, gate: gate.id, item: itemId, itemDigest: c.itemDigest, ...(att ? { evidence: att } : {}) }),
              );
              evidence.checklist.push(c);
            }
          }
        });
      // service/validate.ts: recordValidations, one change for the stage's results
      const validate = (stage) =>
        change(async ({ tx, at, vouch }) => {
          for (const gate of gatesOf(stage)) {
            for (const def of gate.validations ?? []) {
              const inputs = Object.fromEntries(Object.values(def.with ?? {}).filter((v) => typeof v === 'string').map((v) => [v, `sha256:${hex(64)}`]));
              const r = {
                releaseDigest: digest,
                stage,
                gateId: gate.id,
                validationId: def.id,
                validator: def.uses,
                validatorVersion: '1.0.0',
                definitionDigest: validationDigest(gate, def),
                status: 'passed',
                ...OUTCOMES[def.id](),
                inputs,
                durationMs: Math.round(random() * 4000),
                id: randomUUID(),
                by: 'ci',
                at,
              };
              await tx.insertValidation(
                r,
                vouch('ValidationRecorded', 'user:ci', {
                  id: r.id,
                  release: name,
                  releaseDigest: digest,
                  stage,
                  gate: gate.id,
                  validation: def.id,
                  validator: `${r.validator}@${r.validatorVersion}`,
                  status: r.status,
                  summary: r.summary,
                  inputs,
                }),
              );
              evidence.validations.push(r);
            }
          }
        });
      // service/signoff.ts: draftSignoffs (what the signer signs) and recordSignoffs, one change
      const signoff = (signer, stage, role, decision = 'approve', comment) =>
        change(async ({ tx, at, vouch }) => {
          const evidenceDigest = evidenceSetDigest(evidence, digest, stage);
          for (const gate of gatesOf(stage).filter((g) => (g.signoffs ?? []).some((r) => r.role === role && (!r.when || risk === 'high')))) {
            const payload = signoffPayload({
              type: 'tollgate/signoff/v1',
              release: name,
              releaseDigest: digest,
              stage,
              gate: gate.id,
              gateDigest: gateDigest(gate),
              role,
              decision,
              signer,
              at,
              ...(comment !== undefined ? { comment } : {}),
              evidenceDigest,
            });
            const s = { ...payload, id: randomUUID(), signature: signSignoff(payload, keys[signer]) };
            await tx.insertSignoff(
              s,
              vouch('SignoffRecorded', `user:${signer}`, {
                id: s.id,
                release: name,
                releaseDigest: digest,
                stage,
                gate: gate.id,
                gateDigest: s.gateDigest,
                role,
                decision,
                evidenceDigest,
                signature: s.signature,
              }),
            );
            evidence.signoffs.push(s);
          }
        });
      // service/promote.ts: decided by `evaluate` on what the store would read, then recorded
      const promote = (stage) =>
        change(async ({ tx, now, at, vouch }) => {
          const decision = evaluate(policy, release, evidence, now, { stage, policyDigest: active.digest, policyVersion: active.version, history, promoter: 'dave' });
          if (!decision.promotable) throw new Error(`generator bug: ${name} is not promotable to ${stage}: ${JSON.stringify(decision.gates)}`);
          const holder = holders.get(`${subject}/${stage}`);
          const p = {
            id: randomUUID(),
            subject,
            stage,
            version,
            releaseDigest: digest,
            policyVersion: active.version,
            policyDigest: active.digest,
            kind: 'promotion',
            by: 'dave',
            at,
            ...(holder ? { previousVersion: holder.version } : {}),
          };
          await tx.insertPromotion(
            p,
            vouch('ReleasePromoted', 'user:dave', {
              id: p.id,
              release: name,
              releaseDigest: digest,
              stage,
              policy: { version: active.version, digest: active.digest },
              previous: holder?.version ?? null,
              gates: decision.gates.map((g) => ({ id: g.id, outcome: g.outcome, digest: g.digest ?? null })),
            }),
          );
          history.push(p);
          holders.set(`${subject}/${stage}`, p);
        });

      await check(owner, 'staging', 'datasets-listed', `https://wiki.example/${subject}/datasets`);
      await check(owner, 'staging', 'model-card');
      await validate('staging');
      if (random() < 1 / 15) await signoff(reviewer, 'staging', 'ml-engineer', 'reject', 'the eval set misses last month');
      await signoff(reviewer, 'staging', 'ml-engineer', 'approve', 'reviewed the eval report');
      await promote('staging');
      if (random() < 0.1) return { name, stage: 'staging' };
      await signoff(reviewer, 'production', 'ml-engineer');
      if (risk === 'high') await signoff('carol', 'production', 'security', 'approve', 'SBOM reviewed');
      await check('dave', 'production', 'rollback-plan', `https://wiki.example/${subject}/rollback`);
      await validate('production');
      await promote('production');
      return { name, stage: 'production' };
    };

    let size = (await store.auditHead()).size;
    if (writer === 'store') {
      change = (fn) => serviceChange(deps, fn);
      while (size < events) {
        await store.transaction(async (tx) => {
          open = tx;
          try {
            for (let i = 0; i < batch && (await tx.auditHead()).size < events; i++) {
              const r = await cycle(releases++);
              if (r.stage === 'production') lastProduction = r.name;
            }
          } finally {
            open = undefined;
          }
        });
        size = (await store.auditHead()).size;
        const s = Number(process.hrtime.bigint() - started) / 1e9;
        log(`${size} events, ${releases} releases, ${(size / s).toFixed(0)} events/s`);
      }
    } else {
      await store.close();
      storeOpen = false;
      const sql = await createSqlWriter(path.join(home, 'tollgate.db'), deps);
      change = sql.change;
      try {
        while (sql.size < events) {
          sql.db.exec('begin immediate');
          for (let i = 0; i < batch && sql.size < events; i++) {
            const r = await cycle(releases++);
            if (r.stage === 'production') lastProduction = r.name;
          }
          sql.db.exec('commit');
          const s = Number(process.hrtime.bigint() - started) / 1e9;
          log(`${sql.size} events, ${releases} releases, ${(sql.size / s).toFixed(0)} events/s`);
        }
        size = sql.size;
      } finally {
        sql.db.close();
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const info = { home, events: size, releases, subjects: Math.ceil(releases / perSubject), lastProduction, seconds: Math.round(seconds * 10) / 10, perSubject, seed };
    fs.writeFileSync(path.join(dir, 'generated.json'), JSON.stringify(info, null, 2) + '\n');
    return info;
  } finally {
    if (storeOpen) await store.close();
  }
}

/**
 * `--writer sql`: what `change()` of dist/service/change.js and the store's writers do, with
 * better-sqlite3's prepared statements instead of Kysely (which compiles and prepares every query
 * anew: most of the time of `--writer store`). The same encoders (`fromRelease` … `claimOf`), the
 * same event hash, Merkle nodes (`completedBy`), frontier and signed checkpoint after every change,
 * built from the product's own functions in dist/; `audit verify` checks the result like any home.
 * Only the writers the cycle uses (no blobs, tokens or webhooks, so no outbox rows).
 */
async function createSqlWriter(file, deps) {
  const [{ default: Database }, rowsMod, { eventHash, checkpointMessage }, tree, { completedBy, nodeHash }, { canonicalJson }, { signBytes }, { serverKeyId }] = await Promise.all([
    import('better-sqlite3'),
    load('store/vouched-rows.js'),
    load('audit/log.js'),
    load('audit/tree.js'),
    load('audit/merkle.js'),
    load('domain/digest.js'),
    load('domain/keys.js'),
    load('service/change.js'),
  ]);
  const { claimOf, fromChecklist, fromPromotion, fromRelease, fromSignoff, fromValidation, stageHolderOf } = rowsMod;
  const { auditLeafHash, extendFrontier, frontierRoot, signCheckpointNote } = tree;
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // A generator's crash only loses a file that is made again: no fsync per commit.
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = ON');

  const inserts = new Map();
  const insert = (table, row) => {
    const cols = Object.keys(row);
    const key = `${table}:${cols.join(',')}`;
    let stmt = inserts.get(key);
    if (!stmt) {
      stmt = db.prepare(`insert into ${table} (${cols.join(', ')}) values (${cols.map((c) => `@${c}`).join(', ')})`);
      inserts.set(key, stmt);
    }
    stmt.run(row);
  };
  const head = db.prepare('select seq, hash from audit_events order by seq desc limit 1').get();
  const last = db.prepare('select frontier_json from audit_checkpoints order by size desc, at desc limit 1').get();
  let size = head?.seq ?? 0;
  let prev = head?.hash ?? '0'.repeat(64);
  let frontier = last ? JSON.parse(last.frontier_json).map((h) => Buffer.from(h, 'hex')) : [];
  let promotions = db.prepare('select max(seq) as n from promotions').get().n ?? 0;
  const nodeAt = db.prepare('select hash from audit_nodes where level = ? and idx = ?').pluck();
  const holderUpsert = db.prepare(
    `insert into stage_holders (subject, stage, version, release_digest, promotion_id, audit_seq) values (@subject, @stage, @version, @release_digest, @promotion_id, @audit_seq)
     on conflict (subject, stage) do update set version = excluded.version, release_digest = excluded.release_digest, promotion_id = excluded.promotion_id, audit_seq = excluded.audit_seq`,
  );
  const keyId = serverKeyId(deps);

  /** store/audit-queries.ts: appendAudit */
  const appendAudit = ({ type, actor, at, data }) => {
    const dataJson = canonicalJson(data);
    const body = { seq: size + 1, at, actor, type, data: JSON.parse(dataJson), prev };
    const hash = eventHash(body);
    insert('audit_events', { seq: body.seq, at, actor, type, data_json: dataJson, prev, hash });
    const event = { ...body, hash };
    const nodes = [{ level: 0, idx: size, hash: auditLeafHash(event) }];
    for (const n of completedBy(size).slice(1)) nodes.push({ level: n.level, idx: n.index, hash: nodeHash(nodeAt.get(n.level - 1, 2 * n.index), nodes[nodes.length - 1].hash) });
    for (const n of nodes) insert('audit_nodes', n);
    size = body.seq;
    prev = hash;
    return event;
  };
  /** store/record-queries.ts: the writers the cycle uses */
  const tx = {
    async insertRelease(r, vouch) {
      const row = fromRelease(r);
      insert('releases', { ...row, audit_seq: await vouch([claimOf('releases', row)]) });
    },
    async insertChecklist(c, vouch) {
      const row = fromChecklist(c);
      insert('checklist_completions', { ...row, audit_seq: await vouch([claimOf('checklist_completions', row)]) });
    },
    async insertSignoff(s, vouch) {
      const row = fromSignoff(s);
      insert('signoffs', { ...row, audit_seq: await vouch([claimOf('signoffs', row)]) });
    },
    async insertValidation(v, vouch) {
      const row = fromValidation(v);
      insert('validation_results', { ...row, audit_seq: await vouch([claimOf('validation_results', row)]) });
    },
    async insertPromotion(p, vouch) {
      const row = fromPromotion(p, ++promotions);
      const holder = stageHolderOf(p);
      const auditSeq = await vouch([claimOf('promotions', row), claimOf('stage_holders', holder)]);
      insert('promotions', { ...row, audit_seq: auditSeq });
      holderUpsert.run({ ...holder, audit_seq: auditSeq });
    },
  };
  /** service/change.ts: change() and checkpoint() */
  const change = async (fn) => {
    const now = deps.now();
    const at = now.toISOString();
    const appended = [];
    const vouch = (type, actor, data) => async (claims) => {
      const e = appendAudit({ type, actor, at, data: { ...(typeof data === 'function' ? data(claims) : data), rows: claims } });
      appended.push(e);
      return e.seq;
    };
    const result = await fn({ tx, at, now, vouch });
    if (appended.length > 0) {
      frontier = extendFrontier(frontier, size - appended.length, appended.map(auditLeafHash));
      const root = frontierRoot(frontier);
      const body = { size, head: prev, at };
      insert('audit_checkpoints', {
        ...body,
        signature: signBytes(deps.serverKey, checkpointMessage(body)),
        key_id: keyId,
        root: root.toString('hex'),
        note: signCheckpointNote({ origin: deps.origin, size, root, at, head: prev, key: deps.serverKey }),
        frontier_json: JSON.stringify(frontier.map((h) => h.toString('hex'))),
      });
    }
    return result;
  };
  return {
    db,
    change,
    get size() {
      return size;
    },
  };
}

const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: bench-platform
roster:
ROSTER
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: inventory
    stage: staging
    checklist:
      - { id: datasets-listed, text: Validation datasets and pipelines are listed, evidence: required }
      - { id: model-card, text: The model card is written }
  - id: automated
    stage: staging
    validations:
      - { id: tests, uses: junit, with: { report: reports/junit.xml } }
      - { id: quality, uses: metrics, with: { current: eval/metrics.json, rules: ["accuracy >= 0.92", "latency_p95_ms <= 50", "ece <= 0.05"] } }
  - id: peer-review
    stage: staging
    separationOfDuties: true
    signoffs:
      - { role: ml-engineer, count: 1 }
  - id: approvals
    stage: production
    separationOfDuties: true
    expires: 168h
    signoffs:
      - { role: ml-engineer, count: 1 }
      - { role: security, count: 1, when: "release.risk in ['high', 'critical']" }
  - id: rollback-readiness
    stage: production
    checklist:
      - { id: rollback-plan, text: A rollback plan is written and rehearsed, evidence: required }
    validations:
      - { id: parity, uses: parity, with: { staging: env/staging.json, production: env/production.json, ignore: [replicas, region] } }
`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { events: { type: 'string', default: '10000' }, batch: { type: 'string', default: '200' }, 'per-subject': { type: 'string', default: '25' }, seed: { type: 'string', default: '1' }, writer: { type: 'string', default: 'sql' } },
  });
  if (positionals.length !== 1) {
    console.error('usage: node bench/state/generate.mjs DIR --events N [--batch 200] [--per-subject 25] [--seed 1] [--writer sql|store]');
    process.exit(2);
  }
  const info = await generateHome({
    dir: path.resolve(positionals[0]),
    events: Number(values.events),
    batch: Number(values.batch),
    perSubject: Number(values['per-subject']),
    seed: Number(values.seed),
    writer: values.writer,
    log: (line) => process.stderr.write(`\r${line}   `),
  });
  process.stderr.write('\n');
  console.log(JSON.stringify(info, null, 2));
}
