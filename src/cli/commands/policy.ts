import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { formatProblem, TollgateError, tollgateError, type Problem } from '../../domain/errors.js';
import { parsePolicy } from '../../domain/policy.js';
import { VALIDATOR_SCHEMAS } from '../../validators/registry.js';
import type { PolicyDiff } from '../../service/policy-history.js';
import type { CliContext } from '../context.js';
import { readTextFile } from '../files.js';

export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('policy as code: lint, record versions, read the history, preview a change');
  policy
    .command('check')
    .description('lint a policy file; every problem as file:line:col, exit 2 if any')
    .argument('[file]', 'the policy file', 'tollgate.yaml')
    .action(async (file: string) => {
      const cwd = ctx.config().cwd;
      const source = readTextFile(path.resolve(cwd, file));
      try {
        const { policy: p, digest } = parsePolicy(source, file, { validators: VALIDATOR_SCHEMAS });
        // The data contracts the policy names are linted too (issue 13: `type: int` showed up only at
        // validate time). A contract not here yet is left to `validate`, which reads it where it runs.
        const { loadContract } = await import('../../validators/schema/contract.js');
        const contractProblems: Problem[] = [];
        for (const gate of p.gates) {
          for (const v of gate.validations ?? []) {
            const contract = v.uses === 'schema' ? (v.with as { contract?: unknown } | undefined)?.contract : undefined;
            if (typeof contract !== 'string' || !fs.existsSync(path.resolve(cwd, contract))) continue;
            try {
              loadContract(fs.readFileSync(path.resolve(cwd, contract), 'utf8'), contract);
            } catch (e) {
              contractProblems.push({ file: contract, message: `${(e as Error).message.replace(`${contract}: `, '')} (validation ${gate.id}/${v.id})` });
            }
          }
        }
        if (contractProblems.length > 0) throw tollgateError('TG_POLICY_INVALID', contractProblems.map(formatProblem).join('\n'), { problems: contractProblems });
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
  policy
    .command('list')
    .description('every recorded policy version, newest first: version, digest, name, applied at and by')
    .action(async () => {
      const client = await ctx.openClient();
      const versions = await client.listPolicies();
      ctx.emit({ policies: versions }, () =>
        versions.length === 0
          ? 'no policy has been applied yet'
          : versions.map((v) => `${v.active ? '*' : ' '} ${String(v.version).padStart(3)}  ${v.digest.slice(0, 'sha256:'.length + 12)}  ${v.name}  ${v.appliedAt}  ${v.appliedBy}`),
      );
    });
  policy
    .command('show')
    .description('the text of a recorded policy version as it was applied (default: the active one); --json gives the parsed policy too')
    .argument('[version]', 'a version number from `policy list`')
    .action(async (version: string | undefined) => {
      if (version !== undefined && !/^[1-9][0-9]{0,9}$/.test(version)) throw tollgateError('TG_USAGE', `"${version}" is not a policy version number: \`tollgate policy list\` lists them`);
      const client = await ctx.openClient();
      const p = await client.showPolicy(version === undefined ? undefined : Number(version));
      if (ctx.config().json) ctx.emit(p, () => '');
      else {
        ctx.note(`# policy ${p.name} version ${p.version}${p.active ? ' (active)' : ''}, ${p.digest}, applied ${p.appliedAt} by ${p.appliedBy}`);
        ctx.io.stdout(p.source.endsWith('\n') ? p.source : `${p.source}\n`);
      }
    });
  policy
    .command('diff')
    .description('what applying FILE would change, without applying it: releases whose outcome changes in which stage, sign-offs that would go stale')
    .argument('[file]', 'the new policy file', 'tollgate.yaml')
    .action(async (file: string) => {
      const source = readTextFile(path.resolve(ctx.config().cwd, file));
      const client = await ctx.openClient();
      const diff = await client.diffPolicy(source, file);
      ctx.emit(diff, () => describeDiff(diff));
    });
}

const outcomeText = (o: string | null): string => o ?? 'not applicable';

/** The diff for people: one line per changed decision and per sign-off that would go stale. */
function describeDiff(diff: PolicyDiff): string[] {
  const head = `${diff.proposed.file} (${diff.proposed.name}, ${diff.proposed.digest}) against active version ${diff.active.version} (${diff.active.digest}): ${diff.releases} release${diff.releases === 1 ? '' : 's'} decided in ${diff.stages.join(', ')}`;
  if (diff.proposed.same) return [head, 'same content as the active version: nothing would change'];
  const lines = [head];
  if (diff.changes.length === 0) lines.push('no release would change outcome');
  else {
    lines.push(`${diff.changes.length} decision${diff.changes.length === 1 ? '' : 's'} would change:`);
    for (const c of diff.changes) {
      const promotable = (o: PolicyDiff['changes'][number]['before']) => (o === null ? 'stage not in policy' : o.promotable ? 'promotable' : 'not promotable');
      const was = promotable(c.before);
      const will = promotable(c.after);
      lines.push(`  ${c.release} → ${c.stage}: ${was === will ? `still ${will}` : `${was} → ${will}`}`);
      for (const g of c.gates) lines.push(`      gate ${g.id}: ${outcomeText(g.before)} → ${outcomeText(g.after)}`);
    }
  }
  if (diff.staleSignoffs.length > 0) {
    lines.push(`${diff.staleSignoffs.length} sign-off${diff.staleSignoffs.length === 1 ? '' : 's'} would go stale:`);
    for (const s of diff.staleSignoffs) {
      lines.push(`  ${s.release} ${s.stage}/${s.gate}: ${s.signer} as ${s.role} (${s.decision}, ${s.at}) — gate ${s.why === 'gate-removed' ? 'removed' : 'changed'}`);
    }
  } else lines.push('no sign-off would go stale');
  return lines;
}
