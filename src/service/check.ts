import { randomUUID } from 'node:crypto';
import { actorOf } from '../audit/events.js';
import { conditionHolds } from '../domain/cel.js';
import { digestBytes } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import { itemDigest } from '../domain/policy-digests.js';
import { releaseName, rosterEntry, type ChecklistCompletion, type ChecklistItemDef, type EvidenceAttachment, type Release } from '../domain/model.js';
import { FOLLOW_UP_GATE, followUpDigest } from '../domain/exception.js';
import { requireVouched } from './vouch.js';
import { change, type ChangeScope } from './change.js';
import type { ServiceDeps } from './deps.js';
import { requireMember, requirePolicy, requireRelease, requireStage } from './lookup.js';

export type EvidenceInput =
  | { readonly kind: 'file'; readonly name: string; readonly bytes: Uint8Array }
  | { readonly kind: 'url'; readonly uri: string };

export interface CheckInput {
  readonly release: string;
  readonly stage: string;
  readonly item: string;
  readonly evidence?: EvidenceInput;
  readonly note?: string;
}

export interface CheckResult {
  readonly release: string;
  readonly stage: string;
  readonly item: string;
  readonly gates: string[];
  readonly by: string;
  readonly at: string;
  readonly evidence?: EvidenceAttachment;
}

/** Keeps only a plain file name: an evidence name never carries a path. */
function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return cleaned.slice(0, 200) || 'evidence';
}

function attachmentOf(e: EvidenceInput): { attachment: EvidenceAttachment; bytes?: Uint8Array } {
  if (e.kind === 'url') {
    let url: URL;
    try {
      url = new URL(e.uri);
    } catch {
      throw tollgateError('TG_USAGE', `evidence "${e.uri}" is neither a readable file nor a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw tollgateError('TG_USAGE', `evidence URL must be http or https, not ${url.protocol}`);
    }
    return { attachment: { name: url.toString(), uri: url.toString() } };
  }
  const digest = digestBytes(e.bytes);
  return { attachment: { name: safeName(e.name), digest, size: e.bytes.byteLength }, bytes: e.bytes };
}

type Attachment = ReturnType<typeof attachmentOf>;

/** The evidence of a completion, its bytes kept as a content-addressed blob (once, whatever the gates). */
async function storeAttachment({ tx }: ChangeScope, input: CheckInput): Promise<Attachment | undefined> {
  const att = input.evidence ? attachmentOf(input.evidence) : undefined;
  if (att?.bytes && att.attachment.digest) await tx.putBlob(att.attachment.digest, att.bytes);
  return att;
}

/** One checklist completion, written with the ChecklistItemCompleted event that vouches for it. */
async function recordCompletion(
  { tx, at, vouch }: ChangeScope,
  by: string,
  release: Release,
  input: CheckInput,
  gateId: string,
  itemId: string,
  digest: ChecklistCompletion['itemDigest'],
  att: Attachment | undefined,
): Promise<void> {
  const completion: ChecklistCompletion = {
    id: randomUUID(),
    releaseDigest: release.digest,
    stage: input.stage,
    gateId,
    itemId,
    itemDigest: digest,
    by,
    at,
    ...(att ? { evidence: att.attachment } : {}),
    ...(input.note !== undefined ? { note: input.note } : {}),
  };
  await tx.insertChecklist(
    completion,
    vouch('ChecklistItemCompleted', actorOf(by), {
      id: completion.id,
      release: releaseName(release),
      releaseDigest: release.digest,
      stage: input.stage,
      gate: gateId,
      item: itemId,
      itemDigest: digest,
      ...(att ? { evidence: att.attachment } : {}),
    }),
  );
}

/** Completes a checklist item of every applicable gate of the stage that lists it. */
export async function completeItem(deps: ServiceDeps, actor: string | undefined, input: CheckInput): Promise<CheckResult> {
  return change(deps, async (scope) => {
    const { tx, at } = scope;
    const active = await requirePolicy(tx);
    const policy = active.policy;
    const by = requireMember(policy, actor);
    requireStage(policy, input.stage);
    const release = await requireRelease(tx, input.release);
    const name = releaseName(release);

    const holds = (w: string | undefined) => conditionHolds(w, release.manifest);
    const gates = policy.gates.filter((g) => g.stage === input.stage && holds(g.when));
    const matches = gates.flatMap((g) => (g.checklist ?? []).filter((i) => i.id === input.item && holds(i.when)).map((item) => ({ gate: g, item })));
    const followUp = policy.stages.find((s) => s.name === input.stage)?.breakGlass?.followUp?.find((i) => i.id === input.item);
    if (matches.length === 0 && followUp) return completeFollowUp(scope, by, release, input, followUp);
    if (matches.length === 0) {
      const known = gates.flatMap((g) => (g.checklist ?? []).filter((i) => holds(i.when)).map((i) => i.id));
      throw tollgateError(
        'TG_ITEM_UNKNOWN',
        `no gate of ${input.stage} that applies to ${name} has a checklist item "${input.item}"; items: ${known.join(', ') || 'none'}`,
      );
    }
    const roles = rosterEntry(policy, by)!.roles;
    for (const { gate, item } of matches) {
      if (item.roles && item.roles.length > 0 && !item.roles.some((r) => roles.includes(r))) {
        throw tollgateError('TG_NOT_ALLOWED', `${by} may not complete "${item.id}" of gate ${gate.id}: it needs one of the roles ${item.roles.join(', ')}`);
      }
      if (item.evidence === 'required' && !input.evidence) {
        throw tollgateError('TG_EVIDENCE_REQUIRED', `"${item.id}" of gate ${gate.id} needs evidence: attach a file or URL`);
      }
    }

    const att = await storeAttachment(scope, input);
    for (const { gate, item } of matches) await recordCompletion(scope, by, release, input, gate.id, item.id, itemDigest(gate, item), att);
    return {
      release: name,
      stage: input.stage,
      item: input.item,
      gates: matches.map((m) => m.gate.id),
      by,
      at,
      ...(att ? { evidence: att.attachment } : {}),
    };
  });
}

/**
 * A follow-up item of the stage's break-glass (`breakGlass.followUp`), completed like a checklist item:
 * only for a release that a break-glass promotion put into the stage, by a role the item names, with
 * the evidence it asks for. Recorded as a checklist completion of the pseudo-gate FOLLOW_UP_GATE.
 */
async function completeFollowUp(scope: ChangeScope, by: string, release: Release, input: CheckInput, item: ChecklistItemDef): Promise<CheckResult> {
  const { tx, at } = scope;
  const name = releaseName(release);
  const history = await tx.promotions({ subject: release.subject, stage: input.stage, releaseDigest: release.digest });
  await requireVouched(tx, history.map((p) => ({ table: 'promotions' as const, key: p.id })));
  if (!history.some((p) => p.breakGlass !== undefined)) {
    throw tollgateError('TG_ITEM_UNKNOWN', `"${input.item}" is a follow-up of a break-glass promotion into ${input.stage}, and ${name} was never promoted there with break-glass`);
  }
  const roles = rosterEntry((await requirePolicy(tx)).policy, by)!.roles;
  if (item.roles && item.roles.length > 0 && !item.roles.some((r) => roles.includes(r))) {
    throw tollgateError('TG_NOT_ALLOWED', `${by} may not complete the follow-up "${item.id}" of ${input.stage}: it needs one of the roles ${item.roles.join(', ')}`);
  }
  if (item.evidence === 'required' && !input.evidence) throw tollgateError('TG_EVIDENCE_REQUIRED', `the follow-up "${item.id}" of ${input.stage} needs evidence: attach a file or URL`);
  const att = await storeAttachment(scope, input);
  await recordCompletion(scope, by, release, input, FOLLOW_UP_GATE, item.id, followUpDigest(input.stage, item), att);
  return { release: name, stage: input.stage, item: item.id, gates: [FOLLOW_UP_GATE], by, at, ...(att ? { evidence: att.attachment } : {}) };
}
