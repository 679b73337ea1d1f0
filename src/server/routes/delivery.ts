import { defineRoute } from '../route.js';
import { IdParams, IncidentsQuery, MetricsQuery, OpenIncidentBody, ResolveIncidentBody, SubjectParams } from '../schemas.js';

/** Incidents and the delivery metrics computed from the audit log (docs/metrics.md). */
export const deliveryRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/subjects/:subject/incidents',
    summary: 'Open an incident on the release that holds the stage of the subject now, with a reason; any roster member may',
    tag: 'delivery',
    access: 'member',
    params: SubjectParams,
    body: OpenIncidentBody,
    status: 201,
    returns: 'IncidentInfo: {id, subject, stage, release, releaseDigest, promotion, reason, openedBy, openedAt, open}',
    handler: ({ useCases, params, body }) => useCases().openIncident(params.subject, body.stage, body.reason),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/incidents/:id/resolutions',
    summary: 'Resolve an open incident, with an optional note; any roster member may',
    tag: 'delivery',
    access: 'member',
    params: IdParams,
    body: ResolveIncidentBody,
    status: 201,
    returns: 'IncidentInfo with resolvedBy, resolvedAt and note',
    handler: ({ useCases, params, body }) => useCases().resolveIncident(params.id, body.note),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/incidents',
    summary: 'Incidents, oldest first; open=true for the unresolved ones only',
    tag: 'delivery',
    access: 'member',
    query: IncidentsQuery,
    returns: '{incidents: IncidentInfo[]}',
    handler: async ({ useCases, query }) => ({
      incidents: await useCases().listIncidents({
        ...(query.subject !== undefined ? { subject: query.subject } : {}),
        ...(query.open !== undefined ? { open: query.open === 'true' } : {}),
      }),
    }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/metrics',
    summary: 'Delivery metrics from the audit log (deployment frequency, lead time, change failure rate, time to restore, rework rate, per-gate wait and block figures), overall, per subject and per week',
    tag: 'delivery',
    access: 'member',
    query: MetricsQuery,
    returns: 'DeliveryMetrics: {stage, from, to, weekCount, deploymentFrequency, leadTimeSeconds, changeFailureRate, timeToRestoreSeconds, reworkRate, breakGlassCount, gates, subjects, weeks}',
    handler: ({ useCases, query }) => useCases().metrics(query),
  }),
];
