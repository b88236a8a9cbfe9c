// The discretized Gaussian entropy model: P(v) = Φ((v+½-μ)/σ) - Φ((v-½-μ)/σ) over the
// integers lo..hi, with the tails folded into the end bins. Used per channel for 8-bit
// activations (μ, σ fitted to the tensor itself, sent as float32 side information).
import { BitReader, BitWriter } from './bit-io';
import { quantizeCdf, ransDecode, ransEncode, type CdfTable } from './rans';

/** erfc with fractional error < 1.2e-7 everywhere (Chebyshev fit; Numerical Recipes' erfcc). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

export const normalCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

/** Probability of each integer lo..hi under N(μ, σ²) rounded, tails in the end bins. */
export function gaussianPmf(mu: number, sigma: number, lo: number, hi: number): Float64Array {
  const p = new Float64Array(hi - lo + 1);
  let prev = 0;
  for (let v = lo; v <= hi; v++) {
    const upper = v === hi ? 1 : normalCdf((v + 0.5 - mu) / sigma);
    p[v - lo] = Math.max(upper - prev, 0);
    prev = upper;
  }
  return p;
}

export const SIGMA_FLOOR = 0.11;
const SIDE_BITS_PER_CHANNEL = 64; // μ and σ as float32

/** Per-channel mean and standard deviation of a [N, C] tensor of integers (float32, σ floored). */
export function channelMoments(values: ArrayLike<number>, channels: number): { mu: Float32Array; sigma: Float32Array } {
  const n = values.length / channels;
  const mu = new Float32Array(channels), sigma = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const v = values[i * channels + c]; s += v; s2 += v * v; }
    if (n === 0) { mu[c] = 0; sigma[c] = 1; continue; }
    const m = s / n;
    mu[c] = m;
    sigma[c] = Math.max(SIGMA_FLOOR, Math.sqrt(Math.max(0, s2 / n - m * m)));
  }
  return { mu, sigma };
}

/** Bits to code a histogram (counts of lo..hi) under the floored, end-folded discretized N(μ, σ²). */
export function histogramCodeBits(counts: ArrayLike<number>, mu: number, sigma: number, lo: number, hi: number): number {
  const K = hi - lo + 1;
  let bits = 0;
  // Adjacent occupied bins share a boundary: reuse its CDF (half the erfc calls on dense histograms).
  let prevUpperAt = -2, prevUpper = 0;
  for (let j = 0; j < K; j++) {
    const h = counts[j];
    if (h === 0) continue;
    const v = lo + j;
    const upper = v === hi ? 1 : normalCdf((v + 0.5 - mu) / sigma);
    const lower = v === lo ? 0 : prevUpperAt === j - 1 ? prevUpper : normalCdf((v - 0.5 - mu) / sigma);
    prevUpperAt = j; prevUpper = upper;
    bits -= h * Math.log2(flooredProbability(Math.max(upper - lower, 0), K));
  }
  return bits;
}

/**
 * Per-channel μ and σ that minimise the channel's code length (maximum likelihood of the
 * discretized model), as float32. The encoder may send any μ, σ; the moments fit a
 * Gaussian badly when a ReLU leaves most values at 0, where a μ below the lowest level
 * (whose tail folds into the end bin) models the spike and the spread together. Nelder–Mead
 * on (μ, log σ) from the better of the moments and a spike-at-the-bottom start; never
 * worse than the moments. Deterministic, so both the estimate and the stream use the same values.
 */
export function channelGaussians(values: ArrayLike<number>, channels: number, lo: number, hi: number): ChannelGaussians {
  const moments = channelMoments(values, channels);
  const K = hi - lo + 1, n = values.length / channels;
  const mu = new Float32Array(channels), sigma = new Float32Array(channels);
  const counts = new Float64Array(K);
  const range = Math.max(1, hi - lo);
  const clampMu = (m: number) => Math.min(hi + range, Math.max(lo - range, m));
  const clampLogSigma = (l: number) => Math.min(Math.log(4 * range), Math.max(Math.log(SIGMA_FLOOR), l));
  for (let c = 0; c < channels; c++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[values[i * channels + c] - lo]++;
    const cost = (m: number, l: number) => histogramCodeBits(counts, Math.fround(clampMu(m)), Math.fround(Math.exp(clampLogSigma(l))), lo, hi);
    // Start from the better of the moments and a spike at the bottom level, then refine.
    const starts: [number, number][] = [[moments.mu[c], Math.log(moments.sigma[c])], [lo, Math.log(Math.max(SIGMA_FLOOR, moments.sigma[c] * 1.5))]];
    const startBits = starts.map(([m, l]) => cost(m, l));
    const [m0, l0] = starts[startBits[1] < startBits[0] ? 1 : 0];
    const r = nelderMead2(cost, m0, l0, Math.max(1, moments.sigma[c] * 0.5), 0.3, 60);
    const momentBits = histogramCodeBits(counts, moments.mu[c], moments.sigma[c], lo, hi);
    const best = r.f < momentBits ? { m: r.x, l: r.y } : { m: moments.mu[c], l: Math.log(moments.sigma[c]) };
    mu[c] = Math.fround(clampMu(best.m));
    sigma[c] = Math.fround(Math.exp(clampLogSigma(best.l)));
  }
  return { mu, sigma };
}

/** A small two-parameter Nelder–Mead (reflection, expansion, contraction, shrink). */
function nelderMead2(f: (x: number, y: number) => number, x0: number, y0: number, dx: number, dy: number, iterations: number) {
  let pts = [
    { x: x0, y: y0, f: f(x0, y0) },
    { x: x0 + dx, y: y0, f: f(x0 + dx, y0) },
    { x: x0, y: y0 + dy, f: f(x0, y0 + dy) },
  ];
  for (let it = 0; it < iterations; it++) {
    pts.sort((a, b) => a.f - b.f);
    const [b, g, w] = pts;
    if (Math.abs(w.f - b.f) <= 1e-6 * (1 + Math.abs(b.f))) break; // a millionth of the bits
    const cx = (b.x + g.x) / 2, cy = (b.y + g.y) / 2;
    const at = (t: number) => { const x = cx + t * (w.x - cx), y = cy + t * (w.y - cy); return { x, y, f: f(x, y) }; };
    const r = at(-1);
    if (r.f < b.f) { const e = at(-2); pts = [b, g, e.f < r.f ? e : r]; continue; }
    if (r.f < g.f) { pts = [b, g, r]; continue; }
    const k = r.f < w.f ? at(-0.5) : at(0.5);
    if (k.f < Math.min(w.f, r.f)) { pts = [b, g, k]; continue; }
    pts = [b, ...[g, w].map((p) => { const x = (b.x + p.x) / 2, y = (b.y + p.y) / 2; return { x, y, f: f(x, y) }; })];
  }
  pts.sort((a, b) => a.f - b.f);
  return pts[0];
}

/**
 * What a 16-bit integer table can represent: the discretized Gaussian mixed with a floor of
 * one count (2^-16) per symbol, P'(v) = (1 - K/2^16)·P(v) + 2^-16 for K symbols. Without the
 * floor an outlier would "cost" 40+ bits that no table-driven coder spends.
 */
export function flooredProbability(p: number, symbols: number): number {
  return (1 - symbols / 65536) * p + 1 / 65536;
}

export interface ChannelGaussians { mu: Float32Array; sigma: Float32Array }

/**
 * The model's own estimate: -Σ log2 P'(v) + 64 bits per channel. `fit` is
 * channelGaussians(values, …) when the caller already has it (the fit is the costly part).
 */
export function gaussianEstimateBits(values: ArrayLike<number>, channels: number, lo: number, hi: number, fit?: ChannelGaussians): number {
  const { mu, sigma } = fit ?? channelGaussians(values, channels, lo, hi);
  const K = hi - lo + 1;
  const pmfs = Array.from({ length: channels }, (_, c) => gaussianPmf(mu[c], sigma[c], lo, hi));
  let bits = channels * SIDE_BITS_PER_CHANNEL;
  for (let i = 0; i < values.length; i++) bits -= Math.log2(flooredProbability(pmfs[i % channels][values[i] - lo], K));
  return bits;
}

function tables(mu: Float32Array, sigma: Float32Array, lo: number, hi: number): CdfTable[] {
  return Array.from(mu, (m, c) => quantizeCdf(gaussianPmf(m, sigma[c], lo, hi)));
}

/** Stream: C x (float32 μ, float32 σ), then the rANS words. `fit` as in gaussianEstimateBits. */
export function encodeGaussian(values: ArrayLike<number>, channels: number, lo: number, hi: number, fit?: ChannelGaussians): Uint8Array {
  if (values.length % channels !== 0) throw new RangeError(`${values.length} values do not split into ${channels} channels`);
  const { mu, sigma } = fit ?? channelGaussians(values, channels, lo, hi);
  const t = tables(mu, sigma, lo, hi);
  const symbols = new Int32Array(values.length);
  for (let i = 0; i < symbols.length; i++) symbols[i] = values[i] - lo;
  const body = ransEncode(symbols, (i) => t[i % channels]);
  const w = new BitWriter(channels * 8);
  const f = new DataView(new ArrayBuffer(4));
  for (let c = 0; c < channels; c++) {
    f.setFloat32(0, mu[c]); w.writeBits(f.getUint32(0), 32);
    f.setFloat32(0, sigma[c]); w.writeBits(f.getUint32(0), 32);
  }
  const head = w.finish();
  const out = new Uint8Array(head.length + body.length);
  out.set(head); out.set(body, head.length);
  return out;
}

export function decodeGaussian(bytes: Uint8Array, count: number, channels: number, lo: number, hi: number): Int32Array {
  const r = new BitReader(bytes);
  const mu = new Float32Array(channels), sigma = new Float32Array(channels);
  const f = new DataView(new ArrayBuffer(4));
  for (let c = 0; c < channels; c++) {
    f.setUint32(0, r.readBits(32)); mu[c] = f.getFloat32(0);
    f.setUint32(0, r.readBits(32)); sigma[c] = f.getFloat32(0);
  }
  const t = tables(mu, sigma, lo, hi);
  const symbols = ransDecode(bytes.subarray(channels * 8), count, (i) => t[i % channels]);
  for (let i = 0; i < symbols.length; i++) symbols[i] += lo;
  return symbols;
}
