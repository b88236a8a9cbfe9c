// Sparsifying compressors and their wire format. A message is real bytes:
//   [u32 d][u32 k][k indices as LEB128 varints of the gaps (first index, then differences)][k float32 values]
// all little-endian; communication is counted from these bytes. Top-k keeps the k largest
// magnitudes (ties to the lower index; biased, as EF21 expects); Rand-k keeps k indices
// drawn without replacement and scales them by d/k (unbiased, for the baselines).
import type { Rng } from '../../runtime/rng';
import type { Vec } from './aggregators';

export interface Sparse { d: number; indices: Uint32Array; values: Float32Array }

/**
 * One pass with a size-k heap whose root is the weakest kept entry (smallest magnitude;
 * among equals the higher index): O(d log k), where sorting all d indices cost 20× more
 * per worker and round. Scanning indices upwards, a newcomer must beat the root strictly,
 * so ties keep the lower index.
 */
export function topK(v: Vec, k: number): Sparse {
  const d = v.length, kk = Math.max(0, Math.min(d, k));
  const heap = new Int32Array(kk);
  const weaker = (a: number, b: number) => { const x = Math.abs(v[a]), y = Math.abs(v[b]); return x < y || (x === y && a > b); };
  const siftDown = (at: number, size: number) => {
    for (;;) {
      const l = 2 * at + 1, r = l + 1;
      let m = at;
      if (l < size && weaker(heap[l], heap[m])) m = l;
      if (r < size && weaker(heap[r], heap[m])) m = r;
      if (m === at) return;
      const t = heap[at]; heap[at] = heap[m]; heap[m] = t; at = m;
    }
  };
  for (let i = 0; i < kk; i++) heap[i] = i;
  for (let i = (kk >> 1) - 1; i >= 0; i--) siftDown(i, kk);
  for (let i = kk; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[heap[0]])) { heap[0] = i; siftDown(0, kk); }
  const indices = Uint32Array.from(heap).sort();
  return { d, indices, values: Float32Array.from(indices, (i) => v[i]) };
}

export function randK(v: Vec, k: number, rng: Rng): Sparse {
  const d = v.length, kk = Math.max(0, Math.min(d, k));
  const perm = rng.permutation(d);
  const chosen = Array.from(perm.subarray(0, kk)).sort((a, b) => a - b);
  return { d, indices: Uint32Array.from(chosen), values: Float32Array.from(chosen, (i) => (v[i] * d) / kk) };
}

/** The dense vector a message stands for. */
export function densify(s: Sparse): Vec {
  const out = new Float64Array(s.d);
  s.indices.forEach((i, j) => { out[i] = s.values[j]; });
  return out;
}

export function encodeSparse(s: Sparse): Uint8Array {
  const gaps: number[] = [];
  let prev = 0;
  s.indices.forEach((i, j) => {
    if (j > 0 && i <= prev) throw new RangeError('indices must be strictly increasing');
    gaps.push(j === 0 ? i : i - prev);
    prev = i;
  });
  const varint: number[] = [];
  for (let g of gaps) { while (g >= 0x80) { varint.push((g & 0x7f) | 0x80); g >>>= 7; } varint.push(g); }
  const out = new Uint8Array(8 + varint.length + 4 * s.values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, s.d, true); view.setUint32(4, s.indices.length, true);
  out.set(varint, 8);
  s.values.forEach((v, j) => view.setFloat32(8 + varint.length + 4 * j, v, true));
  return out;
}

export function decodeSparse(bytes: Uint8Array): Sparse {
  if (bytes.length < 8) throw new RangeError(`a message needs at least 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = view.getUint32(0, true), k = view.getUint32(4, true);
  const indices = new Uint32Array(k);
  let at = 8, prev = 0;
  for (let j = 0; j < k; j++) {
    let g = 0, shift = 0, byte: number;
    do {
      if (at >= bytes.length) throw new RangeError('message truncated inside the indices');
      byte = bytes[at++]; g += (byte & 0x7f) * 2 ** shift; shift += 7;
    } while (byte & 0x80);
    prev = j === 0 ? g : prev + g;
    if (prev >= d) throw new RangeError(`index ${prev} outside a vector of ${d}`);
    indices[j] = prev;
  }
  if (at + 4 * k !== bytes.length) throw new RangeError(`message of ${bytes.length} bytes does not hold ${k} float32 values after ${at} bytes`);
  const values = new Float32Array(k);
  for (let j = 0; j < k; j++) values[j] = view.getFloat32(at + 4 * j, true);
  return { d, indices, values };
}


const DENSE_MARK = 0xffffffff;

/** An uncompressed message: [u32 d][u32 0xFFFFFFFF][d float32]. */
export function encodeDense(v: Vec): Uint8Array {
  const out = new Uint8Array(8 + 4 * v.length), view = new DataView(out.buffer);
  view.setUint32(0, v.length, true); view.setUint32(4, DENSE_MARK, true);
  v.forEach((x, i) => view.setFloat32(8 + 4 * i, x, true));
  return out;
}

/** Either message kind back to a dense vector. */
export function decodeMessage(bytes: Uint8Array): Vec {
  if (bytes.length >= 8) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(4, true) === DENSE_MARK) {
      const d = view.getUint32(0, true);
      if (bytes.length !== 8 + 4 * d) throw new RangeError(`a dense message of ${d} values needs ${8 + 4 * d} bytes, got ${bytes.length}`);
      return Float64Array.from({ length: d }, (_, i) => view.getFloat32(8 + 4 * i, true));
    }
  }
  return densify(decodeSparse(bytes));
}
