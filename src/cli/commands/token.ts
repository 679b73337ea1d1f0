import type { Command } from 'commander';
import { createHttpTokenAdmin, type TokenAdmin } from '../../client/http-client.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../../service/tokens.js';
import type { CliContext } from '../context.js';

/**
 * API tokens for `tollgate serve`: on the local home (the server's database), or with `--server URL`
 * through the API as an admin (TOLLGATE_TOKEN holding an admin's token). The token is printed once;
 * only its SHA-256 is stored.
 */
/** The token operations over the local home, or over the API in remote mode. */
async function openAdmin(ctx: CliContext): Promise<TokenAdmin & { rosterNote(user: string): Promise<string | undefined> }> {
  const config = ctx.config();
  if (config.server) {
    const remote = createHttpTokenAdmin({ url: config.server, ...(config.token ? { token: config.token } : {}) });
    return { ...remote, rosterNote: async () => undefined };
  }
  const deps = await ctx.openDeps();
  return {
    create: (user, expires) => createApiToken(deps, config.user, user, expires),
    revoke: (id) => revokeApiToken(deps, config.user, id),
    list: () => listApiTokens(deps.store),
    rosterNote: async (user) => {
      const active = await deps.store.activePolicy();
      return active && !Object.hasOwn(active.policy.roster, user)
        ? `note: ${user} is not in the roster of policy ${active.policy.name}: the server refuses the token (403) until they are`
        : undefined;
    },
  };
}

export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('API tokens for the HTTP API of `tollgate serve` (printed once, stored only as a hash)');
  token
    .command('create')
    .description('issue an API token for USER; prints it once (send it as `Authorization: Bearer …`, or TOLLGATE_TOKEN)')
    .argument('<user>', 'the roster name the token speaks for')
    .option('--expires <duration>', 'how long it lasts: 30d, 12h … (default: until revoked)')
    .action(async (user: string, opts: { expires?: string }) => {
      const admin = await openAdmin(ctx);
      const issued = await admin.create(user, opts.expires);
      ctx.emit(issued, () => issued.token);
      ctx.note(`token ${issued.id} for ${user}${issued.expiresAt ? `, valid until ${issued.expiresAt}` : ', valid until revoked'}: keep it now, it is not shown again`);
      const note = await admin.rosterNote(user);
      if (note) ctx.note(note);
    });
  token
    .command('revoke')
    .description('revoke an API token by its id (from `token create` or `token list`)')
    .argument('<id>', 'the token id, tok_…')
    .action(async (id: string) => {
      const revoked = await (await openAdmin(ctx)).revoke(id);
      ctx.emit(revoked, () => `revoked ${revoked.id} (${revoked.user}) at ${revoked.revokedAt}`);
    });
  token
    .command('list')
    .description('every API token: id, user, expiry, revocation (never the secret)')
    .action(async () => {
      const tokens = await (await openAdmin(ctx)).list();
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
