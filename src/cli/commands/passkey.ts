import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/**
 * Passkeys: registered by reviewers on the review desk ("Register a passkey"), listed and revoked
 * here, on the local home or with `--server URL` through the API (an admin for anyone's, an owner for
 * their own). A revoked passkey's sign-offs stop counting from its revocation on (docs/passkeys.md).
 */
export function registerPasskey(program: Command, ctx: CliContext): void {
  const passkey = program.command('passkey').description('passkeys that sign sign-offs on the review desk: list, revoke');
  passkey
    .command('list')
    .description("every passkey, or USER's: credential id, user, relying party, registration and revocation")
    .argument('[user]', 'only this roster user\'s passkeys')
    .action(async (user: string | undefined) => {
      const passkeys = await (await ctx.openPasskeyAdmin()).list(user);
      ctx.emit({ passkeys }, () =>
        passkeys.length === 0
          ? `no passkeys${user !== undefined ? ` for ${user}` : ''}`
          : passkeys.map((k) => `${k.id}  ${k.user}  ${k.rpId}  registered ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt} by ${k.revokedBy}` : ''}`),
      );
    });
  passkey
    .command('revoke')
    .description('revoke a passkey by its credential id: its sign-offs stop counting (an admin, or its owner)')
    .argument('<id>', 'the credential id, from `passkey list` (base64url; one that starts with `-` goes after `--`: `passkey revoke -- -AbC…`)')
    .action(async (id: string) => {
      const revoked = await (await ctx.openPasskeyAdmin()).revoke(id);
      ctx.emit(revoked, () => `revoked passkey ${revoked.id} of ${revoked.user} at ${revoked.revokedAt}`);
    });
}
