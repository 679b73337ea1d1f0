/**
 * Passkeys on the review desk: registering one ("Register a passkey") and signing off or rejecting
 * with one. Each is two requests from the page's script: the server's WebAuthn options, then the
 * browser's answer. What the first request hands out and the second needs back (the registration
 * challenge, the sign-off draft) travels as a ticket signed with the desk's key and bound to the
 * signed-in user and a deadline, so no table keeps ceremonies in flight. The passkey use cases
 * (service/passkeys.ts) do the checking: the same roles, gates and preconditions as a CLI sign-off.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tollgateError } from '../../domain/errors.js';
import type { SignoffDecision, SignoffPayload } from '../../domain/model.js';
import type { ServiceDeps } from '../../service/deps.js';
import type { AuthenticationResponseJSON, RegistrationResponseJSON, RelyingParty } from '../../service/passkeys.js';
import { createPasskeyUseCases, type DeskUseCases as UseCases } from '../../service/use-cases.js';
import { anchor, releaseHref } from './html.js';

export interface PasskeyRouteDeps {
  readonly deps: ServiceDeps;
  readonly relyingParty: () => RelyingParty;
  readonly guarded: {
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
    preHandler: (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;
    config: { desk: true };
  };
  readonly people: WeakMap<FastifyRequest, { user: string; roles: readonly string[] }>;
  readonly useCasesOf: (req: FastifyRequest) => UseCases;
}

/** How long a ticket lasts: the WebAuthn ceremony's own timeout. */
const TICKET_MS = 5 * 60 * 1000;

/** How many live passkeys `user` has registered. */
export async function passkeyCount(deps: ServiceDeps, user: string): Promise<number> {
  return (await createPasskeyUseCases(deps, user).list(user)).filter((p) => p.revokedAt === null).length;
}

export async function registerPasskeyRoutes(app: FastifyInstance, d: PasskeyRouteDeps): Promise<void> {
  const requireRp = d.relyingParty;
  const userOf = (req: FastifyRequest) => d.people.get(req)!.user;
  const passkeys = (req: FastifyRequest) => createPasskeyUseCases(d.deps, userOf(req));

  function ticket(req: FastifyRequest, kind: string, value: unknown): string {
    const body = Buffer.from(JSON.stringify({ k: kind, u: userOf(req), e: d.deps.now().getTime() + TICKET_MS, v: value })).toString('base64url');
    return app.signCookie(body);
  }
  function unticket<T>(req: FastifyRequest, kind: string, text: unknown): T {
    const bad = () => tollgateError('TG_REQUEST_INVALID', 'the ticket of this ceremony is missing, forged, for someone else or too old; start again');
    if (typeof text !== 'string') throw bad();
    const unsigned = app.unsignCookie(text);
    if (!unsigned.valid || unsigned.value === null) throw bad();
    const t = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as { k: string; u: string; e: number; v: T };
    if (t.k !== kind || t.u !== userOf(req) || t.e < d.deps.now().getTime()) throw bad();
    return t.v;
  }

  app.post('/desk/passkeys/options', d.guarded, async (req) => {
    const { options, challenge } = await passkeys(req).registrationOptions({ id: requireRp().id, name: requireRp().name });
    return { options, ticket: ticket(req, 'register', challenge) };
  });

  app.post('/desk/passkeys', d.guarded, async (req, reply) => {
    const body = (req.body ?? {}) as { response?: RegistrationResponseJSON; ticket?: string };
    const expectedChallenge = unticket<string>(req, 'register', body.ticket);
    const { credentialId } = await passkeys(req).register({ response: body.response as RegistrationResponseJSON, expectedChallenge, rp: requireRp() });
    return reply.code(201).send({ credentialId });
  });

  app.post('/releases/:ref/signoffs/options', d.guarded, async (req) => {
    const { ref } = req.params as { ref: string };
    const b = (req.body ?? {}) as { stage?: string; role?: string; decision?: string; comment?: string; gate?: string };
    if (typeof b.stage !== 'string' || typeof b.role !== 'string' || (b.decision !== 'approve' && b.decision !== 'reject')) {
      throw tollgateError('TG_REQUEST_INVALID', 'a sign-off names its stage, role and decision (approve or reject)');
    }
    const comment = typeof b.comment === 'string' && b.comment.trim() !== '' ? b.comment.trim().slice(0, 2000) : undefined;
    const { options, draft } = await passkeys(req).signoffOptions({
      release: ref,
      stage: b.stage,
      role: b.role,
      decision: b.decision as SignoffDecision,
      ...(comment ? { comment } : {}),
      ...(typeof b.gate === 'string' && b.gate !== '' ? { gate: b.gate } : {}),
      rp: requireRp(),
    });
    return { options, ticket: ticket(req, 'signoff', draft) };
  });

  app.post('/releases/:ref/signoffs', d.guarded, async (req, reply) => {
    const { ref } = req.params as { ref: string };
    const body = (req.body ?? {}) as { response?: AuthenticationResponseJSON; ticket?: string };
    const draft = unticket<SignoffPayload>(req, 'signoff', body.ticket);
    if (draft.release !== ref) throw tollgateError('TG_REQUEST_INVALID', `a sign-off of ${draft.release} was sent to ${ref}`);
    const [recorded] = await passkeys(req).recordSignoff({ draft, response: body.response as AuthenticationResponseJSON, rp: requireRp() });
    const done = draft.decision === 'approve' ? 'signed' : 'rejected';
    return reply.code(201).send({ signoff: recorded?.id, location: `${releaseHref(ref, draft.stage)}&done=${done}#${anchor('signoff', recorded?.id ?? '')}` });
  });
}
