// Euler sampling of the rectified flow from t = 0 (noise) to t = 1 (data) with
// classifier-free guidance. The conditional and the null branch are separate forwards, so
// each is its own routing group of `labels.length` images (expert choice makes a sample
// depend on its batch-mates: compare models on the same batches).
import * as tf from '@tensorflow/tfjs';
import type { DatasetName } from '../runtime/datasets';
import { PIXELS } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';
import { ditForward, type Dit } from '../nn/dit';
import { CONTEXT_LEN, contextTokens } from '../data/class-condition';

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
