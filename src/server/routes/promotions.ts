import { TollgateError } from '../../domain/errors.js';
import type { Decision } from '../../domain/model.js';
import { defineRoute } from '../route.js';
import { ClearBody, HandoffRetryBody, PromoteBody, RefParams, RollbackBody, SubjectParams } from '../schemas.js';

/** Promotions and rollbacks: the moves of releases between stages. */
export const promotionRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/promotions',
    summary: 'Promote the release into a stage; 409 TG_PROMOTION_BLOCKED with the full decision in error.details when refused',
    tag: 'promotions',
    access: 'member',
    params: RefParams,
    body: PromoteBody,
    status: 201,
    returns: 'PromoteResult: the Decision with promoted and promotion',
    handler: async ({ useCases, params, body, metrics }) => {
      try {
        const result = await useCases().promote(params.ref, body.stage, body.breakGlass ? { breakGlass: { reason: body.breakGlass.reason } } : {});
        metrics.promoted(body.stage, result.promotion?.breakGlass !== undefined);
        return result;
      } catch (err) {
        if (err instanceof TollgateError && err.code === 'TG_PROMOTION_BLOCKED') metrics.blocked(err.details as Decision);
        throw err;
      }
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/subjects/:subject/rollbacks',
    summary: 'Put back the release that held the stage before the current one, with a reason',
    tag: 'promotions',
    access: 'member',
    params: SubjectParams,
    body: RollbackBody,
    status: 201,
    returns: 'RollbackResult: {subject, stage, from, to, promotion}',
    handler: ({ useCases, params, body }) => useCases().rollback(params.subject, body.stage, body.reason),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/clearances',
    summary: "Lift the hold a rollback put on the release for a stage, with a reason; only for a role the stage's `clear` names (default release-manager, admin)",
    tag: 'promotions',
    access: 'member',
    params: RefParams,
    body: ClearBody,
    status: 201,
    returns: 'ClearResult: {release, stage, cleared}',
    handler: ({ useCases, params, body }) => useCases().clearHold(params.ref, body.stage, body.reason),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/handoff-retries',
    summary:
      "Run again the hand-offs to deployment of the release in a stage that have not succeeded (only for the release that holds the stage; needs a role the stage's `promoters` names). 200 with every hand-off's latest outcome, failed ones included; 409 TG_NOT_IN_STAGE for a release that does not hold the stage",
    tag: 'promotions',
    access: 'member',
    params: RefParams,
    body: HandoffRetryBody,
    returns: 'HandoffRetryResult: {release, stage, promotion, retried, handoff: [{index, kind, target, outcome, attempts, error?, commit?}]}',
    handler: ({ useCases, params, body }) => useCases().retryHandoffs(params.ref, body.stage),
  }),
];
