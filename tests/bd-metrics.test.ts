// Bjøntegaard deltas on curves worked by hand: shifts that every interpolation must give
// exactly, an exact cubic whose average gap is integrated by hand, PCHIP/Akima slopes checked
// against their definitions, and the refusals (too few points, no overlap, bad rates).
import { describe, expect, it } from 'vitest';
import { akimaSlopes, bdMetric, bdRate, pchipSlopes, type RdPoint } from '../workers/runtime/bd-metrics';

const rates = [0.05, 0.1, 0.2, 0.4, 0.8];
const anchor: RdPoint[] = rates.map((r) => ({ rate: r, metric: 20 + 3 * Math.log2(r / 0.05) - 0.2 * Math.log2(r / 0.05) ** 2 }));
const METHODS = ['cubic', 'pchip', 'akima'] as const;

describe('BD metrics', () => {
  it('a curve 1 dB higher everywhere is BD-PSNR +1.000 and a 10 % cheaper curve is BD-rate −10.0 %, for every interpolation', () => {
    for (const how of METHODS) {
      expect(bdMetric(anchor, anchor, how)).toBeCloseTo(0, 10);
      expect(bdMetric(anchor, anchor.map((p) => ({ ...p, metric: p.metric + 1 })), how)).toBeCloseTo(1, 10);
      expect(bdRate(anchor, anchor.map((p) => ({ ...p, rate: p.rate * 0.9 })), how)).toBeCloseTo(-10, 8);
      expect(bdRate(anchor, anchor.map((p) => ({ ...p, rate: p.rate * 1.25 })), how)).toBeCloseTo(25, 8);
    }
  });

  it('the sign of a lower-is-better metric is kept: BD-FD = test − anchor', () => {
    const fdAnchor = rates.map((r) => ({ rate: r, metric: 40 / (1 + 10 * r) }));
    const better = fdAnchor.map((p) => ({ ...p, metric: p.metric - 2.5 }));
    expect(bdMetric(fdAnchor, better)).toBeCloseTo(-2.5, 10);
  });

  it('cubic: exact cubics integrate to the hand-worked mean gap over the shared log-rate range', () => {
    // Anchor: metric = 30 + 2L at L = ln r ∈ {0, 1, 2, 3}; test: 30 + 2L + L² at L ∈ {0.5, 1.5, 2.5, 3.5}.
    // Shared range [0.5, 3]; mean of L² there = (3³ − 0.5³)/3 / 2.5 = 26.875 / 7.5 = 3.58333…
    const a = [0, 1, 2, 3].map((L) => ({ rate: Math.exp(L), metric: 30 + 2 * L }));
    const t = [0.5, 1.5, 2.5, 3.5].map((L) => ({ rate: Math.exp(L), metric: 30 + 2 * L + L * L }));
    expect(bdMetric(a, t, 'cubic')).toBeCloseTo(26.875 / 7.5, 9);
    // Lines are reproduced exactly by PCHIP and Akima: test 31 + 3L vs 30 + 2L over [0.5, 3] → 1 + mean L = 2.75.
    const line = [0.5, 1.5, 2.5, 3.5].map((L) => ({ rate: Math.exp(L), metric: 31 + 3 * L }));
    for (const how of METHODS) expect(bdMetric(a, line, how)).toBeCloseTo(2.75, 9);
  });

  it('PCHIP and Akima slopes follow their definitions on hand-worked points', () => {
    const xs = [0, 1, 2, 3, 4], ys = [0, 1, 1, 2, 4];
    // Secants 1, 0, 1, 2. PCHIP: knots 1, 2 sit by a zero secant → 0; knot 3: equal widths, harmonic mean of 1 and 2 = 4/3.
    // Ends: (3·1 − 0)/2 = 1.5 (same sign as 1, and 1, 0 differ in sign but 1.5 ≤ 3); right: (3·2 − 1)/2 = 2.5.
    const p = pchipSlopes(xs, ys);
    expect(p[1]).toBe(0); expect(p[2]).toBe(0);
    expect(p[3]).toBeCloseTo(4 / 3, 12); expect(p[0]).toBeCloseTo(1.5, 12); expect(p[4]).toBeCloseTo(2.5, 12);
    // Akima: secants extended to [3, 2, 1, 0, 1, 2, 3, 4]; knot 2 between 0 and 1 with weights |2−1| = 1 and |0−1| = 1 → 0.5.
    const k = akimaSlopes(xs, ys);
    expect(k[2]).toBeCloseTo(0.5, 12);
    // Knot 1 between secants 1 and 0: f1 = |1 − 0| = 1, f2 = |1 − 2| = 1 → (1·1 + 1·0)/2 = 0.5.
    expect(k[1]).toBeCloseTo(0.5, 12);
  });

  it('agrees with SciPy on irregular curves (polyfit/polyint, PchipInterpolator, Akima1DInterpolator; values computed there once)', () => {
    const a = [[0.06, 18.2], [0.11, 21.5], [0.23, 24.1], [0.41, 26.0], [0.79, 27.2]].map(([rate, metric]) => ({ rate, metric }));
    const t = [[0.05, 19.0], [0.12, 22.9], [0.21, 24.8], [0.45, 27.3], [0.83, 28.1]].map(([rate, metric]) => ({ rate, metric }));
    const scipy = { cubic: [1.0779381170508269, -25.004045054383706], pchip: [1.0943790427315516, -26.98839743161987], akima: [1.089458833693753, -26.398330251594793] };
    for (const how of METHODS) {
      expect(bdMetric(a, t, how)).toBeCloseTo(scipy[how][0], 9);
      expect(bdRate(a, t, how)).toBeCloseTo(scipy[how][1], 7);
    }
  });

  it('refuses too few points, curves that do not overlap, and non-positive rates, by name', () => {
    expect(() => bdMetric(anchor.slice(0, 3), anchor)).toThrow(/anchor curve has 3 points; the cubic fit needs at least 4/);
    expect(bdMetric(anchor.slice(0, 3), anchor.slice(0, 3).map((p) => ({ ...p, metric: p.metric + 2 })), 'pchip')).toBeCloseTo(2, 10);
    expect(() => bdMetric(anchor, anchor.map((p) => ({ ...p, rate: p.rate * 100 })))).toThrow(/share no rate range/);
    expect(() => bdMetric(anchor, [...anchor.slice(1), { rate: 0, metric: 1 }])).toThrow(/rate of 0/);
    expect(() => bdRate(anchor, [...anchor.slice(1), { rate: 1, metric: Infinity }])).toThrow(/metric of Infinity/);
  });
});
