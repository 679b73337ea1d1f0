import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ERRORS, tollgateError, type Problem } from '../../domain/errors.js';
import type { Artifact, ReleaseManifest } from '../../domain/model.js';
import type { CliContext } from '../context.js';
import { renderHandoffs } from '../render.js';
import { readTextFile, sha256File } from '../files.js';

/** Reads a manifest and digests its local artifact files (paths are relative to the manifest). */
export async function loadManifest(file: string, shown = file): Promise<ReleaseManifest> {
  // The parser (zod, YAML) is loaded by `release create` only, not by `release list` or `show`.
  const { parseManifest } = await import('../../domain/manifest.js');
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

/** One artifact as `release verify` found it. */
export interface ArtifactCheck {
  readonly name: string;
  readonly kind: string;
  /** The local file compared, as given (manifest path under --dir, or --artifact NAME=PATH). */
  readonly path: string | null;
  readonly expected: string;
  readonly actual: string | null;
  /** `match`; `mismatch` (other bytes); `missing` (no file); `skipped` (no local path: a remote artifact not given with --artifact). */
  readonly outcome: 'match' | 'mismatch' | 'missing' | 'skipped';
}

/** `--artifact NAME=PATH`, repeatable. */
function collectArtifact(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw tollgateError('TG_USAGE', `--artifact ${value}: expected NAME=PATH`);
  const name = value.slice(0, eq);
  if (Object.hasOwn(previous, name)) throw tollgateError('TG_USAGE', `--artifact ${name} is given twice`);
  return { ...previous, [name]: value.slice(eq + 1) };
}

/**
 * Compares local artifact files with the digests the release registered: what a deploy job runs
 * before it ships, so that the bytes that go out are the bytes that were approved.
 */
export async function verifyArtifacts(
  artifacts: readonly Artifact[],
  dir: string,
  given: Readonly<Record<string, string>>,
  cwd: string,
): Promise<ArtifactCheck[]> {
  const unknown = Object.keys(given).filter((n) => !artifacts.some((a) => a.name === n));
  if (unknown.length > 0) {
    throw tollgateError('TG_USAGE', `--artifact names ${unknown.map((n) => `"${n}"`).join(', ')}, not artifacts of the release (artifacts: ${artifacts.map((a) => a.name).join(', ')})`);
  }
  const out: ArtifactCheck[] = [];
  for (const a of artifacts) {
    const shown = Object.hasOwn(given, a.name) ? given[a.name]! : a.path;
    const base = { name: a.name, kind: a.kind, expected: `sha256:${a.sha256}` };
    if (shown === undefined) {
      out.push({ ...base, path: null, actual: null, outcome: 'skipped' });
      continue;
    }
    // A path given with --artifact is the caller's, relative to where they are; a manifest path is
    // the release's, relative to the folder the artifacts were fetched into.
    const file = path.resolve(Object.hasOwn(given, a.name) ? cwd : dir, shown);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      out.push({ ...base, path: shown, actual: null, outcome: 'missing' });
      continue;
    }
    const actual = `sha256:${(await sha256File(file)).sha256}`;
    out.push({ ...base, path: shown, actual, outcome: actual === base.expected ? 'match' : 'mismatch' });
  }
  return out;
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
    .command('verify')
    .description('compare local artifact files with the digests the release registered; exit 4 naming each mismatch (run it before you ship)')
    .argument('<release>', 'SUBJECT@VERSION')
    .option('--dir <dir>', 'where the artifact files are: manifest paths are read relative to it (default: the current folder)')
    .option('--artifact <name=path>', 'check this file as artifact NAME (for artifacts without a local path, or kept elsewhere); repeatable', collectArtifact, {})
    .action(async (ref: string, opts: { dir?: string; artifact: Record<string, string> }) => {
      const cwd = ctx.config().cwd;
      const dir = path.resolve(cwd, opts.dir ?? '.');
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw tollgateError('TG_FILE_NOT_FOUND', `--dir ${opts.dir}: no such folder`);
      const client = await ctx.openClient();
      const r = await client.showRelease(ref);
      const artifacts = await verifyArtifacts(r.manifest.artifacts, dir, opts.artifact, cwd);
      const bad = artifacts.filter((a) => a.outcome === 'mismatch' || a.outcome === 'missing');
      const checked = artifacts.filter((a) => a.outcome !== 'skipped');
      // Saying "verified" having compared nothing would let a deploy job ship unchecked bytes.
      if (checked.length === 0) {
        throw tollgateError('TG_USAGE', `none of the artifacts of ${r.release} has a local path to check (${artifacts.map((a) => a.name).join(', ')}): give the files with --artifact NAME=PATH`);
      }
      const describe = (a: ArtifactCheck) =>
        a.outcome === 'missing' ? `${a.name}: no file at ${a.path}` : `${a.name}: ${a.path} is ${a.actual}, the release registered ${a.expected}`;
      const result = {
        ok: bad.length === 0,
        release: r.release,
        digest: r.digest,
        artifacts,
        ...(bad.length > 0
          ? { error: { code: 'TG_ARTIFACT_MISMATCH', message: `${bad.length} artifact${bad.length === 1 ? ' does' : 's do'} not match the registered digests of ${r.release}: ${bad.map(describe).join('; ')}`, hint: ERRORS.TG_ARTIFACT_MISMATCH.hint } }
          : {}),
      };
      ctx.emit(result, () => [
        ...artifacts.map((a) =>
          a.outcome === 'match'
            ? `✔ ${a.name} ${a.path} ${a.actual}`
            : a.outcome === 'skipped'
              ? `- ${a.name} not checked: no local path (give it with --artifact ${a.name}=PATH)`
              : `✘ ${describe(a)}`,
        ),
        bad.length === 0
          ? `${r.release}: ${checked.length} of ${artifacts.length} artifact${artifacts.length === 1 ? '' : 's'} match the registered digests`
          : `error TG_ARTIFACT_MISMATCH: ${r.release}: ${bad.length} artifact${bad.length === 1 ? ' does' : 's do'} not match; do not ship them`,
      ]);
      if (bad.length > 0) ctx.exitCode = 4;
    });
  release
    .command('clear')
    .description('lift the hold a rollback put on a release for a stage (audited; needs a role the stage\'s `clear` names)')
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--stage <stage>', 'the stage the release was rolled back out of')
    .requiredOption('--reason <text>', 'why it may enter the stage again (kept in the audit log)')
    .action(async (ref: string, opts: { stage: string; reason: string }) => {
      const client = await ctx.openClient();
      const result = await client.clearHold(ref, opts.stage, opts.reason);
      ctx.emit(result, () => `cleared the hold on ${result.release} for ${result.stage} (reason: ${opts.reason}); it may be promoted there again once its gates are satisfied`);
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
        ...r.promotions.map(
          (p) =>
            `  ${p.kind === 'rollback' ? 'rolled back into' : 'promoted to'} ${p.stage} at ${p.at} by ${p.by}${p.reason ? ` (${p.reason})` : ''}${
              p.breakGlass ? ` — BREAK-GLASS on the sign-off of ${p.breakGlass.signer} as ${p.breakGlass.role}: "${p.breakGlass.reason}" (past ${p.breakGlass.unmet.join('; ')})` : ''
            }${p.rolledBack ? ` — ROLLED BACK at ${p.rolledBack.at} by ${p.rolledBack.by}: "${p.rolledBack.reason}" (a failed change)` : ''}`,
        ),
        ...(r.followUps ?? []).map(
          (f) =>
            `  follow-up of the break-glass into ${f.stage}: ${f.item}${f.text ? ` (${f.text})` : ''} — ${
              f.done ? `done by ${f.done.by} at ${f.done.at}` : `OPEN: \`tollgate check ${r.release} ${f.item} --to ${f.stage}${f.evidence === 'required' ? ' --evidence FILE|URL' : ''}\``
            }`,
        ),
        ...(r.waivers ?? []).map((w) => `  waiver of ${w.stage}/${w.gate}/${w.requirement} by ${w.by} as ${w.role} at ${w.at} until ${w.expiresAt}: "${w.reason}"`),
        ...(r.breakGlassSignoffs ?? []).map(
          (b) => `  break-glass signed for ${b.stage} by ${b.by} as ${b.role} at ${b.at}: "${b.reason}"${b.usedBy ? ' (used)' : ' (not used yet)'}`,
        ),
        ...((r.handoffs ?? []).length > 0 ? ['  hand-offs to deployment:', ...renderHandoffs(r.handoffs, '    ', true)] : []),
        ...(r.evidence && r.evidence.checklist.length + r.evidence.signoffs.length + r.evidence.validations.length > 0
          ? [
              '  evidence:',
              ...r.evidence.checklist.map((c) => `    ${c.stage}/${c.gate}: ${c.item} completed by ${c.by} at ${c.at}${c.evidence ? ` with ${c.evidence.name}` : ''}`),
              ...r.evidence.signoffs.map((x) => `    ${x.stage}/${x.gate}: ${x.decision === 'reject' ? 'REJECTED' : 'approved'} by ${x.signer} as ${x.role} at ${x.at}${x.comment ? `: "${x.comment}"` : ''}`),
              ...r.evidence.validations.map((v) => `    ${v.stage}/${v.gate}: ${v.validation} (${v.validator}) ${v.status} at ${v.at}: ${v.summary}`),
            ]
          : []),
        ...(r.rollbacks ?? []).map(
          (b) =>
            `  rolled back out of ${b.stage} at ${b.at} by ${b.by}: "${b.reason}"; ${
              b.cleared ? `hold cleared by ${b.cleared.by} at ${b.cleared.at}: "${b.cleared.reason}"` : `HELD out of ${b.stage} until \`tollgate release clear ${r.release} --stage ${b.stage} --reason "…"\``
            }`,
        ),
      ]);
    });
}
