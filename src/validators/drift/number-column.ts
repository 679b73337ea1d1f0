/**
 * One numeric column's values while the CSV parser reads them, kept as exact integer keys where it
 * can: counted per key, or appended and radix-sorted, or as doubles. Used by csv-parser.ts only; a
 * class because it is the parser's inner loop (its `add` must stay small enough to be inlined).
 */
import { sortFloat64, sortInt32, type SortedSample } from '../../stats/index.js';

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
export const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Integers below this in magnitude are exact doubles. */
export const MAX_EXACT = 2 ** 53;

/**
 * Counting stays within about a cache's worth of slots: a random increment into a bigger array
 * costs a memory round trip per value (measured: byte counters over 12 M slots were four times
 * slower than appending the keys and radix-sorting them afterwards).
 */
const DENSE_MAX_SLOTS = 1 << 19;
const INT32_MAX = 2 ** 31 - 1;

const EMPTY = 0;
const DENSE = 1;
const KEYS = 3;
const DOUBLES = 4;

/**
 * One numeric column's values while parsing. A value written `-?digits.digits` is the integer
 * k = ±digits at the column's decimal scale S (value = k / 10^S, exactly the double the text
 * denotes: both operands are exact and IEEE division rounds correctly). Three ways to keep them,
 * cheapest first, moving on when the data no longer fits:
 * - dense: a count per k while the range of k is small ({@link DENSE_MAX_SLOTS}); needs no sort;
 * - keys: the k themselves as 32-bit integers, radix-sorted at the end (half the bytes of doubles);
 * - doubles: the values, for anything else (more digits, wider ranges, exponents beyond the scale).
 */
export class NumberColumn {
  nulls = 0;
  private mode = EMPTY;
  private scale = 0;
  private base = 0;
  private dense = new Int32Array(0);
  private keys = new Int32Array(0);
  private nk = 0;
  private kmin = INT32_MAX;
  private kmax = -INT32_MAX;
  private dbl = new Float64Array(0);
  private nd = 0;

  /** `rows`: the expected number of values, to size the raw arrays once. */
  constructor(private readonly rows: number) {}

  /** How many keys the radix sort will have to sort. */
  get length(): number {
    return this.mode === KEYS ? this.nk : 0;
  }

  /**
   * Adds the value m / 10^s (m a signed integer below 2^53 in magnitude, s ≤ 22). Small on
   * purpose, so that it is inlined into the parser's loop; everything unusual is in addSlow.
   */
  add(m: number, s: number): void {
    if (s === this.scale) {
      const i = m - this.base;
      if (this.mode === DENSE) {
        const d = this.dense;
        if (i >= 0 && i < d.length) {
          d[i] = (d[i] as number) + 1;
          return;
        }
      } else if (this.mode === KEYS && this.nk < this.keys.length && m <= INT32_MAX && m >= -INT32_MAX) {
        this.keys[this.nk++] = m;
        if (m < this.kmin) this.kmin = m;
        if (m > this.kmax) this.kmax = m;
        return;
      }
    }
    this.addSlow(m, s);
  }

  private addSlow(m: number, s: number): void {
    switch (this.mode) {
      case EMPTY:
        this.mode = DENSE;
        this.scale = s;
        this.dense = new Int32Array(1 << 12);
        this.base = m - (1 << 11);
        return this.add(m, s);
      case DOUBLES:
        return this.addDouble(m / (POW10[s] as number));
    }
    if (s > this.scale) {
      if (!this.rescale(s)) this.toDoubles();
      return this.add(m, s);
    }
    const k = s < this.scale ? m * (POW10[this.scale - s] as number) : m;
    if (s < this.scale && k < MAX_EXACT && k > -MAX_EXACT && this.mode === DENSE) {
      const i = k - this.base;
      if (i >= 0 && i < this.dense.length) return this.add(k, this.scale);
    }
    if (this.mode === DENSE) {
      if (!this.widen(k)) this.toKeys();
      return this.add(k, this.scale);
    }
    // Keys: room, or a key outside 32 bits.
    if (k > INT32_MAX || k < -INT32_MAX) {
      this.toDoubles();
      return this.addDouble(m / (POW10[s] as number));
    }
    if (this.nk === this.keys.length) this.keys = grown(this.keys, this.rows);
    this.keys[this.nk++] = k;
    if (k < this.kmin) this.kmin = k;
    if (k > this.kmax) this.kmax = k;
  }

  /** Adds a value that is not an exact decimal of at most 15 digits. */
  addDouble(v: number): void {
    if (this.mode !== DOUBLES) this.toDoubles();
    if (this.nd === this.dbl.length) this.dbl = grown(this.dbl, this.rows);
    this.dbl[this.nd++] = v;
  }

  /** The counted keys and their counts, ascending (dense mode). */
  private counted(): { keys: Float64Array; counts: Int32Array } {
    const d = this.dense;
    let distinct = 0;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) distinct++;
    const keys = new Float64Array(distinct);
    const counts = new Int32Array(distinct);
    for (let i = 0, j = 0; i < d.length; i++) {
      if (d[i] !== 0) {
        keys[j] = this.base + i;
        counts[j++] = d[i] as number;
      }
    }
    return { keys, counts };
  }

  /** Widens the counting range to hold key k, with headroom; false when that gets too wide. */
  private widen(k: number): boolean {
    if (k >= MAX_EXACT || k <= -MAX_EXACT) return false;
    const lo = Math.min(this.base, k);
    const hi = Math.max(this.base + this.dense.length - 1, k);
    const span = hi - lo + 1;
    if (span > DENSE_MAX_SLOTS) return false;
    const size = Math.min(DENSE_MAX_SLOTS, 2 * span);
    const base = k < this.base ? hi - size + 1 : lo;
    const next = new Int32Array(size);
    next.set(this.dense, this.base - base);
    this.dense = next;
    this.base = base;
    return true;
  }

  /** More decimals than so far: every key becomes k · 10^(s − S), if that still fits. */
  private rescale(s: number): boolean {
    const f = POW10[s - this.scale] as number;
    if (this.mode === KEYS) {
      if (this.kmax * f > INT32_MAX || this.kmin * f < -INT32_MAX) return false;
      for (let i = 0; i < this.nk; i++) this.keys[i] = (this.keys[i] as number) * f;
      if (this.nk > 0) {
        this.kmin *= f;
        this.kmax *= f;
      }
      this.scale = s;
      return true;
    }
    // Dense: start again from the counted keys at the new scale, if they still fit.
    const { keys, counts } = this.counted();
    const lo = (keys[0] ?? 0) * f;
    const hi = (keys[keys.length - 1] ?? 0) * f;
    if (hi - lo + 1 > DENSE_MAX_SLOTS || Math.abs(lo) >= MAX_EXACT || Math.abs(hi) >= MAX_EXACT) {
      // Too wide to count: the values so far become keys (or doubles) at the old scale first.
      this.toKeys();
      return this.rescale(s);
    }
    this.dense = new Int32Array(Math.max(1 << 12, Math.min(DENSE_MAX_SLOTS, 2 * (hi - lo + 1))));
    this.base = lo;
    this.scale = s;
    for (let j = 0; j < keys.length; j++) this.dense[(keys[j] as number) * f - lo] = counts[j] as number;
    return true;
  }

  /** Counted keys out as a list of keys, each repeated by its count. */
  private toKeys(): void {
    const { keys, counts } = this.counted();
    let total = 0;
    for (const c of counts) total += c;
    const lo = keys[0] ?? 0;
    const hi = keys[keys.length - 1] ?? 0;
    this.dense = new Int32Array(0);
    this.mode = KEYS;
    this.keys = new Int32Array(Math.max(total, Math.min(this.rows, 1 << 16)));
    this.nk = 0;
    if (hi > INT32_MAX || lo < -INT32_MAX) {
      this.mode = DOUBLES;
      const p = POW10[this.scale] as number;
      for (let j = 0; j < keys.length; j++) for (let c = 0; c < (counts[j] as number); c++) this.addDouble((keys[j] as number) / p);
      return;
    }
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j] as number;
      for (let c = 0; c < (counts[j] as number); c++) this.keys[this.nk++] = k;
    }
    if (keys.length > 0) {
      this.kmin = lo;
      this.kmax = hi;
    }
  }

  private toDoubles(): void {
    if (this.mode === DOUBLES) return;
    if (this.mode === DENSE) this.toKeys();
    if (this.mode === DOUBLES) return;
    const p = POW10[this.scale] as number;
    this.mode = DOUBLES;
    this.dbl = new Float64Array(Math.max(this.nk, Math.min(this.rows, 1 << 16)));
    for (let i = 0; i < this.nk; i++) this.dbl[i] = (this.keys[i] as number) / p;
    this.nd = this.nk;
    this.keys = new Int32Array(0);
    this.nk = 0;
  }

  /** The column's sample, ascending; `scratch` is the radix sort's spare array, shared by columns. */
  finish(scratch?: Int32Array): SortedSample {
    const p = POW10[this.scale] as number;
    if (this.mode === DENSE) {
      const { keys, counts } = this.counted();
      let n = 0;
      for (let j = 0; j < keys.length; j++) {
        keys[j] = (keys[j] as number) / p;
        n += counts[j] as number;
      }
      return { values: keys, divisor: 1, counts, n };
    }
    if (this.mode === KEYS) {
      // Sorted keys go out as they are (value = key / 10^S): no second array of doubles.
      const keys = sortInt32(this.keys.subarray(0, this.nk), this.kmin, this.kmax, scratch);
      return { values: keys, divisor: p, counts: null, n: keys.length };
    }
    if (this.mode === DOUBLES) {
      const values = sortFloat64(this.dbl.subarray(0, this.nd));
      this.dbl = new Float64Array(0);
      return { values, divisor: 1, counts: null, n: values.length };
    }
    return { values: new Float64Array(0), divisor: 1, counts: null, n: 0 };
  }
}

/** A copy with room for more: to the expected size first, then half again. */
function grown<T extends Int32Array | Float64Array>(a: T, expected: number): T {
  const size = Math.max(1 << 16, a.length < expected ? expected : Math.ceil(a.length * 1.5));
  const next = (a instanceof Int32Array ? new Int32Array(size) : new Float64Array(size)) as T;
  next.set(a);
  return next;
}
