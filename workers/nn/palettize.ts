// Palettization (weight clustering) as Apple's on-device recipe does it: the columns of a
// projection W [in, out] are cut into groups of 16; each group's weights share a lookup
// table of 2^bits values (k-means in 1-D, stored at fp16) and every weight keeps only its
// index. Bits per weight count the indices and the tables.
import { fromFp16Bits, toFp16Bits } from '../runtime/fp16';

export type PaletteBits = 2 | 4;
export const GROUP_COLUMNS = 16;

export interface PalettizedMatrix {
  rows: number;
  cols: number;
  /** Bits of each column group (cols / 16 groups). */
  bits: Uint8Array;
  /** Each group's lookup table (fp16 values held as float32), 2^bits long. */
  tables: Float32Array[];
  /** Row-major [rows, cols] indices into the column's group table. */
  indices: Uint8Array;
}

/**
 * 1-D k-means (Lloyd) with quantile starts, so it is deterministic; sorted values make each
 * assignment a sweep over k−1 boundaries. Returns the sorted centres.
 */
export function kmeans1d(values: ArrayLike<number>, k: number, iterations = 30): Float64Array {
  const x = Float64Array.from(values).sort();
  const n = x.length;
  const centres = new Float64Array(k);
  for (let c = 0; c < k; c++) centres[c] = x[Math.min(n - 1, Math.floor(((c + 0.5) / k) * n))];
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + x[i];
  for (let it = 0; it < iterations; it++) {
    let moved = false, start = 0;
    for (let c = 0; c < k; c++) {
      // Cluster c holds the values below the midpoint to the next centre.
      let end = start;
      if (c === k - 1) end = n;
      else { const mid = (centres[c] + centres[c + 1]) / 2; while (end < n && x[end] <= mid) end++; }
      if (end > start) {
        const m = (prefix[end] - prefix[start]) / (end - start);
        if (m !== centres[c]) { centres[c] = m; moved = true; }
      }
      start = end;
    }
    centres.sort();
    if (!moved) break;
  }
  return centres;
}

function nearest(table: Float32Array, v: number): number {
  let best = 0, d = Infinity;
  for (let i = 0; i < table.length; i++) { const e = Math.abs(v - table[i]); if (e < d) { d = e; best = i; } }
  return best;
}

/** The table of one group for given bits: k-means centres rounded to fp16. */
function groupTable(w: Float32Array, rows: number, cols: number, g: number, bits: PaletteBits): Float32Array {
  const vals = new Float64Array(rows * GROUP_COLUMNS);
  for (let r = 0; r < rows; r++) for (let j = 0; j < GROUP_COLUMNS; j++) vals[r * GROUP_COLUMNS + j] = w[r * cols + g * GROUP_COLUMNS + j];
  return Float32Array.from(kmeans1d(vals, 2 ** bits), (c) => fromFp16Bits(toFp16Bits(c)));
}

export function groupCount(cols: number): number {
  if (cols % GROUP_COLUMNS !== 0) throw new RangeError(`${cols} columns do not split into groups of ${GROUP_COLUMNS}`);
  return cols / GROUP_COLUMNS;
}

/** Palettizes W [rows, cols] with the given bits per column group. */
export function palettize(w: Float32Array, rows: number, cols: number, bits: ArrayLike<number>): PalettizedMatrix {
  const groups = groupCount(cols);
  if (bits.length !== groups) throw new RangeError(`${bits.length} group bit widths for ${groups} groups`);
  const tables = Array.from({ length: groups }, (_, g) => groupTable(w, rows, cols, g, bits[g] as PaletteBits));
  const indices = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) indices[r * cols + c] = nearest(tables[Math.floor(c / GROUP_COLUMNS)], w[r * cols + c]);
  return { rows, cols, bits: Uint8Array.from(bits), tables, indices };
}

export function dequantize(p: PalettizedMatrix): Float32Array {
  const out = new Float32Array(p.rows * p.cols);
  for (let r = 0; r < p.rows; r++) for (let c = 0; c < p.cols; c++) out[r * p.cols + c] = p.tables[Math.floor(c / GROUP_COLUMNS)][p.indices[r * p.cols + c]];
  return out;
}

/** Storage bits of a group: its indices plus its fp16 table. */
export const groupBits = (rows: number, bits: number) => rows * GROUP_COLUMNS * bits + 2 ** bits * 16;

export function storageBits(p: Pick<PalettizedMatrix, 'rows' | 'bits'>): number {
  let total = 0;
  for (const b of p.bits) total += groupBits(p.rows, b);
  return total;
}

/** Per group, the squared error of 2-bit and of 4-bit tables, each weighted by `importance` (e.g. a Fisher diagonal). */
export function groupErrors(w: Float32Array, rows: number, cols: number, importance: Float32Array): { twoBit: Float64Array; fourBit: Float64Array } {
  const groups = groupCount(cols);
  const errs = { twoBit: new Float64Array(groups), fourBit: new Float64Array(groups) };
  for (let g = 0; g < groups; g++) {
    for (const [bits, into] of [[2, errs.twoBit], [4, errs.fourBit]] as const) {
      const table = groupTable(w, rows, cols, g, bits);
      let e = 0;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < GROUP_COLUMNS; j++) {
          const i = r * cols + g * GROUP_COLUMNS + j;
          const q = table[nearest(table, w[i])];
          e += importance[i] * (w[i] - q) ** 2;
        }
      }
      into[g] = e;
    }
  }
  return errs;
}

/** One column group of one projection, as a mixed-precision plan sees it. */
export interface PlanGroup { matrix: string; group: number; rows: number; /** Loss increase estimate of 2-bit over 4-bit. */ damage: number }

/**
 * Starts from 4 bits everywhere and moves groups to 2 bits in the given order until the
 * bits per weight reach the target. `order` ranks groups: the least damage per bit saved
 * first (the plan) or a random permutation (its control).
 */
export function planToTarget(groups: readonly PlanGroup[], order: readonly number[], targetBpw: number): { twoBit: Set<number>; bpw: number } {
  const weights = groups.reduce((s, g) => s + g.rows * GROUP_COLUMNS, 0);
  let bits = groups.reduce((s, g) => s + groupBits(g.rows, 4), 0);
  const twoBit = new Set<number>();
  for (const i of order) {
    if (bits / weights <= targetBpw) break;
    bits -= groupBits(groups[i].rows, 4) - groupBits(groups[i].rows, 2);
    twoBit.add(i);
  }
  return { twoBit, bpw: bits / weights };
}

/** Groups ranked by damage per bit saved, least first. */
export function sensitivityOrder(groups: readonly PlanGroup[]): number[] {
  const perBit = (g: PlanGroup) => g.damage / (groupBits(g.rows, 4) - groupBits(g.rows, 2));
  return groups.map((_, i) => i).sort((a, b) => perBit(groups[a]) - perBit(groups[b]) || a - b);
}
