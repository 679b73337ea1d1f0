/**
 * The `tollgate` command. Exit codes (DESIGN.md): 0 done; 1 unexpected error; 2 bad usage or invalid
 * input; 3 blocked by policy; 4 verification failed.
 */
import { Command, CommanderError } from 'commander';
import { formatProblem, TollgateError } from '../domain/errors.js';
import { registerAttest } from './commands/attest.js';
import { registerAudit } from './commands/audit.js';
import { registerCheck } from './commands/check.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerPolicy } from './commands/policy.js';
import { registerPromote } from './commands/promote.js';
import { registerRelease } from './commands/release.js';
import { registerRollback } from './commands/rollback.js';
import { registerSignoff } from './commands/signoff.js';
import { registerReport } from './commands/report.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerWebhook } from './commands/webhook.js';
import { registerValidate } from './commands/validate.js';
import { registerVerify } from './commands/verify.js';
import { createContext, type CliContext, type Io } from './context.js';

export const VERSION = '0.1.0';

const GLOBAL_OPTIONS: readonly [flags: string, description: string][] = [
  ['--home <dir>', 'the Tollgate home folder (env TOLLGATE_HOME; default .tollgate)'],
  ['--database <url>', 'the database (env TOLLGATE_DATABASE_URL; default: the SQLite file in the home folder)'],
  ['--server <url>', 'remote mode: a tollgate server (env TOLLGATE_SERVER, token in TOLLGATE_TOKEN)'],
  ['--as <user>', 'who you are, a roster member (env TOLLGATE_USER)'],
  ['--json', 'machine output: one JSON document'],
];

/** Adds the global options a command does not define itself. */
function addGlobalOptions(cmd: Command): void {
  for (const [flags, description] of GLOBAL_OPTIONS) {
    const long = flags.split(' ')[0]!;
    if (!cmd.options.some((o) => o.long === long)) cmd.option(flags, description);
  }
}

function buildProgram(io: Io): { program: Command; ctx: CliContext & { closeAll(): Promise<void> } } {
  // Usage errors carry their stable code like every other error.
  const output = {
    writeOut: io.stdout,
    writeErr: io.stderr,
    outputError: (text: string, write: (t: string) => void) => write(text.replace(/^error:/, 'error TG_USAGE:')),
  };
  const program = new Command('tollgate')
    .description('Guarded promotion of ML models and software: policy gates, signed sign-offs, validations, a tamper-evident record.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput(output);
  addGlobalOptions(program);
  // Global options may stand before or after the command. Each command declares them itself (below)
  // so that a command's own flag of the same name wins: `keys show --server` is DESIGN.md's flag,
  // not the remote-mode `--server URL`.
  program.enablePositionalOptions(true);
  const ctx = createContext(program, io) as CliContext & { closeAll(): Promise<void> };
  registerInit(program, ctx);
  registerPolicy(program, ctx);
  registerKeys(program, ctx);
  registerRelease(program, ctx);
  registerStatus(program, ctx);
  registerCheck(program, ctx);
  registerSignoff(program, ctx);
  registerValidate(program, ctx);
  registerPromote(program, ctx);
  registerRollback(program, ctx);
  registerReport(program, ctx);
  registerAudit(program, ctx);
  registerAttest(program, ctx);
  registerVerify(program, ctx);
  registerServe(program, ctx, VERSION);
  registerToken(program, ctx);
  registerWebhook(program, ctx);
  // Subcommands report usage errors through the same override, so every one exits 2.
  for (const c of program.commands) {
    c.exitOverride().configureOutput(output);
    if (c.commands.length === 0) addGlobalOptions(c);
    else c.enablePositionalOptions(true);
    for (const sub of c.commands) {
      sub.exitOverride().configureOutput(output);
      addGlobalOptions(sub);
    }
  }
  program.hook('preAction', (_root, action) => ctx.setAction(action));
  return { program, ctx };
}

function reportError(err: unknown, io: Io, json: boolean): number {
  if (err instanceof TollgateError) {
    if (json) io.stdout(JSON.stringify(err.toJSON(), null, 2) + '\n');
    else {
      io.stderr(`error ${err.code}: ${err.message}\n`);
      for (const p of err.problems.slice(1)) io.stderr(`  ${formatProblem(p)}\n`);
      io.stderr(`hint: ${err.hint}\n`);
    }
    return err.exit;
  }
  // Never a stack trace to the user by default: the details go to stderr only when asked for.
  const message = err instanceof Error ? err.message : String(err);
  if (json) io.stdout(JSON.stringify({ error: { code: 'TG_INTERNAL', message } }, null, 2) + '\n');
  else io.stderr(`error TG_INTERNAL: ${message}\n`);
  if (io.env.TOLLGATE_DEBUG && err instanceof Error) io.stderr(`${err.stack}\n`);
  return 1;
}

export async function main(argv: string[], io?: Partial<Io>): Promise<number> {
  const fullIo: Io = {
    stdout: io?.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io?.stderr ?? ((t) => process.stderr.write(t)),
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
    interactive: io?.interactive ?? (process.stderr.isTTY === true && !process.env.CI),
  };
  const { program, ctx } = buildProgram(fullIo);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (json) fullIo.stdout(JSON.stringify({ error: { code: 'TG_USAGE', message: err.message } }) + '\n');
      return 2;
    }
    return reportError(err, fullIo, json);
  } finally {
    await ctx.closeAll();
  }
}
