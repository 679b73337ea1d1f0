import type { Digest } from '../../domain/digest.js';
import { tollgateError } from '../../domain/errors.js';
import type { InputProbe } from '../../service/inputs.js';
import { CurrentInputs } from '../schemas.js';

/**
 * A probe answering from the digests the caller sent: validation inputs live where the caller runs,
 * not on the server. Inputs the caller did not report are left unjudged, as the local probe leaves
 * URIs; so a caller can only make evidence stale, never fresher than no probe at all.
 */
export function probeOf(inputs: Readonly<Record<string, string | null>> | undefined): InputProbe | undefined {
  if (inputs === undefined) return undefined;
  return async (keys) => {
    const out = new Map<string, Digest | null>();
    for (const k of keys) if (Object.hasOwn(inputs, k)) out.set(k, inputs[k] as Digest | null);
    return out;
  };
}

/** The `inputs` query parameter: JSON of CurrentInputs. */
export function parseInputsParam(text: string | undefined): Record<string, string | null> | undefined {
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw tollgateError('TG_REQUEST_INVALID', 'query parameter "inputs" is not JSON', { problems: [{ path: 'inputs', message: 'not JSON' }] });
  }
  const parsed = CurrentInputs.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: ['inputs', ...i.path].join('.'), message: i.message }));
    throw tollgateError('TG_REQUEST_INVALID', `query parameter "inputs": ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { problems });
  }
  return parsed.data;
}

