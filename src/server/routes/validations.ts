import type { NewValidationResult } from '../../service/validate.js';
import { defineRoute } from '../route.js';
import type { Digest } from '../../domain/digest.js';
import { BlobParams, BODY_LIMITS, RecordValidationsBody, RefParams, SubjectRefParams, ValidationPlanQuery } from '../schemas.js';

/** Validations run where the data is (a CI job, `tollgate validate`); the server plans and records. */
export const validationRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/releases/:ref/validation-plan',
    summary: "The stage's validations to run for the release (validator role only)",
    tag: 'validations',
    access: 'member',
    params: RefParams,
    query: ValidationPlanQuery,
    returns: 'ValidationPlan: {release, items}',
    handler: ({ useCases, params, query }) => useCases().planValidations(params.ref, query.stage, query.only),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/validations',
    summary: 'Record validation results (validator role only), each bound to the release and definition digests',
    tag: 'validations',
    access: 'member',
    params: RefParams,
    body: RecordValidationsBody,
    bodyLimit: BODY_LIMITS.validations,
    status: 201,
    returns: '{results: ValidationResult[]}',
    handler: async ({ useCases, params, body, metrics }) => {
      const inputs = (body.inputs ?? []).map((c) => ({ digest: c.digest as Digest, bytes: new Uint8Array(Buffer.from(c.content, 'base64')) }));
      const results = await useCases().recordValidations(params.ref, body.results as NewValidationResult[], inputs);
      metrics.validations(results);
      return { results };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/blobs/:digest',
    summary: 'Stored bytes by their digest (checklist evidence files, copies of validation inputs), base64, or null',
    tag: 'validations',
    access: 'member',
    params: BlobParams,
    returns: '{blob: {digest, size, content} | null}',
    handler: async ({ useCases, params }) => {
      const bytes = await useCases().blob(params.digest);
      return { blob: bytes ? { digest: params.digest, size: bytes.byteLength, content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } : null };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/subjects/:subject/baselines/:ref',
    summary: 'The metrics of a baseline release (a stage name: its holder; or SUBJECT@VERSION), or null',
    tag: 'validations',
    access: 'member',
    params: SubjectRefParams,
    returns: '{baseline: {release, metrics} | null}',
    handler: async ({ useCases, params }) => ({ baseline: (await useCases().baselineMetrics(params.subject, params.ref)) ?? null }),
  }),
];
