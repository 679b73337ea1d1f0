import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tollgateError } from '../domain/errors.js';

/** Reads a text input file, or fails with TG_FILE_NOT_FOUND naming it. */
export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw tollgateError('TG_FILE_NOT_FOUND', code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code})`);
  }
}

/** sha256 of a file, streamed so large model files do not have to fit in memory. */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
