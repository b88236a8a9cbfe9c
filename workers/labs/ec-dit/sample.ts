// Euler sampling of the rectified flow from t = 0 (noise) to t = 1 (data) with
// classifier-free guidance. The conditional and the null branch are separate forwards, so
// each is its own routing group of `labels.length` images (expert choice makes a sample
// depend on its batch-mates: compare models on the same batches).
import * as tf from '@tensorflow/tfjs';
import type { DatasetName } from '../../runtime/datasets';
import { PIXELS } from '../../runtime/datasets';
import type { Rng } from '../../runtime/rng';
import { ditForward, tokensPerImage, type Dit } from '../../nn/dit';
import { CONTEXT_LEN, contextTokens } from './data';
import { spearman } from '../../runtime/stats';

/** One sampling step's routing in one MoE block (conditional branch): experts per token [B·N] and router probabilities [B·N·E]. */
export interface StepRouting { layer: number; expertsPerToken: Int32Array; probs: Float32Array; /** Bit e set when expert e processed the token [B·N]. */ expertMask: Int32Array }

export interface SampleResult {
  /** Final images [B, 784] in [0, 1]. */
  images: Float32Array;
  /** Per step (when traced): x_t after the step in [0, 1], and each MoE block's routing. */
  frames: { t: number; images: Float32Array; routing: StepRouting[] }[];
}

export function sampleImages(m: Dit, dataset: DatasetName, labels: ArrayLike<number>, steps: number, cfgScale: number, rng: Rng, opts: { trace?: boolean } = {}): SampleResult {
  const B = labels.length;
  const cond = contextTokens(dataset, labels), uncond = contextTokens(dataset, Array.from({ length: B }, () => -1));
  let x = tf.tensor2d(rng.normalArray(B * PIXELS), [B, PIXELS]);
  const frames: SampleResult['frames'] = [];
  const dt = 1 / steps;
  for (let k = 0; k < steps; k++) {
    const t = Float32Array.from({ length: B }, () => k * dt);
    let routing: StepRouting[] = [];
    const next = tf.tidy(() => {
      const c = ditForward(m, x, t, cond, CONTEXT_LEN, { trace: opts.trace });
      routing = Object.entries(c.routing).map(([layer, r]) => {
        const expertMask = new Int32Array(r.tokens);
        r.expertTokens.forEach((list, e) => { for (const tok of list) expertMask[tok] |= 1 << e; });
        return { layer: Number(layer), expertsPerToken: r.expertsPerToken, probs: r.probs, expertMask };
      });
      const v = cfgScale === 1 ? c.v : ditForward(m, x, t, uncond, CONTEXT_LEN).v.mul(1 - cfgScale).add(c.v.mul(cfgScale));
      return x.add(v.mul(dt)) as tf.Tensor2D;
    });
    x.dispose();
    x = next;
    if (opts.trace) frames.push({ t: (k + 1) * dt, images: toUnit(x.dataSync() as Float32Array), routing });
  }
  const images = toUnit(x.dataSync() as Float32Array);
  x.dispose();
  return { images, frames };
}

const toUnit = (v: Float32Array) => v.map((p) => Math.min(1, Math.max(0, (p + 1) / 2)));

/** Ink of each patch (sum of pixel values) of each image: [B, N]. */
export function patchInk(images: Float32Array, B: number, image: number, patch: number): Float32Array {
  const side = image / patch, out = new Float32Array(B * side * side);
  for (let b = 0; b < B; b++) for (let r = 0; r < image; r++) for (let c = 0; c < image; c++) {
    out[b * side * side + Math.floor(r / patch) * side + Math.floor(c / patch)] += images[b * image * image + r * image + c];
  }
  return out;
}

/**
 * Mean over images of ρ(final patch ink, experts per patch) for each MoE block and step:
 * [layerIndex][step]. Images whose ink or counts are constant are skipped.
 */
export function inkExpertSpearman(m: Dit, result: SampleResult, B: number): { layers: number[]; rho: number[][] } {
  const N = tokensPerImage(m.config);
  const ink = patchInk(result.images, B, m.config.image, m.config.patch);
  const layers = result.frames[0]?.routing.map((r) => r.layer) ?? [];
  const rho = layers.map((_, li) => result.frames.map((f) => {
    let sum = 0, n = 0;
    for (let b = 0; b < B; b++) {
      const r = spearman(ink.subarray(b * N, (b + 1) * N), f.routing[li].expertsPerToken.subarray(b * N, (b + 1) * N));
      if (Number.isFinite(r)) { sum += r; n++; }
    }
    return n ? sum / n : NaN;
  }));
  return { layers, rho };
}
