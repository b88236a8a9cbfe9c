// A small diffusion transformer (DiT / PixArt style) for 28 x 28 single-channel images:
// patchify (p x p patches → tokens) + fixed 2-D sine-cosine positions; each block is
// self-attention → cross-attention to the condition tokens → FFN, with adaLN-zero
// timestep modulation of the self-attention and FFN (shift, scale, gate); the FFN of a
// block is dense, expert-choice MoE or token-choice MoE (./moe). The output is a velocity
// per pixel (rectified flow). One forward routes all of its batch's tokens as one group,
// so callers choose the routing group by what they batch together.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';
import { createMoe, expertChoiceMoe, gelu, tokenChoiceMoe, type MoeWeights, type RoutingTrace } from './moe';

export type FfnKind = 'dense' | 'ec' | 'tc';

export interface DitConfig {
  image: number;
  patch: number;
  dModel: number;
  heads: number;
  layers: number;
  /** Condition vocabulary (class-name tokens and the null token). */
  contextVocab: number;
  /** FFN kind of each block. */
  ffn: readonly FfnKind[];
  /** Hidden width of each block's FFN when its kind is 'dense' (ignored for MoE blocks). */
  ffnHidden: readonly number[];
  experts: number;
  expertHidden: number;
  /** f_c of expert choice (tokens per expert = S·f_c/E). */
  capacityFactor: number;
  /** Capacity factor of token choice top-2. */
  tcCapacityFactor: number;
}

export interface Dit { config: DitConfig; weights: Record<string, tf.Variable>; moe: Record<number, MoeWeights>; pos: tf.Tensor2D }

export const tokensPerImage = (c: DitConfig) => (c.image / c.patch) ** 2;

/** Fixed 2-D sine-cosine position table [N, d] (half the channels for rows, half for columns). */
export function positionTable(side: number, d: number): Float32Array {
  const out = new Float32Array(side * side * d), quarter = d / 4;
  for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) {
    const row = (r * side + c) * d;
    for (let i = 0; i < quarter; i++) {
      const f = 1 / 10000 ** (i / quarter);
      out[row + i] = Math.sin(r * f); out[row + quarter + i] = Math.cos(r * f);
      out[row + 2 * quarter + i] = Math.sin(c * f); out[row + 3 * quarter + i] = Math.cos(c * f);
    }
  }
  return out;
}

/** Sinusoidal features of t ∈ [0, 1] (scaled by 1000, as DiT's integer steps): [B, dim]. */
export function timestepFeatures(t: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2, out = new Float32Array(t.length * dim);
  for (let b = 0; b < t.length; b++) for (let i = 0; i < half; i++) {
    const a = 1000 * t[b] / 10000 ** (i / half);
    out[b * dim + i] = Math.cos(a); out[b * dim + half + i] = Math.sin(a);
  }
  return out;
}

export const T_FEATURES = 64;

export function createDit(c: DitConfig, rng: Rng): Dit {
  if (c.image % c.patch) throw new RangeError(`image ${c.image} is not a multiple of patch ${c.patch}`);
  if (c.dModel % c.heads || c.dModel % 4) throw new RangeError(`dModel ${c.dModel} must split into ${c.heads} heads and 4 position quarters`);
  if (c.ffn.length !== c.layers || c.ffnHidden.length !== c.layers) throw new RangeError(`${c.ffn.length} FFN kinds and ${c.ffnHidden.length} widths for ${c.layers} layers`);
  const d = c.dModel, pp = c.patch * c.patch;
  const v = (dims: number[], std: number) => tf.tidy(() => tf.variable(std === 0 ? tf.zeros(dims) : tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), std), dims), true));
  const w: Record<string, tf.Variable> = {
    patch_w: v([pp, d], 1 / Math.sqrt(pp)), patch_b: v([d], 0),
    t_w1: v([T_FEATURES, d], 1 / Math.sqrt(T_FEATURES)), t_b1: v([d], 0), t_w2: v([d, d], 1 / Math.sqrt(d)), t_b2: v([d], 0),
    context: v([c.contextVocab, d], 1),
    // adaLN-zero: the final modulation and every gate start at zero, so each block starts as identity.
    final_mod: v([d, 2 * d], 0), final_mod_b: v([2 * d], 0), final_w: v([d, pp], 0), final_b: v([pp], 0),
  };
  const moe: Record<number, MoeWeights> = {};
  for (let i = 0; i < c.layers; i++) {
    w[`l${i}.mod`] = v([d, 6 * d], 0); w[`l${i}.mod_b`] = v([6 * d], 0);
    w[`l${i}.qkv`] = v([d, 3 * d], 1 / Math.sqrt(d)); w[`l${i}.attn_o`] = v([d, d], 1 / Math.sqrt(d));
    w[`l${i}.xq`] = v([d, d], 1 / Math.sqrt(d)); w[`l${i}.xkv`] = v([d, 2 * d], 1 / Math.sqrt(d)); w[`l${i}.x_o`] = v([d, d], 0);
    if (c.ffn[i] === 'dense') {
      const h = c.ffnHidden[i];
      w[`l${i}.ffn_w1`] = v([d, h], 1 / Math.sqrt(d)); w[`l${i}.ffn_b1`] = v([h], 0);
      w[`l${i}.ffn_w2`] = v([h, d], 1 / Math.sqrt(h)); w[`l${i}.ffn_b2`] = v([d], 0);
    } else {
      moe[i] = createMoe(c.experts, d, c.expertHidden, rng);
    }
  }
  const side = c.image / c.patch;
  return { config: c, weights: w, moe, pos: tf.tensor2d(positionTable(side, d), [side * side, d]) };
}

/** Every trainable variable, named (checkpoints). */
export function ditVariables(m: Dit): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = { ...m.weights };
  for (const [i, w] of Object.entries(m.moe)) {
    out[`l${i}.router`] = w.router;
    for (const [k, v] of Object.entries(w.experts)) out[`l${i}.experts.${k}`] = v;
  }
  return out;
}

export function disposeDit(m: Dit): void {
  for (const v of Object.values(ditVariables(m))) v.dispose();
  m.pos.dispose();
}

export function parameterCount(m: Dit): number {
  return Object.values(ditVariables(m)).reduce((s, v) => s + v.size, 0);
}

/** [B, 784] → [B, N, p·p] patches, row-major. */
export function patchify(x: tf.Tensor2D, image: number, p: number): tf.Tensor3D {
  const B = x.shape[0], side = image / p;
  return x.reshape([B, side, p, side, p]).transpose([0, 1, 3, 2, 4]).reshape([B, side * side, p * p]) as tf.Tensor3D;
}

/** Inverse of patchify. */
export function unpatchify(x: tf.Tensor3D, image: number, p: number): tf.Tensor2D {
  const B = x.shape[0], side = image / p;
  return x.reshape([B, side, side, p, p]).transpose([0, 1, 3, 2, 4]).reshape([B, image * image]) as tf.Tensor2D;
}

const layerNorm = (x: tf.Tensor) => { const { mean, variance } = tf.moments(x, -1, true); return x.sub(mean).div(variance.add(1e-6).sqrt()); };
const linear = (x: tf.Tensor, w: tf.Variable, b?: tf.Variable) => {
  const d = x.shape[x.shape.length - 1];
  const y = tf.matMul(x.reshape([-1, d]) as tf.Tensor2D, w as tf.Tensor2D);
  return (b ? y.add(b) : y).reshape([...x.shape.slice(0, -1), w.shape[1] as number]);
};

function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [B, T, d] = q.shape, Tk = k.shape[1], hd = d / heads;
  const split = (x: tf.Tensor3D, n: number) => x.reshape([B, n, heads, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  const scores = tf.matMul(split(q, T), split(k, Tk), false, true).mul(1 / Math.sqrt(hd));
  return tf.matMul(tf.softmax(scores), split(v, Tk)).transpose([0, 2, 1, 3]).reshape([B, T, d]) as tf.Tensor3D;
}

export interface DitForward {
  /** Velocity [B, 784]. */
  v: tf.Tensor2D;
  /** Sum of the token-choice balancing losses of the MoE blocks (0 without token choice). */
  auxLoss: tf.Scalar;
  /** Per block index of a MoE block, its routing decision (when `trace` was asked). */
  routing: Record<number, RoutingTrace>;
}

/**
 * x_t [B, 784] (pixels in [-1, 1] scale), t [B] in [0, 1], context token ids [B, L] →
 * velocity. All B·N tokens of the call form each MoE block's routing group.
 */
export function ditForward(m: Dit, xt: tf.Tensor2D, t: ArrayLike<number>, context: Int32Array, contextLen: number, opts: { trace?: boolean } = {}): DitForward {
  const c = m.config, d = c.dModel, B = xt.shape[0], N = tokensPerImage(c);
  const routing: Record<number, RoutingTrace> = {};
  let aux: tf.Scalar = tf.scalar(0);
  let h = linear(patchify(xt, c.image, c.patch), m.weights.patch_w, m.weights.patch_b).add(m.pos) as tf.Tensor3D;
  const te = tf.tensor2d(timestepFeatures(t, T_FEATURES), [B, T_FEATURES]);
  const t1 = linear(te, m.weights.t_w1, m.weights.t_b1);
  const cond = linear(t1.mul(tf.sigmoid(t1)), m.weights.t_w2, m.weights.t_b2) as tf.Tensor2D;
  const ctx = tf.gather(m.weights.context, tf.tensor2d(context, [B, contextLen], 'int32')) as tf.Tensor3D;
  const condAct = cond.mul(tf.sigmoid(cond)); // SiLU before every modulation, as DiT
  for (let i = 0; i < c.layers; i++) {
    const mod = linear(condAct, m.weights[`l${i}.mod`], m.weights[`l${i}.mod_b`]).reshape([B, 1, 6 * d]);
    const [shiftA, scaleA, gateA, shiftF, scaleF, gateF] = tf.split(mod, 6, 2);
    const a = layerNorm(h).mul(scaleA.add(1)).add(shiftA);
    const [q, k, v] = tf.split(linear(a, m.weights[`l${i}.qkv`]), 3, 2) as tf.Tensor3D[];
    h = h.add(linear(attention(q, k, v, c.heads), m.weights[`l${i}.attn_o`]).mul(gateA)) as tf.Tensor3D;
    // Cross-attention to the condition tokens (no modulation, as PixArt).
    const xq = linear(layerNorm(h), m.weights[`l${i}.xq`]) as tf.Tensor3D;
    const [xk, xv] = tf.split(linear(ctx, m.weights[`l${i}.xkv`]), 2, 2) as tf.Tensor3D[];
    h = h.add(linear(attention(xq, xk, xv, c.heads), m.weights[`l${i}.x_o`])) as tf.Tensor3D;
    // The FFN sees x' = x + MHCA(x), normalised and modulated; the router reads the same.
    const f = layerNorm(h).mul(scaleF.add(1)).add(shiftF).reshape([B * N, d]) as tf.Tensor2D;
    let y: tf.Tensor2D;
    if (c.ffn[i] === 'dense') {
      y = linear(gelu(linear(f, m.weights[`l${i}.ffn_w1`], m.weights[`l${i}.ffn_b1`])), m.weights[`l${i}.ffn_w2`], m.weights[`l${i}.ffn_b2`]) as tf.Tensor2D;
    } else if (c.ffn[i] === 'ec') {
      const r = expertChoiceMoe(f, m.moe[i], c.capacityFactor);
      y = r.y;
      if (opts.trace) routing[i] = r.trace;
    } else {
      const r = tokenChoiceMoe(f, m.moe[i], c.tcCapacityFactor);
      y = r.y; aux = aux.add(r.auxLoss) as tf.Scalar;
      if (opts.trace) routing[i] = r.trace;
    }
    h = h.add(y.reshape([B, N, d]).mul(gateF)) as tf.Tensor3D;
  }
  const [shift, scale] = tf.split(linear(condAct, m.weights.final_mod, m.weights.final_mod_b).reshape([B, 1, 2 * d]), 2, 2);
  const out = linear(layerNorm(h).mul(scale.add(1)).add(shift), m.weights.final_w, m.weights.final_b) as tf.Tensor3D;
  return { v: unpatchify(out, c.image, c.patch), auxLoss: aux, routing };
}
