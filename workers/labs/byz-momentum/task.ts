// The paper's a9a-style setting on our data: binary logistic regression (digits 0–4 → 0,
// 5–9 → 1) on 784 pixels in [0, 1] plus a bias (d = 785), batch 1, IID shards. The
// gradient and the accuracy are plain loops: d is small and each worker computes one
// sample per round.
import type { ImageSet } from '../../runtime/datasets';
import { PIXELS } from '../../runtime/datasets';
import type { Rng } from '../../runtime/rng';
import type { Vec } from './aggregators';

export interface BinaryTask { d: number; x: Float32Array; y: Uint8Array; count: number }

/** Rows of [pixels / 255, 1] and labels 1 for digits 5–9. `flip` inverts labels (the label-flip attack's data). */
export function binaryTask(set: ImageSet, indices: ArrayLike<number>): BinaryTask {
  const d = PIXELS + 1, n = indices.length;
  const x = new Float32Array(n * d), y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const i = indices[r];
    for (let p = 0; p < PIXELS; p++) x[r * d + p] = set.pixels[i * PIXELS + p] / 255;
    x[r * d + PIXELS] = 1;
    y[r] = set.labels[i] >= 5 ? 1 : 0;
  }
  return { d, x, y, count: n };
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function dot(w: Vec, x: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += w[i] * x[off + i];
  return s;
}

/** Mean logistic-loss gradient over `rows` at w (labels inverted when `flipLabels`), written into `out`. */
export function logisticGradient(t: BinaryTask, w: Vec, rows: ArrayLike<number>, flipLabels: boolean, out: Vec): Vec {
  out.fill(0);
  const d = t.d;
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j], off = r * d;
    const y = flipLabels ? 1 - t.y[r] : t.y[r];
    const e = (sigmoid(dot(w, t.x, off, d)) - y) / rows.length;
    for (let i = 0; i < d; i++) out[i] += e * t.x[off + i];
  }
  return out;
}

export function logisticLoss(t: BinaryTask, w: Vec): number {
  let s = 0;
  for (let r = 0; r < t.count; r++) {
    const z = dot(w, t.x, r * t.d, t.d);
    // log(1 + e^{-z}) for y = 1, log(1 + e^{z}) for y = 0, computed stably.
    const m = t.y[r] ? -z : z;
    s += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
  }
  return s / t.count;
}

export function accuracy(t: BinaryTask, w: Vec): number {
  let ok = 0;
  for (let r = 0; r < t.count; r++) if ((dot(w, t.x, r * t.d, t.d) > 0 ? 1 : 0) === t.y[r]) ok++;
  return ok / t.count;
}

/** IID shards: a seeded permutation of the rows dealt round-robin to n workers. */
export function iidShards(count: number, n: number, rng: Rng): Int32Array[] {
  const perm = rng.permutation(count);
  return Array.from({ length: n }, (_, i) => perm.filter((_, j) => j % n === i));
}
