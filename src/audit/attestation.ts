/**
 * The attestation of one promotion: a DSSE envelope around an in-toto Statement v1 whose subjects are
 * the release's artifacts and whose predicate carries everything an auditor needs to re-check the
 * decision without the server: the policy text, every piece of evidence with its own signature, the
 * decision, the promotion's audit event and its inclusion proof against a signed checkpoint.
 * `verifyAttestation` is pure: the bundle and the server's public key in, a verdict out.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson, digestBytes, type Digest } from '../domain/digest.js';
import { evaluate } from '../domain/evaluate.js';
import { TollgateError } from '../domain/errors.js';
import { releaseDigest } from '../domain/release-digest.js';
import type { BreakGlassMark, Decision, EvidenceSet, PasskeyKey, Promotion, ReleaseManifest, RequirementWaiver, StageHold } from '../domain/model.js';
import { breakGlassFor, exceptionSignatureValid } from '../domain/exception.js';
import { parsePolicy } from '../domain/policy.js';
import { signoffSignatureValid } from '../domain/signoff.js';
import { webauthnProblem } from '../domain/webauthn.js';
import { claimsOf, recordDigest } from '../domain/records.js';
import { IN_TOTO_PAYLOAD_TYPE, openEnvelope, type DsseEnvelope } from './dsse.js';
import type { AuditEvent } from './events.js';
import { eventHash } from './log.js';
import { auditLeafHash } from './tree.js';
import { verifyInclusion } from './merkle.js';
import { openCheckpoint } from './tree.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://tollgate.dev/attestation/promotion/v1';

export interface PromotionPredicate {
  readonly release: {
    readonly name: string;
    readonly digest: Digest;
    readonly manifest: ReleaseManifest;
    readonly createdAt: string;
    readonly createdBy: string;
  };
  readonly stage: string;
  /** The policy version the promotion was decided under, with its full text so it can be re-parsed. */
  readonly policy: { readonly name: string; readonly version: number; readonly digest: Digest; readonly source: string };
  readonly decision: Decision;
  /** Evidence recorded for the release up to the promotion; sign-offs keep their own signatures. */
  readonly evidence: EvidenceSet;
  /** Promotions and rollbacks of the subject before this one: what the stage order was judged on. */
  readonly history: readonly Promotion[];
  /**
   * Rollback holds on releases of the subject made before this promotion, as they stood (cleared, or
   * the promotion would not have been allowed): what the stage order and holds were judged on.
   * Absent when there were none.
   */
  readonly holds?: readonly StageHold[];
  readonly promotion: Promotion;
  /**
   * The waivers the decision counted (accepted risk): which requirement of which gate, who accepted
   * it in which role, why and until when, and what its outcome was without the waiver. The signed
   * waivers themselves are in `evidence.exceptions`. Absent when none counted.
   */
  readonly waivers?: readonly AttestedWaiver[];
  /** A break-glass promotion's mark, as its promotion and its logged event carry it. Absent otherwise. */
  readonly breakGlass?: BreakGlassMark;
  /** Datasets and code to model, as the manifest states it. */
  readonly lineage: ReleaseManifest['lineage'];
  /**
   * The bytes of small files the evidence names by digest (validation inputs, checklist evidence),
   * base64 by digest, so an auditor holds what was checked and not only its hash. Absent in bundles
   * made before they were kept.
   */
  readonly files?: Readonly<Record<string, string>>;
  /**
   * The passkeys the evidence's passkey sign-offs were signed with: each passkey's row as stored (its
   * user, public key, RP ID, registration and revocation) and the audit event that vouches for that
   * row now, with its inclusion proof under the same checkpoint as the promotion. Absent when no
   * sign-off was signed with a passkey.
   */
  readonly passkeys?: readonly AttestedPasskey[];
  /** Where the promotion sits in the audit log. */
  readonly log: {
    readonly event: AuditEvent;
    readonly leafIndex: number;
    readonly treeSize: number;
    /** RFC 9162 inclusion proof, hex hashes. */
    readonly inclusionProof: readonly string[];
    /** The signed checkpoint (signed-note text) at `treeSize`. */
    readonly checkpoint: string;
  };
}

/** A waiver the decision counted (see PromotionPredicate.waivers). */
export interface AttestedWaiver extends RequirementWaiver {
  readonly gate: string;
  readonly requirement: string;
}

/** The waivers a decision counted, gate by gate. */
export function waiversOf(d: Decision): AttestedWaiver[] {
  return d.gates.flatMap((g) => g.requirements.flatMap((r) => (r.outcome === 'waived' && r.waiver ? [{ gate: g.id, requirement: r.id, ...r.waiver }] : [])));
}

/** A passkey as the audit log vouches for it (see PromotionPredicate.passkeys). */
export interface AttestedPasskey {
  /** The `passkeys` row as stored, every column but `audit_seq`: its digest is the event's claim. */
  readonly row: {
    readonly id: string;
    readonly user_name: string;
    readonly public_key: string;
    readonly rp_id: string;
    readonly origin: string;
    readonly created_at: string;
    readonly revoked_at: string | null;
    readonly [column: string]: unknown;
  };
  readonly log: {
    readonly event: AuditEvent;
    readonly leafIndex: number;
    /** RFC 9162 inclusion proof under the predicate's checkpoint, hex hashes. */
    readonly inclusionProof: readonly string[];
  };
}

export interface Statement {
  readonly _type: typeof STATEMENT_TYPE;
  readonly subject: readonly { readonly name: string; readonly digest: { readonly sha256: string } }[];
  readonly predicateType: typeof PREDICATE_TYPE;
  readonly predicate: PromotionPredicate;
}

export function buildStatement(predicate: PromotionPredicate): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: predicate.release.manifest.artifacts.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
    predicateType: PREDICATE_TYPE,
    predicate,
  };
}

export interface AttestationVerdict {
  readonly ok: boolean;
  /** What was checked and held, in order. */
  readonly checked: string[];
  /** The first thing that does not hold. */
  readonly failure?: string;
}

class Failed extends Error {}

function must(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Failed(message);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Outcomes of every gate and requirement, for comparing the recorded decision with a re-evaluation. */
function outcomes(d: Decision): string[] {
  return d.gates.flatMap((g) => [`${g.id}: ${g.outcome}`, ...g.requirements.map((r) => `${g.id}/${r.id}: ${r.outcome}`)]);
}

/**
 * Verifies a bundle offline, in the order a sceptic would: the envelope signature, the statement,
 * the policy, the release, every sign-off signature against the keys of that policy, the decision
 * re-evaluated from the evidence, the promotion event, its inclusion proof, and the checkpoint.
 */
export function verifyAttestation(bundle: unknown, serverKey: KeyObject): AttestationVerdict {
  const checked: string[] = [];
  try {
    must(isObj(bundle) && typeof bundle.payload === 'string' && Array.isArray(bundle.signatures), 'not a DSSE envelope (payload, payloadType, signatures)');
    const env = bundle as unknown as DsseEnvelope;
    must(env.payloadType === IN_TOTO_PAYLOAD_TYPE, `payloadType is ${JSON.stringify(env.payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
    const payload = openEnvelope(env, serverKey);
    must(payload, 'the envelope signature does not verify with the given server key');
    checked.push('envelope signature (DSSE v1, server key)');

    let statement: Statement;
    try {
      statement = JSON.parse(payload.toString('utf8')) as Statement;
    } catch {
      throw new Failed('the payload is not JSON');
    }
    must(statement._type === STATEMENT_TYPE, `the statement type is ${JSON.stringify(statement._type)}, not ${STATEMENT_TYPE}`);
    must(statement.predicateType === PREDICATE_TYPE, `the predicate type is ${JSON.stringify(statement.predicateType)}`);
    const p = statement.predicate;
    must(isObj(p) && isObj(p.policy) && isObj(p.release) && isObj(p.log) && isObj(p.promotion) && isObj(p.evidence), 'the predicate is missing parts');
    checked.push('in-toto Statement v1');

    let parsed: ReturnType<typeof parsePolicy>;
    try {
      parsed = parsePolicy(p.policy.source, 'policy');
    } catch (err) {
      throw new Failed(`the policy in the bundle does not parse: ${err instanceof TollgateError ? err.message.split('\n')[0] : String(err)}`);
    }
    must(parsed.digest === p.policy.digest, `the policy text has digest ${parsed.digest}, but the bundle says ${p.policy.digest}: the policy was edited`);
    checked.push(`policy ${parsed.policy.name} v${p.policy.version} (${parsed.digest})`);

    const digest = releaseDigest(p.release.manifest);
    must(digest === p.release.digest, `the release manifest has digest ${digest}, but the bundle says ${p.release.digest}`);
    const subjects = statement.subject.map((s) => `${s.name}=${s.digest?.sha256}`).join(',');
    const artifacts = p.release.manifest.artifacts.map((a) => `${a.name}=${a.sha256}`).join(',');
    must(subjects === artifacts, 'the statement subjects are not the release artifacts with their sha256 digests');
    checked.push(`release ${p.release.name} (${digest}), ${statement.subject.length} subjects`);

    // Passkeys are vouched for under the checkpoint: opened here for them (and checked in full below).
    let passkeys = new Map<string, PasskeyKey>();
    if (p.passkeys !== undefined) {
      const signedCheckpoint = openCheckpoint(p.log.checkpoint, serverKey);
      must(signedCheckpoint.ok, `the checkpoint does not verify with the given server key: ${signedCheckpoint.ok ? '' : signedCheckpoint.reason}`);
      passkeys = attestedPasskeys(p, signedCheckpoint.checkpoint);
    }
    const byPasskey = p.evidence.signoffs.filter((s) => s.signatureKind === 'webauthn');
    for (const s of p.evidence.signoffs) {
      if (s.signatureKind === 'webauthn') {
        const key = s.webauthn && passkeys.get(s.webauthn.credentialId);
        const problem = webauthnProblem(s, key);
        must(!problem, `the passkey sign-off by ${s.signer} as ${s.role} (gate ${s.gate}) does not verify: ${problem?.message}`);
        continue;
      }
      must(signoffSignatureValid(parsed.policy, s), `the sign-off by ${s.signer} as ${s.role} (gate ${s.gate}) does not verify against ${s.signer}'s key in the policy`);
    }
    if (byPasskey.length > 0) {
      checked.push(`${passkeys.size} passkey${passkeys.size === 1 ? '' : 's'} vouched for by the audit log under the checkpoint`);
      checked.push(`${byPasskey.length} passkey sign-off${byPasskey.length === 1 ? '' : 's'}: WebAuthn signature, challenge = the sign-off's digest, origin and RP ID as recorded, user verified`);
    }
    checked.push(`${p.evidence.signoffs.length - byPasskey.length} sign-off signatures against the policy's roster keys`);
    const exceptions = p.evidence.exceptions ?? [];
    must(Array.isArray(exceptions), 'the waivers and break-glass sign-offs of the bundle are not a list');
    for (const e of exceptions) {
      must(exceptionSignatureValid(parsed.policy, e), `the ${e.kind} by ${e.signer} as ${e.role} does not verify against ${e.signer}'s key in the policy`);
    }
    if (exceptions.length > 0) checked.push(`${exceptions.length} waiver and break-glass signatures against the policy's roster keys`);

    if (p.files !== undefined) {
      must(isObj(p.files), 'the files of the bundle are not a map of digest to base64');
      const named = new Set([
        ...p.evidence.validations.flatMap((v) => Object.values(v.inputs)),
        ...p.evidence.checklist.flatMap((c) => (c.evidence?.digest ? [c.evidence.digest] : [])),
      ]);
      for (const [digest, content] of Object.entries(p.files)) {
        must(typeof content === 'string' && digestBytes(Buffer.from(content, 'base64')) === digest, `the file carried as ${digest} does not have that digest`);
        must(named.has(digest as Digest), `the file ${digest} is not named by any evidence in the bundle`);
      }
      checked.push(`${Object.keys(p.files).length} evidence files carried, each with the digest the evidence names`);
    }

    const promotion = p.promotion;
    const release = { subject: p.release.manifest.subject, version: p.release.manifest.version, digest, manifest: p.release.manifest, createdAt: p.release.createdAt, createdBy: p.release.createdBy };
    let again: Decision;
    try {
      again = evaluate(parsed.policy, release, p.evidence, new Date(promotion.at), {
        stage: p.stage,
        policyDigest: parsed.digest,
        policyVersion: p.policy.version,
        history: p.history,
        holds: p.holds ?? [],
        promoter: promotion.by,
        passkeys,
      });
    } catch (err) {
      throw new Failed(`the decision cannot be re-evaluated: ${(err as Error).message}`);
    }
    // A break-glass promotion was not promotable: it stands only on a break-glass sign-off that the
    // same rule as `promote` accepts, for exactly the requirements it says it went past.
    const glass = promotion.breakGlass;
    if (!again.promotable && glass !== undefined) {
      const found = breakGlassFor(parsed.policy, release, again, exceptions, p.history, promotion.by, new Date(promotion.at));
      must(found.ok, `re-evaluated from the evidence in the bundle, the break-glass promotion of ${p.release.name} to ${p.stage} does not stand: ${found.ok ? '' : found.reason}`);
      must(
        found.signoff.id === glass.signoff && found.signoff.signer === glass.signer && JSON.stringify(found.unmet) === JSON.stringify(glass.unmet),
        `the break-glass of the bundle (${glass.signer}, past ${glass.unmet.join('; ')}) is not what the evidence shows (${found.signoff.signer}, past ${found.unmet.join('; ')})`,
      );
      must(canonicalJson(p.breakGlass ?? null) === canonicalJson(glass), "the bundle's break-glass is not the promotion's");
    }
    must(again.promotable || glass !== undefined, `re-evaluated from the evidence in the bundle, ${p.release.name} was not promotable to ${p.stage}: ${again.gates
      .flatMap((g) => g.requirements.filter((r) => r.outcome !== 'satisfied' && r.outcome !== 'waived').map((r) => `${g.id}/${r.id} ${r.outcome}`))
      .join('; ')}`);
    const recorded = outcomes(p.decision);
    const fresh = outcomes(again);
    const differs = fresh.find((o, i) => recorded[i] !== o) ?? (recorded.length !== fresh.length ? 'the number of requirements' : undefined);
    must(differs === undefined && p.decision.promotable === again.promotable, `the recorded decision does not match the re-evaluation (${differs ?? 'promotable'})`);
    const waived = waiversOf(again);
    must(canonicalJson(p.waivers ?? []) === canonicalJson(waived), "the bundle's list of waivers is not the waivers the decision counted");
    checked.push(
      glass !== undefined && !again.promotable
        ? `decision re-evaluated: not promotable, as recorded; BREAK-GLASS on the sign-off of ${glass.signer} as ${glass.role} ("${glass.reason}"), past ${glass.unmet.join('; ')}`
        : `decision re-evaluated: ${again.gates.length} gates satisfied${waived.length > 0 ? ` (${waived.length} requirement${waived.length === 1 ? '' : 's'} waived)` : ''}, as recorded`,
    );

    const event = p.log.event;
    must(isObj(event) && eventHash(event) === event.hash, 'the promotion event in the bundle does not match its own hash');
    const data = event.data as Record<string, unknown>;
    must(
      event.type === 'ReleasePromoted' && data.id === promotion.id && data.releaseDigest === digest && data.stage === p.stage && promotion.stage === p.stage && promotion.releaseDigest === digest,
      'the audit event is not the promotion of this release to this stage',
    );
    // Everything the bundle claims about the promotion must be what the logged event says: the event
    // is covered by the signed checkpoint, the rest of the predicate only by the envelope.
    const logged = isObj(data.policy) ? data.policy : {};
    const name = `${p.release.manifest.subject}@${p.release.manifest.version}`;
    must(data.release === name && p.release.name === name, `the bundle names the release ${p.release.name}, the logged promotion ${String(data.release)}`);
    must(
      logged.digest === p.policy.digest && promotion.policyDigest === p.policy.digest && p.decision.policy.digest === p.policy.digest,
      `the bundle's policy ${p.policy.digest} is not the one the logged promotion was decided under (${String(logged.digest)})`,
    );
    must(logged.version === p.policy.version && promotion.policyVersion === p.policy.version, `the bundle's policy version ${p.policy.version} is not the logged one (${String(logged.version)})`);
    must(event.actor === `user:${promotion.by}`, `the bundle says ${promotion.by} promoted, the log says ${event.actor}`);
    must(
      canonicalJson(data.breakGlass ?? null) === canonicalJson(promotion.breakGlass ?? null),
      promotion.breakGlass ? "the bundle's break-glass is not the one the logged promotion records" : 'the logged promotion is a break-glass the bundle does not say',
    );
    must(JSON.stringify(p.lineage ?? []) === JSON.stringify(p.release.manifest.lineage ?? []), "the bundle's lineage is not the release manifest's");
    checked.push(`promotion event ${event.seq} (${event.type} by ${event.actor} at ${event.at})`);

    const opened = openCheckpoint(p.log.checkpoint, serverKey);
    must(opened.ok, `the checkpoint does not verify with the given server key: ${opened.ok ? '' : opened.reason}`);
    const cp = opened.checkpoint;
    must(cp.size === p.log.treeSize, `the checkpoint covers ${cp.size} events, the proof ${p.log.treeSize}`);
    let proof: Buffer[];
    try {
      proof = p.log.inclusionProof.map((h) => {
        if (!/^[0-9a-f]{64}$/.test(h)) throw new Error();
        return Buffer.from(h, 'hex');
      });
    } catch {
      throw new Failed('the inclusion proof is malformed');
    }
    must(
      verifyInclusion({ index: p.log.leafIndex, size: p.log.treeSize, leafHash: auditLeafHash(event), proof, root: cp.rootHash }) && p.log.leafIndex === event.seq - 1,
      `the inclusion proof does not lead from event ${event.seq} to the checkpoint's root`,
    );
    checked.push(`inclusion proof of event ${event.seq} in a tree of ${cp.size}`);
    checked.push(`checkpoint signed by the server key (${cp.origin}, size ${cp.size})`);
    return { ok: true, checked };
  } catch (err) {
    if (err instanceof Failed) return { ok: false, checked, failure: err.message };
    return { ok: false, checked, failure: `the bundle is malformed: ${(err as Error).message}` };
  }
}

/**
 * The passkeys of the bundle, each checked against the log: its row's digest is what the audit event
 * it names claims for it, that event is what its hash says, and it is in the tree the checkpoint
 * signs. Only passkeys the promotion could count are kept: registered before, not revoked by, the
 * promotion. Throws Failed for the first that does not hold.
 */
function attestedPasskeys(p: PromotionPredicate, cp: { size: number; rootHash: Uint8Array }): Map<string, PasskeyKey> {
  const out = new Map<string, PasskeyKey>();
  if (p.passkeys === undefined) return out;
  must(Array.isArray(p.passkeys), 'the passkeys of the bundle are not a list');
  for (const entry of p.passkeys) {
    const e: unknown = entry;
    must(isObj(e) && isObj(e.row) && isObj(e.log) && isObj(e.log.event) && Array.isArray(e.log.inclusionProof), 'a passkey of the bundle is missing parts');
    const { row, log } = entry;
    const id = String(row.id);
    const event = log.event;
    must(eventHash(event) === event.hash, `the audit event that vouches for passkey ${id} does not match its own hash`);
    const claim = claimsOf(event.data).find((c) => c.table === 'passkeys' && c.key === id);
    must(claim && claim.digest === recordDigest('passkeys', row), `passkey ${id} is not what audit event ${event.seq} (${event.type}) vouches for`);
    let proof: Buffer[];
    try {
      proof = log.inclusionProof.map((h: string) => {
        if (!/^[0-9a-f]{64}$/.test(h)) throw new Error();
        return Buffer.from(h, 'hex');
      });
    } catch {
      throw new Failed(`the inclusion proof of passkey ${id} is malformed`);
    }
    must(
      log.leafIndex === event.seq - 1 && verifyInclusion({ index: log.leafIndex, size: cp.size, leafHash: auditLeafHash(event), proof, root: cp.rootHash }),
      `the inclusion proof does not lead from event ${event.seq}, which vouches for passkey ${id}, to the checkpoint's root`,
    );
    must(typeof row.created_at === 'string' && row.created_at <= p.promotion.at, `passkey ${id} was registered after the promotion`);
    if (row.revoked_at !== null && row.revoked_at <= p.promotion.at) continue;
    out.set(id, { credentialId: id, user: String(row.user_name), publicKey: String(row.public_key), rpId: String(row.rp_id) });
  }
  return out;
}
