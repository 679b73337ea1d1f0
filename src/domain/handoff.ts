/**
 * What a hand-off to deployment carries and how it is named (docs/handoff.md). Pure: the hand-offs
 * themselves (git, a command, an HTTP POST) run in src/handoff/, after the promotion has committed.
 */
import { digestOf, type Digest } from './digest.js';
import type { HandoffDef, HandoffKind, Promotion, Release } from './model.js';

/** The release as every hand-off receives it: a file's content, a command's stdin, a webhook's body. */
export interface HandoffPayload {
  readonly subject: string;
  readonly version: string;
  readonly release: string;
  readonly stage: string;
  readonly releaseDigest: Digest;
  readonly promotion: { readonly id: string; readonly kind: Promotion['kind']; readonly at: string; readonly by: string; readonly policyVersion: number };
  readonly artifacts: readonly { readonly name: string; readonly kind: string; readonly uri?: string; readonly path?: string; readonly sha256: string }[];
}

export function handoffPayload(release: Release, promotion: Promotion): HandoffPayload {
  return {
    subject: release.subject,
    version: release.version,
    release: `${release.subject}@${release.version}`,
    stage: promotion.stage,
    releaseDigest: release.digest,
    promotion: { id: promotion.id, kind: promotion.kind, at: promotion.at, by: promotion.by, policyVersion: promotion.policyVersion },
    artifacts: release.manifest.artifacts.map((a) => ({
      name: a.name,
      kind: a.kind,
      ...(a.uri !== undefined ? { uri: a.uri } : {}),
      ...(a.path !== undefined ? { path: a.path } : {}),
      sha256: a.sha256,
    })),
  };
}

export function handoffKind(def: HandoffDef): HandoffKind {
  return 'git' in def ? 'git' : 'command' in def ? 'command' : 'webhook';
}

/** Where a hand-off goes, in a line for people. */
export function handoffTarget(def: HandoffDef): string {
  if ('git' in def) {
    const g = def.git;
    return `${g.repo} ${g.branch ?? 'main'}:${g.file}${g.set ? ` (${g.set.path})` : ''}`;
  }
  if ('command' in def) return def.command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return def.webhook;
}

/** The digest of a hand-off's definition: a retry under a changed policy runs (and records) the new one. */
export function handoffDefinitionDigest(def: HandoffDef): Digest {
  return digestOf(def);
}

/** The key of a hand-off record: the promotion and the hand-off's place in its stage's list. */
export function handoffKey(promotionId: string, index: number): string {
  return `${promotionId}/${index}`;
}

/**
 * Fills `{subject}`, `{version}`, `{release}`, `{stage}`, `{releaseDigest}`, `{promotion.id}` and
 * `{artifact.NAME.sha256|uri|path}` into a template; an unknown name is an error, not an empty string
 * (a Helm value set to "" would ship nothing).
 */
export function fillTemplate(template: string, payload: HandoffPayload): string {
  return template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name: string) => {
    const flat: Record<string, string> = {
      subject: payload.subject,
      version: payload.version,
      release: payload.release,
      stage: payload.stage,
      releaseDigest: payload.releaseDigest,
      'promotion.id': payload.promotion.id,
    };
    // Own names only: `{toString}` or `{constructor}` would otherwise write a function's source.
    if (Object.hasOwn(flat, name)) return flat[name]!;
    const m = /^artifact\.(.+)\.(sha256|uri|path)$/.exec(name);
    const artifact = m && payload.artifacts.find((a) => a.name === m[1]);
    const value = artifact?.[m![2] as 'sha256' | 'uri' | 'path'];
    if (value !== undefined) return value;
    throw new Error(`${whole} names nothing this release has (use {subject}, {version}, {release}, {stage}, {releaseDigest}, {promotion.id} or {artifact.NAME.sha256|uri|path})`);
  });
}
