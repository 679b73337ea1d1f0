/**
 * Hand-offs to deployment (docs/handoff.md): what runs after a promotion has committed. Each returns
 * its outcome and never throws for a failure of the hand-off itself: the service records it, and a
 * failed one is retried with `tollgate handoff retry`.
 */
import { parseDuration } from '../domain/duration.js';
import { handoffKind, type HandoffPayload } from '../domain/handoff.js';
import type { HandoffDef, HandoffOutcome } from '../domain/model.js';
import { signDelivery, TIMESTAMP_HEADER, SIGNATURE_HEADER, EVENT_HEADER } from '../webhooks/signature.js';
import { gitHandoff, HandoffFailure } from './git.js';
import { lastLines, runProgram } from './process.js';
import { checkWebhookTarget, WebhookTargetRefused } from '../webhooks/address-guard.js';
import { postPinned } from '../webhooks/pinned-post.js';

/** Error text kept in the record, at most. */
export const MAX_ERROR_CHARS = 2000;

export interface HandoffRun {
  readonly outcome: HandoffOutcome;
  readonly error?: string;
  readonly commit?: string;
}

export interface HandoffContext {
  /** The environment a command or `git` gets: a few variables (PATH, HOME, locale), never Tollgate's own secrets. */
  readonly env: Readonly<Record<string, string>>;
  /** Where relative repository paths are read from and commands run. */
  readonly cwd: string;
  /** The time of the hand-off (a Git commit's date). */
  readonly at: string;
  /** For `webhook: whk_…`: the registered webhook's URL and secret (undefined when none has that id). */
  readonly webhook?: { readonly url: string; readonly secret: string };
  /** Webhook hand-offs may post to loopback, private and metadata addresses (`--allow-private-webhooks`). */
  readonly allowPrivate?: boolean;
}

const bound = (text: string): string => (text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text);
const failed = (error: string): HandoffRun => ({ outcome: 'failed', error: bound(error) });

export async function runHandoff(def: HandoffDef, payload: HandoffPayload, ctx: HandoffContext): Promise<HandoffRun> {
  const body = `${JSON.stringify(payload, null, 2)}\n`;
  try {
    switch (handoffKind(def)) {
      case 'git': {
        const r = await gitHandoff((def as Extract<HandoffDef, { git: unknown }>).git, payload, ctx);
        return { outcome: 'succeeded', commit: r.commit };
      }
      case 'command': {
        const c = def as Extract<HandoffDef, { command: unknown }>;
        const timeoutMs = parseDuration(c.timeout ?? '60s');
        const r = await runProgram(c.command[0]!, c.command.slice(1), { cwd: ctx.cwd, env: ctx.env, timeoutMs, stdin: body });
        if (r.spawnError) return failed(r.spawnError.code === 'ENOENT' ? `command not found: ${c.command[0]}` : `cannot start ${c.command[0]}: ${r.spawnError.message}`);
        if (r.timedOut) return failed(`timed out after ${c.timeout ?? '60s'} and was stopped`);
        if (r.exitCode === 0) return { outcome: 'succeeded' };
        const said = lastLines(r.stderr) || lastLines(r.stdout);
        return failed(`${r.exitCode === null ? `killed by ${r.signal}` : `exit code ${r.exitCode}`}${said ? `: ${said}` : ''}`);
      }
      case 'webhook': {
        const w = def as Extract<HandoffDef, { webhook: unknown }>;
        const registered = w.webhook.startsWith('whk_');
        if (registered && !ctx.webhook) return failed(`no webhook ${w.webhook} is registered (tollgate webhook list)`);
        const url = registered ? ctx.webhook!.url : w.webhook;
        const headers: Record<string, string> = { 'content-type': 'application/json', [EVENT_HEADER]: 'release.handoff', 'user-agent': 'tollgate-handoff' };
        if (registered) {
          const timestamp = Math.floor(Date.parse(ctx.at) / 1000);
          headers[TIMESTAMP_HEADER] = String(timestamp);
          headers[SIGNATURE_HEADER] = signDelivery(ctx.webhook!.secret, timestamp, body);
        }
        if (!ctx.allowPrivate) {
          // The same guard as webhooks (issue 13, SSRF): only public addresses, connected to as checked.
          let target;
          try {
            target = await checkWebhookTarget(url);
          } catch (err) {
            if (err instanceof WebhookTargetRefused) return failed(`${url} refused: ${err.message}`);
            throw err;
          }
          const status = await postPinned(target, headers, body, parseDuration(w.timeout ?? '10s'));
          return status >= 200 && status < 300 ? { outcome: 'succeeded' } : failed(`${url} answered ${status}`);
        }
        const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(parseDuration(w.timeout ?? '10s')) });
        const answer = lastLines(await res.text().catch(() => ''), 300);
        if (res.status >= 200 && res.status < 300) return { outcome: 'succeeded' };
        return failed(`${url} answered ${res.status}${answer ? `: ${answer}` : ''}`);
      }
    }
  } catch (err) {
    if (err instanceof HandoffFailure) return failed(err.message);
    const e = err as Error & { cause?: { message?: string } };
    return failed(e.name === 'TimeoutError' ? `no answer within ${(def as { timeout?: string }).timeout ?? '10s'}` : `${e.message}${e.cause?.message ? ` (${e.cause.message})` : ''}`);
  }
}
