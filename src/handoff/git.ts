/**
 * GitOps hand-off: the stage's release written to a file of a Git repository (or one field of a YAML
 * file there set), committed and pushed, with the `git` binary (no shell; every path after `--`).
 * Works in a fresh temporary clone of one branch, so nothing of the caller's own checkouts is touched,
 * and pushes to the repository: a bare repository, a URL, or a non-bare repository's branch that is
 * not checked out there (git refuses to push to a checked-out branch).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HandoffGit } from '../domain/model.js';
import { fillTemplate, type HandoffPayload } from '../domain/handoff.js';
import { lastLines, runProgram } from './process.js';
import { setYamlField } from './yaml-set.js';

const GIT_TIMEOUT_MS = 120_000;
export const AUTHOR = { name: 'Tollgate', email: 'tollgate@localhost' } as const;

export interface GitOutcome {
  readonly commit: string;
  /** False when the file already held exactly this: nothing new was committed (a retry after a push that did land). */
  readonly changed: boolean;
}

export class HandoffFailure extends Error {}

/** Commits the release to the repository and pushes it; throws HandoffFailure saying why it could not. */
export async function gitHandoff(def: HandoffGit['git'], payload: HandoffPayload, opts: { env: Readonly<Record<string, string>>; cwd: string; at: string }): Promise<GitOutcome> {
  const branch = def.branch ?? 'main';
  // A relative path is a repository on this machine, relative to where Tollgate runs.
  const repo = /^[a-z][a-z0-9+.-]*:\/\//i.test(def.repo) || /^[^/]+@[^/:]+:/.test(def.repo) ? def.repo : path.resolve(opts.cwd, def.repo);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-handoff-'));
  const env = {
    ...opts.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: AUTHOR.name,
    GIT_AUTHOR_EMAIL: AUTHOR.email,
    GIT_COMMITTER_NAME: AUTHOR.name,
    GIT_COMMITTER_EMAIL: AUTHOR.email,
    GIT_AUTHOR_DATE: opts.at.replace(/\.\d+Z$/, 'Z'),
    GIT_COMMITTER_DATE: opts.at.replace(/\.\d+Z$/, 'Z'),
  };
  const git = async (args: readonly string[], what: string): Promise<string> => {
    const r = await runProgram('git', ['-c', 'commit.gpgsign=false', '-c', 'core.hooksPath=/dev/null', ...args], { cwd: dir, env, timeoutMs: GIT_TIMEOUT_MS });
    if (r.spawnError) throw new HandoffFailure(r.spawnError.code === 'ENOENT' ? 'git is not installed (no `git` on PATH)' : `cannot run git: ${r.spawnError.message}`);
    if (r.timedOut) throw new HandoffFailure(`${what}: git took longer than ${GIT_TIMEOUT_MS / 1000}s and was stopped`);
    if (r.exitCode !== 0) throw new HandoffFailure(`${what}: ${lastLines(r.stderr || r.stdout) || `git exited with ${r.exitCode ?? r.signal}`}`);
    return r.stdout.trim();
  };
  try {
    await git(['init', '-q', '-b', branch, '.'], 'could not start a clone');
    const heads = await git(['ls-remote', '--heads', '--', repo, `refs/heads/${branch}`], `cannot read repository ${def.repo}`);
    if (heads !== '') {
      await git(['fetch', '-q', '--depth', '1', '--', repo, `refs/heads/${branch}`], `cannot fetch ${branch} from ${def.repo}`);
      await git(['checkout', '-q', '-B', branch, 'FETCH_HEAD'], `cannot check out ${branch}`);
    }
    const file = path.join(dir, ...def.file.split('/'));
    let content: string;
    if (def.set) {
      if (!fs.existsSync(file)) throw new HandoffFailure(`${def.file} is not in ${def.repo} on ${branch}: a "set" hand-off changes a field of an existing YAML file`);
      const value = fillOrFail(def.set.value, payload);
      try {
        content = setYamlField(fs.readFileSync(file, 'utf8'), def.set.path, value);
      } catch (err) {
        throw new HandoffFailure(`${def.file}: ${(err as Error).message}`);
      }
    } else {
      content = `${JSON.stringify(payload, null, 2)}\n`;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    await git(['add', '--', def.file], `cannot stage ${def.file}`);
    const staged = await runProgram('git', ['diff', '--cached', '--quiet'], { cwd: dir, env, timeoutMs: GIT_TIMEOUT_MS });
    if (staged.exitCode === 0 && heads !== '') {
      // Already there (a retry after a push that landed): nothing to commit, and that is success.
      return { commit: await git(['rev-parse', 'HEAD'], 'cannot read the commit'), changed: false };
    }
    const message = [
      `${payload.release} to ${payload.stage}`,
      '',
      `${payload.promotion.kind === 'rollback' ? 'Rolled back' : 'Promoted'} by ${payload.promotion.by} at ${payload.promotion.at} (Tollgate promotion ${payload.promotion.id}).`,
      '',
      `Release-Digest: ${payload.releaseDigest}`,
      `Tollgate-Promotion: ${payload.promotion.id}`,
    ].join('\n');
    await git(['commit', '-q', '--allow-empty', '-m', message], `cannot commit ${def.file}`);
    await git(['push', '-q', '--', repo, `HEAD:refs/heads/${branch}`], `cannot push to ${def.repo} (${branch})`);
    return { commit: await git(['rev-parse', 'HEAD'], 'cannot read the commit'), changed: true };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function fillOrFail(template: string, payload: HandoffPayload): string {
  try {
    return fillTemplate(template, payload);
  } catch (err) {
    throw new HandoffFailure((err as Error).message);
  }
}
