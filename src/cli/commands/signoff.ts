import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import { formatPublicKey } from '../../domain/keys.js';
import { releaseOwnerRole } from '../../domain/evaluate.js';
import { signSignoff } from '../../domain/signoff.js';
import type { CliContext } from '../context.js';
import { findUserKey, loadUserKey } from '../home.js';

export function registerSignoff(program: Command, ctx: CliContext): void {
  program
    .command('signoff')
    .description("sign off (or reject) a release for a stage in one of your roles, signed with your own key")
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--to <stage>', 'the stage the sign-off is for')
    .requiredOption('--role <role>', 'the role you sign in')
    .option('--reject', 'record a rejection: it blocks until you sign off again')
    .option('--comment <text>', 'why; kept with the signed sign-off')
    .action(async (ref: string, opts: { to: string; role: string; reject?: boolean; comment?: string }) => {
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
