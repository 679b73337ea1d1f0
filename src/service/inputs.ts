import type { Digest } from '../domain/digest.js';
import type { EvidenceSet } from '../domain/model.js';

/**
 * Tells the digest of validation inputs as they are now (null: gone). Inputs live where validations
 * run (the CLI's folder, a CI job), not in the store, so the caller supplies the probe.
 */
export type InputProbe = (keys: readonly string[]) => Promise<ReadonlyMap<string, Digest | null>>;

/** The input keys of the latest result of each validation: what staleness is judged on. */
export function inputKeys(evidence: EvidenceSet): string[] {
  const latest = new Map<string, EvidenceSet['validations'][number]>();
  for (const v of evidence.validations) latest.set(`${v.stage}/${v.gateId}/${v.validationId}`, v);
  return [...new Set([...latest.values()].flatMap((v) => Object.keys(v.inputs)))];
}
