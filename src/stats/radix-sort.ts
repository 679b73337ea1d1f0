/**
 * The two radix sorts the large-file path needs: doubles by their IEEE-754 bits, and 32-bit
 * integer keys of a known range.
 */

/**
 * Sorts a Float64Array ascending in place (NaN must have been removed), by an LSD radix sort on the
 * IEEE-754 bits mapped to unsigned order, one byte per pass, skipping bytes that every value shares.
 * About four times faster than `Float64Array.prototype.sort` on ten million values, and its time does
 * not depend on the data. Ties between −0 and +0 keep −0 first, which compares equal anyway.
 */
export function sortFloat64(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < 1 << 15) return a.sort();
  let src: Uint32Array = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  let dst: Uint32Array = new Uint32Array(2 * n);
  // Map to unsigned order: flip every bit of negatives, only the sign bit of positives.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = src[i + 1] as number;
    if (hi & 0x80000000) {
      src[i] = ~(src[i] as number);
      src[i + 1] = ~hi;
    } else {
      src[i + 1] = hi | 0x80000000;
    }
  }
  const hist = new Int32Array(8 * 256);
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = src[i] as number;
    const hi = src[i + 1] as number;
    bump(hist, lo & 0xff);
    bump(hist, 256 + ((lo >>> 8) & 0xff));
    bump(hist, 512 + ((lo >>> 16) & 0xff));
    bump(hist, 768 + (lo >>> 24));
    bump(hist, 1024 + (hi & 0xff));
    bump(hist, 1280 + ((hi >>> 8) & 0xff));
    bump(hist, 1536 + ((hi >>> 16) & 0xff));
    bump(hist, 1792 + (hi >>> 24));
  }
  const offsets = new Int32Array(256);
  for (let pass = 0; pass < 8; pass++) {
    const base = pass * 256;
    let skip = false;
    for (let b = 0; b < 256; b++) if (hist[base + b] === n) skip = true;
    if (skip) continue;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      offsets[b] = sum;
      sum += hist[base + b] as number;
    }
    const word = pass < 4 ? 0 : 1;
    const shift = (pass % 4) * 8;
    for (let i = 0; i < 2 * n; i += 2) {
      const lo = src[i] as number;
      const hi = src[i + 1] as number;
      const byte = ((word === 0 ? lo : hi) >>> shift) & 0xff;
      const at = 2 * (offsets[byte] as number);
      offsets[byte] = (offsets[byte] as number) + 1;
      dst[at] = lo;
      dst[at + 1] = hi;
    }
    [src, dst] = [dst, src];
  }
  const out = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = src[i] as number;
    const hi = src[i + 1] as number;
    if (hi & 0x80000000) {
      out[i] = lo;
      out[i + 1] = hi & 0x7fffffff;
    } else {
      out[i] = ~lo;
      out[i + 1] = ~hi;
    }
  }
  return a;
}

/**
 * Sorts 32-bit integers whose range [min, max] is known, ascending, in place: an LSD radix sort of
 * (k − min) in as few passes of at most 12 bits as the range needs. `scratch` (at least as long as
 * `a`) is reused when given, which spares allocating and first-touching a second array.
 */
export function sortInt32(a: Int32Array, min: number, max: number, scratch?: Int32Array): Int32Array {
  const n = a.length;
  if (n < 1 << 12 || max <= min) return a.sort();
  const bits = Math.ceil(Math.log2(max - min + 1));
  const passes = Math.ceil(bits / 12);
  const width = Math.ceil(bits / passes);
  const mask = (1 << width) - 1;
  const count = new Int32Array(1 << width);
  let src: Int32Array = a;
  let dst: Int32Array = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Int32Array(n);
  for (let pass = 0, shift = 0; pass < passes; pass++, shift += width) {
    count.fill(0);
    for (let i = 0; i < n; i++) bump(count, (((src[i] as number) - min) >>> shift) & mask);
    let sum = 0;
    for (let b = 0; b <= mask; b++) {
      const c = count[b] as number;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const v = src[i] as number;
      const b = ((v - min) >>> shift) & mask;
      const at = count[b] as number;
      count[b] = at + 1;
      dst[at] = v;
    }
    [src, dst] = [dst, src];
  }
  if (src !== a) a.set(src);
  return a;
}

function bump(h: Int32Array, i: number): void {
  h[i] = (h[i] as number) + 1;
}
