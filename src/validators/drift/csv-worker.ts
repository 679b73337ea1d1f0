/**
 * The entry of a worker thread that parses one CSV file with the fast parser; csv-parser-start.ts
 * starts it (`new Worker(…/csv-worker.js)`) and is the only one that talks to it. Loaded as a
 * worker, never imported: it runs as soon as it is loaded. It imports only the parser, so a worker
 * never loads DuckDB or the rest of the validator.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { parsePlainCsv, Unsupported, type ParsedFile, type ParseJob } from './csv-parser.js';

/** The worker's `workerData`: the port to talk on (transferred) and the file it serves. */
export interface CsvWorkerData {
  readonly port: MessagePort;
  readonly file: string;
}

/** What the starter posts: the job, or word that DuckDB reads the file instead. */
export type ToCsvWorker = { job?: ParseJob; stop?: true };

/**
 * What the worker posts back: the rows read so far (after every block, any number of times), then
 * once the parsed file, why the parser declined it, or what failed.
 */
export type FromCsvWorker = { rows?: number; ok?: ParsedFile; unsupported?: string; failed?: string };

/**
 * A worker's life: it starts before DuckDB has sniffed the file, and hashes the file from the
 * start until the job arrives (the sniff takes a good part of a second, which would otherwise
 * leave a core idle). Then it parses, hashing only the bytes it has not hashed yet, and posts the
 * result; or it is told to stop because DuckDB will read the file.
 */
function parserWorker(port: MessagePort, file: string): void {
  const hash = createHash('sha256');
  let bytes = 0;
  let msg = receiveMessageOnPort(port)?.message as ToCsvWorker | undefined;
  if (!msg) {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    try {
      while (!msg) {
        const got = fs.readSync(fd, buf, 0, buf.length, null);
        if (got === 0) break;
        hash.update(buf.subarray(0, got));
        bytes += got;
        msg = receiveMessageOnPort(port)?.message as ToCsvWorker | undefined;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const go = (m: ToCsvWorker) => {
    if (!m.job) return;
    try {
      const parsed = parsePlainCsv(m.job, { hash, bytes }, (rows) => port.postMessage({ rows } satisfies FromCsvWorker));
      const transfer: ArrayBuffer[] = [];
      for (const c of parsed.columns) {
        if (c.kind === 'numeric') {
          transfer.push(c.sample.values.buffer as ArrayBuffer);
          if (c.sample.counts) transfer.push(c.sample.counts.buffer as ArrayBuffer);
        }
      }
      port.postMessage({ ok: parsed } satisfies FromCsvWorker, transfer);
    } catch (err) {
      port.postMessage((err instanceof Unsupported ? { unsupported: err.message } : { failed: (err as Error).message }) satisfies FromCsvWorker);
    }
  };
  if (msg) go(msg);
  else port.once('message', go);
}

if (isMainThread) throw new Error('csv-worker is the entry of a worker thread (see csv-parser-start.ts), not a module to import');
const { port, file } = workerData as CsvWorkerData;
parserWorker(port, file);
