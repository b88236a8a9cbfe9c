// DDPM with ε-prediction (Ho et al. 2020) over images in [-1, 1], on the shared DiT with
// dense FFNs and the null condition (an unconditional network): the linear 1,000-step
// schedule of the paper's code, x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, the loss ‖ε − ε_θ(x_t, t)‖²
// with t uniform, and the clean estimate x̂_0 = (x_t − √(1−ᾱ_t)·ε_θ)/√ᾱ_t (clipped to
// [-1, 1], as the paper's code does). Sampling and guidance: ddpm-sampling.ts.
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import type { ImageSet } from '../runtime/datasets';
import { PIXELS } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { ditForward, ditVariables, type Dit } from '../nn/dit';
import { CONTEXT_LEN, flowBatch } from '../data/class-condition';
import { WeightEma } from './ema';
import { shuffledBatches } from './batches';

export interface DdpmSchedule {
  /** Number of diffusion steps T; steps are 0 … T−1 (0 is the least noisy). */
  T: number;
  betas: Float64Array;
  /** ᾱ_t = ∏_{s ≤ t} (1 − β_s). */
  alphaBar: Float64Array;
}

/** β linear from 1e-4 to 0.02 at T = 1000 (scaled by 1000/T for other T, as the paper's code). */
export function linearSchedule(T = 1000): DdpmSchedule {
  const scale = 1000 / T, lo = scale * 1e-4, hi = scale * 0.02;
  const betas = Float64Array.from({ length: T }, (_, i) => (T === 1 ? lo : lo + ((hi - lo) * i) / (T - 1)));
  const alphaBar = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) { prod *= 1 - betas[i]; alphaBar[i] = prod; }
  return { T, betas, alphaBar };
}

/** The unconditional network's input condition: the null tokens for every image. */
const nullContext = (B: number) => new Int32Array(B * CONTEXT_LEN);

/** ε_θ(x_t, t) for images [B, 784] at integer steps (one per image); the DiT reads t/T. */
export function predictEps(m: Dit, s: DdpmSchedule, xt: tf.Tensor2D, steps: ArrayLike<number>): tf.Tensor2D {
  const t = Float32Array.from(steps, (k) => k / s.T);
  return ditForward(m, xt, t, nullContext(xt.shape[0]), CONTEXT_LEN).v;
}

/** One value per image as a [B, 1] column, to scale each image's row. */
export const perImage = (values: ArrayLike<number>) => tf.tensor2d(Float32Array.from(values), [values.length, 1]);

/** x̂_0 from x_t and ε̂ at each image's step, clipped to [-1, 1]. */
export function x0FromEps(s: DdpmSchedule, xt: tf.Tensor2D, eps: tf.Tensor2D, steps: ArrayLike<number>): tf.Tensor2D {
  const ab = Array.from(steps, (k) => s.alphaBar[k]);
  const x0 = xt.sub(eps.mul(perImage(ab.map((a) => Math.sqrt(1 - a))))).div(perImage(ab.map(Math.sqrt)));
  return tf.clipByValue(x0, -1, 1) as tf.Tensor2D;
}

/** The DDPM loss of one batch: mean over pixels and images of (ε − ε_θ(x_t, t))². */
export function ddpmLoss(m: Dit, s: DdpmSchedule, x0: Float32Array, noise: Float32Array, steps: Int32Array): tf.Scalar {
  const B = steps.length;
  const x = tf.tensor2d(x0, [B, PIXELS]), e = tf.tensor2d(noise, [B, PIXELS]);
  const xt = x.mul(perImage(Array.from(steps, (k) => Math.sqrt(s.alphaBar[k])))).add(e.mul(perImage(Array.from(steps, (k) => Math.sqrt(1 - s.alphaBar[k]))))) as tf.Tensor2D;
  return predictEps(m, s, xt, steps).sub(e).square().mean() as tf.Scalar;
}

export interface PriorTrainOptions { batchSize: number; trainSteps: number; learningRate: number; emaDecay: number }

/** Trains ε_θ on `set` (pixels mapped to [-1, 1]); the EMA of the weights is swapped in at the end. */
export async function trainDdpm(m: Dit, s: DdpmSchedule, set: ImageSet, p: PriorTrainOptions, ctx: RunContext, rng: Rng, phase: string): Promise<{ ms: number; lastLoss: number }> {
  const vars = Object.values(ditVariables(m));
  const opt = tf.train.adam(p.learningRate, 0.9, 0.99);
  const warm = Math.min(100, Math.floor(p.trainSteps / 4));
  const ema = new WeightEma(vars, p.emaDecay);
  const nextBatch = shuffledBatches(rng, set.count);
  let ms = 0, lossSum = 0, lossN = 0, lastLoss = NaN;
  try {
    for (let step = 1; step <= p.trainSteps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const { x1 } = flowBatch(set, nextBatch(p.batchSize));
      const noise = rng.normalArray(p.batchSize * PIXELS);
      const steps = Int32Array.from({ length: p.batchSize }, () => Math.floor(rng.next() * s.T));
      setLearningRate(opt, p.learningRate * (step <= warm ? step / warm : cosineDecay(step - warm, p.trainSteps - warm)));
      const loss = opt.minimize(() => ddpmLoss(m, s, x1, noise, steps), true, vars)!;
      lossSum += loss.dataSync()[0]; lossN++;
      loss.dispose();
      ema.update(step);
      ms += performance.now() - t0;
      if (step % 25 === 0 || step === p.trainSteps) {
        lastLoss = lossSum / lossN; lossSum = 0; lossN = 0;
        ctx.metric(step, 'prior.loss', lastLoss);
        ctx.progress(phase, step, p.trainSteps);
        await new Promise((r) => setImmediate(r));
      }
    }
    ema.swapIn();
  } finally {
    opt.dispose();
    ema.dispose();
  }
  return { ms, lastLoss };
}
