import type { NewValidationResult } from '../../service/validate.js';
import { defineRoute } from '../route.js';
import { BODY_LIMITS, RecordValidationsBody, RefParams, SubjectRefParams, ValidationPlanQuery } from '../schemas.js';

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
      const results = await useCases().recordValidations(params.ref, body.results as NewValidationResult[]);
      metrics.validations(results);
      return { results };
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
