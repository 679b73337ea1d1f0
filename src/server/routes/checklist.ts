import type { EvidenceInput } from '../../service/check.js';
import { tollgateError } from '../../domain/errors.js';
import { defineRoute } from '../route.js';
import { BODY_LIMITS, CheckBody, MAX_EVIDENCE_BYTES, RefParams } from '../schemas.js';

/** Checklist items: complete one, with a file (base64) or URL as evidence. */
export const checklistRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/checklist',
    summary: 'Complete a checklist item of every applicable gate of the stage that lists it',
    tag: 'evidence',
    access: 'member',
    params: RefParams,
    body: CheckBody,
    bodyLimit: BODY_LIMITS.evidence,
    status: 201,
    returns: 'CheckResult: {release, stage, item, gates, by, at, evidence?}',
    handler: ({ useCases, params, body }) => {
      let evidence: EvidenceInput | undefined;
      if (body.evidence?.kind === 'file') {
        const bytes = Buffer.from(body.evidence.content, 'base64');
        if (bytes.byteLength > MAX_EVIDENCE_BYTES) {
          throw tollgateError('TG_REQUEST_TOO_LARGE', `evidence ${body.evidence.name} has ${bytes.byteLength} bytes; at most ${MAX_EVIDENCE_BYTES} are accepted`);
        }
        evidence = { kind: 'file', name: body.evidence.name, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
      } else if (body.evidence?.kind === 'url') {
        evidence = { kind: 'url', uri: body.evidence.uri };
      }
      return useCases().check({
        release: params.ref,
        stage: body.stage,
        item: body.item,
        ...(evidence ? { evidence } : {}),
        ...(body.note !== undefined ? { note: body.note } : {}),
      });
    },
  }),
];
