// A bit-precise arithmetic coder (32-bit integer range, the Witten-Neal-Cleary scheme with
// pending underflow bits) on the same integer CDF tables as rANS. Its termination costs
// about two bits, where rANS flushes a 32-bit state: for per-image latents of a few dozen
// bits that difference is the whole rate, so image codecs use this coder.
import { BitReader, BitWriter } from './bit-io';
import { PRECISION, type CdfTable } from './rans';

const TOTAL = 2 ** PRECISION;
const TOP = 2 ** 32 - 1;
const HALF = 2 ** 31;
const QUARTER = 2 ** 30;

export function arithEncode(symbols: ArrayLike<number>, tableOf: (i: number) => CdfTable): { bytes: Uint8Array; bits: number } {
  const w = new BitWriter(Math.max(16, symbols.length >> 2));
  let low = 0, high = TOP, pending = 0;
  const emit = (bit: number) => { w.writeBit(bit); for (; pending > 0; pending--) w.writeBit(1 - bit); };
  for (let i = 0; i < symbols.length; i++) {
    const cdf = tableOf(i), s = symbols[i];
    if (!(s >= 0 && s < cdf.length - 1)) throw new RangeError(`symbol ${s} at ${i} is outside its table (0..${cdf.length - 2})`);
    const range = high - low + 1;
    high = low + Math.floor((range * cdf[s + 1]) / TOTAL) - 1;
    low = low + Math.floor((range * cdf[s]) / TOTAL);
    for (;;) {
      if (high < HALF) emit(0);
      else if (low >= HALF) { emit(1); low -= HALF; high -= HALF; }
      else if (low >= QUARTER && high < HALF + QUARTER) { pending++; low -= QUARTER; high -= QUARTER; }
      else break;
      low = 2 * low; high = 2 * high + 1;
    }
  }
  // Two more bits (plus pending) pick a point inside [low, high] whatever follows.
  pending++;
  emit(low < QUARTER ? 0 : 1);
  return { bytes: w.finish(), bits: w.bitLength };
}

export function arithDecode(bytes: Uint8Array, count: number, tableOf: (i: number) => CdfTable): Int32Array {
  const r = new BitReader(bytes);
  const next = () => (r.bitsLeft > 0 ? r.readBit() : 0); // past the end: zeros
  let low = 0, high = TOP, value = 0;
  for (let i = 0; i < 32; i++) value = value * 2 + next();
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const cdf = tableOf(i);
    const range = high - low + 1;
    const scaled = Math.floor(((value - low + 1) * TOTAL - 1) / range);
    let lo = 0, hi = cdf.length - 2;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (cdf[mid] <= scaled) lo = mid; else hi = mid - 1; }
    out[i] = lo;
    high = low + Math.floor((range * cdf[lo + 1]) / TOTAL) - 1;
    low = low + Math.floor((range * cdf[lo]) / TOTAL);
    for (;;) {
      if (high < HALF) { /* nothing to subtract */ }
      else if (low >= HALF) { low -= HALF; high -= HALF; value -= HALF; }
      else if (low >= QUARTER && high < HALF + QUARTER) { low -= QUARTER; high -= QUARTER; value -= QUARTER; }
      else break;
      low = 2 * low; high = 2 * high + 1; value = 2 * value + next();
    }
  }
  return out;
}
