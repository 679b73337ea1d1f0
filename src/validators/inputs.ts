/** Reading validator inputs: paths resolve against the project folder; every file read is digested. */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Digest } from '../domain/digest.js';

export class InputError extends Error {}

export function resolveInput(baseDir: string, p: string): string {
  return path.resolve(baseDir, p);
}

/** sha256 of a file, streamed. Throws InputError with a clear message when it cannot be read. */
export async function digestFile(file: string): Promise<Digest> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code ?? (err as Error).message})`);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Reads a whole (small) input file and its digest. */
export async function readInput(baseDir: string, p: string): Promise<{ file: string; text: string; digest: Digest }> {
  const file = resolveInput(baseDir, p);
  const digest = await digestFile(file);
  return { file, text: fs.readFileSync(file, 'utf8'), digest };
}
