/** Lookups every use case needs, each failing with the stable error a person can act on. */
import { tollgateError } from '../domain/errors.js';
import { rosterEntry, type Policy, type PolicyVersion, type Release } from '../domain/model.js';
import type { StoreReader } from '../store/store.js';
import { vouchPolicy, vouchRelease } from './vouch.js';

export interface ReleaseRef {
  readonly subject: string;
  readonly version: string;
}

export function parseReleaseRef(ref: string): ReleaseRef {
  const at = ref.lastIndexOf('@');
  const subject = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (at <= 0 || version === '' || /\s/.test(ref)) {
    throw tollgateError('TG_RELEASE_REF_INVALID', `"${ref}" is not a release name; expected SUBJECT@VERSION`);
  }
  return { subject, version };
}

/** The active policy, checked against the audit log (TG_STATE_TAMPERED if it is not what was applied). */
export async function requirePolicy(store: StoreReader): Promise<PolicyVersion> {
  const active = await activePolicy(store);
  if (!active) throw tollgateError('TG_NO_POLICY', 'no policy has been applied yet');
  return active;
}

/** The active policy, checked against the audit log; undefined before any `policy apply`. */
export async function activePolicy(store: StoreReader): Promise<PolicyVersion | undefined> {
  const active = await store.activePolicy();
  return active && vouchPolicy(store, active);
}

export async function requireRelease(store: StoreReader, ref: string): Promise<Release> {
  const { subject, version } = parseReleaseRef(ref);
  const release = await store.findRelease(subject, version);
  if (!release) {
    const others = (await store.listReleases({ subject })).map((r) => r.version);
    throw tollgateError(
      'TG_RELEASE_NOT_FOUND',
      `unknown release ${subject}@${version}${others.length > 0 ? `; known versions of ${subject}: ${others.join(', ')}` : ''}`,
    );
  }
  return vouchRelease(store, release);
}

/** The acting user must be named and be in the roster of the active policy. */
export function requireMember(policy: Policy, user: string | undefined): string {
  if (!user) throw tollgateError('TG_IDENTITY_REQUIRED', 'this command changes state and needs to know who you are');
  if (!rosterEntry(policy, user)) {
    throw tollgateError(
      'TG_USER_UNKNOWN',
      `unknown user "${user}": not in the roster of policy ${policy.name} (roster: ${Object.keys(policy.roster).join(', ')})`,
    );
  }
  return user;
}

export function requireStage(policy: Policy, stage: string): void {
  if (!policy.stages.some((s) => s.name === stage)) {
    throw tollgateError('TG_STAGE_UNKNOWN', `unknown stage "${stage}"; the policy's stages are: ${policy.stages.map((s) => s.name).join(', ')}`);
  }
}
