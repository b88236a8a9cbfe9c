// Small statistics the labs report with their numbers.
import type { Rng } from './rng';

/** Standard error of mean(b) − mean(a) from per-item scores of the same items (correct 0/1, or a fraction of chains correct). */
export function pairedSe(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new RangeError(`paired accuracies need the same items (${n} vs ${b.length})`);
  if (n < 2) return 0;
  const d = Array.from({ length: n }, (_, i) => b[i] - a[i]);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  return Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) / n);
}

/**
 * Standard error of acc(b) − acc(a) on the same items from their per-item hits: the
 * differences are −1, 0 or +1, so only the items the two disagree on add variance (far
 * smaller than combining the two accuracies' standard errors).
 */
export function pairedDifferenceSe(a: { hits: readonly boolean[] }, b: { hits: readonly boolean[] }): number {
  return pairedSe(a.hits.map(Number), b.hits.map(Number));
}

/** Ranks with ties averaged (1-based). */
function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from(v, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const out = new Float64Array(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) out[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's ρ (Pearson correlation of tie-averaged ranks); NaN when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a), rb = ranks(b), n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) ** 2; sbb += (rb[i] - mb) ** 2; }
  return saa && sbb ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * Percentile bootstrap 95 % interval of a statistic of group means: each resample redraws
 * every group's items with replacement (groups apart, so a level keeps its size), takes
 * each group's mean and applies `statistic` (one group's mean, or a difference of levels).
 */
export function bootstrapInterval(groups: readonly (readonly number[])[], statistic: (means: number[]) => number, resamples: number, rng: Rng): { lo: number; hi: number } {
  if (groups.some((g) => !g.length)) throw new RangeError('every bootstrap group needs at least one item');
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    stats[r] = statistic(groups.map((g) => {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += g[rng.int(g.length)];
      return s / g.length;
    }));
  }
  stats.sort();
  const at = (q: number) => stats[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { lo: at(0.025), hi: at(0.975) };
}

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
