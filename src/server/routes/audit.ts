import { defineRoute } from '../route.js';
import { AuditEventsQuery, AuditVerifyBody, RefStageParams } from '../schemas.js';

/** The audit log and what it vouches for: verification, checkpoints, attestations. */
export const auditRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/audit/verify',
    summary: "Verify the whole audit log (and that it extends a saved checkpoint); ok: false names the first bad event",
    tag: 'audit',
    access: 'member',
    body: AuditVerifyBody,
    returns: 'AuditVerifyResult: {ok, events, head, root?, firstBad?, since?}',
    handler: ({ useCases, body }) => useCases().auditVerify(body.since !== undefined ? { since: body.since } : {}),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/audit/events',
    summary: "One page of the audit log's events, oldest first, filtered by type, subject, actor and time; page on with after=next",
    tag: 'audit',
    access: 'member',
    query: AuditEventsQuery,
    returns: 'AuditLogPage: {events: [{seq, at, actor, type, data, prev, hash}], next: number | null}',
    handler: ({ useCases, query }) => useCases().auditLog(query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/audit/checkpoint',
    summary: 'The newest checkpoint of the audit log, signed by the server key, or null',
    tag: 'audit',
    access: 'member',
    returns: '{checkpoint: {size, root, at, note} | null}',
    handler: async ({ useCases }) => ({ checkpoint: (await useCases().auditCheckpoint()) ?? null }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/server-key',
    summary: "The server's public key (ed25519: + base64 of its SubjectPublicKeyInfo DER), which signs checkpoints and attestations: what `tollgate verify --key` takes",
    tag: 'audit',
    access: 'member',
    returns: '{publicKey}',
    handler: ({ useCases }) => useCases().serverKey(),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases/:ref/attestations/:stage',
    summary: "The DSSE-signed in-toto attestation of the release's promotion into the stage",
    tag: 'audit',
    access: 'member',
    params: RefStageParams,
    returns: 'DsseEnvelope: {payloadType, payload, signatures}',
    handler: ({ useCases, params }) => useCases().attest(params.ref, params.stage),
  }),
];
