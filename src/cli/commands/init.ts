import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import { createLocalClient } from '../../client/local-client.js';
import { isPostgresUrl, openStore } from '../../store/open.js';
import { installedSchemaPath, schemaReference, withModeline, type JsonSchemaName } from '../../json-schema/files.js';
import type { CliContext } from '../context.js';
import { createDemoUserKey, createOrigin, createServerKey, DEMO_KEY_DIR, loadServerKey } from '../home.js';

/**
 * The example project the package ships in examples/. Found upwards from this module, which is in
 * src/cli/commands/ under vitest, dist/cli/commands/ when compiled, and dist/bundle/ in the bundled
 * CLI that bin/tollgate.js runs.
 */
function exampleDir(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'examples', 'project');
    if (fs.existsSync(path.join(candidate, 'tollgate.yaml'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`the example project (examples/project) is missing above ${fileURLToPath(import.meta.url)}`);
  }
}

const EXAMPLE_USERS = ['alice', 'bob', 'carol', 'dave', 'ci'] as const;

function copyTree(from: string, to: string, skip: (rel: string) => boolean, written: string[], rel = ''): void {
  for (const entry of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
    const r = path.join(rel, entry.name);
    if (entry.isDirectory()) copyTree(from, to, skip, written, r);
    else if (!skip(r) && !fs.existsSync(path.join(to, r))) {
      fs.mkdirSync(path.dirname(path.join(to, r)), { recursive: true });
      fs.copyFileSync(path.join(from, r), path.join(to, r));
      written.push(r);
    }
  }
}

/** The JSON Schema that describes a file init writes (a path relative to the project), if one does. */
function schemaOf(rel: string): JsonSchemaName | undefined {
  const file = rel.split(path.sep).join('/');
  if (file === 'tollgate.yaml') return 'policy';
  if (file === 'release.yaml') return 'manifest';
  if (/^contracts\/[^/]+\.ya?ml$/.test(file)) return 'contract';
  return undefined;
}

/**
 * Points each file init wrote that a JSON Schema describes at it, with a `# yaml-language-server:
 * $schema=…` first line, so that an editor with the YAML language server completes and checks its
 * fields (docs/schemas.md). The reference is the project's node_modules/tollgate when Tollgate is
 * installed there, else this version's copy on unpkg.
 */
function addModelines(projectDir: string, written: readonly string[], version: string): void {
  const installed = fs.existsSync(path.join(projectDir, installedSchemaPath('policy')));
  for (const rel of written) {
    const name = schemaOf(rel);
    if (name === undefined) continue;
    const file = path.join(projectDir, rel);
    const ref = schemaReference(name, { projectDir, dir: path.dirname(file), version, installed });
    fs.writeFileSync(file, withModeline(fs.readFileSync(file, 'utf8'), ref));
  }
}

export function registerInit(program: Command, ctx: CliContext, version: string): void {
  program
    .command('init')
    .description('write an example tollgate.yaml, release and data, and the .tollgate/ home (database, server key, example users\' keys); in a folder that already has a tollgate.yaml, only the home')
    .option('--example', 'write the example release, data and reports even beside an existing tollgate.yaml')
    .action(async (opts: { example?: boolean }) => {
      const config = ctx.config();
      if (fs.existsSync(path.join(config.home, 'server.key'))) {
        throw tollgateError('TG_ALREADY_INITIALIZED', `${config.home} already holds a Tollgate home`);
      }
      const examples = exampleDir();
      // A PostgreSQL database is opened before anything is written, so an unreachable one leaves no
      // half-made home behind; the SQLite file lives in the home, which must exist first.
      const early = isPostgresUrl(config.databaseUrl) ? await openStore(config.databaseUrl) : undefined;
      fs.mkdirSync(config.home, { recursive: true, mode: 0o700 });
      const serverKey = createServerKey(config.home);
      const origin = createOrigin(config.home);
      const policyFile = path.join(config.cwd, 'tollgate.yaml');
      const written: string[] = [];
      const users: Record<string, string> = {};
      const keepPolicy = fs.existsSync(policyFile);
      if (!keepPolicy) {
        // The example roster gets working keys, so the walkthrough's sign-offs verify; demo keys, kept
        // apart and labelled: every user's private key in one folder is no boundary between them.
        for (const user of EXAMPLE_USERS) users[user] = createDemoUserKey(config.home, user).publicKey;
        const template = fs.readFileSync(path.join(examples, 'tollgate.yaml'), 'utf8');
        fs.writeFileSync(policyFile, template.replace(/\$\{(\w+)\}/g, (_, u: string) => users[u] ?? ''));
        written.push('tollgate.yaml');
      }
      // Beside a project's own tollgate.yaml the example's release, contracts and data would be noise
      // among the user's files (issue 13): they are written there only when asked for.
      if (!keepPolicy || opts.example === true) copyTree(examples, config.cwd, (rel) => rel === 'tollgate.yaml', written);
      addModelines(config.cwd, written, version);

      const store = early ?? (await openStore(config.databaseUrl));
      const client = createLocalClient({ store, serverKey: loadServerKey(config.home), origin, now: () => new Date() }, config.user);
      try {
        const applied = keepPolicy ? undefined : await client.applyPolicy(fs.readFileSync(policyFile, 'utf8'), 'tollgate.yaml');
        const demoKeys = keepPolicy ? null : path.join(config.home, DEMO_KEY_DIR);
        ctx.emit({ home: config.home, serverKey, files: written, users, demoKeys, policy: applied ?? null }, () => [
          `initialized ${config.home} (database, server key ${serverKey.slice(0, 24)}…)`,
          ...written.map((f) => `  wrote ${f}`),
          ...(keepPolicy
            ? ['  kept the existing tollgate.yaml; apply it with `tollgate policy apply`']
            : [
                `  DEMO key pairs for the example users ${Object.keys(users).join(', ')} in ${demoKeys}: for trying Tollgate only;`,
                '  whoever has that folder can sign as any of them (see its README, and docs/security.md)',
                `  applied policy ${applied!.name} v${applied!.version}`,
              ]),
          keepPolicy ? 'next: tollgate policy apply tollgate.yaml' : 'next: tollgate release create release.yaml --as alice',
        ]);
      } finally {
        await client.close();
      }
    });
}
