/**
 * Starting the fast CSV parser for one file: in a worker thread (csv-worker.ts) when the file is
 * big enough and a built worker entry exists, inline otherwise. The decision's two inputs are
 * options, so that tests can run the worker path on small files.
 */
import fs from 'node:fs';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { parsePlainCsv, Unsupported, type ParsedFile, type ParseJob } from './csv-parser.js';
import type { CsvWorkerData, FromCsvWorker, ToCsvWorker } from './csv-worker.js';

/** Below this size a worker costs more than it saves. */
export const WORKER_MIN_BYTES = 8 << 20;

/**
 * The worker entry built beside this module. None when this module runs as its TypeScript source
 * (vitest), which a worker thread cannot load.
 */
const BUILT_WORKER: URL | null = import.meta.url.endsWith('.ts') ? null : new URL('./csv-worker.js', import.meta.url);

/** Where a file is parsed; set by tests and benchmarks, never by a policy. */
export interface ParserOptions {
  /** The worker entry to run (a built `csv-worker.js`); `null`: always inline. Default: the built one beside this module, if any. */
  readonly workerUrl?: URL | null;
  /** Files smaller than this are parsed inline. Default {@link WORKER_MIN_BYTES}. */
  readonly workerMinBytes?: number;
}

/** A CSV parser for one file, started early; `run` gives it the job, `stop` lets it go. */
export interface Parser {
  /** Where it parses: a worker thread, or the calling thread when `run` is called. */
  readonly thread: 'worker' | 'inline';
  /** Parses; `onRows` hears the rows read so far as the parser goes (from a worker, while the caller waits). */
  run(job: ParseJob, onRows?: (rows: number) => void): Promise<ParsedFile>;
  stop(): void;
}

/**
 * Starts a parser for a file: a worker thread when there is a worker entry to run and the file is
 * big enough, inline otherwise (a small file is not worth a thread).
 */
export function startParser(file: string, signal: AbortSignal, options: ParserOptions = {}): Parser {
  let size = 0;
  try {
    size = fs.statSync(file).size;
  } catch {
    // Unreadable: the caller reports it; the inline parser would throw the same.
  }
  const workerUrl = options.workerUrl === undefined ? BUILT_WORKER : options.workerUrl;
  if (workerUrl === null || size < (options.workerMinBytes ?? WORKER_MIN_BYTES)) {
    return { thread: 'inline', run: (job, onRows) => Promise.resolve().then(() => parsePlainCsv(job, undefined, onRows)), stop: () => {} };
  }
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerUrl, { workerData: { port: port2, file } satisfies CsvWorkerData, transferList: [port2] });
  const stop = () => {
    port1.close();
    void worker.terminate();
  };
  signal.addEventListener('abort', stop, { once: true });
  let onRows: ((rows: number) => void) | undefined;
  const result = new Promise<ParsedFile>((resolve, reject) => {
    /** True when `msg` ends the parse; rows read so far are passed on. */
    const settle = (msg: FromCsvWorker): boolean => {
      if (msg.ok) resolve(msg.ok);
      else if (msg.unsupported !== undefined) reject(new Unsupported(msg.unsupported));
      else if (msg.failed !== undefined) reject(new Error(msg.failed));
      else {
        if (msg.rows !== undefined) onRows?.(msg.rows);
        return false;
      }
      return true;
    };
    const listen = (msg: FromCsvWorker) => {
      if (settle(msg)) port1.off('message', listen);
    };
    port1.on('message', listen);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      // The worker's last messages may still be queued on the port when 'exit' arrives.
      for (let pending = receiveMessageOnPort(port1); pending; pending = receiveMessageOnPort(port1)) {
        if (settle(pending.message as FromCsvWorker)) return;
      }
      reject(new Error(signal.aborted ? 'cancelled' : `CSV parser stopped (exit code ${code})`));
    });
  });
  result.catch(() => {}); // stopped without being run: nobody waits for it
  return {
    thread: 'worker',
    run(job, rows) {
      onRows = rows;
      port1.postMessage({ job } satisfies ToCsvWorker);
      return result.finally(() => {
        signal.removeEventListener('abort', stop);
        port1.close();
        void worker.terminate();
      });
    },
    stop() {
      signal.removeEventListener('abort', stop);
      port1.postMessage({ stop: true } satisfies ToCsvWorker);
      stop();
    },
  };
}
