// The learning problems the workers solve, as plain loops on Float64 parameter vectors
// (d is small and each worker computes a few samples per round):
// - logistic: the paper's a9a-style setting on our data, digits 0–4 → 0 and 5–9 → 1,
//   784 pixels in [0, 1] plus a bias (d = 785);
// - softmax: 10-class softmax regression (d = 10 · 785);
// - mlp: 785 → hidden (ReLU, + bias) → 10 (d = hidden·785 + 10·(hidden + 1)).
// Rows carry the bias as a last input of 1. Shards are IID or Dirichlet(α) label skew.
import type { ImageSet } from '../../runtime/datasets';
import { PIXELS } from '../../runtime/datasets';
import type { Rng } from '../../runtime/rng';
import type { Vec } from './aggregators';

export const MODEL_KINDS = ['logistic', 'softmax', 'mlp'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Rows of [pixels / 255, 1]; y is 0/1 for the logistic model, the digit otherwise. */
export interface TaskData { features: number; x: Float32Array; y: Uint8Array; count: number }
export interface ModelSpec { kind: ModelKind; features: number; hidden: number }

const CLASSES = 10;

export function taskData(set: ImageSet, indices: ArrayLike<number>, kind: ModelKind): TaskData {
  const features = PIXELS + 1, n = indices.length;
  const x = new Float32Array(n * features), y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const i = indices[r];
    for (let p = 0; p < PIXELS; p++) x[r * features + p] = set.pixels[i * PIXELS + p] / 255;
    x[r * features + PIXELS] = 1;
    y[r] = kind === 'logistic' ? (set.labels[i] >= 5 ? 1 : 0) : set.labels[i];
  }
  return { features, x, y, count: n };
}

export function paramCount(m: ModelSpec): number {
  if (m.kind === 'logistic') return m.features;
  if (m.kind === 'softmax') return CLASSES * m.features;
  return m.hidden * m.features + CLASSES * (m.hidden + 1);
}

/** Zeros for the convex models (as the paper's logistic runs); He-scaled weights for the MLP. */
export function initParams(m: ModelSpec, rng: Rng): Vec {
  const w = new Float64Array(paramCount(m));
  if (m.kind !== 'mlp') return w;
  const first = m.hidden * m.features;
  for (let i = 0; i < first; i++) w[i] = rng.normal() * Math.sqrt(2 / m.features);
  for (let i = first; i < w.length; i++) w[i] = rng.normal() * Math.sqrt(1 / (m.hidden + 1));
  return w;
}

/** The label a label-flipping worker trains on: 1 − y (binary) or 9 − y. */
export const flippedLabel = (m: ModelSpec, y: number) => (m.kind === 'logistic' ? 1 - y : CLASSES - 1 - y);

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function dot(w: Vec, wOff: number, x: Float32Array, xOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += w[wOff + i] * x[xOff + i];
  return s;
}

/** Scratch buffers for the MLP's hidden layer, per model width. */
function mlpScratch(m: ModelSpec) { return { h: new Float64Array(m.hidden + 1), dh: new Float64Array(m.hidden), z: new Float64Array(CLASSES) }; }

/** In place: z ← softmax(z); returns log Σ exp of the input. */
function softmaxInPlace(z: Float64Array): number {
  let mx = -Infinity;
  for (const v of z) mx = Math.max(mx, v);
  let s = 0;
  for (let c = 0; c < z.length; c++) { z[c] = Math.exp(z[c] - mx); s += z[c]; }
  for (let c = 0; c < z.length; c++) z[c] /= s;
  return mx + Math.log(s);
}

/** Class scores of one row (written into z; the MLP also fills its hidden activations h, h[hidden] = 1). */
function scores(m: ModelSpec, w: Vec, t: TaskData, r: number, z: Float64Array, h?: Float64Array): void {
  const F = m.features, off = r * F;
  if (m.kind === 'softmax') { for (let c = 0; c < CLASSES; c++) z[c] = dot(w, c * F, t.x, off, F); return; }
  const H = m.hidden, second = H * F;
  for (let j = 0; j < H; j++) h![j] = Math.max(0, dot(w, j * F, t.x, off, F));
  h![H] = 1;
  for (let c = 0; c < CLASSES; c++) { let s = 0; for (let j = 0; j <= H; j++) s += w[second + c * (H + 1) + j] * h![j]; z[c] = s; }
}

/** Mean loss gradient over `rows` at w (labels flipped when `flipLabels`), written into `out`. */
export function gradient(m: ModelSpec, w: Vec, t: TaskData, rows: ArrayLike<number>, flipLabels: boolean, out: Vec): Vec {
  out.fill(0);
  const F = m.features, inv = 1 / rows.length;
  const s = m.kind === 'mlp' ? mlpScratch(m) : null;
  const z = s?.z ?? new Float64Array(CLASSES);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k], off = r * F;
    const y = flipLabels ? flippedLabel(m, t.y[r]) : t.y[r];
    if (m.kind === 'logistic') {
      const e = (sigmoid(dot(w, 0, t.x, off, F)) - y) * inv;
      for (let i = 0; i < F; i++) out[i] += e * t.x[off + i];
      continue;
    }
    scores(m, w, t, r, z, s?.h);
    softmaxInPlace(z);
    z[y] -= 1; // ∂loss/∂scores = p − onehot(y)
    if (m.kind === 'softmax') {
      for (let c = 0; c < CLASSES; c++) { const e = z[c] * inv; if (e !== 0) for (let i = 0; i < F; i++) out[c * F + i] += e * t.x[off + i]; }
      continue;
    }
    const H = m.hidden, second = H * F, { h, dh } = s!;
    dh.fill(0);
    for (let c = 0; c < CLASSES; c++) {
      const e = z[c] * inv, row = second + c * (H + 1);
      for (let j = 0; j <= H; j++) { out[row + j] += e * h[j]; if (j < H) dh[j] += e * w[row + j]; }
    }
    for (let j = 0; j < H; j++) if (h[j] > 0 && dh[j] !== 0) for (let i = 0; i < F; i++) out[j * F + i] += dh[j] * t.x[off + i];
  }
  return out;
}

/** Mean loss over all rows of t (logistic or cross-entropy). */
export function loss(m: ModelSpec, w: Vec, t: TaskData): number {
  let total = 0;
  const s = m.kind === 'mlp' ? mlpScratch(m) : null, z = s?.z ?? new Float64Array(CLASSES);
  for (let r = 0; r < t.count; r++) {
    if (m.kind === 'logistic') {
      const v = dot(w, 0, t.x, r * t.features, t.features);
      const a = t.y[r] ? -v : v; // log(1 + e^{a}), stably
      total += a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
      continue;
    }
    scores(m, w, t, r, z, s?.h);
    const zy = z[t.y[r]];
    total += softmaxInPlace(z) - zy;
  }
  return total / t.count;
}

export function accuracy(m: ModelSpec, w: Vec, t: TaskData): number {
  let ok = 0;
  const s = m.kind === 'mlp' ? mlpScratch(m) : null, z = s?.z ?? new Float64Array(CLASSES);
  for (let r = 0; r < t.count; r++) {
    if (m.kind === 'logistic') { if ((dot(w, 0, t.x, r * t.features, t.features) > 0 ? 1 : 0) === t.y[r]) ok++; continue; }
    scores(m, w, t, r, z, s?.h);
    let best = 0;
    for (let c = 1; c < CLASSES; c++) if (z[c] > z[best]) best = c;
    if (best === t.y[r]) ok++;
  }
  return ok / t.count;
}

/** IID shards: a seeded permutation of the rows dealt round-robin to n workers. */
export function iidShards(count: number, n: number, rng: Rng): Int32Array[] {
  const perm = rng.permutation(count);
  return Array.from({ length: n }, (_, i) => perm.filter((_, j) => j % n === i));
}

/** Gamma(shape, 1) by Marsaglia–Tsang (shape < 1 through the boost u^{1/shape}). */
export function gammaSample(shape: number, rng: Rng): number {
  if (shape < 1) return gammaSample(shape + 1, rng) * Math.pow(Math.max(rng.next(), 1e-300), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do { x = rng.normal(); v = 1 + c * x; } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Non-IID label skew: for each label, worker shares ~ Dirichlet(α) split that label's rows
 * (the usual federated benchmark recipe). A worker left with no rows gets one row of the
 * largest shard, so every worker can compute a gradient.
 */
export function dirichletShards(labels: Uint8Array, n: number, alpha: number, rng: Rng): Int32Array[] {
  const byLabel = new Map<number, number[]>();
  rng.permutation(labels.length).forEach((r) => { const l = labels[r]; if (!byLabel.has(l)) byLabel.set(l, []); byLabel.get(l)!.push(r); });
  const shards: number[][] = Array.from({ length: n }, () => []);
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const rows = byLabel.get(label)!;
    const g = Array.from({ length: n }, () => gammaSample(alpha, rng));
    const total = g.reduce((a, b) => a + b, 0);
    let start = 0, acc = 0;
    for (let i = 0; i < n; i++) {
      acc += g[i] / total;
      const end = i === n - 1 ? rows.length : Math.round(acc * rows.length);
      shards[i].push(...rows.slice(start, end));
      start = end;
    }
  }
  for (const s of shards) if (s.length === 0) { const big = shards.reduce((a, b) => (b.length > a.length ? b : a)); s.push(big.pop()!); }
  return shards.map((s) => Int32Array.from(s));
}
