import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import { signException as signExceptionPayload } from '../../domain/exception.js';
import { formatPublicKey } from '../../domain/keys.js';
import { releaseOwnerRole } from '../../domain/evaluate.js';
import { signSignoff } from '../../domain/signoff.js';
import type { CliContext } from '../context.js';
import { findUserKey, loadUserKey } from '../home.js';

interface SignoffOptions {
  to: string;
  role: string;
  reject?: boolean;
  comment?: string;
  breakGlass?: boolean;
  waive?: string;
  reason?: string;
  expires?: string;
}

export function registerSignoff(program: Command, ctx: CliContext): void {
  program
    .command('signoff')
    .description("sign off (or reject) a release for a stage in one of your roles, signed with your own key; or sign a waiver or a break-glass")
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--to <stage>', 'the stage the sign-off is for')
    .requiredOption('--role <role>', 'the role you sign in')
    .option('--reject', 'record a rejection: it blocks until you sign off again')
    .option('--comment <text>', 'why; kept with the signed sign-off')
    .option('--break-glass', "sign a break-glass: lets one promotion into the stage past a freeze or unmet requirements (the stage's breakGlass role; needs --reason)")
    .option('--waive <gate/requirement>', "waive one requirement of a gate for this release (a role the gate's waivers names; needs --reason and --expires)")
    .option('--reason <text>', 'why the break-glass or the waiver; signed with it')
    .option('--expires <duration>', 'how long a waiver counts, from now (e.g. 7d, at most 90d)')
    .action(async (ref: string, opts: SignoffOptions) => {
      if (opts.breakGlass || opts.waive !== undefined) return signExceptionCommand(ctx, ref, opts);
      if (opts.reason !== undefined || opts.expires !== undefined) throw tollgateError('TG_USAGE', '--reason and --expires go with --break-glass or --waive');
      const config = ctx.config();
      const client = await ctx.openClient();
      const draft = await client.draftSignoffs({
        release: ref,
        stage: opts.to,
        role: opts.role,
        decision: opts.reject ? 'reject' : 'approve',
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      });
      // The private key stays on this machine: only the signature travels.
      const key = loadUserKey(config.home, draft.payloads[0]!.signer);
      if (formatPublicKey(key) !== draft.rosterKey) {
        throw tollgateError('TG_KEY_MISMATCH', `the private key of ${draft.payloads[0]!.signer} in ${config.home} does not match the roster's public key`);
      }
      const signed = draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, key) }));
      if (findUserKey(config.home, draft.payloads[0]!.signer)?.demo) {
        ctx.note(`signed with ${draft.payloads[0]!.signer}'s DEMO key from init: anyone with ${config.home} can sign as them (see docs/security.md)`);
      }
      const recorded = await client.recordSignoffs(signed);
      // Recorded, but an owner's approval does not count under separation of duties: say so here
      // rather than let the signer believe the gate moved (the promoter is not known yet).
      const [release, active] = await Promise.all([client.showRelease(ref), client.showPolicy()]);
      const warnings = recorded.flatMap((s) => {
        const gate = active.policy.gates.find((g) => g.id === s.gate && g.stage === s.stage);
        const why = releaseOwnerRole(release, s.signer);
        if (s.decision !== 'approve' || gate?.separationOfDuties !== true || why === undefined) return [];
        return [`${s.signer}'s sign-off on gate ${s.gate} will not count: ${s.signer} is ${why === 'the release owner' ? 'the release owner' : 'the person who registered the release'}, and the gate has separation of duties`];
      });
      ctx.emit({ signoffs: recorded, ...(warnings.length > 0 ? { warnings } : {}) }, () => [
        ...recorded.map(
          (s) => `${s.decision === 'approve' ? '✔ signed off' : '✘ rejected'} ${s.release} → ${s.stage}, gate ${s.gate}, as ${s.role} (${s.signer}, ${s.at})`,
        ),
        ...warnings.map((w) => `  but: ${w}`),
      ]);
    });
}

/** `signoff --break-glass` and `signoff --waive`: drafted by the service, signed here with the user's own key. */
async function signExceptionCommand(ctx: CliContext, ref: string, opts: SignoffOptions): Promise<void> {
  if (opts.breakGlass && opts.waive !== undefined) throw tollgateError('TG_USAGE', '--break-glass and --waive are two different sign-offs: give one');
  if (opts.reject || opts.comment !== undefined) throw tollgateError('TG_USAGE', '--reject and --comment are for sign-offs; a break-glass or a waiver says why with --reason');
  if (opts.reason === undefined || opts.reason.trim() === '') throw tollgateError('TG_USAGE', `${opts.breakGlass ? '--break-glass' : '--waive'} needs --reason "…"`);
  if (opts.waive !== undefined && opts.expires === undefined) throw tollgateError('TG_USAGE', '--waive needs --expires DURATION (e.g. 7d, at most 90d)');
  if (opts.breakGlass && opts.expires !== undefined) throw tollgateError('TG_USAGE', '--expires goes with --waive; a break-glass is for one promotion');
  const config = ctx.config();
  const client = await ctx.openClient();
  const draft = await client.draftException({
    release: ref,
    stage: opts.to,
    role: opts.role,
    kind: opts.breakGlass ? 'break-glass' : 'waiver',
    reason: opts.reason,
    ...(opts.waive !== undefined ? { waive: opts.waive } : {}),
    ...(opts.expires !== undefined ? { expires: opts.expires } : {}),
  });
  const key = loadUserKey(config.home, draft.payload.signer);
  if (formatPublicKey(key) !== draft.rosterKey) {
    throw tollgateError('TG_KEY_MISMATCH', `the private key of ${draft.payload.signer} in ${config.home} does not match the roster's public key`);
  }
  const e = await client.recordException({ ...draft.payload, signature: signExceptionPayload(draft.payload, key) });
  ctx.emit({ exception: e }, () => [
    e.kind === 'break-glass'
      ? `⚠ break-glass signed for ${e.release} → ${e.stage} as ${e.role} (${e.signer}, ${e.at}): "${e.reason}"; promote with \`tollgate promote ${e.release} --to ${e.stage} --break-glass --reason "…"\``
      : `≈ waived ${e.gate}/${e.requirement} of ${e.release} → ${e.stage} as ${e.role} (${e.signer}, ${e.at}) until ${e.expiresAt}: "${e.reason}"`,
  ]);
}
