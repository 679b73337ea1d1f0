import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { tollgateError, type Problem } from '../../domain/errors.js';
import { parseManifest } from '../../domain/manifest.js';
import type { Artifact, ReleaseManifest } from '../../domain/model.js';
import type { CliContext } from '../context.js';
import { readTextFile, sha256File } from '../files.js';

/** Reads a manifest and digests its local artifact files (paths are relative to the manifest). */
export async function loadManifest(file: string, shown = file): Promise<ReleaseManifest> {
  const input = parseManifest(readTextFile(file), shown);
  const base = path.dirname(file);
  const problems: Problem[] = [];
  const artifacts: Artifact[] = [];
  for (const a of input.artifacts) {
    if (a.path === undefined) {
      artifacts.push(a as Artifact);
      continue;
    }
    const local = path.resolve(base, a.path);
    if (!fs.existsSync(local) || !fs.statSync(local).isFile()) {
      problems.push({ file: shown, message: `artifact "${a.name}": no file at ${a.path} (looked for ${local})` });
      continue;
    }
    const { sha256, size } = await sha256File(local);
    if (a.sha256 !== undefined && a.sha256 !== sha256) {
      problems.push({ file: shown, message: `artifact "${a.name}": ${a.path} has sha256 ${sha256}, the manifest says ${a.sha256}` });
      continue;
    }
    artifacts.push({ ...a, sha256, size } as Artifact);
  }
  if (problems.length > 0) {
    throw tollgateError('TG_ARTIFACT_NOT_FOUND', problems.map((p) => p.message).join('; '), { problems });
  }
  return { ...input, artifacts } as ReleaseManifest;
}

export function registerRelease(program: Command, ctx: CliContext): void {
  const release = program.command('release').description('immutable, digest-named releases');
  release
    .command('create')
    .description('register a release from its manifest; prints SUBJECT@VERSION')
    .argument('<manifest>', 'the release manifest (YAML)')
    .action(async (file: string) => {
      const manifest = await loadManifest(path.resolve(ctx.config().cwd, file), file);
      const client = await ctx.openClient();
      const result = await client.createRelease(manifest);
      ctx.emit(result, () => result.release);
      ctx.note(`${result.created ? 'registered' : 'already registered, same content:'} ${result.release} ${result.digest}`);
    });
  release
    .command('list')
    .description('every release, newest first, with the stages it holds')
    .option('--subject <subject>', 'only this subject')
    .action(async (opts: { subject?: string }) => {
      const client = await ctx.openClient();
      const list = await client.listReleases(opts.subject ? { subject: opts.subject } : {});
      ctx.emit({ releases: list }, () =>
        list.length === 0
          ? 'no releases yet: register one with `tollgate release create MANIFEST`'
          : list.map((r) => `${r.release.padEnd(32)} ${r.risk.padEnd(8)} owner ${r.owner.padEnd(10)} ${r.holds.length > 0 ? `holds ${r.holds.join(', ')}` : ''}`.trimEnd()),
      );
    });
  release
    .command('show')
    .description('one release: digest, artifacts, lineage, promotions')
    .argument('<release>', 'SUBJECT@VERSION')
    .action(async (ref: string) => {
      const client = await ctx.openClient();
      const r = await client.showRelease(ref);
      ctx.emit(r, () => [
        `${r.release}  ${r.digest}`,
        `  risk ${r.risk}, owner ${r.owner}, registered ${r.createdAt} by ${r.createdBy}`,
        `  artifacts:`,
        ...r.manifest.artifacts.map((a) => `    ${a.name} (${a.kind}) ${a.path ?? a.uri} sha256:${a.sha256}`),
        ...(r.manifest.lineage?.length ? ['  lineage:', ...r.manifest.lineage.map((l) => `    ${l.from.join(' + ')} → ${l.to}${l.step ? ` (${l.step})` : ''}`)] : []),
        ...(r.manifest.testedIn?.length ? [`  tested in: ${r.manifest.testedIn.join(', ')}`] : []),
        `  holds: ${r.holds.join(', ') || 'no stage'}`,
        ...r.promotions.map((p) => `  ${p.kind === 'rollback' ? 'rolled back into' : 'promoted to'} ${p.stage} at ${p.at} by ${p.by}${p.reason ? ` (${p.reason})` : ''}`),
      ]);
    });
}
