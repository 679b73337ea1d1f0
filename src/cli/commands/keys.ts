import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import { formatPublicKey } from '../../domain/keys.js';
import type { CliContext } from '../context.js';
import { createUserKey, loadServerKey, rotateServerKeyFiles, showUserKey } from '../home.js';
import { rotateServerKey } from '../../service/rotate-key.js';

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('Ed25519 key pairs for sign-offs');
  keys
    .command('create')
    .description('an Ed25519 key pair for USER (private key kept with mode 0600); prints the public key for the roster')
    .argument('<user>', 'the roster name')
    .action((user: string) => {
      const { publicKey, file } = createUserKey(ctx.config().home, user);
      ctx.emit({ user, publicKey }, () => publicKey);
      ctx.note(`private key written to ${file}; put the public key in the roster: ${user}: { roles: [...], key: "${publicKey}" }`);
    });
  keys
    .command('rotate')
    .description("replace the server key; the rotation is recorded in the audit log and old checkpoints stay verifiable with the old key")
    .requiredOption('--server', 'rotate the server key (the only key Tollgate rotates; users create a new pair and update the roster)')
    .action(async () => {
      const config = ctx.config();
      const deps = await ctx.openDeps();
      const result = await rotateServerKeyFiles(config.home, (next) => rotateServerKey(deps, config.user, next));
      ctx.emit(result, () => [`server key rotated: ${result.next}`, `the previous key ${result.previous} is kept in ${config.home}/server-keys/`]);
    });
  keys
    .command('show')
    .description('print a public key: ed25519: + base64 of its SubjectPublicKeyInfo DER')
    .argument('[user]', 'the user (default: --as)')
    .option('--server', "the server's key, which signs audit checkpoints (in remote mode, the key of that server)")
    .action(async (userArg: string | undefined, opts: { server?: boolean }) => {
      const config = ctx.config();
      if (opts.server) {
        // `keys show --server --server URL` reads the URL as a user name: say so rather than print a
        // key of another server than the one meant.
        if (userArg !== undefined) {
          throw tollgateError('TG_USAGE', `keys show takes a user or --server, not both ("${userArg}"); for a remote server's key write \`tollgate --server URL keys show --server\` or set TOLLGATE_SERVER`);
        }
        // In remote mode (TOLLGATE_SERVER) the key is the remote server's: this folder may have no
        // home, or another one (DESIGN.md rule 6: the mode never changes the answer).
        const { publicKey } = config.server
          ? await (await ctx.openClient()).serverKey()
          : { publicKey: formatPublicKey(createPublicKey(loadServerKey(config.home))) };
        ctx.emit({ publicKey }, () => publicKey);
        return;
      }
      const user = userArg ?? config.user;
      if (!user) throw tollgateError('TG_USAGE', 'name a user, or use --as USER or --server');
      const { publicKey, demo } = showUserKey(config.home, user);
      ctx.emit({ user, publicKey, ...(demo ? { demo: true } : {}) }, () => publicKey);
      if (demo) ctx.note(`${user}'s key is a DEMO key from init (every example user's private key is in one folder): for trying Tollgate only`);
    });
}
