import { describe, expect, it } from 'vitest';
import { frechetDistance, frechetFromStats, gaussianFit, symmetricEigen } from '../workers/runtime/frechet';
import { Rng } from '../workers/runtime/rng';

describe('Fréchet distance', () => {
  it('matches a hand-computed 1-D case: N(0,1) vs N(3,4) -> 9 + 1 + 4 - 2*2 = 10', () => {
    const a = { mean: Float64Array.of(0), cov: Float64Array.of(1) };
    const b = { mean: Float64Array.of(3), cov: Float64Array.of(4) };
    expect(frechetFromStats(a, b, 1)).toBeCloseTo(10, 10);
  });
  it('matches the 2x2 closed form Tr sqrt(S1 S2) = sqrt(tr + 2 sqrt(det)) for non-commuting covariances', () => {
    const s1 = Float64Array.of(2, 0.5, 0.5, 1), s2 = Float64Array.of(1, -0.3, -0.3, 3);
    const m1 = Float64Array.of(1, 2), m2 = Float64Array.of(0, -1);
    // S1 S2 by hand
    const p = [2 * 1 + 0.5 * -0.3, 2 * -0.3 + 0.5 * 3, 0.5 * 1 + 1 * -0.3, 0.5 * -0.3 + 1 * 3];
    const tr = p[0] + p[3], det = p[0] * p[3] - p[1] * p[2];
    const expected = (1 ** 2 + 3 ** 2) + (2 + 1 + 1 + 3) - 2 * Math.sqrt(tr + 2 * Math.sqrt(det));
    expect(frechetFromStats({ mean: m1, cov: s1 }, { mean: m2, cov: s2 }, 2)).toBeCloseTo(expected, 9);
  });
  it('fits mean and unbiased covariance from rows', () => {
    // rows (±a, 0), (0, ±b): mean 0, cov diag(2a²/3, 2b²/3)
    const feats = [1, 0, -1, 0, 0, 2, 0, -2];
    const { mean, cov } = gaussianFit(feats, 4, 2);
    expect(Array.from(mean)).toEqual([0, 0]);
    expect(Array.from(cov).map((v) => +v.toFixed(12))).toEqual([2 / 3, 0, 0, 8 / 3].map((v) => +v.toFixed(12)));
  });
  it('is ~0 for the same set and grows with a shift', () => {
    const r = new Rng(3), n = 500, d = 8;
    const a = Float64Array.from({ length: n * d }, () => r.normal());
    const shifted = a.map((v, i) => (i % d === 0 ? v + 2 : v));
    expect(frechetDistance(a, n, a, n, d)).toBeCloseTo(0, 6);
    expect(frechetDistance(a, n, shifted, n, d)).toBeCloseTo(4, 6); // a pure shift adds |Δμ|² exactly
  });
  it('eigendecomposition reconstructs a symmetric matrix', () => {
    const m = Float64Array.of(4, 1, 2, 1, 3, 0, 2, 0, 5);
    const { values, vectors } = symmetricEigen(m, 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let s = 0; for (let k = 0; k < 3; k++) s += vectors[i * 3 + k] * values[k] * vectors[j * 3 + k];
      expect(s).toBeCloseTo(m[i * 3 + j], 10);
    }
  });
});
