// Euler sampling of the rectified flow from t = 0 (noise) to t = 1 (data) with
// classifier-free guidance. The conditional and the null branch are separate forwards, so
// each is its own routing group of `labels.length` images (expert choice makes a sample
// depend on its batch-mates: compare models on the same batches). The velocity comes from
// a field: the TF.js model (tfjsVelocity) or its onnxruntime export (nn/dit-onnx).
import * as tf from '@tensorflow/tfjs';
import type { DatasetName } from '../runtime/datasets';
import { PIXELS } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';
import { ditForward, type Dit } from '../nn/dit';
import type { RoutingTrace } from '../nn/moe';
import { CONTEXT_LEN, contextTokens } from '../data/class-condition';

/** One sampling step's routing in one MoE block (conditional branch): experts per token [B·N] and router probabilities [B·N·E]. */
export interface StepRouting { layer: number; expertsPerToken: Int32Array; probs: Float32Array; /** Bit e set when expert e processed the token [B·N]. */ expertMask: Int32Array }

export interface SampleResult {
  /** Final images [B, 784] in [0, 1]. */
  images: Float32Array;
  /** Per step (when traced): x_t after the step in [0, 1], and each MoE block's routing. */
  frames: { t: number; images: Float32Array; routing: StepRouting[] }[];
}

/** A DiT's velocity at x_t [B, 784] for times t [B] and condition tokens [B, CONTEXT_LEN], with each MoE block's routing when traced. */
export type VelocityField = (x: Float32Array, t: Float32Array, context: Int32Array, trace: boolean) => Promise<{ v: Float32Array; routing: Record<number, RoutingTrace> }>;

/** The TF.js model as a velocity field. */
export function tfjsVelocity(m: Dit): VelocityField {
  return async (x, t, context, trace) => {
    const B = t.length;
    let routing: Record<number, RoutingTrace> = {};
    const v = tf.tidy(() => {
      const out = ditForward(m, tf.tensor2d(x, [B, PIXELS]), t, context, CONTEXT_LEN, { trace });
      routing = out.routing;
      return out.v;
    });
    const data = v.dataSync() as Float32Array;
    v.dispose();
    return { v: data, routing };
  };
}

export async function sampleImages(field: VelocityField, dataset: DatasetName, labels: ArrayLike<number>, steps: number, cfgScale: number, rng: Rng, opts: { trace?: boolean } = {}): Promise<SampleResult> {
  const B = labels.length;
  const cond = contextTokens(dataset, labels), uncond = contextTokens(dataset, Array.from({ length: B }, () => -1));
  const x = Float32Array.from(rng.normalArray(B * PIXELS));
  const frames: SampleResult['frames'] = [];
  const dt = 1 / steps;
  for (let k = 0; k < steps; k++) {
    const t = new Float32Array(B).fill(k * dt);
    const c = await field(x, t, cond, opts.trace ?? false);
    const routing: StepRouting[] = Object.entries(c.routing).map(([layer, r]) => {
      const expertMask = new Int32Array(r.tokens);
      r.expertTokens.forEach((list, e) => { for (const tok of list) expertMask[tok] |= 1 << e; });
      return { layer: Number(layer), expertsPerToken: r.expertsPerToken, probs: r.probs, expertMask };
    });
    const u = cfgScale === 1 ? null : (await field(x, t, uncond, false)).v;
    for (let i = 0; i < x.length; i++) x[i] += dt * (u ? u[i] * (1 - cfgScale) + c.v[i] * cfgScale : c.v[i]);
    if (opts.trace) frames.push({ t: (k + 1) * dt, images: toUnit(x), routing });
  }
  return { images: toUnit(x), frames };
}

const toUnit = (v: Float32Array) => v.map((p) => Math.min(1, Math.max(0, (p + 1) / 2)));
