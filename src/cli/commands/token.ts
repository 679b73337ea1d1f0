import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/**
 * API tokens for `tollgate serve`: on the local home (the server's database), or with `--server URL`
 * through the API as an admin (TOLLGATE_TOKEN holding an admin's token). The token is printed once;
 * only its SHA-256 is stored.
 */
export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('API tokens for the HTTP API of `tollgate serve` (printed once, stored only as a hash)');
  token
    .command('create')
    .description('issue an API token for USER; prints it once (send it as `Authorization: Bearer …`, or TOLLGATE_TOKEN)')
    .argument('<user>', 'the roster name the token speaks for')
    .option('--expires <duration>', 'how long it lasts: 30d, 12h … (default: until revoked)')
    .action(async (user: string, opts: { expires?: string }) => {
      const admin = await ctx.openTokenAdmin();
      const issued = await admin.create(user, opts.expires);
      ctx.emit(issued, () => issued.token);
      ctx.note(`token ${issued.id} for ${user}${issued.expiresAt ? `, valid until ${issued.expiresAt}` : ', valid until revoked'}: keep it now, it is not shown again`);
      const outside = await admin.outsideRoster(user);
      if (outside) ctx.note(`note: ${user} is not in the roster of policy ${outside.policy}: the server refuses the token (403) until they are`);
    });
  token
    .command('revoke')
    .description('revoke an API token by its id (from `token create` or `token list`)')
    .argument('<id>', 'the token id, tok_…')
    .action(async (id: string) => {
      const revoked = await (await ctx.openTokenAdmin()).revoke(id);
      ctx.emit(revoked, () => `revoked ${revoked.id} (${revoked.user}) at ${revoked.revokedAt}`);
    });
  token
    .command('list')
    .description('every API token: id, user, expiry, revocation (never the secret)')
    .action(async () => {
      const tokens = await (await ctx.openTokenAdmin()).list();
      const now = Date.now();
      ctx.emit({ tokens }, () =>
        tokens.length === 0
          ? 'no API tokens'
          : tokens.map((t) => {
              const state = t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt && Date.parse(t.expiresAt) <= now ? `expired ${t.expiresAt}` : t.expiresAt ? `valid until ${t.expiresAt}` : 'valid until revoked';
              return `${t.id}  ${t.user}  ${state}`;
            }),
      );
    });
}
