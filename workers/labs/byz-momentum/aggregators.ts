// Robust aggregators of n vectors (plain Float64Array math, no tensors: d is small and the
// server loop runs them every round) and nearest-neighbour mixing (NNM, Allouah et al.
// 2023). Definitions pinned here, as RESULTS.md states them:
// - ties break by the lowest worker index (Krum's choice, NNM's neighbours);
// - Krum scores with squared distances (power 2) or, as the paper's code, fourth powers;
// - the geometric median is smoothed Weiszfeld from the coordinate-wise mean to a
//   relative tolerance (the paper's code: 8 iterations from zero, smoothing 0.1);
// - centered clipping iterates v ← v + mean_i clip_τ(x_i − v) from a given start.
export type Vec = Float64Array;

export class AggregatorError extends Error {
  constructor(message: string) { super(message); this.name = 'AggregatorError'; }
}

const dimOf = (xs: readonly Vec[]) => {
  if (!xs.length) throw new AggregatorError('no vectors to aggregate');
  const d = xs[0].length;
  if (xs.some((x) => x.length !== d)) throw new AggregatorError('vectors of different lengths');
  return d;
};

export function sqDist(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) { const t = a[i] - b[i]; s += t * t; }
  return s;
}

export function mean(xs: readonly Vec[]): Vec {
  const d = dimOf(xs), out = new Float64Array(d);
  for (const x of xs) for (let i = 0; i < d; i++) out[i] += x[i];
  for (let i = 0; i < d; i++) out[i] /= xs.length;
  return out;
}

/** Per coordinate, the values sorted ascending, handed to `reduce`. */
function perCoordinate(xs: readonly Vec[], reduce: (sorted: Float64Array) => number): Vec {
  const d = dimOf(xs), n = xs.length, out = new Float64Array(d), col = new Float64Array(n);
  for (let i = 0; i < d; i++) {
    // Insertion sort: n is a few dozen at most, where it beats TypedArray.sort by ~3×.
    for (let j = 0; j < n; j++) {
      const x = xs[j][i];
      let k = j - 1;
      while (k >= 0 && col[k] > x) { col[k + 1] = col[k]; k--; }
      col[k + 1] = x;
    }
    out[i] = reduce(col);
  }
  return out;
}

/** Coordinate-wise median (the mean of the two middle values for even n). */
export function coordinateMedian(xs: readonly Vec[]): Vec {
  return perCoordinate(xs, (c) => (c.length % 2 ? c[(c.length - 1) / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2));
}

/** Coordinate-wise trimmed mean: drop the f smallest and f largest values per coordinate. Needs n > 2f. */
export function trimmedMean(xs: readonly Vec[], f: number): Vec {
  if (!(xs.length > 2 * f)) throw new AggregatorError(`trimmed mean needs n > 2f (n = ${xs.length}, f = ${f})`);
  return perCoordinate(xs, (c) => { let s = 0; for (let j = f; j < c.length - f; j++) s += c[j]; return s / (c.length - 2 * f); });
}

/**
 * Krum (Blanchard et al. 2017): the vector whose n − f − 2 nearest others are closest,
 * scored by the sum of squared distances (power 2) or their squares (power 4, the paper's
 * code). Needs n ≥ 2f + 3. Returns the chosen vector and its index.
 */
export function krum(xs: readonly Vec[], f: number, power: 2 | 4 = 2): { value: Vec; index: number } {
  const n = xs.length;
  dimOf(xs);
  if (!(n >= 2 * f + 3)) throw new AggregatorError(`Krum needs n ≥ 2f + 3 (n = ${n}, f = ${f})`);
  const m = n - f - 2;
  let best = -1, bestScore = Infinity;
  for (let i = 0; i < n; i++) {
    const dists: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) { const s = sqDist(xs[i], xs[j]); dists.push(power === 2 ? s : s * s); }
    dists.sort((a, b) => a - b);
    let score = 0;
    for (let k = 0; k < m; k++) score += dists[k];
    if (score < bestScore) { bestScore = score; best = i; } // strict: ties keep the lower index
  }
  return { value: Float64Array.from(xs[best]), index: best };
}

export interface WeiszfeldOptions { smoothing: number; maxIterations: number; tolerance: number; start: 'mean' | 'zero' }
export const WEISZFELD_DEFAULT: WeiszfeldOptions = { smoothing: 1e-6, maxIterations: 200, tolerance: 1e-7, start: 'mean' };
/** The paper's code (RFA): 8 iterations from zero, smoothing 0.1. */
export const WEISZFELD_OFFICIAL: WeiszfeldOptions = { smoothing: 0.1, maxIterations: 8, tolerance: 0, start: 'zero' };

/**
 * Geometric median by smoothed Weiszfeld: z ← Σ w_i x_i / Σ w_i, w_i = 1 / max(ν, ‖x_i − z‖),
 * until the step is below tolerance × (1 + ‖z‖) or the iterations run out.
 */
export function geometricMedian(xs: readonly Vec[], o: WeiszfeldOptions = WEISZFELD_DEFAULT): { value: Vec; iterations: number } {
  const d = dimOf(xs);
  let z = o.start === 'mean' ? mean(xs) : new Float64Array(d);
  let it = 0;
  while (it < o.maxIterations) {
    it++;
    const next = new Float64Array(d);
    let wsum = 0;
    for (const x of xs) {
      const w = 1 / Math.max(o.smoothing, Math.sqrt(sqDist(x, z)));
      wsum += w;
      for (let i = 0; i < d; i++) next[i] += w * x[i];
    }
    for (let i = 0; i < d; i++) next[i] /= wsum;
    const step = Math.sqrt(sqDist(next, z)), norm = Math.sqrt(sqDist(next, new Float64Array(d)));
    z = next;
    if (step <= o.tolerance * (1 + norm)) break;
  }
  return { value: z, iterations: it };
}

/** Centered clipping (Karimireddy et al. 2021): v ← v + (1/n) Σ_i clip_τ(x_i − v), `iterations` times from `start`. */
export function centeredClipping(xs: readonly Vec[], tau: number, iterations: number, start?: Vec): Vec {
  const d = dimOf(xs);
  if (!(tau > 0)) throw new AggregatorError(`centered clipping needs τ > 0 (τ = ${tau})`);
  const v = start ? Float64Array.from(start) : new Float64Array(d);
  for (let l = 0; l < iterations; l++) {
    const delta = new Float64Array(d);
    for (const x of xs) {
      const norm = Math.sqrt(sqDist(x, v)), scale = norm > tau ? tau / norm : 1;
      for (let i = 0; i < d; i++) delta[i] += (scale * (x[i] - v[i])) / xs.length;
    }
    for (let i = 0; i < d; i++) v[i] += delta[i];
  }
  return v;
}

/** Nearest-neighbour mixing: each vector becomes the mean of its n − f nearest vectors (itself included; ties to the lower index). */
export function nearestNeighbourMixing(xs: readonly Vec[], f: number): Vec[] {
  const n = xs.length;
  dimOf(xs);
  if (!(f >= 0 && f < n)) throw new AggregatorError(`NNM needs 0 ≤ f < n (n = ${n}, f = ${f})`);
  const dist = new Float64Array(n * n); // symmetric: each pair once
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dist[i * n + j] = dist[j * n + i] = sqDist(xs[i], xs[j]);
  return xs.map((_, i) => {
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => dist[i * n + a] - dist[i * n + b] || a - b);
    return mean(order.slice(0, n - f).map((j) => xs[j]));
  });
}
