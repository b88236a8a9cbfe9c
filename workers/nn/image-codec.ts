// The learned MSE image codec (Ballé-style, sized for 28x28 grey images):
//   g_a: conv5x5/2 (1→N) relu [a1] → conv5x5/2 (N→N) relu [a2] → conv3x3 (N→M) = y, 7x7xM
//   quantize: uniform noise in training, rounding at test; factorized prior on ŷ
//   g_s: conv3x3 (M→N) relu [s1] → deconv5x5/2 (N→N) relu [s2] → deconv5x5/2 (N→1) = x̂
// Loss λ·255²·MSE + bpp. The hidden activations a1, a2, s1, s2 can be intercepted by a
// hook (the activation-codec lab inserts its encoders there). encode()/decode() are real:
// per image, the clamped latent symbols are arithmetic-coded with the integer CDF tables
// stored with the model, and bpp is counted from those bytes.
import * as tf from '@tensorflow/tfjs';
import { arithDecode, arithEncode } from '../coding/arith';
import type { CdfTable } from '../coding/rans';
import type { Rng } from '../runtime/rng';
import { createFactorizedPrior, priorLikelihood, priorVariables, tabulatePrior, type FactorizedPrior } from './factorized-prior';

export const HIDDEN_LAYERS = ['a1', 'a2', 's1', 's2'] as const;
export type HiddenLayer = (typeof HIDDEN_LAYERS)[number];
export type ActivationHook = (layer: HiddenLayer, activation: tf.Tensor4D) => tf.Tensor4D;

export interface CodecShape { N: number; M: number }
export interface ImageCodec {
  shape: CodecShape;
  weights: Record<string, tf.Variable>;
  prior: FactorizedPrior;
  /** Set by finalize(): per-channel integer CDF tables over -radius..radius. */
  tables?: CdfTable[];
  radius: number;
}

const PIXELS = 784;

export function createImageCodec(shape: CodecShape, rng: Rng, radius = 24): ImageCodec {
  const { N, M } = shape;
  const he = (dims: number[], fanIn: number) => tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), Math.sqrt(2 / fanIn)), dims)));
  const zeros = (n: number) => tf.tidy(() => tf.variable(tf.zeros([n])));
  return {
    shape,
    radius,
    prior: createFactorizedPrior(M, rng.fork('prior')),
    weights: {
      a1: he([5, 5, 1, N], 25), a1b: zeros(N),
      a2: he([5, 5, N, N], 25 * N), a2b: zeros(N),
      a3: he([3, 3, N, M], 9 * N), a3b: zeros(M),
      s1: he([3, 3, M, N], 9 * M), s1b: zeros(N),
      s2: he([5, 5, N, N], 25 * N), s2b: zeros(N), // conv2dTranspose filters: [h, w, out, in]
      s3: he([5, 5, 1, N], 25 * N), s3b: zeros(1),
    },
  };
}

export function codecVariables(c: ImageCodec): Record<string, tf.Variable> {
  return { ...c.weights, ...priorVariables(c.prior) };
}

const id: ActivationHook = (_l, a) => a;

export function analysis(c: ImageCodec, x: tf.Tensor2D, hook: ActivationHook = id): tf.Tensor4D {
  const w = c.weights;
  const img = x.reshape([-1, 28, 28, 1]) as tf.Tensor4D;
  const a1 = hook('a1', tf.relu(tf.conv2d(img, w.a1 as tf.Tensor4D, 2, 'same').add(w.a1b)) as tf.Tensor4D);
  const a2 = hook('a2', tf.relu(tf.conv2d(a1, w.a2 as tf.Tensor4D, 2, 'same').add(w.a2b)) as tf.Tensor4D);
  return tf.conv2d(a2, w.a3 as tf.Tensor4D, 1, 'same').add(w.a3b) as tf.Tensor4D;
}

export function synthesis(c: ImageCodec, yHat: tf.Tensor4D, hook: ActivationHook = id): tf.Tensor2D {
  const w = c.weights;
  const b = yHat.shape[0];
  const N = c.shape.N;
  const s1 = hook('s1', tf.relu(tf.conv2d(yHat, w.s1 as tf.Tensor4D, 1, 'same').add(w.s1b)) as tf.Tensor4D);
  const s2 = hook('s2', tf.relu(tf.conv2dTranspose(s1, w.s2 as tf.Tensor4D, [b, 14, 14, N], 2, 'same').add(w.s2b)) as tf.Tensor4D);
  const out = tf.conv2dTranspose(s2, w.s3 as tf.Tensor4D, [b, 28, 28, 1], 2, 'same').add(w.s3b);
  return out.reshape([b, PIXELS]) as tf.Tensor2D;
}

/** Training forward pass: noisy latents. Returns the rate-distortion terms (scalars). */
export function codecLoss(c: ImageCodec, x: tf.Tensor2D, lambda: number, noise: tf.Tensor, hook?: ActivationHook) {
  const y = analysis(c, x, hook);
  const yTilde = y.add(noise) as tf.Tensor4D;
  const lik = priorLikelihood(c.prior, yTilde);
  const bits = tf.log(lik).sum().div(-Math.LN2);
  const bpp = bits.div(x.shape[0] * PIXELS) as tf.Scalar;
  const xHat = synthesis(c, yTilde, hook);
  const mse = tf.losses.meanSquaredError(x, xHat) as tf.Scalar;
  const loss = mse.mul(lambda * 255 * 255).add(bpp) as tf.Scalar;
  return { loss, mse, bpp, xHat };
}

/** Inference: rounded latents, clamped to the table range; returns ŷ and x̂ (clipped). */
export function codecRoundTrip(c: ImageCodec, x: tf.Tensor2D, hook?: ActivationHook): { yHat: tf.Tensor4D; xHat: tf.Tensor2D } {
  const yHat = tf.clipByValue(tf.round(analysis(c, x, hook)), -c.radius, c.radius) as tf.Tensor4D;
  return { yHat, xHat: tf.clipByValue(synthesis(c, yHat, hook), 0, 1) as tf.Tensor2D };
}

/** Freezes the prior into integer CDF tables (call after training, before encode). */
export function finalizeCodec(c: ImageCodec): void {
  c.tables = tabulatePrior(c.prior, c.radius);
}

function tablesOf(c: ImageCodec): CdfTable[] {
  if (!c.tables) throw new Error('codec has no CDF tables: finalize it after training');
  return c.tables;
}

/** One image (784 floats in [0, 1]) → its bytes. */
export function encodeImage(c: ImageCodec, pixels: Float32Array, hook?: ActivationHook): Uint8Array {
  const t = tablesOf(c);
  const M = c.shape.M;
  const yHat = tf.tidy(() => tf.clipByValue(tf.round(analysis(c, tf.tensor2d(pixels, [1, PIXELS]), hook)), -c.radius, c.radius).dataSync());
  const symbols = Int32Array.from(yHat, (v) => v + c.radius);
  return arithEncode(symbols, (i) => t[i % M]).bytes;
}

/** Bytes → the latent ŷ (49·M values, [7, 7, M] row-major): what the bits carry. */
export function decodeLatent(c: ImageCodec, bytes: Uint8Array): Float32Array {
  const t = tablesOf(c);
  const M = c.shape.M;
  return Float32Array.from(arithDecode(bytes, 49 * M, (i) => t[i % M]), (s) => s - c.radius);
}

/** The encoder's quantization: ŷ = clamp(round(g_a(x)), ±radius), rounding straight-through for gradients. */
export function quantizeLatent(c: ImageCodec, y: tf.Tensor4D, round: (x: tf.Tensor) => tf.Tensor = tf.round): tf.Tensor4D {
  return tf.clipByValue(round(y), -c.radius, c.radius) as tf.Tensor4D;
}

/** Bytes → ŷ symbols → x̂ (784 floats in [0, 1]). */
export function decodeImage(c: ImageCodec, bytes: Uint8Array, hook?: ActivationHook): Float32Array {
  const t = tablesOf(c);
  const M = c.shape.M;
  const symbols = arithDecode(bytes, 49 * M, (i) => t[i % M]);
  const yHat = Float32Array.from(symbols, (s) => s - c.radius);
  return tf.tidy(() => tf.clipByValue(synthesis(c, tf.tensor4d(yHat, [1, 7, 7, M]), hook), 0, 1).dataSync() as Float32Array);
}

export function disposeCodec(c: ImageCodec): void {
  for (const v of Object.values(codecVariables(c))) v.dispose();
}
