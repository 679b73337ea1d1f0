import { tollgateError } from '../../domain/errors.js';
import type { ExceptionPayload, SignoffPayload } from '../../domain/model.js';
import { defineRoute } from '../route.js';
import { ExceptionDraftBody, RecordSignoffsBody, RefParams, SignedException, SignoffDraftBody } from '../schemas.js';

/**
 * Sign-offs in two steps: the server drafts the payloads to sign, the signer signs them with the
 * private key that never leaves their machine, and the server records them after checking everything
 * the signature vouches for.
 */
export const signoffRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/signoff-drafts',
    summary: 'The payloads the caller is asked to sign for a stage and role (nothing is recorded)',
    tag: 'signoffs',
    access: 'member',
    params: RefParams,
    body: SignoffDraftBody,
    returns: 'SignoffDraft: {payloads, rosterKey}',
    handler: ({ useCases, params, body }) =>
      useCases().draftSignoffs({
        release: params.ref,
        stage: body.stage,
        role: body.role,
        decision: body.decision,
        ...(body.comment !== undefined ? { comment: body.comment } : {}),
      }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/signoffs',
    summary: "Record signed sign-offs of this release by the caller, each verified against the roster key",
    tag: 'signoffs',
    access: 'member',
    params: RefParams,
    body: RecordSignoffsBody,
    status: 201,
    returns: '{signoffs: Signoff[]}',
    handler: async ({ useCases, params, body }) => {
      const other = body.signoffs.find((s) => s.release !== params.ref);
      if (other) {
        throw tollgateError('TG_REQUEST_INVALID', `a sign-off of ${other.release} was sent to ${params.ref}: send each release's sign-offs to its own path`);
      }
      return { signoffs: await useCases().recordSignoffs(body.signoffs as (SignoffPayload & { signature: string })[]) };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/exception-drafts',
    summary: "The payload the caller is asked to sign for a waiver (kind waiver: a requirement of a gate accepted until an expiry, by a role the gate's `waivers` names) or a break-glass sign-off (kind break-glass: by the stage's breakGlass role); nothing is recorded",
    tag: 'signoffs',
    access: 'member',
    params: RefParams,
    body: ExceptionDraftBody,
    returns: 'ExceptionDraft: {payload, rosterKey}',
    handler: ({ useCases, params, body }) =>
      useCases().draftException({
        release: params.ref,
        stage: body.stage,
        role: body.role,
        kind: body.kind,
        reason: body.reason,
        ...(body.waive !== undefined ? { waive: body.waive } : {}),
        ...(body.expires !== undefined ? { expires: body.expires } : {}),
      }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/releases/:ref/exceptions',
    summary: "Record the caller's signed waiver or break-glass sign-off of this release, verified against the roster key",
    tag: 'signoffs',
    access: 'member',
    params: RefParams,
    body: SignedException,
    status: 201,
    returns: 'ExceptionSignoff',
    handler: async ({ useCases, params, body }) => {
      if (body.release !== params.ref) throw tollgateError('TG_REQUEST_INVALID', `a sign-off of ${body.release} was sent to ${params.ref}: send it to its own release's path`);
      return useCases().recordException(body as ExceptionPayload & { signature: string });
    },
  }),
];
