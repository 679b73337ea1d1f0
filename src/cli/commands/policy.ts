import path from 'node:path';
import type { Command } from 'commander';
import { formatProblem, TollgateError } from '../../domain/errors.js';
import { parsePolicy } from '../../domain/policy.js';
import { VALIDATOR_SCHEMAS } from '../../validators/registry.js';
import type { CliContext } from '../context.js';
import { readTextFile } from '../files.js';

export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('policy as code: lint and record versions');
  policy
    .command('check')
    .description('lint a policy file; every problem as file:line:col, exit 2 if any')
    .argument('[file]', 'the policy file', 'tollgate.yaml')
    .action((file: string) => {
      const source = readTextFile(path.resolve(ctx.config().cwd, file));
      try {
        const { policy: p, digest } = parsePolicy(source, file, { validators: VALIDATOR_SCHEMAS });
        ctx.emit({ ok: true, file, name: p.name, digest, problems: [] }, () => `${file}: ok — policy ${p.name}, ${p.stages.length} stages, ${p.gates.length} gates, ${digest}`);
      } catch (err) {
        if (!(err instanceof TollgateError)) throw err;
        ctx.emit({ ok: false, file, code: err.code, problems: err.problems }, () => [
          ...err.problems.map(formatProblem),
          `${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} (${err.code})`,
        ]);
        ctx.exitCode = err.exit;
      }
    });
  policy
    .command('apply')
    .description('record a new policy version (by content digest); the newest applied version is active')
    .argument('[file]', 'the policy file', 'tollgate.yaml')
    .action(async (file: string) => {
      const source = readTextFile(path.resolve(ctx.config().cwd, file));
      const client = await ctx.openClient();
      const result = await client.applyPolicy(source, file);
      ctx.emit(result, () =>
        result.changed
          ? `applied policy ${result.name} as version ${result.version} (${result.digest})`
          : `policy ${result.name} unchanged: version ${result.version} already has digest ${result.digest}`,
      );
    });
}
