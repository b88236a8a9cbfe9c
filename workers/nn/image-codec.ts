// The learned MSE image codec (Ballé-style, sized for 28x28 grey images):
//   g_a: conv5x5/2 (1→N) relu [a1] → conv5x5/2 (N→N) relu [a2] → conv3x3 (N→M) = y, 7x7xM
//   quantize: uniform noise in training, rounding at test; factorized prior on ŷ
//   g_s: conv3x3 (M→N) relu [s1] → deconv5x5/2 (N→N) relu [s2] → deconv5x5/2 (N→1) = x̂
// Loss λ·255²·MSE + bpp. The hidden activations a1, a2, s1, s2 can be intercepted by a
// hook (the activation-codec lab inserts its encoders there). encode()/decode() are real:
// per image, the clamped latent symbols are arithmetic-coded with the integer CDF tables
// stored with the model, and bpp is counted from those bytes.
// Side information (shape.side = K > 0): a map Y [B, 7, 7, K] known to both ends (a class
// one-hot, a coarse mask) enters every layer of g_a and g_s: projected by a weight of its
// own at each of the 7 × 7 positions (K → the layer's channels), upsampled (nearest) to the
// layer's grid and added before the nonlinearity. Position-wise, because a class is the
// same at every position: a 1 × 1 projection of it would be a constant map, from which the
// decoder cannot draw the class's shape; on the 7 × 7 grid, because the same projection at
// 14 × 14 and 28 × 28 made a G1 step 2.3× slower on wasm. The weights start at zero.
// The synthesis alone (createSynthesis) is also a conditional generator's decoder.
import * as tf from '@tensorflow/tfjs';
import { arithDecode, arithEncode } from '../coding/arith';
import type { CdfTable } from '../coding/rans';
import type { Rng } from '../runtime/rng';
import { createFactorizedPrior, priorLikelihood, priorVariables, tabulatePrior, type FactorizedPrior } from './factorized-prior';

export const HIDDEN_LAYERS = ['a1', 'a2', 's1', 's2'] as const;
export type HiddenLayer = (typeof HIDDEN_LAYERS)[number];
export type ActivationHook = (layer: HiddenLayer, activation: tf.Tensor4D) => tf.Tensor4D;

export interface CodecShape {
  N: number;
  M: number;
  /** Channels of the side-information map Y [B, 7, 7, side] (0 or absent: no side information). */
  side?: number;
}
export interface ImageCodec {
  shape: CodecShape;
  weights: Record<string, tf.Variable>;
  prior: FactorizedPrior;
  /** Set by finalize(): per-channel integer CDF tables over -radius..radius. */
  tables?: CdfTable[];
  radius: number;
}

const PIXELS = 784;
const id: ActivationHook = (_l, a) => a;

/** He-initialised weights (std √(2 / fanIn)) and zero biases, as variables. */
function initWeights(rng: Rng) {
  return {
    he: (dims: number[], fanIn: number) => tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), Math.sqrt(2 / fanIn)), dims))),
    zeros: (n: number) => tf.tidy(() => tf.variable(tf.zeros([n]))),
  };
}

/** The position-wise projections of Y added at each layer (`<layer>y`: [7, 7, K, channels out]), zero at start. */
function sideWeights(layers: Record<string, number>, K: number): Record<string, tf.Variable> {
  if (!K) return {};
  return Object.fromEntries(Object.entries(layers).map(([name, out]) => [`${name}y`, tf.tidy(() => tf.variable(tf.zeros([7, 7, K, out])))]));
}

/** Y [B, 7, 7, K] projected by the weight at each position, then upsampled to the layer's grid (7, 14 or 28). */
function sideTerm(side: tf.Tensor4D, w: tf.Variable, grid: number): tf.Tensor4D {
  const [B, , , K] = side.shape, C = w.shape[3] as number;
  // One small product per position, as a batched matmul: [49, B, K] × [49, K, C] (a broadcast multiply and a sum over K was 3× a whole G1 step's other work on wasm).
  const perPosition = tf.matMul(side.reshape([B, 49, K]).transpose([1, 0, 2]) as tf.Tensor3D, w.reshape([49, K, C]) as tf.Tensor3D);
  const term = perPosition.transpose([1, 0, 2]).reshape([B, 7, 7, C]) as tf.Tensor4D;
  return grid === 7 ? term : tf.image.resizeNearestNeighbor(term, [grid, grid]);
}

/** A layer's pre-activation plus its side term when the model has side information. */
function withSide(pre: tf.Tensor4D, w: Record<string, tf.Variable>, layer: string, side: tf.Tensor4D | undefined): tf.Tensor4D {
  const wy = w[`${layer}y`];
  if (!wy) return pre;
  if (!side) throw new Error(`this model takes side information (Y) and none was given`);
  return pre.add(sideTerm(side, wy, pre.shape[1]));
}

/** g_s alone: ŷ-shaped input [B, 7, 7, inChannels] (+ Y) → 28 × 28 pixels. */
export interface Synthesis { N: number; inChannels: number; side: number; weights: Record<string, tf.Variable> }

export function createSynthesis(inChannels: number, N: number, side: number, rng: Rng): Synthesis {
  const { he, zeros } = initWeights(rng.fork('synthesis'));
  return {
    N, inChannels, side,
    weights: {
      s1: he([3, 3, inChannels, N], 9 * inChannels), s1b: zeros(N),
      s2: he([5, 5, N, N], 25 * N), s2b: zeros(N), // conv2dTranspose filters: [h, w, out, in]
      s3: he([5, 5, 1, N], 25 * N), s3b: zeros(1),
      ...sideWeights({ s1: N, s2: N, s3: 1 }, side),
    },
  };
}

/** [B, 7, 7, inChannels] → [B, 784] (not clipped: training reads the raw output). */
export function synthesize(g: Synthesis, input: tf.Tensor4D, side?: tf.Tensor4D, hook: ActivationHook = id): tf.Tensor2D {
  const w = g.weights, b = input.shape[0], N = g.N;
  const s1 = hook('s1', tf.relu(withSide(tf.conv2d(input, w.s1 as tf.Tensor4D, 1, 'same').add(w.s1b), w, 's1', side)) as tf.Tensor4D);
  const s2 = hook('s2', tf.relu(withSide(tf.conv2dTranspose(s1, w.s2 as tf.Tensor4D, [b, 14, 14, N], 2, 'same').add(w.s2b), w, 's2', side)) as tf.Tensor4D);
  const out = withSide(tf.conv2dTranspose(s2, w.s3 as tf.Tensor4D, [b, 28, 28, 1], 2, 'same').add(w.s3b), w, 's3', side);
  return out.reshape([b, PIXELS]) as tf.Tensor2D;
}

export function createImageCodec(shape: CodecShape, rng: Rng, radius = 24): ImageCodec {
  const { N, M } = shape, K = shape.side ?? 0;
  const { he, zeros } = initWeights(rng);
  const prior = createFactorizedPrior(M, rng.fork('prior'));
  const weights: Record<string, tf.Variable> = {
    a1: he([5, 5, 1, N], 25), a1b: zeros(N),
    a2: he([5, 5, N, N], 25 * N), a2b: zeros(N),
    a3: he([3, 3, N, M], 9 * N), a3b: zeros(M),
    s1: he([3, 3, M, N], 9 * M), s1b: zeros(N),
    s2: he([5, 5, N, N], 25 * N), s2b: zeros(N), // conv2dTranspose filters: [h, w, out, in]
    s3: he([5, 5, 1, N], 25 * N), s3b: zeros(1),
  };
  // Zeros, drawn from no stream: the other weights of a codec with Y start as those of the same codec without.
  if (K) Object.assign(weights, sideWeights({ a1: N, a2: N, a3: M, s1: N, s2: N, s3: 1 }, K));
  return { shape, radius, prior, weights };
}

export function codecVariables(c: ImageCodec): Record<string, tf.Variable> {
  return { ...c.weights, ...priorVariables(c.prior) };
}

export function analysis(c: ImageCodec, x: tf.Tensor2D, hook: ActivationHook = id, side?: tf.Tensor4D): tf.Tensor4D {
  const w = c.weights;
  const img = x.reshape([-1, 28, 28, 1]) as tf.Tensor4D;
  const a1 = hook('a1', tf.relu(withSide(tf.conv2d(img, w.a1 as tf.Tensor4D, 2, 'same').add(w.a1b), w, 'a1', side)) as tf.Tensor4D);
  const a2 = hook('a2', tf.relu(withSide(tf.conv2d(a1, w.a2 as tf.Tensor4D, 2, 'same').add(w.a2b), w, 'a2', side)) as tf.Tensor4D);
  return withSide(tf.conv2d(a2, w.a3 as tf.Tensor4D, 1, 'same').add(w.a3b), w, 'a3', side);
}

/** The codec's g_s (its own weights as a Synthesis). */
export const synthesisOf = (c: ImageCodec): Synthesis => ({ N: c.shape.N, inChannels: c.shape.M, side: c.shape.side ?? 0, weights: c.weights });

export function synthesis(c: ImageCodec, yHat: tf.Tensor4D, hook: ActivationHook = id, side?: tf.Tensor4D): tf.Tensor2D {
  return synthesize(synthesisOf(c), yHat, side, hook);
}

/** Training forward pass: noisy latents. Returns the rate-distortion terms (scalars). */
export function codecLoss(c: ImageCodec, x: tf.Tensor2D, lambda: number, noise: tf.Tensor, hook?: ActivationHook, side?: tf.Tensor4D) {
  const y = analysis(c, x, hook, side);
  const yTilde = y.add(noise) as tf.Tensor4D;
  const lik = priorLikelihood(c.prior, yTilde);
  const bits = tf.log(lik).sum().div(-Math.LN2);
  const bpp = bits.div(x.shape[0] * PIXELS) as tf.Scalar;
  const xHat = synthesis(c, yTilde, hook, side);
  const mse = tf.losses.meanSquaredError(x, xHat) as tf.Scalar;
  const loss = mse.mul(lambda * 255 * 255).add(bpp) as tf.Scalar;
  return { loss, mse, bpp, xHat };
}

/** Inference: rounded latents, clamped to the table range; returns ŷ and x̂ (clipped). */
export function codecRoundTrip(c: ImageCodec, x: tf.Tensor2D, hook?: ActivationHook, side?: tf.Tensor4D): { yHat: tf.Tensor4D; xHat: tf.Tensor2D } {
  const yHat = tf.clipByValue(tf.round(analysis(c, x, hook, side)), -c.radius, c.radius) as tf.Tensor4D;
  return { yHat, xHat: tf.clipByValue(synthesis(c, yHat, hook, side), 0, 1) as tf.Tensor2D };
}

/** Freezes the prior into integer CDF tables (call after training, before encode). */
export function finalizeCodec(c: ImageCodec): void {
  c.tables = tabulatePrior(c.prior, c.radius);
}

function tablesOf(c: ImageCodec): CdfTable[] {
  if (!c.tables) throw new Error('codec has no CDF tables: finalize it after training');
  return c.tables;
}

/** Y of `n` images as a tensor [n, 7, 7, K] (undefined for a codec without side information). */
function sideTensor(c: ImageCodec, side: Float32Array | undefined, n: number): tf.Tensor4D | undefined {
  const K = c.shape.side ?? 0;
  if (!K) return undefined;
  if (!side || side.length !== n * 49 * K) throw new RangeError(`side information must be ${n} × 7 × 7 × ${K} values, not ${side?.length ?? 'none'}`);
  return tf.tensor4d(side, [n, 7, 7, K]);
}

/** `n` images (n·784 floats in [0, 1]) → one arithmetic-coded stream of all their latents (rates below a byte an image are counted this way). */
export function encodeStream(c: ImageCodec, pixels: Float32Array, n: number, hook?: ActivationHook, side?: Float32Array): Uint8Array {
  const t = tablesOf(c);
  const M = c.shape.M;
  const yHat = tf.tidy(() => tf.clipByValue(tf.round(analysis(c, tf.tensor2d(pixels, [n, PIXELS]), hook, sideTensor(c, side, n))), -c.radius, c.radius).dataSync());
  const symbols = Int32Array.from(yHat, (v) => v + c.radius);
  return arithEncode(symbols, (i) => t[i % M]).bytes;
}

/** One image (784 floats in [0, 1]) → its bytes. */
export function encodeImage(c: ImageCodec, pixels: Float32Array, hook?: ActivationHook, side?: Float32Array): Uint8Array {
  return encodeStream(c, pixels, 1, hook, side);
}

/** Bytes → the latents ŷ of `n` images (n·49·M values, [n, 7, 7, M] row-major): what the bits carry. */
export function decodeLatent(c: ImageCodec, bytes: Uint8Array, n = 1): Float32Array {
  const t = tablesOf(c);
  const M = c.shape.M;
  return Float32Array.from(arithDecode(bytes, n * 49 * M, (i) => t[i % M]), (s) => s - c.radius);
}

/** The encoder's quantization: ŷ = clamp(round(g_a(x)), ±radius), rounding straight-through for gradients. */
export function quantizeLatent(c: ImageCodec, y: tf.Tensor4D, round: (x: tf.Tensor) => tf.Tensor = tf.round): tf.Tensor4D {
  return tf.clipByValue(round(y), -c.radius, c.radius) as tf.Tensor4D;
}

/** Bytes of `n` images' stream → ŷ → x̂ (n·784 floats in [0, 1]). */
export function decodeStream(c: ImageCodec, bytes: Uint8Array, n: number, hook?: ActivationHook, side?: Float32Array): Float32Array {
  const yHat = decodeLatent(c, bytes, n);
  return tf.tidy(() => tf.clipByValue(synthesis(c, tf.tensor4d(yHat, [n, 7, 7, c.shape.M]), hook, sideTensor(c, side, n)), 0, 1).dataSync() as Float32Array);
}

/** Bytes → ŷ symbols → x̂ (784 floats in [0, 1]). */
export function decodeImage(c: ImageCodec, bytes: Uint8Array, hook?: ActivationHook, side?: Float32Array): Float32Array {
  return decodeStream(c, bytes, 1, hook, side);
}

export function disposeCodec(c: ImageCodec): void {
  for (const v of Object.values(codecVariables(c))) v.dispose();
}
