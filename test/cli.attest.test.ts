/**
 * Acceptance, end to end through the real binary: `tollgate attest` exports a DSSE envelope around an
 * in-toto Statement v1 describing one promotion, and `tollgate verify FILE --key PUB` checks it
 * offline. Any tampering of the bundle makes `verify` exit 4 naming what failed; `audit verify` exits
 * 4 after any edit, deletion, reordering or truncation of the log (the last one against a checkpoint
 * saved elsewhere, `--since`); a server key rotation keeps old records verifiable with the old key.
 *
 * One good state (release promoted to staging, then to production) is built once through the CLI.
 * Bundles are tampered in memory and written next to it (verify is offline); the database is tampered
 * on copies of the project. Each bundle tampering is checked twice: as is (the envelope signature
 * fails), and re-signed with the real server key (read from `<home>/server.key`), so that the deeper
 * check (policy digest, sign-off signatures, re-evaluated decision, inclusion proof, checkpoint) must
 * catch it.
 */
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify as verifySignature, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/domain/policy.js';
import { BIN, createProject, removeProjects, type Project } from './helpers/cli.js';

const REL = 'fraud-detector@2.4.0';
const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const ENVELOPE_FAILS = /^the envelope signature does not verify with the given server key$/;

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

let p: Project; // fraud-detector@2.4.0 promoted to staging, then production
let serverPub: string; // `keys show --server`
let serverKey: KeyObject; // the server's private key, for re-signing tampered bundles
let envelope: Envelope; // `attest REL --stage production -o att.json`
let stdoutEnvelope: string; // `attest REL --stage production` (no -o)
let stagingEnvelope: Envelope;
let savedCheckpoint: string; // `audit checkpoint` right after the production promotion
let auditEvents: { seq: number; type: string; data_json: string }[];

// ---------------------------------------------------------------------------------------------------
// Running the binary. Like helpers/cli.ts `run`, but asynchronous so independent checks run side by side.

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  json(): any;
}

function runAsync(project: Project, args: readonly string[]): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: project.home };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DEBUG']) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: project.dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`tollgate ${args.join(' ')}: stdout is not JSON (exit ${code})\nstdout: ${stdout}\nstderr: ${stderr}`);
          }
        },
      });
    });
  });
}

/** Runs one step of the setup; throws with the output unless it exits 0. */
function must(project: Project, args: readonly string[]): string {
  const r = project.run(args);
  if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

let fileNo = 0;

/** Writes a bundle (an envelope or raw text) into the project and runs `verify --json` on it. */
async function verify(bundle: Envelope | string, key: string = serverPub, project: Project = p): Promise<{ code: number; out: any }> {
  const rel = `bundles/b${++fileNo}.json`;
  project.write(rel, typeof bundle === 'string' ? bundle : JSON.stringify(bundle, null, 2));
  const r = await runAsync(project, ['verify', rel, '--key', key, '--json']);
  return { code: r.code, out: r.json() };
}

// ---------------------------------------------------------------------------------------------------
// Bundles, by hand: the payload, DSSE's PAE, signed notes.

function statementOf(env: Envelope): any {
  return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
}

/** DSSE v1 Pre-Authentication Encoding, written out from the spec. */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `, 'utf8'), body]);
}

/** The envelope with another payload: the original signature kept (plain), or signed anew with `key`. */
function withPayload(env: Envelope, body: Buffer, key?: KeyObject): Envelope {
  return {
    payloadType: env.payloadType,
    payload: body.toString('base64'),
    signatures: key ? [{ keyid: env.signatures[0]!.keyid, sig: sign(null, pae(env.payloadType, body), key).toString('base64') }] : env.signatures,
  };
}

/** A signed note (c2sp.org/signed-note) of `body` under `name`, by an Ed25519 key. */
function signNoteByHand(body: string, name: string, key: KeyObject): string {
  const raw = Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
  const keyHash = createHash('sha256').update(`${name}\n`).update(Buffer.of(0x01)).update(raw).digest().subarray(0, 4);
  const sig = sign(null, Buffer.from(body, 'utf8'), key);
  return `${body}\n\u2014 ${name} ${Buffer.concat([keyHash, sig]).toString('base64')}\n`;
}

const freshKey = () => generateKeyPairSync('ed25519').privateKey;
/** The `ed25519:` + base64 SPKI DER form Tollgate prints and takes. */
const publicKeyText = (k: KeyObject) => `ed25519:${createPublicKey(k).export({ format: 'der', type: 'spki' }).toString('base64')}`;

/** Changes one hex digit of a hex string at index i. */
const flipHex = (h: string, i = 0) => h.slice(0, i) + (h[i] === '0' ? '1' : '0') + h.slice(i + 1);

// ---------------------------------------------------------------------------------------------------

afterAll(() => removeProjects());

beforeAll(async () => {
  p = createProject();
  must(p, ['release', 'create', 'release.yaml', '--as', 'alice']);
  // staging: checklist, validations, a peer review by bob; dave promotes
  must(p, ['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']);
  must(p, ['check', REL, 'model-card', '--to', 'staging', '--as', 'alice']);
  must(p, ['validate', REL, '--to', 'staging', '--as', 'ci']);
  must(p, ['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob', '--comment', 'reviewed the eval report']);
  must(p, ['promote', REL, '--to', 'staging', '--as', 'dave']);
  // production: bob (ml-engineer) and carol (security, the release is high risk), rollback readiness, parity
  must(p, ['signoff', REL, '--to', 'production', '--role', 'ml-engineer', '--as', 'bob']);
  must(p, ['signoff', REL, '--to', 'production', '--role', 'security', '--as', 'carol', '--comment', 'SBOM reviewed']);
  must(p, ['check', REL, 'rollback-plan', '--to', 'production', '--evidence', 'docs/rollback-plan.md', '--as', 'dave']);
  must(p, ['check', REL, 'alerts-tested', '--to', 'production', '--as', 'dave', '--note', 'paged the on-call']);
  must(p, ['validate', REL, '--to', 'production', '--as', 'ci']);
  must(p, ['promote', REL, '--to', 'production', '--as', 'dave']);

  const [att, out, staging, pub, cp] = await Promise.all([
    runAsync(p, ['attest', REL, '--stage', 'production', '-o', 'att.json', '--json']),
    runAsync(p, ['attest', REL, '--stage', 'production']),
    runAsync(p, ['attest', REL, '--stage', 'staging', '-o', 'att-staging.json']),
    runAsync(p, ['keys', 'show', '--server']),
    runAsync(p, ['audit', 'checkpoint']),
  ]);
  for (const r of [att, out, staging, pub, cp]) if (r.code !== 0) throw new Error(`setup failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  expect(att.json()).toEqual({ release: REL, stage: 'production', file: path.join(p.dir, 'att.json') });
  envelope = JSON.parse(p.read('att.json'));
  stagingEnvelope = JSON.parse(p.read('att-staging.json'));
  stdoutEnvelope = out.stdout;
  serverPub = pub.stdout.trim();
  savedCheckpoint = cp.stdout;
  p.write('saved-checkpoint.txt', savedCheckpoint);
  serverKey = createPrivateKey(fs.readFileSync(path.join(p.home, 'server.key'), 'utf8'));
  const db = p.openDb();
  try {
    auditEvents = db.prepare('SELECT seq, type, data_json FROM audit_events ORDER BY seq').all() as typeof auditEvents;
  } finally {
    db.close();
  }
}, 120_000);

// ---------------------------------------------------------------------------------------------------

describe('attest and verify a promotion', () => {
  it('the setup is what the checks below assume: the promotion is the last of 17 events, and the server key is the one in server.key', () => {
    expect(serverPub).toMatch(/^ed25519:[A-Za-z0-9+/]+=*$/);
    expect(publicKeyText(serverKey)).toBe(serverPub);
    expect(auditEvents.length).toBe(17);
    expect(auditEvents.at(-1)!.type).toBe('ReleasePromoted');
    expect(auditEvents.filter((e) => e.type === 'ReleasePromoted').length).toBe(2);
  });

  it('attest without -o prints the same envelope to stdout; it is DSSE with an in-toto payload', () => {
    expect(JSON.parse(stdoutEnvelope)).toEqual(envelope);
    expect(Object.keys(envelope).sort()).toEqual(['payload', 'payloadType', 'signatures']);
    expect(envelope.payloadType).toBe(PAYLOAD_TYPE);
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]!.keyid).toEqual(expect.any(String));
    expect(Buffer.from(envelope.signatures[0]!.sig, 'base64')).toHaveLength(64);
  });

  it('the DSSE signature verifies with node:crypto alone over PAE(payloadType, payload)', () => {
    const body = Buffer.from(envelope.payload, 'base64');
    const pub = createPublicKey({ key: Buffer.from(serverPub.slice('ed25519:'.length), 'base64'), format: 'der', type: 'spki' });
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    expect(verifySignature(null, pae(PAYLOAD_TYPE, body), pub, sig)).toBe(true);
    expect(verifySignature(null, pae('application/json', body), pub, sig)).toBe(false);
  });

  it('the statement is in-toto v1: subjects are the release artifacts with sha256 digests, and the predicate carries policy, decision, evidence, lineage and log', () => {
    const st = statementOf(envelope);
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toEqual(expect.any(String));
    const manifest = p.read('release.yaml');
    expect(st.subject.map((s: any) => s.name)).toEqual(['model', 'train-data', 'code']);
    for (const s of st.subject) expect(s.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    // the model's digest is the sha256 of the file; the others are the manifest's
    const model = fs.readFileSync(path.join(p.dir, 'model/model.onnx'));
    expect(st.subject[0].digest.sha256).toBe(createHash('sha256').update(model).digest('hex'));
    expect(manifest).toContain(st.subject[1].digest.sha256.slice(0, 4));

    const pr = st.predicate;
    expect(pr.release.name).toBe(REL);
    expect(pr.release.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pr.stage).toBe('production');
    expect(pr.policy).toMatchObject({ name: 'fraud-platform', version: 1, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(pr.policy.source).toBe(p.read('tollgate.yaml'));
    expect(pr.decision.promotable).toBe(true);
    expect(pr.decision.gates.map((g: any) => [g.id, g.outcome])).toEqual([
      ['stage', 'satisfied'],
      ['approvals', 'satisfied'],
      ['rollback-readiness', 'satisfied'],
    ]);
    expect(pr.evidence.signoffs.map((s: any) => [s.stage, s.role, s.signer])).toEqual([
      ['staging', 'ml-engineer', 'bob'],
      ['production', 'ml-engineer', 'bob'],
      ['production', 'security', 'carol'],
    ]);
    for (const s of pr.evidence.signoffs) expect(Buffer.from(s.signature, 'base64')).toHaveLength(64);
    expect(pr.evidence.checklist.map((c: any) => [c.stage, c.itemId])).toEqual([
      ['staging', 'datasets-listed'],
      ['staging', 'model-card'],
      ['production', 'rollback-plan'],
      ['production', 'alerts-tested'],
    ]);
    expect(pr.evidence.checklist[0].evidence.digest).toBe(`sha256:${createHash('sha256').update(fs.readFileSync(path.join(p.dir, 'data/datasets.md'))).digest('hex')}`);
    expect(pr.evidence.validations.map((v: any) => v.validationId).sort()).toEqual(['contract', 'drift', 'parity', 'quality', 'security', 'tests']);
    expect(pr.lineage).toEqual([{ from: ['train-data', 'code'], to: 'model', step: 'train' }]);
    expect(pr.promotion).toMatchObject({ stage: 'production', by: 'dave', releaseDigest: pr.release.digest });
    expect(pr.history.map((h: any) => [h.stage, h.kind])).toEqual([['staging', 'promotion']]);
    expect(pr.log.event).toMatchObject({ seq: 17, type: 'ReleasePromoted', actor: 'user:dave' });
    expect(pr.log).toMatchObject({ leafIndex: 16, treeSize: 17 });
    for (const h of pr.log.inclusionProof) expect(h).toMatch(/^[0-9a-f]{64}$/);
    // the checkpoint in the bundle is the one `audit checkpoint` printed after the promotion
    expect(pr.log.checkpoint.trimEnd()).toBe(savedCheckpoint.trimEnd());
    expect(pr.log.checkpoint).toMatch(/\n17\n[A-Za-z0-9+/]{43}=\n[^]*\n\n\u2014 tollgate-server [A-Za-z0-9+/]+=*\n$/);
  });

  it('verify passes (exit 0) and names every check that held', async () => {
    const { code, out } = await verify(envelope);
    expect(code).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.failure).toBeUndefined();
    const checked = (out.checked as string[]).join('\n');
    expect(out.checked.length).toBeGreaterThanOrEqual(6);
    expect(checked).toMatch(/envelope signature/i);
    expect(checked).toMatch(/policy fraud-platform v1 \(sha256:[0-9a-f]{64}\)/);
    expect(checked).toMatch(/3 sign-off signatures/);
    expect(checked).toMatch(/decision re-evaluated/);
    expect(checked).toMatch(/inclusion proof of event 17/);
    expect(checked).toMatch(/checkpoint signed by the server key/);
  });

  it('--key also takes a file holding the key; the plain output lists the checks and ends with "verified:"', async () => {
    p.write('server.pub', serverPub + '\n');
    const r = await runAsync(p, ['verify', 'att.json', '--key', 'server.pub']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✔ envelope signature/);
    expect(r.stdout).toMatch(/\nverified: att\.json\n?$/);
  });

  it('the attestation of the earlier staging promotion verifies too (an inclusion proof deeper in the tree)', async () => {
    const st = statementOf(stagingEnvelope);
    expect(st.predicate.stage).toBe('staging');
    expect(st.predicate.log.event.seq).toBeLessThan(17);
    expect(st.predicate.log.inclusionProof.length).toBeGreaterThan(1);
    const { code, out } = await verify(stagingEnvelope);
    expect(code).toBe(0);
    expect(out.ok).toBe(true);
  });

  it('verify with the key of another server (a fresh `keys create`) exits 4 at the envelope signature', async () => {
    const q = p.clone();
    const other = (await runAsync(q, ['keys', 'create', 'x', '--json'])).json().publicKey as string;
    expect(other).toMatch(/^ed25519:/);
    expect(other).not.toBe(serverPub);
    const { code, out } = await verify(envelope, other);
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.checked).toEqual([]);
    expect(out.failure).toMatch(ENVELOPE_FAILS);
  });
});

// ---------------------------------------------------------------------------------------------------

describe.concurrent('verify exits 4 on a tampered bundle', () => {
  it('one character of the payload JSON changed (still valid JSON, same length)', async () => {
    const text = Buffer.from(envelope.payload, 'base64').toString('utf8');
    const at = text.indexOf('no freeze window is open for production');
    expect(at).toBeGreaterThan(0);
    const edited = text.slice(0, at) + 'No' + text.slice(at + 2);
    expect(() => JSON.parse(edited)).not.toThrow();
    expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(text));
    const { code, out } = await verify(withPayload(envelope, Buffer.from(edited, 'utf8')));
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.failure).toMatch(ENVELOPE_FAILS);
  });

  it('one character of the release name changed in the payload', async () => {
    const text = Buffer.from(envelope.payload, 'base64').toString('utf8');
    const edited = text.replace(`"name":"${REL}"`, `"name":"fraud-detector@2.4.1"`);
    expect(edited).not.toBe(text);
    const { code, out } = await verify(withPayload(envelope, Buffer.from(edited, 'utf8')));
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.failure).toMatch(ENVELOPE_FAILS);
  });

  it('one character of the base64 payload flipped', async () => {
    const i = Math.floor(envelope.payload.length / 2);
    const c = envelope.payload[i]!;
    const payload = envelope.payload.slice(0, i) + (c === 'A' ? 'B' : 'A') + envelope.payload.slice(i + 1);
    const { code, out } = await verify({ ...envelope, payload });
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.failure).toMatch(ENVELOPE_FAILS);
  });

  it('one bit of the envelope signature flipped', async () => {
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    sig[10] = sig[10]! ^ 0x01;
    const { code, out } = await verify({ ...envelope, signatures: [{ ...envelope.signatures[0]!, sig: sig.toString('base64') }] });
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.failure).toMatch(ENVELOPE_FAILS);
  });

  interface Tampering {
    name: string;
    edit: (st: any) => void;
    /** What the deeper check says once the envelope is re-signed with the server key. */
    deeper: RegExp;
  }

  const signoff = (st: any, stage: string, signer: string) => st.predicate.evidence.signoffs.find((s: any) => s.stage === stage && s.signer === signer);
  const requirement = (st: any, gate: string, id: string) => st.predicate.decision.gates.find((g: any) => g.id === gate).requirements.find((r: any) => r.id === id);
  const editPolicy = (st: any, from: string | RegExp, to: string) => {
    const before = st.predicate.policy.source as string;
    st.predicate.policy.source = before.replace(from, to);
    expect(st.predicate.policy.source).not.toBe(before);
  };
  /** The digest Tollgate gives a policy text (what an attacker would recompute). */
  const digestOfPolicy = (source: string) => parsePolicy(source, 'policy').digest;

  const tamperings: Tampering[] = [
    {
      name: "bob's production sign-off removed from the evidence",
      edit: (st) => {
        const list = st.predicate.evidence.signoffs;
        st.predicate.evidence.signoffs = list.filter((s: any) => s !== signoff(st, 'production', 'bob'));
        expect(st.predicate.evidence.signoffs).toHaveLength(list.length - 1);
      },
      deeper: /^re-evaluated from the evidence in the bundle, fraud-detector@2\.4\.0 was not promotable to production: approvals\/signoff:ml-engineer missing$/,
    },
    {
      name: "bob's production sign-off signature swapped for carol's",
      edit: (st) => {
        signoff(st, 'production', 'bob').signature = signoff(st, 'production', 'carol').signature;
      },
      deeper: /^the sign-off by bob as ml-engineer \(gate approvals\) does not verify against bob's key in the policy$/,
    },
    {
      name: "a requirement's outcome flipped in the decision (approvals/signoff:security satisfied → missing)",
      edit: (st) => {
        requirement(st, 'approvals', 'signoff:security').outcome = 'missing';
      },
      deeper: /^the recorded decision does not match the re-evaluation \(approvals\/signoff:security: satisfied\)$/,
    },
    {
      name: "a gate's outcome flipped in the decision (rollback-readiness satisfied → failed)",
      edit: (st) => {
        st.predicate.decision.gates.find((g: any) => g.id === 'rollback-readiness').outcome = 'failed';
      },
      deeper: /^the recorded decision does not match the re-evaluation \(rollback-readiness: satisfied\)$/,
    },
    {
      name: 'the policy text edited (security role given to dave), digest left as it was',
      edit: (st) => editPolicy(st, 'dave:  { roles: [release-manager, admin]', 'dave:  { roles: [release-manager, admin, security]'),
      deeper: /^the policy text has digest sha256:[0-9a-f]{64}, but the bundle says sha256:[0-9a-f]{64}: the policy was edited$/,
    },
    {
      name: "the policy text edited (carol's role security → ml-engineer, dave made security) and its digest recomputed",
      edit: (st) => {
        editPolicy(st, 'carol: { roles: [security]', 'carol: { roles: [ml-engineer]');
        editPolicy(st, 'dave:  { roles: [release-manager, admin]', 'dave:  { roles: [release-manager, admin, security]');
        st.predicate.policy.digest = digestOfPolicy(st.predicate.policy.source);
      },
      deeper: /was not promotable to production: approvals\/signoff:security missing$/,
    },
    {
      name: 'the policy text edited (production ml-engineer sign-offs: count 1 → 2) and its digest recomputed',
      edit: (st) => {
        editPolicy(st, '- { role: ml-engineer, count: 1 }\n      - { role: security', '- { role: ml-engineer, count: 2 }\n      - { role: security');
        st.predicate.policy.digest = digestOfPolicy(st.predicate.policy.source);
      },
      // the gate's definition changed, so the sign-offs bound to the old one are stale
      deeper: /was not promotable to production: approvals\/signoff:ml-engineer stale/,
    },
    {
      name: "carol's roster key replaced by a fresh key and the policy digest recomputed",
      edit: (st) => {
        editPolicy(st, /(carol: \{ roles: \[security\], key: ")[^"]+/, `$1${publicKeyText(freshKey())}`);
        st.predicate.policy.digest = digestOfPolicy(st.predicate.policy.source);
      },
      deeper: /^the sign-off by carol as security \(gate approvals\) does not verify against carol's key in the policy$/,
    },
    {
      name: 'one hex digit of one inclusion proof element changed',
      edit: (st) => {
        st.predicate.log.inclusionProof[0] = flipHex(st.predicate.log.inclusionProof[0], 7);
      },
      deeper: /^the inclusion proof does not lead from event 17 to the checkpoint's root$/,
    },
    {
      name: 'the leafIndex changed',
      edit: (st) => {
        st.predicate.log.leafIndex = 15;
      },
      deeper: /^the inclusion proof does not lead from event 17 to the checkpoint's root$/,
    },
    {
      name: 'the promotion event in the log part edited',
      edit: (st) => {
        st.predicate.log.event.actor = 'user:bob';
      },
      deeper: /^the promotion event in the bundle does not match its own hash$/,
    },
    {
      name: 'the checkpoint replaced by the same body signed by a fresh key under the name tollgate-server',
      edit: (st) => {
        const note = st.predicate.log.checkpoint as string;
        const body = note.slice(0, note.lastIndexOf('\n\n') + 1);
        expect(body).toMatch(/\n17\n/);
        st.predicate.log.checkpoint = signNoteByHand(body, 'tollgate-server', freshKey());
        expect(st.predicate.log.checkpoint).not.toBe(note);
        expect(st.predicate.log.checkpoint.startsWith(body + '\n\u2014 tollgate-server ')).toBe(true);
      },
      deeper: /^the checkpoint does not verify with the given server key: no signature is by a trusted key/,
    },
    {
      name: "the checkpoint's root hash changed (signature kept)",
      edit: (st) => {
        const note = st.predicate.log.checkpoint as string;
        const lines = note.split('\n');
        const root = Buffer.from(lines[2]!, 'base64');
        root[0] = root[0]! ^ 0x01;
        lines[2] = root.toString('base64');
        st.predicate.log.checkpoint = lines.join('\n');
      },
      deeper: /^the checkpoint does not verify with the given server key: the signature by tollgate-server\+[0-9a-f]{8} does not verify/,
    },
    {
      name: 'a subject digest changed',
      edit: (st) => {
        st.subject[0].digest.sha256 = flipHex(st.subject[0].digest.sha256);
      },
      deeper: /^the statement subjects are not the release artifacts with their sha256 digests$/,
    },
    {
      name: 'a carried input file (eval/metrics.json, as validate copied it) edited',
      edit: (st) => {
        const files = st.predicate.files as Record<string, string>;
        const [digest, content] = Object.entries(files).find(([, c]) => Buffer.from(c, 'base64').toString('utf8').includes('latency_p95_ms'))!;
        files[digest] = Buffer.from(Buffer.from(content, 'base64').toString('utf8').replace('"latency_p95_ms": 41', '"latency_p95_ms": 4')).toString('base64');
      },
      deeper: /^the file carried as sha256:[0-9a-f]{64} does not have that digest$/,
    },
    {
      name: 'a file added to the bundle that no evidence names',
      edit: (st) => {
        const extra = Buffer.from('a better model card');
        st.predicate.files[`sha256:${createHash('sha256').update(extra).digest('hex')}`] = extra.toString('base64');
      },
      deeper: /^the file sha256:[0-9a-f]{64} is not named by any evidence in the bundle$/,
    },
  ];

  /** The re-signed form must be accepted by the envelope check, so the deeper check is what fails. */
  it('control: the untouched statement re-signed by hand with the server key verifies (exit 0)', async () => {
    const body = Buffer.from(envelope.payload, 'base64');
    const resigned = withPayload(envelope, Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))), 'utf8'), serverKey);
    const { code, out } = await verify(resigned);
    expect(code).toBe(0);
    expect(out.ok).toBe(true);
  });

  for (const t of tamperings) {
    it(`${t.name}: exit 4 at the envelope signature; re-signed with the server key, exit 4 at the deeper check`, async () => {
      const st = statementOf(envelope);
      t.edit(st);
      const body = Buffer.from(JSON.stringify(st), 'utf8');
      const [plain, resigned] = await Promise.all([verify(withPayload(envelope, body)), verify(withPayload(envelope, body, serverKey))]);
      expect(plain.code).toBe(4);
      expect(plain.out.ok).toBe(false);
      expect(plain.out.failure).toMatch(ENVELOPE_FAILS);
      expect(resigned.code).toBe(4);
      expect(resigned.out.ok).toBe(false);
      expect(resigned.out.failure).toMatch(t.deeper);
      // the envelope itself was accepted: the failure is the deeper check's
      expect(resigned.out.checked[0]).toMatch(/envelope signature/i);
    });
  }

  it('the staging attestation with one hex digit of a deep inclusion proof element changed, re-signed: exit 4', async () => {
    const st = statementOf(stagingEnvelope);
    const proof = st.predicate.log.inclusionProof as string[];
    proof[proof.length - 1] = flipHex(proof[proof.length - 1]!, 63);
    const { code, out } = await verify(withPayload(stagingEnvelope, Buffer.from(JSON.stringify(st), 'utf8'), serverKey));
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.failure).toMatch(new RegExp(`^the inclusion proof does not lead from event ${st.predicate.log.event.seq} to the checkpoint's root$`));
  });
});

/**
 * Re-signed with the server key, the bundle still claims things that the logged promotion event (hash-
 * linked, under the signed checkpoint, and so witnessable with `audit verify --since`) contradicts.
 * The verifier does not compare them today: see the report.
 */
describe.concurrent('verify binds the bundle to the logged promotion event', () => {
  it('a policy edited without changing any outcome (the freeze window moved), its digest recomputed and re-signed: exit 4', async () => {
    const st = statementOf(envelope);
    const logged = st.predicate.log.event.data.policy.digest;
    expect(logged).toBe(st.predicate.policy.digest);
    st.predicate.policy.source = st.predicate.policy.source.replaceAll('2030-12-2', '2031-12-2');
    st.predicate.policy.digest = parsePolicy(st.predicate.policy.source, 'policy').digest;
    expect(st.predicate.policy.digest).not.toBe(logged);
    const { code, out } = await verify(withPayload(envelope, Buffer.from(JSON.stringify(st), 'utf8'), serverKey));
    expect(out.ok).toBe(false);
    expect(code).toBe(4);
  });

  it('the release name changed (the manifest and the logged event say fraud-detector@2.4.0), re-signed: exit 4', async () => {
    const st = statementOf(envelope);
    expect(st.predicate.log.event.data.release).toBe(REL);
    st.predicate.release.name = 'fraud-detector@9.9.9';
    const { code, out } = await verify(withPayload(envelope, Buffer.from(JSON.stringify(st), 'utf8'), serverKey));
    expect(out.ok).toBe(false);
    expect(code).toBe(4);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('verify: bad input', () => {
  it('a file that is not JSON: exit 4 with TG_VERIFY_FAILED', async () => {
    p.write('not-json.txt', 'this is not an attestation\n');
    const r = await runAsync(p, ['verify', 'not-json.txt', '--key', serverPub, '--json']);
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe('TG_VERIFY_FAILED');
    expect(r.json().error.message).toMatch(/not-json\.txt is not JSON/);
  });

  it('JSON that is not a DSSE envelope: exit 4 with ok false', async () => {
    const { code, out } = await verify('{"hello": "world"}');
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.failure).toMatch(/not a DSSE envelope/);
  });

  it('a malformed --key: exit 2 TG_KEY_INVALID (and nothing verified)', async () => {
    // a key that is cut short, and a key file that holds something else (`--key` takes either)
    p.write('not-a-key.pub', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n');
    const [short, file] = await Promise.all([
      runAsync(p, ['verify', 'att.json', '--key', serverPub.slice(0, 20), '--json']),
      runAsync(p, ['verify', 'att.json', '--key', 'not-a-key.pub', '--json']),
    ]);
    for (const r of [short, file]) {
      expect(r.code, r.stdout).toBe(2);
      expect(r.json().error.code, r.stdout).toBe('TG_KEY_INVALID');
      expect(r.json().ok).toBeUndefined();
    }
  });

  it('a missing bundle file: exit 2 TG_FILE_NOT_FOUND', async () => {
    const r = await runAsync(p, ['verify', 'nope.json', '--key', serverPub, '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_FILE_NOT_FOUND');
  });
});

// ---------------------------------------------------------------------------------------------------

type Db = import('better-sqlite3').Database;

function tampered(fn: (db: Db) => void): Project {
  const copy = p.clone();
  const db = copy.openDb();
  try {
    fn(db);
  } finally {
    db.close();
  }
  return copy;
}

/**
 * Cuts the log back to its first `size` events as a careful forger would, leaving nothing the database
 * alone can catch: the events after it, their checkpoints, the stored Merkle subtrees that reach past
 * it, and the rows those events vouch for.
 */
function truncateConsistently(db: Db, size: number): void {
  db.prepare('DELETE FROM audit_events WHERE seq > ?').run(size);
  db.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(size);
  db.prepare('DELETE FROM audit_nodes WHERE (idx + 1) * (1 << level) > ?').run(size);
  // Those holding foreign keys first. (A stage holder that replaced another would need the old row
  // put back too; the events cut here made no such change.)
  for (const table of ['incidents', 'stage_holds', 'stage_holders', 'promotions', 'checklist_completions', 'signoffs', 'validation_results', 'releases', 'policies', 'api_tokens', 'webhooks']) {
    db.prepare(`DELETE FROM ${table} WHERE audit_seq > ?`).run(size);
  }
}

async function auditVerify(project: Project, ...extra: string[]): Promise<{ code: number; out: any }> {
  const r = await runAsync(project, ['audit', 'verify', '--json', ...extra]);
  return { code: r.code, out: r.json() };
}

describe.concurrent('audit verify detects tampering of the log', () => {
  it('an event edited (data_json): exit 4 naming it', async () => {
    const e = auditEvents[4]!;
    const copy = tampered((db) => {
      const data = JSON.parse(e.data_json);
      expect(db.prepare('UPDATE audit_events SET data_json = ? WHERE seq = ?').run(JSON.stringify({ ...data, note: 'edited' }), e.seq).changes).toBe(1);
    });
    const { code, out } = await auditVerify(copy);
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.firstBad.seq).toBe(e.seq);
    expect(out.firstBad.reason).toMatch(new RegExp(`event ${e.seq} \\(${e.type}\\) was changed`));
  });

  it('an event deleted: exit 4 naming it', async () => {
    const copy = tampered((db) => expect(db.prepare('DELETE FROM audit_events WHERE seq = 6').run().changes).toBe(1));
    const { code, out } = await auditVerify(copy);
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.firstBad.seq).toBe(6);
    expect(out.firstBad.reason).toMatch(/event 6 is missing/);
  });

  it('two events swapped (their contents exchanged, seq kept): exit 4 at the first', async () => {
    expect(auditEvents[1]!.type).toBe('ReleaseCreated');
    expect(auditEvents[2]!.type).toBe('ChecklistItemCompleted');
    const copy = tampered((db) => {
      const cols = 'at, actor, type, data_json, prev, hash';
      const a = db.prepare(`SELECT ${cols} FROM audit_events WHERE seq = 2`).get() as Record<string, unknown>;
      const b = db.prepare(`SELECT ${cols} FROM audit_events WHERE seq = 3`).get() as Record<string, unknown>;
      const put = db.prepare('UPDATE audit_events SET at = @at, actor = @actor, type = @type, data_json = @data_json, prev = @prev, hash = @hash WHERE seq = @seq');
      put.run({ ...b, seq: 2 });
      put.run({ ...a, seq: 3 });
    });
    const { code, out } = await auditVerify(copy);
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.firstBad.seq).toBe(2);
    expect(out.firstBad.reason).toMatch(/event 2 \(ChecklistItemCompleted\) was changed/);
  });

});

describe.concurrent('audit verify --since a checkpoint saved elsewhere', () => {
  it('the saved checkpoint is the signed note of the 17-event log', () => {
    expect(savedCheckpoint).toMatch(/^tollgate\/[0-9a-f]+\n17\n[A-Za-z0-9+/]{43}=\ntime [^\n]+\nhead [0-9a-f]{64}\n\n\u2014 tollgate-server [A-Za-z0-9+/]+=*\n?$/);
  });

  it('the untouched log extends it (exit 0); after another change it still does', async () => {
    const q = p.clone();
    const before = await auditVerify(q, '--since', 'saved-checkpoint.txt');
    expect(before.code).toBe(0);
    expect(before.out.ok).toBe(true);
    expect(before.out.firstBad).toBeUndefined();
    expect(before.out.events).toBe(17);
    expect(savedCheckpoint).toContain(`\nhead ${before.out.head}\n`);
    expect(before.out.since?.size).toBe(17);
    expect((await runAsync(q, ['check', REL, 'alerts-tested', '--to', 'production', '--as', 'dave', '--note', 'paged again'])).code).toBe(0);
    const after = await auditVerify(q, '--since', 'saved-checkpoint.txt');
    expect(after.code).toBe(0);
    expect(after.out.ok).toBe(true);
    expect(after.out.events).toBe(18);
    expect(after.out.since?.size).toBe(17);
  });

  it('the log truncated below it, with the newer checkpoints deleted too (self-consistent): exit 4, truncated', async () => {
    const copy = tampered((db) => {
      expect((db.prepare('SELECT count(*) AS n FROM audit_events WHERE seq > 14').get() as { n: number }).n).toBe(3);
      truncateConsistently(db, 14);
    });
    // Precondition: the tampering leaves nothing the database alone can catch; only the saved checkpoint can.
    const alone = await auditVerify(copy);
    expect(alone.code).toBe(0);
    expect(alone.out.events).toBe(14);
    const { code, out } = await auditVerify(copy, '--since', 'saved-checkpoint.txt');
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.firstBad.seq).toBe(15);
    expect(out.firstBad.reason).toMatch(/truncated/);
    expect(out.firstBad.reason).toMatch(/14 events, fewer than the 17/);
  });

  it('the log truncated and then grown past it again (a fork): exit 4, does not extend', async () => {
    const copy = tampered((db) => {
      expect((db.prepare('SELECT count(*) AS n FROM audit_events WHERE seq > 16').get() as { n: number }).n).toBe(1);
      truncateConsistently(db, 16);
    });
    for (const note of ['forked 1', 'forked 2']) {
      const r = await runAsync(copy, ['check', REL, 'alerts-tested', '--to', 'production', '--as', 'dave', '--note', note]);
      expect(r.code, r.stderr).toBe(0);
    }
    const { code, out } = await auditVerify(copy, '--since', 'saved-checkpoint.txt');
    expect(out.events).toBe(18);
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.firstBad.reason).toMatch(/does not extend the saved checkpoint \(size 17\)/);
  });

  it('a checkpoint from another Tollgate home is refused: exit 4', async () => {
    const q = p.clone();
    const body = savedCheckpoint.slice(0, savedCheckpoint.lastIndexOf('\n\n') + 1);
    q.write('foreign-checkpoint.txt', signNoteByHand(body, 'tollgate-server', freshKey()));
    const { code, out } = await auditVerify(q, '--since', 'foreign-checkpoint.txt');
    expect(code).toBe(4);
    expect(out.ok).toBe(false);
    expect(out.firstBad.reason).toMatch(/not signed by any of the server keys/);
  });

  it('a file that is not a checkpoint at all is bad input: exit 2, TG_USAGE, not "BROKEN at event 0"', async () => {
    const q = p.clone();
    const { code, out } = await auditVerify(q, '--since', 'tollgate.yaml');
    expect(code).toBe(2);
    expect(out.error.code).toBe('TG_USAGE');
    expect(out.error.message).toMatch(/--since: the file is not a checkpoint/);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('server key rotation', () => {
  let r: Project;
  let newPub: string;
  let rotated: any;

  beforeAll(async () => {
    r = p.clone();
    r.write('att-before.json', JSON.stringify(envelope));
    const out = await runAsync(r, ['keys', 'rotate', '--server', '--as', 'dave', '--json']);
    if (out.code !== 0) throw new Error(`keys rotate failed: ${out.stdout}${out.stderr}`);
    rotated = out.json();
    newPub = (await runAsync(r, ['keys', 'show', '--server'])).stdout.trim();
  }, 60_000);

  it('rotate prints the old and the new public key; keys show --server now prints the new one', () => {
    expect(rotated.previous).toBe(serverPub);
    expect(rotated.next).toBe(newPub);
    expect(newPub).toMatch(/^ed25519:/);
    expect(newPub).not.toBe(serverPub);
  });

  it('audit verify still passes (exit 0), with the rotation recorded as an event', async () => {
    const { code, out } = await auditVerify(r);
    expect(code).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.events).toBe(18);
    const db = r.openDb();
    try {
      const last = db.prepare('SELECT type, data_json FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { type: string; data_json: string };
      expect(last.type).toBe('ServerKeyRotated');
      expect(JSON.parse(last.data_json)).toMatchObject({ previous: serverPub, next: newPub });
    } finally {
      db.close();
    }
  });

  it('a checkpoint saved before the rotation still passes audit verify --since (exit 0)', async () => {
    const { code, out } = await auditVerify(r, '--since', 'saved-checkpoint.txt');
    expect(code).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.since?.size).toBe(17);
  });

  it('the attestation made before the rotation verifies with the old key, not with the new one', async () => {
    const [old, fresh] = await Promise.all([verify(envelope, serverPub, r), verify(envelope, newPub, r)]);
    expect(old.code).toBe(0);
    expect(old.out.ok).toBe(true);
    expect(fresh.code).toBe(4);
    expect(fresh.out.ok).toBe(false);
    expect(fresh.out.failure).toMatch(ENVELOPE_FAILS);
  });

  it('a new attestation verifies with the new key, not with the old one', async () => {
    const a = await runAsync(r, ['attest', REL, '--stage', 'production', '-o', 'att-after.json']);
    expect(a.code, a.stderr).toBe(0);
    const after = JSON.parse(r.read('att-after.json')) as Envelope;
    expect(after.payload).not.toBe(envelope.payload);
    const [fresh, old] = await Promise.all([verify(after, newPub, r), verify(after, serverPub, r)]);
    expect(fresh.code).toBe(0);
    expect(fresh.out.ok).toBe(true);
    expect(old.code).toBe(4);
    expect(old.out.ok).toBe(false);
    expect(old.out.failure).toMatch(ENVELOPE_FAILS);
  });
});
