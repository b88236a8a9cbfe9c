// The activation encoder inserted after each hidden conv layer of the codec:
//   learned 1x1 transform T → per-tensor min–max quantization to b bits (round with a
//   straight-through gradient) → [entropy coder] → dequantize → inverse 1x1 transform T′.
// T and T′ start as the identity. During the fine-tune each encoder adds the driving
// coder's differentiable bit estimate (as the paper's code: floors through an STE).
import * as tf from '@tensorflow/tfjs';
import type { ActivationCoder } from '../../../common/labs/activation-codec';
import { channelGaussians } from '../../coding/gaussian';
import { medianInt } from '../../coding/exp-golomb';
import type { HiddenLayer } from '../../nn/image-codec';
import { floorSTE, roundSTE } from '../../nn/ste';

/**
 * 'full': T, T′ are C×C matrices with biases (the paper's 1x1 convs). 'diagonal': per-channel
 * scales without bias, which keep exact zeros exact (a full mix of ReLU channels turns the
 * zeros that make them cheap to code into small non-zero values).
 */
export type TransformKind = 'full' | 'diagonal';
export interface ActEncoder { layer: HiddenLayer; channels: number; kind: TransformKind; T: tf.Variable; tb: tf.Variable; Tinv: tf.Variable; tinvb: tf.Variable }

export function createActEncoder(layer: HiddenLayer, channels: number, kind: TransformKind = 'full'): ActEncoder {
  const v = (t: () => tf.Tensor) => tf.tidy(() => tf.variable(t()));
  const one = () => (kind === 'full' ? tf.eye(channels) : tf.ones([channels]));
  return { layer, channels, kind, T: v(one), tb: v(() => tf.zeros([channels])), Tinv: v(one), tinvb: v(() => tf.zeros([channels])) };
}

export const encoderVariables = (e: ActEncoder) => (e.kind === 'full' ? [e.T, e.tb, e.Tinv, e.tinvb] : [e.T, e.Tinv]);

function conv1x1(a: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor): tf.Tensor4D {
  if (w.rank === 1) return a.mul(w) as tf.Tensor4D; // diagonal: per-channel scale, no bias
  const [B, H, W, C] = a.shape;
  return a.reshape([B * H * W, C]).matMul(w as tf.Tensor2D).add(b).reshape([B, H, W, C]) as tf.Tensor4D;
}

export interface Quantized { q: tf.Tensor4D; min: tf.Scalar; max: tf.Scalar; levels: number }

/** Per-tensor min–max to integers 0..2^b-1 (straight-through round). */
export function quantize(t: tf.Tensor4D, bits: number): Quantized {
  const levels = 2 ** bits - 1;
  const min = t.min() as tf.Scalar, max = t.max() as tf.Scalar;
  const scale = tf.scalar(levels).div(max.sub(min).add(1e-12));
  return { q: roundSTE(t.sub(min).mul(scale)) as tf.Tensor4D, min, max, levels };
}

export function dequantize(z: Quantized): tf.Tensor4D {
  return z.q.mul(z.max.sub(z.min).add(1e-12)).div(z.levels).add(z.min) as tf.Tensor4D;
}

const LOG2 = Math.LN2;
const log2 = (t: tf.Tensor) => tf.log(t).div(LOG2);
const SIDE_MINMAX_BITS = 64;

/** The driving coder's differentiable estimate of the bits for q ([B,H,W,C] integers), min/max included. */
export function bitsEstimate(coder: ActivationCoder, q: tf.Tensor4D, bitDepth: number): tf.Scalar {
  const C = q.shape[3];
  const n = q.size;
  if (coder === 'raw') return tf.scalar(n * bitDepth + SIDE_MINMAX_BITS);
  if (coder === 'eg4') {
    const quotient = floorSTE(q.div(16));
    return floorSTE(log2(quotient.add(1))).mul(2).add(5).sum().add(SIDE_MINMAX_BITS) as tf.Scalar;
  }
  if (coder === 'seg') {
    // Medians are side information, not learned: computed outside the tape.
    const values = q.dataSync();
    const medians = Float32Array.from({ length: C }, (_, c) => medianInt(Int32Array.from({ length: n / C }, (_, i) => values[i * C + c])));
    const r = q.sub(tf.tensor1d(medians));
    const u = tf.where(r.greaterEqual(0), r.mul(2), r.mul(-2).sub(1));
    return floorSTE(log2(u.add(1))).mul(2).add(1).sum().add(C * bitDepth + SIDE_MINMAX_BITS) as tf.Scalar;
  }
  // gaussian: μ, σ per channel fitted to the tensor itself (as the coder does), 64 bits of
  // side info per channel. They enter as constants: at the code-length minimum the bits'
  // derivative with respect to μ and σ is zero, so the gradient through q is the whole story.
  const flat = q.reshape([-1, C]);
  const values = flat.dataSync();
  const levels = 2 ** bitDepth;
  const fit = channelGaussians(values, C, 0, levels - 1);
  const mean = tf.tensor1d(fit.mu), sigma = tf.tensor1d(fit.sigma);
  const cdf = (z: tf.Tensor) => tf.erf(z.div(Math.SQRT2)).add(1).mul(0.5);
  // Tails folded into the end bins, and the 16-bit table's floor (see flooredProbability).
  // The end-bin masks are constants (comparisons have no gradient in tfjs).
  const isTop = tf.tensor(Float32Array.from(values, (v) => (v >= levels - 1 ? 1 : 0)), flat.shape);
  const isBottom = tf.tensor(Float32Array.from(values, (v) => (v <= 0 ? 1 : 0)), flat.shape);
  const cu = cdf(flat.add(0.5).sub(mean).div(sigma)), cl = cdf(flat.sub(0.5).sub(mean).div(sigma));
  const upper = cu.add(isTop.mul(tf.scalar(1).sub(cu)));
  const lower = cl.mul(tf.scalar(1).sub(isBottom));
  const p = upper.sub(lower).maximum(0).mul(1 - levels / 65536).add(1 / 65536);
  return log2(p).sum().neg().add(64 * C + SIDE_MINMAX_BITS) as tf.Scalar;
}

/** T → quantize → (bits) → dequantize → T′. */
export function applyEncoder(e: ActEncoder, a: tf.Tensor4D, bitDepth: number): { out: tf.Tensor4D; z: Quantized } {
  const z = quantize(conv1x1(a, e.T, e.tb), bitDepth);
  return { out: conv1x1(dequantize(z), e.Tinv, e.tinvb), z };
}
