// Scores of one rate: PSNR of both decodes, the Fréchet distance of judge features to a
// held-out reference, paired bootstrap intervals (the same resampled images for both
// decodes) of the FD difference and of the MSE ratio, and idempotence by re-encoding.
import { PIXELS } from '../../runtime/datasets';
import type { Rng } from '../../runtime/rng';
import type { ImageCodec } from '../../nn/image-codec';
import type { Judge } from '../../shared-parts/judge';
import type { frechetReference } from '../../runtime/frechet';
import { reencode } from './decode';

export const psnrOf = (mse: number) => 10 * Math.log10(1 / mse);

/** Per-image MSE of decodes against originals (both n·784 in [0, 1]). */
export function imageMse(a: Float32Array, b: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) { let s = 0; for (let p = 0; p < PIXELS; p++) s += (a[i * PIXELS + p] - b[i * PIXELS + p]) ** 2; out[i] = s / PIXELS; }
  return out;
}

const mean = (xs: ArrayLike<number>) => { let s = 0; for (let i = 0; i < xs.length; i++) s += xs[i]; return s / xs.length; };
/** The 2.5 % and 97.5 % percentiles (linear between order statistics). */
export function interval95(xs: number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => { const h = (s.length - 1) * q, lo = Math.floor(h); return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)]) - s[lo]); };
  return [at(0.025), at(0.975)];
}

export interface RateScore {
  psnrMse: number; psnrIdem: number; fdMse: number; fdIdem: number; fdDiffCi: [number, number]; mseRatio: number; mseRatioCi: [number, number];
  reencodeSamePct: number; reencodeSamePctMse: number; symbolDistance: number; symbolDistanceMse: number; psnrReencode: number;
}

export function scoreRate(o: {
  originals: Float32Array; mse: Float32Array; idem: Float32Array; n: number; latents: readonly Float32Array[];
  codec: ImageCodec; judge: Judge; reference: ReturnType<typeof frechetReference>; rng: Rng; resamples: number;
}): RateScore {
  const { n, judge } = o;
  const d = judge.featureDim;
  const fMse = judge.predict(o.mse, n).features, fIdem = judge.predict(o.idem, n).features;
  const eMse = imageMse(o.mse, o.originals, n), eIdem = imageMse(o.idem, o.originals, n);
  const fdMse = o.reference.distanceTo(fMse, n), fdIdem = o.reference.distanceTo(fIdem, n);
  const diffs: number[] = [], ratios: number[] = [];
  const pick = (f: Float32Array, idx: Int32Array) => { const out = new Float32Array(idx.length * d); idx.forEach((i, j) => out.set(f.subarray(i * d, (i + 1) * d), j * d)); return out; };
  for (let r = 0; r < o.resamples; r++) {
    const idx = Int32Array.from({ length: n }, () => Math.floor(o.rng.next() * n));
    diffs.push(o.reference.distanceTo(pick(fMse, idx), n) - o.reference.distanceTo(pick(fIdem, idx), n));
    let a = 0, b = 0; for (const i of idx) { a += eIdem[i]; b += eMse[i]; }
    ratios.push(a / b);
  }
  const idemBack = reencode(o.codec, o.idem, o.latents), mseBack = reencode(o.codec, o.mse, o.latents);
  const rtMse = mean(imageMse(idemBack.roundTrip, o.mse, n));
  return {
    psnrMse: psnrOf(mean(eMse)), psnrIdem: psnrOf(mean(eIdem)), fdMse, fdIdem, fdDiffCi: interval95(diffs),
    mseRatio: mean(eIdem) / mean(eMse), mseRatioCi: interval95(ratios),
    reencodeSamePct: (100 * idemBack.same.filter(Boolean).length) / n, reencodeSamePctMse: (100 * mseBack.same.filter(Boolean).length) / n,
    symbolDistance: mean(idemBack.symbolDistance), symbolDistanceMse: mean(mseBack.symbolDistance),
    psnrReencode: rtMse === 0 ? Infinity : psnrOf(rtMse),
  };
}
