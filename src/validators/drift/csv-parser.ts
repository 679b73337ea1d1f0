/**
 * The fast CSV parser: a byte-level reader of plain CSV files (one-byte delimiter, a header, no
 * quoting, numbers and text only) into a sample per numeric column and counts per categorical one.
 * It runs in a worker thread (csv-worker.ts, started by csv-parser-start.ts), or inline for small
 * files and under the tests. Hand-written because no library parses CSV numbers into typed arrays
 * at anything like this speed (index.ts says more; bench/README.md has the measurements).
 */
import fs from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import type { Digest } from '../../domain/digest.js';
import type { SortedSample } from '../../stats/index.js';
import type { PlannedColumn } from './file-data.js';
import { MAX_EXACT, NumberColumn, POW10 } from './number-column.js';

/** What the parser sends back: per planned column, a sample or category counts. */
export interface ParsedFile {
  readonly rows: number;
  readonly digest: Digest;
  readonly columns: ReadonlyArray<
    | { readonly kind: 'numeric'; readonly sample: SortedSample; readonly nulls: number }
    | { readonly kind: 'categorical'; readonly entries: [string, number][]; readonly nulls: number }
  >;
}

/** The parser declined the file: DuckDB reads it instead. Not an error the user sees. */
export class Unsupported extends Error {}

const LF = 10;
const CR = 13;
const MINUS = 45;
const DOT = 46;
const QUOTE = 34;
const BLOCK = 1 << 22;

/** What to parse: the file, its dialect and names as DuckDB sniffed them, and the columns to read. */
export interface ParseJob {
  readonly file: string;
  readonly delimiter: number;
  readonly names: readonly string[];
  readonly plan: readonly PlannedColumn[];
}

/**
 * Parses a plain CSV file: header, then lines of `delimiter`-separated fields without quotes; a
 * number field is `-?digits(.digits)?([eE][+-]?digits)?` (digits only for integer columns), a text
 * field anything without a quote; an empty field is null. Throws {@link Unsupported} at the first
 * thing outside that, so DuckDB reads the file instead. Hashes every byte it reads (the input
 * digest comes for free). Exported for tests and benchmarks. `onRows` hears the rows read so far
 * after every block (4 MiB): the progress `validate` shows on a terminal.
 */
export function parsePlainCsv(job: ParseJob, prehashed?: Prehashed, onRows?: (rows: number) => void): ParsedFile {
  const { delimiter: DELIM, plan } = job;
  const ncols = job.names.length;
  const slot = new Int32Array(ncols).fill(-1);
  plan.forEach((c, i) => (slot[c.index] = i));
  // Per planned column: 0 number, 1 integer (no dot or exponent), 2 text, 3 number read as text.
  const kind = Uint8Array.from(plan, (c) => ['number', 'integer', 'text', 'number-as-text'].indexOf(c.readAs));
  const fd = fs.openSync(job.file, 'r');
  const size = fs.fstatSync(fd).size;
  const hash = prehashed?.hash ?? createHash('sha256');
  // Bytes before this offset were hashed while DuckDB was still sniffing (see csv-worker.ts).
  const hashedUpTo = prehashed?.bytes ?? 0;
  let offset = 0;
  let numbers: (NumberColumn | null)[] = [];
  const texts: (Map<string, number> | null)[] = plan.map((c) => (c.readAs === 'text' || c.readAs === 'number-as-text' ? new Map() : null));
  const textNulls = new Float64Array(plan.length);
  let buf = Buffer.allocUnsafe(BLOCK + 1);
  let carry = 0;
  let rows = 0;
  let header = true;
  let eof = false;
  try {
    while (!eof) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const got = fs.readSync(fd, buf, carry, buf.length - carry - 1, null);
      if (offset + got > hashedUpTo) hash.update(buf.subarray(carry + Math.max(0, hashedUpTo - offset), carry + got));
      offset += got;
      let end = carry + got;
      if (got === 0) {
        eof = true;
        if (end === 0) break;
        if (buf[end - 1] !== LF) buf[end++] = LF; // a last line without a newline
      }
      let last = end - 1;
      while (last >= 0 && buf[last] !== LF) last--;
      if (last < 0) {
        carry = end;
        continue;
      }
      let i = 0;
      if (header) {
        header = false;
        i = checkHeader(buf, last, DELIM, job.names);
        if (i === 0) throw new Unsupported('header differs from what DuckDB read');
        // The rows to expect, from the first block's line length: raw arrays are sized once.
        const lineBytes = Math.max(1, (last + 1 - i) / Math.max(1, countLines(buf, i, last)));
        const expectedRows = Math.ceil((1.05 * size) / lineBytes);
        numbers = plan.map((c) => (c.readAs === 'number' || c.readAs === 'integer' ? new NumberColumn(expectedRows) : null));
      }
      while (i <= last) {
        for (let f = 0; f < ncols; f++) {
          const s = slot[f] as number;
          let c = buf[i] as number;
          if (s < 0) {
            while (c !== DELIM && c !== LF) {
              if (c === QUOTE) throw new Unsupported('quoted field');
              c = buf[++i] as number;
            }
          } else if (c === DELIM || c === LF || (c === CR && buf[i + 1] === LF)) {
            const num = numbers[s];
            if (num) num.nulls++;
            else textNulls[s] = (textNulls[s] as number) + 1;
          } else if (kind[s] === 2) {
            const start = i;
            while (c !== DELIM && c !== LF) {
              if (c === QUOTE) throw new Unsupported('quoted field');
              c = buf[++i] as number;
            }
            const stop = c === LF && buf[i - 1] === CR ? i - 1 : i;
            const key = buf.toString('utf8', start, stop);
            const map = texts[s] as Map<string, number>;
            map.set(key, (map.get(key) ?? 0) + 1);
          } else {
            const start = i;
            let neg = false;
            if (c === MINUS) {
              neg = true;
              c = buf[++i] as number;
            }
            let m = 0;
            let digits = 0;
            while (c >= 48 && c <= 57) {
              m = m * 10 + (c - 48);
              digits++;
              c = buf[++i] as number;
            }
            let scale = 0;
            if (c === DOT && digits > 0 && kind[s] !== 1) {
              c = buf[++i] as number;
              while (c >= 48 && c <= 57) {
                m = m * 10 + (c - 48);
                scale++;
                c = buf[++i] as number;
              }
              if (scale === 0) throw new Unsupported('number ends with a dot');
              digits += scale;
            }
            let exact = digits > 0 && digits <= 15;
            if ((c === 101 || c === 69) && digits > 0 && kind[s] !== 1) {
              // Scientific notation (pandas writes small floats as 1.3e-05): fold the exponent
              // into the decimal scale while the value stays an exact integer over a power of ten.
              c = buf[++i] as number;
              const negExp = c === MINUS;
              if (c === MINUS || c === 43) c = buf[++i] as number;
              let e = 0;
              let expDigits = 0;
              while (c >= 48 && c <= 57) {
                e = e * 10 + (c - 48);
                expDigits++;
                c = buf[++i] as number;
              }
              if (expDigits === 0 || expDigits > 3) throw new Unsupported('not a plain decimal number');
              scale += negExp ? e : -e;
              if (scale < 0) {
                m *= POW10[-scale] ?? Infinity;
                scale = 0;
                if (!(m < MAX_EXACT)) exact = false;
              } else if (scale > 22) exact = false;
            }
            if (digits === 0 || (c !== DELIM && c !== LF && c !== CR)) throw new Unsupported('not a plain decimal number');
            const num = numbers[s];
            if (num) {
              if (exact) num.add(neg ? -m : m, scale);
              else num.addDouble(Number(buf.toString('latin1', start, i)));
            } else {
              // A number read as a category: keyed by its value, as DuckDB's path does.
              const v = exact ? (neg ? -m : m) / (POW10[scale] as number) : Number(buf.toString('latin1', start, i));
              const key = String(v);
              const map = texts[s] as Map<string, number>;
              map.set(key, (map.get(key) ?? 0) + 1);
            }
          }
          c = buf[i] as number;
          if (f < ncols - 1) {
            if (c !== DELIM) throw new Unsupported('a line has fewer fields than the header');
          } else {
            if (c === CR) c = buf[++i] as number;
            if (c !== LF) throw new Unsupported('a line has more fields than the header');
          }
          i++;
        }
        rows++;
      }
      onRows?.(rows);
      carry = end - (last + 1);
      buf.copy(buf, 0, last + 1, end);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (header) throw new Unsupported('empty file');
  // One spare array for the radix sorts, shared by the columns (allocating one per column would
  // first-touch as many pages again).
  let scratch = new Int32Array(0);
  return {
    rows,
    digest: `sha256:${hash.digest('hex')}`,
    columns: plan.map((_, s) => {
      const num = numbers[s];
      if (num) {
        if (scratch.length < num.length) scratch = new Int32Array(num.length);
        return { kind: 'numeric' as const, sample: num.finish(scratch), nulls: num.nulls };
      }
      return { kind: 'categorical' as const, entries: [...(texts[s] as Map<string, number>)], nulls: textNulls[s] as number };
    }),
  };
}

/** Checks the header line against DuckDB's column names; returns where the data starts, or 0. */
function checkHeader(buf: Buffer, last: number, delim: number, names: readonly string[]): number {
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 byte order mark
  let end = i;
  while (end <= last && buf[end] !== LF) end++;
  let lineEnd = end;
  if (lineEnd > i && buf[lineEnd - 1] === CR) lineEnd--;
  const line = buf.toString('utf8', i, lineEnd);
  if (line.includes('"')) return 0;
  const fields = line.split(String.fromCharCode(delim));
  if (fields.length !== names.length || fields.some((f, k) => f !== names[k])) return 0;
  return end + 1;
}

function countLines(buf: Buffer, from: number, last: number): number {
  let n = 0;
  for (let i = from; i <= last; i++) if (buf[i] === LF) n++;
  return n;
}

/** The part of a file already hashed: its first `bytes` bytes went into `hash`. */
export interface Prehashed {
  readonly hash: Hash;
  readonly bytes: number;
}
