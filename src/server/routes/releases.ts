import type { ReleaseManifest } from '../../domain/model.js';
import { decideWithHorizon } from '../../service/status.js';
import { defineRoute } from '../route.js';
import { ListReleasesQuery, RefParams, ReleaseManifestBody, StatusQuery } from '../schemas.js';

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
    handler: ({ useCases, body }) => useCases().createRelease(body as ReleaseManifest),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases',
    summary: 'Every release, with the stages it holds',
    tag: 'releases',
    access: 'member',
    query: ListReleasesQuery,
    returns: '{releases: ReleaseSummary[]}',
    handler: async ({ useCases, query }) => ({ releases: await useCases().listReleases(query.subject !== undefined ? { subject: query.subject } : {}) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/releases/:ref',
    summary: 'One release: manifest, the stages it holds, its promotions',
    tag: 'releases',
    access: 'member',
    params: RefParams,
    returns: 'ReleaseDetail',
    handler: ({ useCases, params }) => useCases().showRelease(params.ref),
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
    // What `useCases().status` does (decide, as the caller), kept as its JSON text until the store
    // changes or the decision's horizon passes: status is what dashboards and CI poll.
    handler: async ({ deps, cache, user, params, query, reply }) => {
      const key = JSON.stringify(['status', user ?? null, params.ref, query.stage]);
      const text = await cache.get(key, deps.now().getTime(), async () => {
        const { decision, horizon } = await decideWithHorizon(deps.store, params.ref, query.stage, deps.now(), user);
        return { value: JSON.stringify(decision), until: horizon };
      });
      void reply.type('application/json; charset=utf-8');
      return text;
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
    handler: ({ useCases, params }) => useCases().evidence(params.ref),
  }),
];
