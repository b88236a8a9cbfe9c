// Exp-Golomb codes, as the bandwidth-efficient NIC paper uses them for 8-bit activations.
//   EG-0 of n >= 0: M = floor(log2(n+1)) zeros, then the M+1 bits of n+1 (a one, then its M
//   low bits). Length 2M+1.
//   EG-k of v >= 0: q = floor(v / 2^k) coded as EG-0, then the k low bits of v raw.
//   Length 2*floor(log2(q+1)) + 1 + k.
//   Zigzag maps a signed residual r to u = 2r (r >= 0) or -2r-1 (r < 0).
//   Symmetric EG: per channel, r = v - median_c, zigzag, EG-0; the medians are side info.
import { BitReader, BitWriter } from './bit-io';

export function floorLog2(n: number): number {
  if (n < 1) throw new RangeError(`floorLog2 of ${n}`);
  return 31 - Math.clz32(n);
}

export function eg0Length(n: number): number { return 2 * floorLog2(n + 1) + 1; }
export function egkLength(v: number, k: number): number { return eg0Length(Math.floor(v / 2 ** k)) + k; }

// The M leading zeros and the M+1 bits of n+1 are together just n+1 written in 2M+1 bits.
export function writeEG0(w: BitWriter, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 2) throw new RangeError(`EG-0 codes integers in [0, 2^31-2], got ${n}`);
  const m = floorLog2(n + 1);
  if (2 * m + 1 <= 32) w.writeBits(n + 1, 2 * m + 1);
  else { w.writeBits(0, m); w.writeBits(n + 1, m + 1); }
}

export function readEG0(r: BitReader): number {
  const m = Math.clz32(r.peek32());
  if (m <= 15) { // the whole codeword (2M+1 <= 31 bits) is in the peeked word
    const len = 2 * m + 1;
    const v = r.readBits(len);
    return v - 1;
  }
  let zeros = 0;
  while (r.readBit() === 0) { if (++zeros > 31) throw new RangeError('EG-0: more than 31 leading zeros (corrupt stream)'); }
  return 2 ** zeros + r.readBits(zeros) - 1;
}

export function writeEGk(w: BitWriter, v: number, k: number): void {
  const q = Math.floor(v / 2 ** k);
  const m = floorLog2(q + 1);
  if (2 * m + 1 + k <= 32) w.writeBits((q + 1) * 2 ** k + (v % 2 ** k), 2 * m + 1 + k);
  else { writeEG0(w, q); w.writeBits(v % 2 ** k, k); }
}

export function readEGk(r: BitReader, k: number): number {
  const q = readEG0(r);
  return q * 2 ** k + r.readBits(k);
}

export const zigzag = (r: number): number => (r >= 0 ? 2 * r : -2 * r - 1);
export const unzigzag = (u: number): number => (u % 2 === 0 ? u / 2 : -(u + 1) / 2);

/** Codeword and length of EG-k for 0..TABLE_SIZE-1: the hot path is one lookup and one write. */
const TABLE_SIZE = 4096;
const egTables = new Map<number, { code: Uint32Array; len: Uint8Array }>();
function egTable(k: number) {
  let t = egTables.get(k);
  if (!t) {
    t = { code: new Uint32Array(TABLE_SIZE), len: new Uint8Array(TABLE_SIZE) };
    for (let v = 0; v < TABLE_SIZE; v++) {
      const q = Math.floor(v / 2 ** k);
      t.len[v] = 2 * floorLog2(q + 1) + 1 + k;
      t.code[v] = (q + 1) * 2 ** k + (v % 2 ** k);
    }
    egTables.set(k, t);
  }
  return t;
}

/** EG-k stream of non-negative integers. */
export function encodeEGk(values: ArrayLike<number>, k: number): { bytes: Uint8Array; bits: number } {
  const w = new BitWriter(values.length);
  const t = k <= 16 ? egTable(k) : undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (t && v >= 0 && v < TABLE_SIZE && t.len[v] <= 24) w.writeBits(t.code[v], t.len[v]);
    else writeEGk(w, v, k);
  }
  return { bytes: w.finish(), bits: w.bitLength };
}

export function decodeEGk(bytes: Uint8Array, count: number, k: number): Int32Array {
  const r = new BitReader(bytes);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = readEGk(r, k);
  return out;
}

/** Median of integers (the lower middle value for an even count), as side information. */
export function medianInt(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  const s = Int32Array.from(values).sort();
  return s[(s.length - 1) >> 1];
}

/**
 * Symmetric EG over a tensor laid out [N, C] (channels last, as tfjs NHWC flattened):
 * header = C medians of `medianBits` bits each, then EG-0 of zigzag(v - median_c).
 */
export function encodeSymmetricEG(values: ArrayLike<number>, channels: number, medianBits = 8): { bytes: Uint8Array; bits: number; medians: Int32Array } {
  if (values.length % channels !== 0) throw new RangeError(`${values.length} values do not split into ${channels} channels`);
  const n = values.length / channels;
  const medians = new Int32Array(channels);
  const col = new Int32Array(n);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) col[i] = values[i * channels + c];
    medians[c] = medianInt(col);
  }
  const w = new BitWriter(values.length);
  const t = egTable(0);
  for (let c = 0; c < channels; c++) w.writeBits(medians[c], medianBits);
  for (let i = 0; i < values.length; i++) {
    const u = zigzag(values[i] - medians[i % channels]);
    if (u < TABLE_SIZE && t.len[u] <= 24) w.writeBits(t.code[u], t.len[u]);
    else writeEG0(w, u);
  }
  return { bytes: w.finish(), bits: w.bitLength, medians };
}

export function decodeSymmetricEG(bytes: Uint8Array, count: number, channels: number, medianBits = 8): Int32Array {
  const r = new BitReader(bytes);
  const medians = Array.from({ length: channels }, () => r.readBits(medianBits));
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = unzigzag(readEG0(r)) + medians[i % channels];
  return out;
}

/** Exact length in bits of the symmetric-EG stream, without writing it. */
export function symmetricEGBits(values: ArrayLike<number>, channels: number, medianBits = 8): number {
  const n = values.length / channels;
  const col = new Int32Array(n);
  let bits = channels * medianBits;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) col[i] = values[i * channels + c];
    const m = medianInt(col);
    for (let i = 0; i < n; i++) bits += eg0Length(zigzag(col[i] - m));
  }
  return bits;
}
