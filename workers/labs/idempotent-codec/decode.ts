// The two decoders of the same bits. The MSE decode: bits → ŷ → x̄ = g_s(ŷ). The perceptual
// decode: sample the DDPM prior while pulling each step toward idempotence, d(x) =
// ‖x̄ − h(x)‖₂ with h = g_s ∘ clamp ∘ round_STE ∘ g_a (the real encoder's quantization) —
// measured in the prior's [-1, 1] pixel scale, as the paper's code measures it on its images.
import * as tf from '@tensorflow/tfjs';
import { PIXELS } from '../../runtime/datasets';
import type { Rng } from '../../runtime/rng';
import { analysis, decodeLatent, encodeImage, quantizeLatent, synthesis, type ImageCodec } from '../../nn/image-codec';
import { roundSTE } from '../../nn/ste';
import { ditEps, sampleDdpm, type Guidance, type ImageDistance } from '../../train/ddpm-sampling';
import type { DdpmPrior } from '../../shared-parts/prior';

export interface Bits {
  /** Per image, its arithmetic-coded bytes. */
  bytes: Uint8Array[];
  /** Per image, ŷ as decoded from its bytes (49·M values). */
  latents: Float32Array[];
}

/** Encodes images (n·784 floats in [0, 1]) to real bitstreams and decodes ŷ back from the bytes. */
export function encodeImages(codec: ImageCodec, pixels: Float32Array, n: number): Bits {
  const bytes: Uint8Array[] = [], latents: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const b = encodeImage(codec, pixels.subarray(i * PIXELS, (i + 1) * PIXELS));
    bytes.push(b);
    latents.push(decodeLatent(codec, b));
  }
  return { bytes, latents };
}

const latentTensor = (codec: ImageCodec, latents: readonly Float32Array[]) => {
  const M = codec.shape.M, flat = new Float32Array(latents.length * 49 * M);
  latents.forEach((l, i) => flat.set(l, i * 49 * M));
  return tf.tensor4d(flat, [latents.length, 7, 7, M]);
};

/** x̄ = g_s(ŷ) for each image, unclipped (the constraint's target); callers clip to [0, 1] to show or score it. */
export function mseDecode(codec: ImageCodec, latents: readonly Float32Array[]): Float32Array {
  return tf.tidy(() => synthesis(codec, latentTensor(codec, latents)).dataSync() as Float32Array);
}

/** h(x): the codec's round trip with the encoder's own quantization (STE gradients); x in [0, 1]. */
export const roundTrip = (codec: ImageCodec, x: tf.Tensor2D) => synthesis(codec, quantizeLatent(codec, analysis(codec, x), roundSTE));

/**
 * d_i(x̂₀) = ‖(2x̄_i − 1) − (2h((x̂₀ + 1)/2) − 1)‖₂ per image, x̂₀ in the prior's [-1, 1]. An
 * idempotent estimate makes d exactly 0 (h(x̂₀) and x̄ are the same synthesis of the same
 * symbols), where the norm's gradient is 0/0: a 1e-12 under the root keeps it 0 there.
 */
export function idempotenceDistance(codec: ImageCodec, xbar: tf.Tensor2D): ImageDistance {
  return (x0) => roundTrip(codec, x0.add(1).div(2) as tf.Tensor2D).sub(xbar).mul(2).square().sum(1).add(1e-12).sqrt() as tf.Tensor1D;
}

export interface PerceptualOptions { guidance: Guidance; steps: number; batch: number }

/**
 * Perceptual decodes of the given latents, one noise stream per image; returns images in
 * [0, 1] (n·784) and each image's final distance. `onImages(done)` after every batch.
 */
export function perceptualDecode(
  prior: DdpmPrior, codec: ImageCodec, latents: readonly Float32Array[], streams: readonly Rng[], o: PerceptualOptions, onStep?: (done: number, total: number) => void,
): { images: Float32Array; distance: Float32Array } {
  const n = latents.length;
  const images = new Float32Array(n * PIXELS), distance = new Float32Array(n);
  const eps = ditEps(prior.dit, prior.schedule);
  const totalSteps = Math.ceil(n / o.batch) * o.steps;
  for (let start = 0, b = 0; start < n; start += o.batch, b++) {
    const part = latents.slice(start, start + o.batch);
    const xbar = tf.tensor2d(mseDecode(codec, part), [part.length, PIXELS]);
    try {
      const out = sampleDdpm(eps, prior.schedule, streams.slice(start, start + part.length), { steps: o.steps, eta: 1, guidance: o.guidance }, idempotenceDistance(codec, xbar),
        (done) => onStep?.(b * o.steps + done, totalSteps));
      const bad = out.images.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`the perceptual decode of image ${start + Math.floor(bad / PIXELS)} produced a non-finite pixel (guidance diverged)`);
      for (let i = 0; i < out.images.length; i++) images[start * PIXELS + i] = Math.min(1, Math.max(0, (out.images[i] + 1) / 2));
      distance.set(out.distance, start);
    } finally {
      xbar.dispose();
    }
  }
  return { images, distance };
}

/** Re-encodes decodes (n·784 in [0, 1]) and compares with the received ŷ: same bits per image, mean |Δ symbol|, and h(x) for PSNR. */
export function reencode(codec: ImageCodec, decoded: Float32Array, received: readonly Float32Array[]): { same: boolean[]; symbolDistance: number[]; roundTrip: Float32Array } {
  const n = received.length;
  return tf.tidy(() => {
    const x = tf.tensor2d(decoded, [n, PIXELS]);
    const yHat = quantizeLatent(codec, analysis(codec, x));
    const symbols = yHat.dataSync();
    const per = 49 * codec.shape.M;
    const same: boolean[] = [], symbolDistance: number[] = [];
    for (let i = 0; i < n; i++) {
      let diff = 0, equal = true;
      for (let k = 0; k < per; k++) { const d = Math.abs(symbols[i * per + k] - received[i][k]); diff += d; if (d !== 0) equal = false; }
      same.push(equal); symbolDistance.push(diff / per);
    }
    const back = tf.clipByValue(synthesis(codec, yHat), 0, 1).dataSync() as Float32Array;
    return { same, symbolDistance, roundTrip: Float32Array.from(back) };
  });
}
