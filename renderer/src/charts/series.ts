// Pure helpers for charts: smoothing and downsampling to what the screen can show.
import type { MetricPoint } from '../../../common/api';

/** Exponential moving average with debiasing (as TensorBoard's smoothing slider). */
export function smooth(points: MetricPoint[], weight: number): MetricPoint[] {
  if (weight <= 0) return points;
  let last = 0, n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.value)) return p;
    last = last * weight + (1 - weight) * p.value;
    n++;
    return { step: p.step, value: last / (1 - weight ** n) };
  });
}

/** At most `max` points: bucket means over equal index ranges, keeping the last point exact. */
export function downsample(points: MetricPoint[], max: number): MetricPoint[] {
  if (points.length <= max || max < 2) return points;
  const out: MetricPoint[] = [];
  const size = points.length / (max - 1);
  for (let b = 0; b < max - 1; b++) {
    const from = Math.floor(b * size), to = Math.max(from + 1, Math.floor((b + 1) * size));
    let s = 0, v = 0, k = 0;
    for (let i = from; i < to && i < points.length; i++) { if (Number.isFinite(points[i].value)) { s += points[i].step; v += points[i].value; k++; } }
    if (k) out.push({ step: s / k, value: v / k });
  }
  out.push(points[points.length - 1]);
  return out;
}

export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  if (!n) return { mean: NaN, std: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
