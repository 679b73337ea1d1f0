/**
 * The review desk: the web pages of `tollgate serve` (DESIGN.md, "The review desk"). Registered as
 * one Fastify plugin scope of its own, so its cookie, form and multipart parsers, its CSRF check and
 * its HTML error pages touch none of the `/api` routes. Every page reads, and every form acts,
 * through the service layer's use cases as the signed-in person, exactly as an `/api` route does for
 * a token's user; refusals (403) are audited the same way.
 */
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUDIT_EVENT_TYPES } from '../../audit/events.js';
import { TollgateError, tollgateError } from '../../domain/errors.js';
import { rosterEntry, type Decision } from '../../domain/model.js';
import type { EvidenceInput } from '../../service/check.js';
import type { ServiceDeps } from '../../service/deps.js';
import type { RelyingParty } from '../../service/passkeys.js';
import type { ReleaseSummary } from '../../service/read-release.js';
import { createDeskUseCases as createUseCases, type DeskUseCases as UseCases } from '../../service/use-cases.js';
import { authenticate } from '../auth.js';
import type { OidcConfig, OidcVerifier } from '../oidc.js';
import { createReadCache } from '../read-cache.js';
import { MAX_EVIDENCE_BYTES } from '../schemas.js';
import { DESK_CSS, DESK_JS, webauthnBrowserScript } from './assets.js';
import { h, releaseHref, type Viewer } from './html.js';
import { createOidcLogin, type OidcLogin } from './oidc-login.js';
import { auditPage, deliveryPage, errorPage, loginPage, pipelinePage, queuePage, type PipelineRow, type QueueItem } from './pages.js';
import { releasePage } from './release-page.js';
import { nextStage, releaseView } from './release-view.js';
import { clearSession, deskKey, readSession, setSession, type SignInMethod } from './session.js';
import { registerPasskeyRoutes, passkeyCount } from './passkey-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A review desk route: app.ts leaves it out of the API's route list and its description. */
    desk?: boolean;
  }
}

/** How the desk is set up; `serve` fills it from its flags and the home. */
export interface DeskConfig {
  /** Issuers people may sign in with (authorization code + PKCE); those with a `login` block are offered. */
  readonly oidc?: OidcConfig;
  /** How long a sign-in lasts (default 8 hours). */
  readonly sessionSeconds?: number;
}

export interface DeskDeps {
  readonly deps: ServiceDeps;
  readonly config: DeskConfig;
  readonly verifier?: OidcVerifier;
  /** This server as browsers see it (`serve --public-url`): passkeys and the OIDC redirect use its origin. */
  readonly relyingParty: () => RelyingParty;
  /** The app's own refusal recorder: a 403 here leaves the same AccessDenied event as on the API. */
  readonly recordRefusal: (err: unknown, req: FastifyRequest, user: string | undefined) => Promise<void>;
}

const DEFAULT_SESSION_SECONDS = 8 * 3600;

/** The CSRF tokens of the sign-in page are bound to no one (no roster name can be "-"). */
const NOBODY = '-';

/** The person a desk request speaks for, once the session and the roster both say so. */
interface Person {
  readonly user: string;
  readonly roles: readonly string[];
}

/** Messages a form's redirect may show (a fixed list: a link cannot inject text into the page). */
const DONE: Record<string, string> = {
  promoted: 'Promoted. The pipeline shows it.',
  'handoff-failed': 'Promoted, but a hand-off to deployment failed: `tollgate release show` says why; run `tollgate handoff retry` once the cause is fixed.',
  checked: 'Checklist item completed; the decision below is re-evaluated.',
  signed: 'Sign-off recorded, signed with your passkey.',
  rejected: 'Rejection recorded, signed with your passkey.',
  'signed-in': 'Signed in.',
};

/** Routes and their owner: the onRoute hook of app.ts leaves these out of the API's route list. */
const DESK = { desk: true } as const;

export async function deskPlugin(app: FastifyInstance, opts: DeskDeps): Promise<void> {
  const { deps, config } = opts;
  const sessionSeconds = config.sessionSeconds ?? DEFAULT_SESSION_SECONDS;
  const people = new WeakMap<FastifyRequest, Person>();
  const caches = createReadCache(deps.store);
  const oidcLogin: OidcLogin | undefined = config.oidc && opts.verifier ? createOidcLogin(config.oidc, opts.verifier, () => opts.relyingParty().origin) : undefined;

  await app.register(fastifyCookie, { secret: deskKey(deps.serverKey, 'session') });
  await app.register(fastifyFormbody);
  await app.register(fastifyMultipart, { attachFieldsToBody: true, limits: { fileSize: MAX_EVIDENCE_BYTES, files: 1, fields: 20 } });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'tg_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', signed: true },
    csrfOpts: { hmacKey: deskKey(deps.serverKey, 'csrf'), userInfo: true },
    getUserInfo: (req: FastifyRequest) => people.get(req)?.user ?? NOBODY,
    getToken: (req: FastifyRequest) => {
      const field = (req.body as Record<string, unknown> | undefined)?._csrf;
      const value = typeof field === 'object' && field !== null ? (field as { value?: unknown }).value : field;
      return typeof value === 'string' ? value : (req.headers['x-csrf-token'] as string | undefined) ?? '';
    },
  } as never);

  // Pages are not cached anywhere, and are not framed by other sites; scripts only from this origin.
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('cache-control', 'no-store');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    return payload;
  });

  const wantsJson = (req: FastifyRequest) => String(req.headers.accept ?? '').includes('application/json') || String(req.headers['content-type'] ?? '').includes('application/json');

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const known =
      err instanceof TollgateError
        ? err
        : err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET'
          ? tollgateError('TG_CSRF_INVALID', 'the form came without a valid CSRF token of your session; reload the page and try again')
          : err.code === 'FST_REQ_FILE_TOO_LARGE'
            ? tollgateError('TG_REQUEST_TOO_LARGE', `the evidence file is larger than ${MAX_EVIDENCE_BYTES} bytes`)
            : err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500
              ? tollgateError('TG_REQUEST_INVALID', `invalid request: ${err.message}`)
              : undefined;
    await opts.recordRefusal(known ?? err, req, people.get(req)?.user);
    if (!known) req.log.error({ err }, 'unexpected error');
    const status = known?.status ?? 500;
    const code = known?.code ?? 'TG_INTERNAL';
    const message = known?.message ?? `internal error (request ${req.id}); the server log has the details`;
    if (wantsJson(req)) return reply.code(status).send({ error: { code, message, ...(known?.hint ? { hint: known.hint } : {}) } });
    const person = people.get(req);
    const viewer = person ? { ...person, csrf: reply.generateCsrf({ userInfo: person.user }) } : undefined;
    return reply.code(status).type('text/html; charset=utf-8').send(errorPage(viewer, status, code, message, known?.hint));
  });

  /** The signed-in roster member, or a redirect to /login (undefined: the reply is already sent). */
  async function signedIn(req: FastifyRequest, reply: FastifyReply): Promise<Person | undefined> {
    const now = deps.now();
    const session = readSession(req, now);
    const back = () => `/login?next=${encodeURIComponent(req.url)}`;
    if (!session) {
      if (wantsJson(req)) throw tollgateError('TG_TOKEN_INVALID', 'sign in to the review desk first (/login)');
      void reply.redirect(back(), 303);
      return undefined;
    }
    // The active policy, kept until the store changes (as the API keeps it for its token checks).
    const policy = await caches.forRequest().get('policy', now.getTime(), async () => ({ value: await createUseCases(deps, session.user).policy() }));
    const entry = policy ? rosterEntry(policy.policy, session.user) : undefined;
    if (!entry) {
      clearSession(reply);
      void reply.redirect(`${back()}&error=roster`, 303);
      return undefined;
    }
    // A session signed in with an API token lasts only as long as the token: revoked, it ends here.
    if (session.token !== undefined) {
      const tokens = await caches.forRequest().get('tokens', now.getTime(), async () => ({ value: await deps.store.listTokens() }));
      const token = tokens.find((t) => t.id === session.token);
      if (!token || token.revokedAt !== undefined || token.user !== session.user) {
        clearSession(reply);
        if (wantsJson(req)) throw tollgateError('TG_TOKEN_INVALID', `the API token this session was signed in with was revoked; sign in again (/login)`);
        void reply.redirect(`${back()}&error=revoked`, 303);
        return undefined;
      }
    }
    const person = { user: session.user, roles: entry.roles };
    people.set(req, person);
    return person;
  }

  /** Every desk route but sign-in and the static files: signed in, then (for a POST) the CSRF token. */
  const guarded = {
    config: DESK,
    onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
      // An async hook that answered must return the reply, or the route would run as well.
      if (!(await signedIn(req, reply))) return reply;
    },
    preHandler: csrfCheck,
  };

  /**
   * The CSRF check of a form or script post. @fastify/csrf-protection's hook answers a bad token by
   * sending its error (403, FST_CSRF_INVALID_TOKEN), which the error handler above turns into
   * TG_CSRF_INVALID and audits; it is a callback hook, so it runs as one here.
   */
  function csrfCheck(req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
    if (req.method !== 'POST') return done();
    app.csrfProtection(req, reply, done);
  }

  const viewerOf = (req: FastifyRequest, reply: FastifyReply): Viewer => {
    const p = people.get(req)!;
    return { ...p, csrf: reply.generateCsrf({ userInfo: p.user }) };
  };
  const useCasesOf = (req: FastifyRequest): UseCases => createUseCases(deps, people.get(req)!.user);
  const html = (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').send(body);

  // ------------------------------------------------------------ static files

  app.get('/desk/assets/desk.css', { config: DESK }, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(DESK_CSS));
  app.get('/desk/assets/desk.js', { config: DESK }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(DESK_JS));
  app.get('/desk/assets/webauthn.js', { config: DESK }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(webauthnBrowserScript()));

  // ------------------------------------------------------------ sign-in

  const safeNext = (next: unknown) => (typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/');

  /**
   * A session for `user`; one signed in with a stored API token ends when the token does (its expiry
   * caps the session's) and is checked against revocation on every request.
   */
  function startSession(req: FastifyRequest, reply: FastifyReply, user: string, via: SignInMethod, token?: { id: string; expiresAt?: string }): void {
    const now = deps.now();
    const until = Math.min(now.getTime() + sessionSeconds * 1000, token?.expiresAt !== undefined ? Date.parse(token.expiresAt) : Infinity);
    setSession(req, reply, { user, via, expires: until, ...(token ? { token: token.id } : {}) }, now);
  }

  /** The roster entry a sign-in names, or the reason it cannot sign in. */
  async function rosterMember(user: string): Promise<string | undefined> {
    const policy = await createUseCases(deps, user).policy();
    if (!policy) return 'no policy has been applied yet, so nobody can sign in';
    return Object.hasOwn(policy.policy.roster, user) ? undefined : `${user} is not in the roster of policy ${policy.name}`;
  }

  const ERRORS: Record<string, string> = {
    roster: 'You are no longer in the roster of the active policy.',
    expired: 'Your sign-in expired; sign in again.',
    revoked: 'The API token you signed in with was revoked; sign in again with another.',
  };

  app.get('/login', { config: DESK }, async (req, reply) => {
    const q = req.query as { next?: string; error?: string };
    if (readSession(req, deps.now())) return reply.redirect(safeNext(q.next), 303);
    return html(
      reply,
      loginPage({
        csrf: reply.generateCsrf({ userInfo: NOBODY }),
        next: safeNext(q.next),
        providers: oidcLogin?.providers ?? [],
        ...(q.error ? { error: (Object.hasOwn(ERRORS, q.error) ? ERRORS[q.error] : undefined) ?? 'Sign-in failed.' } : {}),
      }),
    );
  });

  app.post('/login', { config: DESK, preHandler: csrfCheck }, async (req, reply) => {
    const body = (req.body ?? {}) as { token?: string; next?: string };
    const next = safeNext(body.next);
    const again = (error: string) => reply.code(401).type('text/html; charset=utf-8').send(loginPage({ csrf: reply.generateCsrf({ userInfo: NOBODY }), next, providers: oidcLogin?.providers ?? [], error }));
    const token = (body.token ?? '').trim();
    if (!token) return again('Enter an API token.');
    let user: string;
    let stored: { id: string; expiresAt?: string } | undefined;
    try {
      const identity = await authenticate(deps.store, `Bearer ${token}`, deps.now(), opts.verifier);
      user = identity.user;
      // A stored token (not an OIDC token pasted in): the session is bound to it.
      if (!identity.tokenId.startsWith('oidc:')) stored = { id: identity.tokenId, ...(identity.expiresAt !== undefined ? { expiresAt: identity.expiresAt } : {}) };
    } catch (err) {
      if (err instanceof TollgateError && err.status === 401) return again(`Not signed in: ${err.message}.`);
      throw err;
    }
    const problem = await rosterMember(user);
    if (problem) return again(`Not signed in: ${problem}.`);
    startSession(req, reply, user, 'token', stored);
    return reply.redirect(next, 303);
  });

  app.get('/login/oidc/:index', { config: DESK }, async (req, reply) => {
    if (!oidcLogin) throw tollgateError('TG_ROUTE_NOT_FOUND', 'this server has no identity provider configured for sign-in');
    const { index } = req.params as { index: string };
    const next = safeNext((req.query as { next?: string }).next);
    return reply.redirect(await oidcLogin.start(req, reply, Number(index), next, deps.now()), 303);
  });

  app.get('/login/oidc/callback', { config: DESK }, async (req, reply) => {
    if (!oidcLogin) throw tollgateError('TG_ROUTE_NOT_FOUND', 'this server has no identity provider configured for sign-in');
    let result: { user: string; next: string };
    try {
      result = await oidcLogin.finish(req, deps.now());
    } catch (err) {
      req.log.info({ err: (err as Error).message }, 'OIDC sign-in failed');
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage({ csrf: reply.generateCsrf({ userInfo: NOBODY }), next: '/', providers: oidcLogin.providers, error: `Not signed in: ${(err as Error).message}` }));
    }
    const problem = await rosterMember(result.user);
    if (problem) return reply.code(403).type('text/html; charset=utf-8').send(loginPage({ csrf: reply.generateCsrf({ userInfo: NOBODY }), next: '/', providers: oidcLogin.providers, error: `Not signed in: ${problem}.` }));
    startSession(req, reply, result.user, 'oidc');
    return reply.redirect(result.next, 303);
  });

  app.post('/logout', guarded, async (_req, reply) => {
    clearSession(reply);
    return reply.redirect('/login', 303);
  });

  // ------------------------------------------------------------ pipeline, queue

  app.get('/', guarded, async (req, reply) => {
    const uc = useCasesOf(req);
    const policy = (await uc.policy())!;
    const stages = policy.policy.stages.map((s) => s.name);
    const releases = newestFirst(await uc.listReleases());
    const bySubject = new Map<string, ReleaseSummary[]>();
    for (const r of releases) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r]);
    const rows: PipelineRow[] = [];
    for (const [subject, list] of [...bySubject.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const holders = new Map<string, ReleaseSummary>();
      for (const r of list) for (const s of r.holds) holders.set(s, r);
      const waiting: { release: ReleaseSummary; decision: Decision }[] = [];
      for (const r of list.slice(0, 6)) {
        const detail = await uc.showRelease(r.release);
        const next = nextStage(stages, detail);
        // Through every stage already (or holding the one it would enter next): nothing to wait for.
        if (r.holds.includes(next) || detail.promotions.some((p) => p.kind === 'promotion' && p.stage === next)) continue;
        waiting.push({ release: r, decision: await uc.decision(r.release, next) });
      }
      rows.push({ subject, holders, waiting });
    }
    return html(reply, pipelinePage(viewerOf(req, reply), policy, rows, deps.now()));
  });

  app.get('/queue', guarded, async (req, reply) => {
    const uc = useCasesOf(req);
    const me = people.get(req)!;
    const policy = (await uc.policy())!;
    const stages = policy.policy.stages.map((s) => s.name);
    const items: QueueItem[] = [];
    for (const r of newestFirst(await uc.listReleases()).slice(0, 50)) {
      const detail = await uc.showRelease(r.release);
      const entered = new Set(detail.promotions.filter((p) => p.kind === 'promotion').map((p) => p.stage));
      for (const stage of stages.filter((s) => !entered.has(s))) {
        const d = await uc.decision(r.release, stage);
        for (const g of d.gates) {
          for (const q of g.requirements) {
            if (q.outcome === 'satisfied' || q.outcome === 'failed' || !q.canProvide?.includes(me.user)) continue;
            if (q.kind === 'signoff' && q.role && me.roles.includes(q.role)) items.push({ release: r, stage, gate: g.id, kind: 'signoff', label: `sign-off by ${q.role}`, reason: q.reason });
            if (q.kind === 'checklist') items.push({ release: r, stage, gate: g.id, kind: 'checklist', label: `checklist ${q.id}`, reason: q.reason });
          }
        }
      }
      // Follow-ups a break-glass promotion left open, for whoever may complete them.
      for (const stage of new Set(detail.promotions.filter((p) => p.breakGlass !== undefined && p.releaseDigest === detail.digest).map((p) => p.stage))) {
        for (const f of (await uc.decision(r.release, stage)).followUps ?? []) {
          if (f.done || (f.roles?.length && !f.roles.some((role) => me.roles.includes(role)))) continue;
          items.push({ release: r, stage, gate: f.item, kind: 'follow-up', label: `break-glass follow-up ${f.item}`, reason: f.text ?? `complete it with \`tollgate check ${r.release} ${f.item} --to ${stage}\`` });
        }
      }
    }
    return html(reply, queuePage(viewerOf(req, reply), items));
  });

  // ------------------------------------------------------------ audit, delivery

  async function renderAudit(req: FastifyRequest, reply: FastifyReply, verified?: Awaited<ReturnType<UseCases['auditVerify']>>) {
    const uc = useCasesOf(req);
    const q = (req.query ?? {}) as Record<string, string | undefined>;
    const str = (v: string | undefined) => (v && v.trim() !== '' ? v.trim().slice(0, 200) : undefined);
    const before = q.before !== undefined && /^\d+$/.test(q.before) ? Number(q.before) : undefined;
    const filter = {
      ...(str(q.type) ? { type: str(q.type)! } : {}),
      ...(str(q.actor) ? { actor: str(q.actor)! } : {}),
      ...(str(q.subject) ? { subject: str(q.subject)! } : {}),
      ...(str(q.since) ? { since: str(q.since)! } : {}),
      ...(str(q.until) ? { until: str(q.until)! } : {}),
      ...(before !== undefined ? { before } : {}),
    };
    const [logPage, checkpoint] = await Promise.all([uc.deskAuditLog(filter), uc.auditCheckpoint()]);
    return html(reply, auditPage(viewerOf(req, reply), { filter, page: logPage, types: AUDIT_EVENT_TYPES, ...(checkpoint ? { checkpoint } : {}), ...(verified ? { verified } : {}) }));
  }
  app.get('/audit', guarded, async (req, reply) => renderAudit(req, reply));
  app.post('/audit/verify', guarded, async (req, reply) => renderAudit(req, reply, await useCasesOf(req).auditVerify()));
  app.get('/delivery', guarded, async (req, reply) => {
    const uc = useCasesOf(req);
    const q = (req.query ?? {}) as Record<string, string | undefined>;
    const str = (v: string | undefined) => (v && v.trim() !== '' ? v.trim().slice(0, 200) : undefined);
    const filter = {
      ...(str(q.subject) ? { subject: str(q.subject)! } : {}),
      ...(str(q.since) ? { since: str(q.since)! } : {}),
      ...(str(q.stage) ? { stage: str(q.stage)! } : {}),
    };
    const stages = (await uc.activePolicy())?.stages ?? [];
    try {
      return html(reply, deliveryPage(viewerOf(req, reply), { filter, stages, metrics: await uc.metrics(filter) }));
    } catch (err) {
      // A filter that cannot be read is said on the page, with the form to correct it.
      if (err instanceof TollgateError && (err.code === 'TG_USAGE' || err.code === 'TG_STAGE_UNKNOWN')) {
        return html(reply, deliveryPage(viewerOf(req, reply), { filter, stages, error: err.message }));
      }
      throw err;
    }
  });

  // ------------------------------------------------------------ release

  app.get('/releases/:ref', guarded, async (req, reply) => {
    const { ref } = req.params as { ref: string };
    const q = req.query as { stage?: string; done?: string };
    const me = people.get(req)!;
    const uc = useCasesOf(req);
    // What the page shows is kept until the store changes or a decision's horizon passes (the
    // API's status read does the same); only the CSRF tokens are made per request.
    const cache = caches.forRequest();
    const now = deps.now().getTime();
    const view = await cache.get(JSON.stringify(['release', ref, me.user, q.stage ?? null]), now, async () => {
      const v = await releaseView(uc, ref, me.user, q.stage);
      return { value: v, until: v.horizon };
    });
    const passkeys = await cache.get(JSON.stringify(['passkeys', me.user]), now, async () => ({ value: await passkeyCount(deps, me.user) }));
    const done = q.done && Object.hasOwn(DONE, q.done) ? DONE[q.done] : undefined;
    return html(
      reply,
      releasePage({
        view,
        viewer: viewerOf(req, reply),
        passkeys,
        ...(done ? { notice: { kind: q.done === 'handoff-failed' ? ('error' as const) : ('ok' as const), html: h(done) } } : {}),
      }),
    );
  });

  app.get('/releases/:ref/results/:file', guarded, async (req, reply) => {
    const { ref, file } = req.params as { ref: string; file: string };
    const id = file.replace(/\.json$/, '');
    const { evidence } = await useCasesOf(req).evidence(ref);
    const result = evidence.validations.find((v) => v.id === id);
    if (!result) throw tollgateError('TG_ROUTE_NOT_FOUND', `no validation result ${id} of ${ref}`);
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(result, null, 2));
  });

  app.get('/desk/blobs/:digest', guarded, async (req, reply) => {
    const { digest } = req.params as { digest: string };
    const name = String((req.query as { name?: string }).name ?? 'evidence').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'evidence';
    const bytes = await useCasesOf(req).blob(digest);
    if (!bytes) throw tollgateError('TG_ROUTE_NOT_FOUND', `no stored file with digest ${digest}`);
    return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${name}"`).send(Buffer.from(bytes));
  });

  app.post('/releases/:ref/checklist', guarded, async (req, reply) => {
    const { ref } = req.params as { ref: string };
    const body = (req.body ?? {}) as Record<string, { value?: unknown; filename?: string; toBuffer?: () => Promise<Buffer> } | undefined>;
    const field = (k: string) => {
      const v = body[k]?.value;
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
    };
    const stage = field('stage');
    const item = field('item');
    if (!stage || !item) throw tollgateError('TG_REQUEST_INVALID', 'the form must name the stage and the checklist item');
    let evidence: EvidenceInput | undefined;
    const file = body.evidence;
    if (file?.filename && file.toBuffer) {
      const bytes = await file.toBuffer();
      if (bytes.byteLength > 0) evidence = { kind: 'file', name: file.filename.split(/[\\/]/).pop()!.slice(0, 200), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    }
    const url = field('url');
    if (!evidence && url) evidence = { kind: 'url', uri: url };
    const note = field('note');
    await useCasesOf(req).check({ release: ref, stage, item, ...(evidence ? { evidence } : {}), ...(note ? { note } : {}) });
    return reply.redirect(`${releaseHref(ref, stage)}&done=checked`, 303);
  });

  app.post('/releases/:ref/promotions', guarded, async (req, reply) => {
    const { ref } = req.params as { ref: string };
    const stage = String((req.body as { stage?: unknown } | undefined)?.stage ?? '');
    if (!stage) throw tollgateError('TG_REQUEST_INVALID', 'the form must name the stage');
    const result = await useCasesOf(req).promote(ref, stage);
    // The promotion happened either way; a failed hand-off to deployment is said, not swallowed.
    const failed = result.handoff?.some((x) => x.outcome === 'failed');
    return reply.redirect(`${releaseHref(ref, stage)}&done=${failed ? 'handoff-failed' : 'promoted'}`, 303);
  });

  await registerPasskeyRoutes(app, { deps, relyingParty: opts.relyingParty, guarded, people, useCasesOf });
}

function newestFirst(list: readonly ReleaseSummary[]): ReleaseSummary[] {
  return [...list].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.version.localeCompare(a.version)));
}
