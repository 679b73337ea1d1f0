/**
 * The `tollgate` command. Exit codes (DESIGN.md): 0 done; 1 unexpected error; 2 bad usage or invalid
 * input; 3 blocked by policy; 4 verification failed.
 */
import { Command, CommanderError, Help } from 'commander';
import { ERRORS, formatProblem, TollgateError } from '../domain/errors.js';
import { fileFailure, storageFailure } from '../domain/failures.js';
import { createContext, type CliContext, type Io } from './context.js';

export const VERSION = '0.1.0';

/** Adds a command, its options and its action to `program` (each `commands/*.ts` exports one). */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** A command as the root help lists it, and where its code is. */
export interface CommandEntry {
  readonly name: string;
  /** Its line in the root help: the name, `[options]` and its arguments, as commander writes them. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<RegisterCommand>;
}

/**
 * Every command, in the order the root help lists them. Only the module of the command being run is
 * imported (issue 9: start-up was almost all module loading, of code a `status` does not need); the
 * others are stand-ins made from these lines, enough for the root help, `help` and the suggestion
 * after a mistyped command. main.test.ts keeps each line equal to what the command registers.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    term: 'init [options]',
    description: "write an example tollgate.yaml, release and data, and the .tollgate/ home (database, server key, example users' keys); in a folder that already has a tollgate.yaml, only the home",
    load: async () => {
      const { registerInit } = await import('./commands/init.js');
      return (program, ctx) => registerInit(program, ctx, VERSION);
    },
  },
  { name: 'policy', term: 'policy', description: 'policy as code: lint, record versions, read the history, preview a change', load: async () => (await import('./commands/policy.js')).registerPolicy },
  { name: 'keys', term: 'keys', description: 'Ed25519 key pairs for sign-offs', load: async () => (await import('./commands/keys.js')).registerKeys },
  { name: 'release', term: 'release', description: 'immutable, digest-named releases', load: async () => (await import('./commands/release.js')).registerRelease },
  {
    name: 'status',
    term: 'status [options] <release>',
    description: 'every gate and requirement for entering a stage, with its outcome and why; exit 3 if not promotable',
    load: async () => (await import('./commands/status.js')).registerStatus,
  },
  {
    name: 'check',
    term: 'check [options] <release> <item>',
    description: 'complete a checklist item, with evidence when the item asks for it',
    load: async () => (await import('./commands/check.js')).registerCheck,
  },
  {
    name: 'signoff',
    term: 'signoff [options] <release>',
    description: 'sign off (or reject) a release for a stage in one of your roles, signed with your own key; or sign a waiver or a break-glass',
    load: async () => (await import('./commands/signoff.js')).registerSignoff,
  },
  {
    name: 'validate',
    term: 'validate [options] <release>',
    description: "run the stage's validations here, where the files are, and record the results; exit 3 if any failed or could not run",
    load: async () => (await import('./commands/validate.js')).registerValidate,
  },
  {
    name: 'promote',
    term: 'promote [options] <release>',
    description: 'promote a release into a stage, or exit 3 naming every unmet requirement',
    load: async () => (await import('./commands/promote.js')).registerPromote,
  },
  {
    name: 'rollback',
    term: 'rollback [options] <subject>',
    description: 'put back the release that held the stage before the current one',
    load: async () => (await import('./commands/rollback.js')).registerRollback,
  },
  {
    name: 'incident',
    term: 'incident',
    description: 'incidents on the release that holds a stage, for the delivery metrics (failed changes, time to restore)',
    load: async () => (await import('./commands/incident.js')).registerIncident,
  },
  {
    name: 'metrics',
    term: 'metrics [options]',
    description:
      'delivery metrics from the audit log: deployment frequency, lead time, change failure rate, time to restore, rework rate, per-gate wait and block figures',
    load: async () => (await import('./commands/metrics.js')).registerMetrics,
  },
  {
    name: 'handoff',
    term: 'handoff',
    description: 'hand-offs to deployment (a Git commit, a command, a webhook) that run after a promotion: retry the failed ones',
    load: async () => (await import('./commands/handoff.js')).registerHandoff,
  },
  {
    name: 'report',
    term: 'report [options] <release>',
    description: "write the release's validation record as one self-contained HTML page with charts",
    load: async () => (await import('./commands/report.js')).registerReport,
  },
  {
    name: 'audit',
    term: 'audit',
    description: 'the append-only, hash-linked audit log and its signed checkpoints',
    load: async () => (await import('./commands/audit.js')).registerAudit,
  },
  {
    name: 'attest',
    term: 'attest [options] <release>',
    description: "export the signed attestation (DSSE, in-toto Statement v1) of a release's promotion into a stage",
    load: async () => (await import('./commands/attest.js')).registerAttest,
  },
  {
    name: 'verify',
    term: 'verify [options] <file>',
    description: 'verify an attestation offline: signatures, policy, re-evaluated decision, inclusion proof, checkpoint; exit 4 naming what fails',
    load: async () => (await import('./commands/verify.js')).registerVerify,
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description:
      'serve the HTTP API (/api/…, OpenAPI at /openapi.json), /healthz, /readyz and /metrics over the database of the home (SQLite, or PostgreSQL with --database postgres://… for several replicas), and send webhook deliveries; stops cleanly on SIGTERM or Ctrl-C',
    load: async () => {
      const { registerServe } = await import('./commands/serve.js');
      return (program, ctx) => registerServe(program, ctx, VERSION);
    },
  },
  {
    name: 'token',
    term: 'token',
    description: 'API tokens for the HTTP API of `tollgate serve` (printed once, stored only as a hash)',
    load: async () => (await import('./commands/token.js')).registerToken,
  },
  {
    name: 'webhook',
    term: 'webhook',
    description: 'webhooks: POST signed JSON to a URL on promotion events (sent by `tollgate serve`)',
    load: async () => (await import('./commands/webhook.js')).registerWebhook,
  },
  {
    name: 'passkey',
    term: 'passkey',
    description: 'passkeys that sign sign-offs on the review desk: list, revoke',
    load: async () => (await import('./commands/passkey.js')).registerPasskey,
  },
];

const GLOBAL_OPTIONS: readonly [flags: string, description: string][] = [
  ['--home <dir>', 'the Tollgate home folder (env TOLLGATE_HOME; default .tollgate)'],
  ['--database <url>', 'the database (env TOLLGATE_DATABASE_URL; default: the SQLite file in the home folder)'],
  ['--server <url>', 'remote mode: a tollgate server (env TOLLGATE_SERVER, token in TOLLGATE_TOKEN)'],
  ['--as <user>', 'who you are, a roster member (env TOLLGATE_USER)'],
  ['--json', 'machine output: one JSON document'],
];

/** Global options that take a value: the word after one is its value, not a command. */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(GLOBAL_OPTIONS.filter(([flags]) => flags.includes('<')).map(([flags]) => flags.split(' ')[0]!));

/**
 * The commands `argv` names, as commander will read it: the first word that is neither an option nor
 * a global option's value, and after `help` the word it asks about. Only these are loaded. A guess
 * that misses is safe: commander then reaches a stand-in, and the whole program is built (below).
 */
export function commandsNamed(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('-') && arg !== '-') {
      if (VALUE_OPTIONS.has(arg)) i++;
      continue;
    }
    words.push(arg);
    if (arg !== 'help') break;
  }
  return words;
}

/** Thrown when commander reaches a stand-in: the command's module was not loaded. */
class StandInReached extends Error {}

/** Adds the global options a command does not define itself. */
function addGlobalOptions(cmd: Command): void {
  for (const [flags, description] of GLOBAL_OPTIONS) {
    const long = flags.split(' ')[0]!;
    if (!cmd.options.some((o) => o.long === long)) cmd.option(flags, description);
  }
}

/**
 * The program with the commands `load` picks registered in full and every other one as a stand-in
 * (its name and description from COMMANDS, accepting anything, reporting that it was reached).
 * Exported for main.test.ts, which checks that both give the same root help.
 */
export async function buildProgram(io: Io, load: (name: string) => boolean): Promise<{ program: Command; ctx: CliContext & { closeAll(): Promise<void> } }> {
  const registers = await Promise.all(COMMANDS.map((c) => (load(c.name) ? c.load() : undefined)));
  // Usage errors carry their stable code like every other error.
  const output = {
    writeOut: io.stdout,
    writeErr: io.stderr,
    outputError: (text: string, write: (t: string) => void) => write(text.replace(/^error:/, 'error TG_USAGE:')),
  };
  const standIns = new Map<Command, string>();
  const program = new Command('tollgate')
    .description('Guarded promotion of ML models and software: policy gates, signed sign-offs, validations, a tamper-evident record.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput(output)
    .configureHelp({
      // A stand-in declares no options or arguments: the root help shows the term of the real command.
      subcommandTerm(cmd: Command): string {
        return standIns.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
      },
    });
  addGlobalOptions(program);
  // Global options may stand before or after the command. Each command declares them itself (below)
  // so that a command's own flag of the same name wins: `keys show --server` is DESIGN.md's flag,
  // not the remote-mode `--server URL`.
  program.enablePositionalOptions(true);
  const ctx = createContext(program, io) as CliContext & { closeAll(): Promise<void> };
  COMMANDS.forEach((entry, i) => {
    const register = registers[i];
    if (register) {
      register(program, ctx);
      return;
    }
    const standIn = program
      .command(entry.name)
      .description(entry.description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new StandInReached(entry.name);
      });
    standIns.set(standIn, entry.term);
  });
  // Subcommands report usage errors through the same override, so every one exits 2.
  for (const c of program.commands) {
    if (standIns.has(c)) continue;
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

function reportError(thrown: unknown, io: Io, json: boolean): number {
  const err = storageFailure(thrown) ?? fileFailure(thrown) ?? thrown;
  if (err instanceof TollgateError) {
    if (json) io.stdout(JSON.stringify(err.toJSON(), null, 2) + '\n');
    else {
      io.stderr(`error ${err.code}: ${err.message}\n`);
      // The message of a file's problems already lists them all (formatProblems): print only those it does not.
      for (const p of err.problems.slice(1)) if (!err.message.includes(formatProblem(p))) io.stderr(`  ${formatProblem(p)}\n`);
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
  // A reader that goes away early (`tollgate validate … | head -1`) closes the pipe: the rest of the
  // output has nowhere to go, but the command still finishes its work and exits with its own code,
  // without an EPIPE stack trace.
  let stdoutClosed = false;
  if (!io?.stdout) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      stdoutClosed = true;
    });
  }
  const fullIo: Io = {
    stdout: io?.stdout ?? ((t) => void (stdoutClosed || process.stdout.write(t))),
    stderr: io?.stderr ?? ((t) => process.stderr.write(t)),
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
    interactive: io?.interactive ?? (process.stderr.isTTY === true && !process.env.CI),
  };
  const named = commandsNamed(argv);
  let { program, ctx } = await buildProgram(fullIo, (name) => named.includes(name));
  const json = argv.includes('--json');
  try {
    try {
      await program.parseAsync(argv, { from: 'user' });
    } catch (err) {
      if (!(err instanceof StandInReached)) throw err;
      // The guess missed (nothing was printed or opened yet): parse again with every command loaded.
      await ctx.closeAll();
      ({ program, ctx } = await buildProgram(fullIo, () => true));
      await program.parseAsync(argv, { from: 'user' });
    }
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      // The same shape as every other error (commander's own "error: " prefix is not part of the message).
      if (json) fullIo.stdout(JSON.stringify({ error: { code: 'TG_USAGE', message: err.message.replace(/^error: /, ''), hint: ERRORS.TG_USAGE.hint } }, null, 2) + '\n');
      return 2;
    }
    return reportError(err, fullIo, json);
  } finally {
    await ctx.closeAll();
  }
}
