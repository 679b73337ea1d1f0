import fs from 'node:fs';
import path from 'node:path';
import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import type { Io } from './context.js';
import { buildProgram, COMMANDS, commandsNamed } from './main.js';

// The root help is written from COMMANDS without loading the commands (issue 9): these tests keep the
// table equal to what each command registers, so `tollgate --help` cannot drift from `CMD --help`.

const io: Io = { stdout: () => {}, stderr: () => {}, env: {}, cwd: '/', interactive: false };
const COMMANDS_DIR = path.join(import.meta.dirname, 'commands');

describe('the command table', () => {
  it('has one line for each module in commands/, in which that module registers its command', async () => {
    const registered: string[] = [];
    for (const file of fs.readdirSync(COMMANDS_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const mod = (await import(path.join(COMMANDS_DIR, file))) as Record<string, unknown>;
      const registers = Object.entries(mod).filter(([name, value]) => name.startsWith('register') && typeof value === 'function');
      expect(registers.map(([name]) => name), file).toHaveLength(1);
      const program = new Command();
      (registers[0]![1] as (p: Command, ctx: unknown, version: string) => void)(program, {}, '0.0.0');
      registered.push(...program.commands.map((c) => c.name()));
    }
    expect(registered.sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: its term and description are what the command registers', async (name, entry) => {
    const { program } = await buildProgram(io, (n) => n === name);
    const cmd = program.commands.find((c) => c.name() === name)!;
    expect({ term: new Help().subcommandTerm(cmd), description: cmd.description() }).toEqual({ term: entry.term, description: entry.description });
  });

  it('gives the same root help with every command loaded as with none', async () => {
    const all = (await buildProgram(io, () => true)).program.helpInformation();
    const none = (await buildProgram(io, () => false)).program.helpInformation();
    expect(none).toBe(all);
    for (const c of COMMANDS) expect(none).toContain(`  ${c.term} `);
  });

  it('has stand-ins that refuse to run, so a command line whose command was not loaded is parsed again, not ignored', async () => {
    const { program } = await buildProgram(io, () => false);
    await expect(program.parseAsync(['status', 'x@1', '--to', 'staging'], { from: 'user' })).rejects.toThrow('status');
  });
});

describe('commandsNamed: which commands a command line loads', () => {
  it.each<[string[], string[]]>([
    [['status', 'R', '--to', 'S'], ['status']],
    [['--json', 'status', 'R'], ['status']],
    [['--home', 'status', 'release', 'list'], ['release']],
    [['--home=x', 'status'], ['status']],
    [['--server', 'http://x', '--as', 'bob', 'keys', 'show'], ['keys']],
    [['keys', 'show', '--server'], ['keys']],
    [['help', 'status'], ['help', 'status']],
    [['help'], ['help']],
    [['--version'], []],
    [[], []],
    [['bogus', 'status'], ['bogus']],
  ])('%j → %j', (argv, named) => {
    expect(commandsNamed(argv)).toEqual(named);
  });
});
