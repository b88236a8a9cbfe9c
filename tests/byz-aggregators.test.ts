// byz-momentum's pieces on fixed vectors: every aggregator against its definition (ties,
// f at the limit each tolerates, and refusals beyond it), NNM, the attacks (ALIE's z for
// n = 20, f = 9 by hand), and the sparse wire format decoding bit-exactly.
import { describe, expect, it } from 'vitest';
import { AggregatorError, centeredClipping, coordinateMedian, geometricMedian, krum, mean, nearestNeighbourMixing, trimmedMean, WEISZFELD_OFFICIAL, type Vec } from '../workers/labs/byz-momentum/aggregators';
import { alie, alieZ, ipm, normalQuantile } from '../workers/labs/byz-momentum/attacks';
import { decodeSparse, densify, encodeSparse, randK, topK } from '../workers/labs/byz-momentum/compressors';
import { Rng } from '../workers/runtime/rng';

const V = (...xs: number[]) => Float64Array.from(xs);
const arr = (v: Vec) => Array.from(v);

describe('aggregators', () => {
  const xs = [V(1, 10), V(2, 20), V(3, 30), V(100, -50)];
  it('mean and coordinate-wise median (even n: mean of the two middle values)', () => {
    expect(arr(mean(xs))).toEqual([26.5, 2.5]);
    expect(arr(coordinateMedian(xs))).toEqual([2.5, 15]);
    expect(arr(coordinateMedian(xs.slice(0, 3)))).toEqual([2, 20]);
  });
  it('trimmed mean drops f at each end per coordinate; refuses n ≤ 2f', () => {
    expect(arr(trimmedMean(xs, 1))).toEqual([2.5, 15]);
    expect(arr(trimmedMean(xs, 0))).toEqual([26.5, 2.5]);
    const five = [...xs, V(0, 0)];
    expect(arr(trimmedMean(five, 2))).toEqual([2, 10]); // n = 5 > 4: the middle value only
    expect(() => trimmedMean(xs, 2)).toThrow(AggregatorError);
    expect(() => trimmedMean(xs, 2)).toThrow(/n > 2f \(n = 4, f = 2\)/);
  });
  it('Krum picks the vector with the closest n − f − 2 neighbours, ties to the lower index; needs n ≥ 2f + 3', () => {
    const pts = [V(0), V(1), V(2), V(10), V(11)];
    // f = 1: m = 2 neighbours. Squared: 0→1+4=5, 1→1+1=2, 2→1+4=5, 10→1+64=65, 11→1+81=82.
    expect(krum(pts, 1).index).toBe(1);
    // Fourth powers change the ranking only through magnitudes; here the same point.
    expect(krum(pts, 1, 4).index).toBe(1);
    // A tie (0 and 2 symmetric about 1 without 1): lowest index wins.
    const tie = [V(0), V(2), V(1), V(1)];
    expect(krum([V(-1), V(1), V(5), V(-5), V(0)], 1).index).toBe(4);
    expect(krum([V(-1), V(1), V(9), V(-9), V(20)], 1).index).toBe(0); // -1 and 1 tie at 4 + 64: index 0
    expect(() => krum(tie, 1)).toThrow(/n ≥ 2f \+ 3 \(n = 4, f = 1\)/);
    expect(krum(pts, 1).value).not.toBe(pts[1]);
  });
  it('geometric median: collinear points give the middle one; the official variant runs 8 iterations from zero', () => {
    const gm = geometricMedian([V(0, 0), V(1, 0), V(10, 0)]);
    expect(gm.value[0]).toBeCloseTo(1, 3); expect(gm.value[1]).toBeCloseTo(0, 9);
    // Four corners of a square: the centre.
    const sq = geometricMedian([V(0, 0), V(2, 0), V(0, 2), V(2, 2)]);
    expect(arr(sq.value).map((v) => +v.toFixed(6))).toEqual([1, 1]);
    expect(geometricMedian([V(1, 1), V(3, 3)], WEISZFELD_OFFICIAL).iterations).toBe(8);
  });
  it('centered clipping moves from the start by the mean of clipped differences', () => {
    // From 0 with τ = 1: (1,0) stays, (10,0) clips to (1,0), (0,-3) clips to (0,-1): mean (2/3, -1/3).
    const v = centeredClipping([V(1, 0), V(10, 0), V(0, -3)], 1, 1);
    expect(v[0]).toBeCloseTo(2 / 3, 12); expect(v[1]).toBeCloseTo(-1 / 3, 12);
    // Large τ: one iteration is the mean.
    expect(arr(centeredClipping(xs, 1e9, 1))).toEqual(arr(mean(xs)));
    expect(() => centeredClipping(xs, 0, 1)).toThrow(/τ > 0/);
  });
  it('NNM averages each vector with its n − f nearest (itself included), ties to the lower index', () => {
    const pts = [V(0), V(1), V(2), V(100)];
    const mixed = nearestNeighbourMixing(pts, 1);
    expect(mixed.map((v) => v[0])).toEqual([1, 1, 1, 103 / 3]); // the outlier's own neighbourhood is {100, 2, 1}
    // f = 2, point 1 has neighbours 0 and 2 at equal distance: keeps itself and index 0.
    expect(nearestNeighbourMixing(pts, 2)[1][0]).toBe(0.5);
    expect(nearestNeighbourMixing(pts, 0)[0][0]).toBe(mean(pts)[0]);
  });
});

describe('attacks', () => {
  it('Φ⁻¹ matches known quantiles', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 6);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
  it("ALIE's z for n = 20, f = 9: s = 2, Φ⁻¹(9/11) ≈ 0.9084", () => {
    expect(alieZ(20, 9)).toBeCloseTo(normalQuantile(9 / 11), 12);
    expect(alieZ(20, 9)).toBeCloseTo(0.90846, 4);
  });
  it('ALIE is mean − z·std (unbiased) per coordinate; IPM is −ε·mean', () => {
    const h = [V(1, 0), V(3, 0), V(5, 6)];
    // coordinate 0: mean 3, std 2; coordinate 1: mean 2, std sqrt(12) = 3.4641…
    const a = alie(h, 0.5);
    expect(a[0]).toBeCloseTo(2, 12); expect(a[1]).toBeCloseTo(2 - 0.5 * Math.sqrt(12), 12);
    expect(arr(ipm(h, 0.1)).map((v) => +v.toFixed(12))).toEqual([-0.3, -0.2]);
  });
});

describe('compressors and the wire format', () => {
  it('top-k keeps the largest magnitudes (ties to the lower index), indices ascending', () => {
    const s = topK(V(0.1, -5, 3, 5, 0, -3), 3);
    expect(Array.from(s.indices)).toEqual([1, 2, 3]);
    expect(Array.from(s.values)).toEqual([-5, 3, 5]);
    expect(arr(densify(s))).toEqual([0, -5, 3, 5, 0, 0]);
  });
  it('top-k (a size-k heap) equals sorting every index by magnitude, on vectors full of ties', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const d = 1 + rng.int(120), k = rng.int(d + 2);
      const v = Float64Array.from({ length: d }, () => Math.round(rng.normal() * 2) / 2); // few distinct magnitudes
      const reference = Array.from({ length: d }, (_, i) => i).sort((a, b) => Math.abs(v[b]) - Math.abs(v[a]) || a - b).slice(0, k).sort((a, b) => a - b);
      expect(Array.from(topK(v, k).indices)).toEqual(reference);
    }
  });
  it('rand-k keeps k distinct indices scaled by d/k, and is unbiased on average', () => {
    const v = V(1, 2, 3, 4, 5, 6, 7, 8), rng = new Rng(3);
    const s = randK(v, 2, rng);
    expect(new Set(s.indices).size).toBe(2);
    s.indices.forEach((i, j) => expect(s.values[j]).toBe(v[i] * 4));
    const avg = new Float64Array(8);
    for (let t = 0; t < 4000; t++) densify(randK(v, 2, rng)).forEach((x, i) => { avg[i] += x / 4000; });
    avg.forEach((x, i) => expect(Math.abs(x - v[i]) / v[i]).toBeLessThan(0.12));
  });
  it('messages decode bit-exactly; the size is header + varint gaps + 4 bytes per value', () => {
    const rng = new Rng(9), d = 100000;
    const v = Float64Array.from({ length: d }, () => rng.normal());
    const s = topK(v, 1000);
    const bytes = encodeSparse(s);
    const back = decodeSparse(bytes);
    expect(back.d).toBe(d);
    expect(Array.from(back.indices)).toEqual(Array.from(s.indices));
    expect(Buffer.from(back.values.buffer).equals(Buffer.from(s.values.buffer))).toBe(true);
    // gaps are ~geometric with mean d/k = 100: P(gap ≥ 128) ≈ 0.99^127 ≈ 0.28 take two varint bytes
    expect(bytes.length).toBeGreaterThan(8 + 1000 + 4000);
    expect(bytes.length).toBeLessThan(8 + 1400 + 4000);
    expect(() => decodeSparse(bytes.subarray(0, bytes.length - 1))).toThrow(/does not hold 1000 float32 values/);
    expect(() => decodeSparse(Uint8Array.of(1, 2))).toThrow(/at least 8 bytes/);
  });
});
