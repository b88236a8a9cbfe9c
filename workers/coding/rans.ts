// A range coder in the rANS form (32-bit state, 16-bit renormalization, 16-bit
// probability precision), driven by integer CDF tables so that encoder and decoder agree
// bit for bit. Symbols are encoded in reverse and decoded forward.
//   encode s (start c_s, frequency f_s): while x >= f_s * 2^16, emit x mod 2^16, x /= 2^16;
//                                        x = floor(x / f_s) * 2^16 + (x mod f_s) + c_s
//   decode: slot = x mod 2^16, s such that c_s <= slot < c_s + f_s;
//           x = f_s * floor(x / 2^16) + slot - c_s; while x < 2^16: x = x * 2^16 + next word

export const PRECISION = 16;
const M = 1 << PRECISION;
const LOW = 1 << 16;

/** cdf[0] = 0 < … < cdf[K] = 2^16: symbol s has frequency cdf[s+1] - cdf[s] >= 1. */
export type CdfTable = Uint32Array;

export function checkTable(cdf: CdfTable): void {
  if (cdf.length < 2 || cdf[0] !== 0 || cdf[cdf.length - 1] !== M) throw new Error('CDF table must start at 0 and end at 2^16');
  for (let i = 1; i < cdf.length; i++) if (cdf[i] <= cdf[i - 1]) throw new Error(`CDF table: symbol ${i - 1} has zero frequency`);
}

/**
 * Probabilities -> integer CDF with every symbol's frequency >= 1 and the total exactly
 * 2^16; deterministic (ties broken by index), so both ends build the same table.
 */
export function quantizeCdf(probs: ArrayLike<number>): CdfTable {
  const k = probs.length;
  if (k < 1 || k > M) throw new RangeError(`alphabet of ${k} symbols does not fit 16-bit precision`);
  let total = 0;
  for (let i = 0; i < k; i++) total += Math.max(0, probs[i]);
  const freq = new Array<number>(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const p = total > 0 ? Math.max(0, probs[i]) / total : 1 / k;
    freq[i] = Math.max(1, Math.floor(p * (M - k)) + 1);
    sum += freq[i];
  }
  // Hand out (or take back) the difference from the largest frequencies first.
  const order = [...freq.keys()].sort((a, b) => freq[b] - freq[a] || a - b);
  let diff = M - sum, j = 0;
  while (diff !== 0) {
    const s = order[j % k];
    if (diff > 0) { freq[s]++; diff--; } else if (freq[s] > 1) { freq[s]--; diff++; }
    j++;
  }
  const cdf = new Uint32Array(k + 1);
  for (let i = 0; i < k; i++) cdf[i + 1] = cdf[i] + freq[i];
  return cdf;
}

/** Bits the coder will spend on these symbols under these tables (before the 32-bit flush). */
export function tableBits(symbols: ArrayLike<number>, tableOf: (i: number) => CdfTable): number {
  let bits = 0;
  for (let i = 0; i < symbols.length; i++) {
    const cdf = tableOf(i), s = symbols[i];
    bits -= Math.log2((cdf[s + 1] - cdf[s]) / M);
  }
  return bits;
}

export function ransEncode(symbols: ArrayLike<number>, tableOf: (i: number) => CdfTable): Uint8Array {
  const words: number[] = [];
  let x = LOW;
  for (let i = symbols.length - 1; i >= 0; i--) {
    const cdf = tableOf(i), s = symbols[i];
    if (!(s >= 0 && s < cdf.length - 1)) throw new RangeError(`symbol ${s} at ${i} is outside its table (0..${cdf.length - 2})`);
    const start = cdf[s], freq = cdf[s + 1] - start;
    const xmax = freq * LOW;
    while (x >= xmax) { words.push(x & 0xffff); x = x >>> 16; }
    x = Math.floor(x / freq) * M + (x % freq) + start;
  }
  words.push(x & 0xffff, x >>> 16);
  const out = new Uint8Array(words.length * 2);
  for (let i = 0, j = words.length - 1; j >= 0; j--, i += 2) { out[i] = words[j] >>> 8; out[i + 1] = words[j] & 0xff; }
  return out;
}

export function ransDecode(bytes: Uint8Array, count: number, tableOf: (i: number) => CdfTable): Int32Array {
  if (bytes.length < 4 || bytes.length % 2) throw new Error(`rANS stream of ${bytes.length} bytes is malformed`);
  let pos = 0;
  const next = () => {
    if (pos + 1 >= bytes.length) throw new Error('rANS stream ended early (corrupt or truncated)');
    const w = (bytes[pos] << 8) | bytes[pos + 1]; pos += 2; return w;
  };
  let x = next() * 65536 + next();
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const cdf = tableOf(i);
    const slot = x % M;
    let lo = 0, hi = cdf.length - 2; // binary search for the symbol whose range holds slot
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (cdf[mid] <= slot) lo = mid; else hi = mid - 1; }
    const start = cdf[lo], freq = cdf[lo + 1] - start;
    x = freq * Math.floor(x / M) + slot - start;
    while (x < LOW) x = x * 65536 + next();
    out[i] = lo;
  }
  return out;
}
