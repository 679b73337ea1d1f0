import { tollgateError } from '../../domain/errors.js';
import type { SignoffPayload } from '../../domain/model.js';
import { defineRoute } from '../route.js';
import { RecordSignoffsBody, RefParams, SignoffDraftBody } from '../schemas.js';

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
];
