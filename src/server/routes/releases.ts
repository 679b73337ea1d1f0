import type { ReleaseManifest } from '../../domain/model.js';
import { defineRoute } from '../route.js';
import { ListReleasesQuery, RefParams, ReleaseManifestBody, StatusQuery } from '../schemas.js';
import { parseInputsParam, probeOf } from './probe.js';

/** Releases: register, list, show, and what each needs to enter a stage. */
export const releaseRoutes = [
  defineRoute({
    method: 'POST',
    url: '/api/releases',
    summary: 'Register a release from its normalized manifest (every artifact with its sha256)',
    tag: 'releases',
    access: 'member',
    body: ReleaseManifestBody,
    status: 201,
    returns: 'CreateReleaseResult: {release, digest, created}',
    handler: ({ client, body }) => client().createRelease(body as ReleaseManifest),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases',
    summary: 'Every release, with the stages it holds',
    tag: 'releases',
    access: 'member',
    query: ListReleasesQuery,
    returns: '{releases: ReleaseSummary[]}',
    handler: async ({ client, query }) => ({ releases: await client().listReleases(query.subject !== undefined ? { subject: query.subject } : {}) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases/:ref',
    summary: 'One release: manifest, the stages it holds, its promotions',
    tag: 'releases',
    access: 'member',
    params: RefParams,
    returns: 'ReleaseDetail',
    handler: ({ client, params }) => client().showRelease(params.ref),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases/:ref/status',
    summary: 'The decision for the release entering a stage: every gate and requirement with its outcome and why',
    tag: 'releases',
    access: 'member',
    params: RefParams,
    query: StatusQuery,
    returns: 'Decision',
    handler: ({ client, params, query }) => {
      const probe = probeOf(parseInputsParam(query.inputs));
      return client(probe ? { probe } : {}).status(params.ref, query.stage);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases/:ref/evidence',
    summary: 'Everything recorded for the release: checklist completions, sign-offs, validation results, promotions',
    tag: 'releases',
    access: 'member',
    params: RefParams,
    returns: 'ReleaseEvidence: {release, evidence}',
    handler: ({ client, params }) => client().evidence(params.ref),
  }),
];
