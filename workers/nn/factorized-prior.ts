// Ballé et al.'s factorized ("entropy bottleneck") prior: per channel, a learned monotone
// CDF c(x) = sigmoid(f_K(…f_1(x))), f_k(x) = h_k(softplus(H_k) x + b_k) with
// h_k(x) = x + tanh(a_k) ⊙ tanh(x); layer widths 1→3→3→3→1. The likelihood of a quantized
// (or noisy) value is c(x + ½) − c(x − ½). After training, tabulate() turns each channel's
// density into an integer CDF table for the arithmetic coder.
import * as tf from '@tensorflow/tfjs';
import { quantizeCdf, type CdfTable } from '../coding/rans';
import type { Rng } from '../runtime/rng';

const WIDTHS = [1, 3, 3, 3, 1];
// Ballé uses 10 for natural-image latents; ours start near unit scale, and a prior that
// starts 10x too broad costs ~4 bpp for hundreds of steps before it narrows.
const INIT_SCALE = 2;

export interface FactorizedPrior {
  channels: number;
  matrices: tf.Variable[]; // [C, out, in], through softplus
  biases: tf.Variable[];   // [C, out, 1]
  factors: tf.Variable[];  // [C, out, 1], through tanh (all layers but the last)
}

export function createFactorizedPrior(channels: number, rng: Rng): FactorizedPrior {
  const scale = INIT_SCALE ** (1 / (WIDTHS.length - 1));
  const p: FactorizedPrior = { channels, matrices: [], biases: [], factors: [] };
  for (let k = 0; k < WIDTHS.length - 1; k++) {
    const [din, dout] = [WIDTHS[k], WIDTHS[k + 1]];
    const init = Math.log(Math.expm1(1 / scale / dout));
    p.matrices.push(tf.tidy(() => tf.variable(tf.fill([channels, dout, din], init))));
    p.biases.push(tf.tidy(() => tf.variable(tf.tensor(Float32Array.from({ length: channels * dout }, () => rng.uniform(-0.5, 0.5)), [channels, dout, 1]))));
    if (k < WIDTHS.length - 2) p.factors.push(tf.tidy(() => tf.variable(tf.zeros([channels, dout, 1]))));
  }
  return p;
}

export function priorVariables(p: FactorizedPrior): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  p.matrices.forEach((v, k) => (out[`prior.H${k}`] = v));
  p.biases.forEach((v, k) => (out[`prior.b${k}`] = v));
  p.factors.forEach((v, k) => (out[`prior.a${k}`] = v));
  return out;
}

/** CDF logits for x laid out [C, 1, N]. */
function logits(p: FactorizedPrior, x: tf.Tensor3D): tf.Tensor3D {
  let h: tf.Tensor3D = x;
  for (let k = 0; k < p.matrices.length; k++) {
    h = tf.matMul(tf.softplus(p.matrices[k]) as tf.Tensor3D, h).add(p.biases[k]) as tf.Tensor3D;
    if (k < p.factors.length) h = h.add(tf.tanh(p.factors[k]).mul(tf.tanh(h))) as tf.Tensor3D;
  }
  return h;
}

/**
 * Likelihood of each element of y ([..., C], channels last), same shape as y. Uses the
 * sign trick so the difference of sigmoids is taken where they are not both near 1.
 */
export function priorLikelihood(p: FactorizedPrior, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = y.shape;
    const cm = y.reshape([-1, p.channels]).transpose().expandDims(1) as tf.Tensor3D; // [C, 1, N]
    const lower = logits(p, cm.sub(0.5) as tf.Tensor3D), upper = logits(p, cm.add(0.5) as tf.Tensor3D);
    const sign = tf.sign(lower.add(upper)).neg();
    const lik = tf.abs(tf.sigmoid(sign.mul(upper)).sub(tf.sigmoid(sign.mul(lower)))).maximum(1e-9);
    return lik.squeeze([1]).transpose().reshape(shape);
  });
}

/**
 * Integer CDF tables over the integers -radius..radius per channel, tails folded into the
 * end bins. The encoder clamps latents to this range; tables travel with the model.
 */
export function tabulatePrior(p: FactorizedPrior, radius: number): CdfTable[] {
  const n = 2 * radius + 1;
  const edges = tf.tidy(() => {
    const pts = tf.range(-radius - 0.5, radius + 1, 1).reshape([1, 1, n + 1]).tile([p.channels, 1, 1]) as tf.Tensor3D; // [C, 1, n+1]
    return tf.sigmoid(logits(p, pts)).arraySync() as number[][][];
  });
  return edges.map((row) => {
    const c = row[0];
    const probs = Array.from({ length: n }, (_, i) => (i === 0 ? c[1] : i === n - 1 ? 1 - c[n - 1] : c[i + 1] - c[i]));
    return quantizeCdf(probs);
  });
}
