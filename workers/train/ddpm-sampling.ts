// Sampling a DDPM prior (ddpm.ts), plain or pulled toward a measurement:
//  - the step: DDIM (Song et al. 2021) over a respaced subset of the T steps with noise
//    scale η; η = 1 at all T steps is ancestral DDPM sampling (the posterior q(x_{t−1} | x_t, x̂_0)).
//  - DPS (Chung et al. 2023), as the Idempotence paper runs it: after each DDPM step,
//    x_{t−1} −= ζ·∇_{x_t} d, with d = ‖y − h(x̂_0(x_t))‖₂ (the norm, not its square).
//  - DSG (Yang et al. 2024), as the paper's code runs it (DDIM, η = 1, 100 steps): the step's
//    noise direction is mixed with the descent direction −∇d at rate 0.1, and the result
//    placed on the sphere of radius √n·σ_t around the step's mean.
// Every image has its own noise stream and its own distance, so a decode never depends on
// which images share its batch.
import * as tf from '@tensorflow/tfjs';
import { PIXELS } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';
import type { Dit } from '../nn/dit';
import { predictEps, x0FromEps, type DdpmSchedule } from './ddpm';

/** `count` steps of 0 … T−1 spread evenly, both ends included (the paper's code's respacing). */
export function respacedSteps(T: number, count: number): number[] {
  if (count < 1 || count > T) throw new RangeError(`cannot take ${count} of ${T} steps`);
  if (count === 1) return [0];
  const stride = (T - 1) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * stride));
}

export type Guidance = { kind: 'none' } | { kind: 'dps'; zeta: number } | { kind: 'dsg'; rate: number };

/** Per-image distance of clean estimates in [-1, 1] to the measurement (differentiable): [B]. */
export type ImageDistance = (x0: tf.Tensor2D) => tf.Tensor1D;

export interface SampleOptions {
  /** Steps taken (respaced from the schedule's T). */
  steps: number;
  /** DDIM noise scale: 0 deterministic, 1 the DDPM posterior's. */
  eta: number;
  guidance: Guidance;
}

/** ε̂(x_t, t) for images [B, 784] at one integer step per image (a trained prior, or an exact one in tests). */
export type EpsModel = (xt: tf.Tensor2D, steps: number[]) => tf.Tensor2D;

/** A trained DDPM's ε-prediction as an EpsModel. */
export const ditEps = (m: Dit, s: DdpmSchedule): EpsModel => (xt, steps) => predictEps(m, s, xt, steps);

export interface SampleOutput {
  /** Images in [-1, 1], [B·784] row-major. */
  images: Float32Array;
  /** Each image's distance at the last guided step (NaN without guidance). */
  distance: Float32Array;
}

const rowNorms = (x: tf.Tensor2D) => x.square().sum(1, true).sqrt() as tf.Tensor2D;

/**
 * Samples one image per noise stream. `distance` is required for guided sampling. `onStep`
 * hears (done, total) after each step, to report progress and to cancel (by throwing).
 */
export function sampleDdpm(eps: EpsModel, s: DdpmSchedule, streams: readonly Rng[], opts: SampleOptions, distance?: ImageDistance, onStep?: (done: number, total: number) => void): SampleOutput {
  const B = streams.length;
  if (opts.guidance.kind !== 'none' && !distance) throw new Error(`${opts.guidance.kind} sampling needs a distance to the measurement`);
  const used = respacedSteps(s.T, opts.steps);
  const noise = () => tf.tensor2d(Float32Array.from({ length: B * PIXELS }, (_, i) => streams[Math.floor(i / PIXELS)].normal()), [B, PIXELS]);
  let x = noise();
  let last: Float32Array = new Float32Array(B).fill(NaN);
  try {
    for (let i = used.length - 1; i >= 0; i--) {
      const t = used[i];
      const ab = s.alphaBar[t], abPrev = i > 0 ? s.alphaBar[used[i - 1]] : 1;
      const sigma = opts.eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
      const steps = new Array<number>(B).fill(t);
      const z = i > 0 ? noise() : tf.zeros([B, PIXELS]);
      // x̂_0 and d are computed inside tf.grad's own scope: kept from it, disposed below.
      const kept: tf.Tensor[] = [];
      const next = tf.tidy(() => {
        let x0: tf.Tensor2D | undefined, d: tf.Tensor1D | undefined;
        const estimate = (xt: tf.Tensor2D) => {
          x0 = tf.keep(x0FromEps(s, xt, eps(xt, steps), steps));
          kept.push(x0);
          if (distance) { d = tf.keep(distance(x0)); kept.push(d); }
          return x0;
        };
        let grad: tf.Tensor2D | undefined;
        if (opts.guidance.kind === 'none') estimate(x);
        else grad = tf.grad((xt: tf.Tensor) => { estimate(xt as tf.Tensor2D); return d!.sum(); })(x) as tf.Tensor2D;
        if (d) last = Float32Array.from(d.dataSync());
        // The DDIM mean from x̂_0 and the ε it implies (ε recomputed from the clipped x̂_0).
        const epsHat = x.mul(1 / Math.sqrt(ab)).sub(x0!).div(Math.sqrt(1 / ab - 1));
        const mean = x0!.mul(Math.sqrt(abPrev)).add(epsHat.mul(Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma))));
        const sampled = mean.add(z.mul(sigma)) as tf.Tensor2D;
        const g = opts.guidance;
        if (!grad || g.kind === 'none') return sampled;
        if (g.kind === 'dps') return sampled.sub(grad.mul(g.zeta)) as tf.Tensor2D;
        // DSG: r = √n·σ_t; the mix of the noise step and the descent step, rescaled to radius r.
        if (sigma === 0) return mean as tf.Tensor2D;
        const r = Math.sqrt(PIXELS) * sigma, tiny = 1e-8;
        const dStar = grad.div(rowNorms(grad).add(tiny)).mul(-r);
        const dSample = sampled.sub(mean);
        const mix = dSample.add(dStar.sub(dSample).mul(g.rate));
        return mean.add(mix.div(rowNorms(mix as tf.Tensor2D).add(tiny)).mul(r)) as tf.Tensor2D;
      });
      tf.dispose(kept);
      z.dispose(); x.dispose();
      x = next;
      onStep?.(used.length - i, used.length);
    }
    return { images: x.dataSync() as Float32Array, distance: last };
  } finally {
    x.dispose();
  }
}
