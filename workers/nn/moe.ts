// Mixture-of-experts FFNs for the diffusion transformer (ec-dit): expert-choice routing
// (each expert picks its top-C tokens of a routing group, EC-DiT / Zhou et al. 2022),
// token-choice top-2 with a capacity and the usual balancing loss (GShard), and the dense
// FFN they are compared with. Tokens move by gather / unsorted-segment-sum, whose
// gradients run on wasm with our UnsortedSegmentSum kernel (workers/runtime/wasm-kernels).
// Selection (which tokens, which experts) is computed in JS from the router probabilities,
// so ties break by lowest index, deterministically; gates stay differentiable.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';

/** E experts' two-layer FFNs stacked so all run as one batched matmul: [E, d, h], [E, h, d]. */
export interface ExpertWeights { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable }
export interface MoeWeights { router: tf.Variable; experts: ExpertWeights }

/** GELU, tanh-free: x·σ(1.702x) (Hendrycks & Gimpel's sigmoid approximation). */
export const gelu = (x: tf.Tensor) => x.mul(tf.sigmoid(x.mul(1.702)));

export function createExperts(E: number, d: number, h: number, rng: Rng): ExpertWeights {
  const v = (dims: number[], std: number) => tf.tidy(() => tf.variable(std === 0 ? tf.zeros(dims) : tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), std), dims), true));
  return { w1: v([E, d, h], 1 / Math.sqrt(d)), b1: v([E, 1, h], 0), w2: v([E, h, d], 1 / Math.sqrt(h)), b2: v([E, 1, d], 0) };
}

export function createMoe(E: number, d: number, h: number, rng: Rng): MoeWeights {
  return { router: tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(d * E, 1 / Math.sqrt(d)), [d, E]), true)), experts: createExperts(E, d, h, rng) };
}

/** Every expert on its own token slots: x [E, C, d] → [E, C, d]. */
export function expertFfn(w: ExpertWeights, x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.matMul(gelu(tf.matMul(x, w.w1 as tf.Tensor3D).add(w.b1)) as tf.Tensor3D, w.w2 as tf.Tensor3D).add(w.b2) as tf.Tensor3D);
}

/** Expert capacity of expert choice: C = floor(S·f_c / E). */
export const ecCapacity = (S: number, E: number, fc: number) => Math.floor((S * fc) / E);
/** Expert capacity of token-choice top-k: floor(factor · S·k / E). */
export const tcCapacity = (S: number, E: number, k: number, factor: number) => Math.floor((factor * S * k) / E);

/** What a MoE layer decided, for heatmaps and tests (plain arrays, no tensors). */
export interface RoutingTrace {
  kind: 'ec' | 'tc';
  tokens: number;
  experts: number;
  capacity: number;
  /** Router probabilities [S, E] (softmax over experts). */
  probs: Float32Array;
  /** How many experts processed each token [S]. */
  expertsPerToken: Int32Array;
  /** Token indices each expert processed, [E][≤ capacity] (in selection order). */
  expertTokens: number[][];
  /** Token-choice only: (token, choice) assignments dropped for lack of capacity. */
  droppedAssignments: number;
}

/** Indices of the C largest values of column e of probs [S, E]: larger first, ties to the lower token index. */
export function topTokensPerExpert(probs: Float32Array, S: number, E: number, C: number): number[][] {
  const out: number[][] = [];
  const order = new Int32Array(S);
  for (let e = 0; e < E; e++) {
    for (let s = 0; s < S; s++) order[s] = s;
    const sorted = Array.from(order).sort((a, b) => probs[b * E + e] - probs[a * E + e] || a - b);
    out.push(sorted.slice(0, C));
  }
  return out;
}

/** A routing decision as a trace: counts experts per token from the experts' token lists. */
export function traceOf(kind: RoutingTrace['kind'], probs: Float32Array, S: number, E: number, capacity: number, expertTokens: number[][], dropped: number): RoutingTrace {
  const expertsPerToken = new Int32Array(S);
  for (const list of expertTokens) for (const s of list) expertsPerToken[s]++;
  return { kind, tokens: S, experts: E, capacity, probs, expertsPerToken, expertTokens, droppedAssignments: dropped };
}

/**
 * Sends token slots to the experts and back: slot j of expert e holds token `index[e·C + j]`
 * weighted by `gate[e·C + j]` (0 for padding). x [S, d] → y [S, d], y_s = Σ gate·FFN_e(x_s).
 */
function dispatch(x: tf.Tensor2D, w: ExpertWeights, index: Int32Array, gates: tf.Tensor1D, E: number, C: number): tf.Tensor2D {
  const [S, d] = x.shape;
  const idx = tf.tensor1d(index, 'int32');
  const xin = tf.gather(x, idx).reshape([E, C, d]) as tf.Tensor3D;
  const out = expertFfn(w, xin).reshape([E * C, d]).mul(gates.expandDims(1));
  return tf.unsortedSegmentSum(out, idx, S) as tf.Tensor2D;
}

/**
 * Expert-choice MoE over one routing group x [S, d]: A = softmax_E(x·W_r); expert i takes
 * the top-C tokens of column i, C = floor(S·f_c/E), gate G = A at those entries; no
 * balancing loss; a token is processed by 0…E experts.
 */
export function expertChoiceMoe(x: tf.Tensor2D, w: MoeWeights, fc: number): { y: tf.Tensor2D; trace: RoutingTrace } {
  const [S] = x.shape;
  const E = w.router.shape[1] as number;
  const C = ecCapacity(S, E, fc);
  if (C < 1) throw new RangeError(`expert choice needs S·f_c ≥ E (S = ${S}, f_c = ${fc}, E = ${E})`);
  let trace!: RoutingTrace;
  // One router softmax: its values choose the tokens (read here) and its graph carries the gates' gradient.
  const y = tf.tidy(() => {
    const A = tf.softmax(tf.matMul(x, w.router as tf.Tensor2D));
    const probs = A.dataSync() as Float32Array;
    const expertTokens = topTokensPerExpert(probs, S, E, C);
    const index = new Int32Array(E * C), gateIndex = new Int32Array(E * C);
    expertTokens.forEach((list, e) => list.forEach((s, j) => { index[e * C + j] = s; gateIndex[e * C + j] = s * E + e; }));
    trace = traceOf('ec', probs, S, E, C, expertTokens, 0);
    const gates = tf.gather(A.reshape([S * E]), tf.tensor1d(gateIndex, 'int32')) as tf.Tensor1D;
    return dispatch(x, w.experts, index, gates, E, C);
  });
  return { y, trace };
}

/**
 * Token-choice top-2 MoE (GShard): each token picks its two most probable experts, gates
 * renormalised over the two; an expert keeps at most floor(factor·2S/E) assignments, first
 * choices of all tokens before second choices, in token order; the rest are dropped (the
 * residual carries the token). Balancing loss E·Σ_e f_e·P_e (f_e: share of first choices,
 * P_e: mean router probability), to be added to the training loss with a weight.
 */
export function tokenChoiceMoe(x: tf.Tensor2D, w: MoeWeights, capacityFactor: number): { y: tf.Tensor2D; auxLoss: tf.Scalar; trace: RoutingTrace } {
  const [S] = x.shape;
  const E = w.router.shape[1] as number, k = 2;
  const C = Math.max(1, tcCapacity(S, E, k, capacityFactor));
  let trace!: RoutingTrace;
  // One router softmax: its values choose the experts (read here) and its graph carries gates and balancing loss.
  const out = tf.tidy(() => {
    const A = tf.softmax(tf.matMul(x, w.router as tf.Tensor2D));
    const probs = A.dataSync() as Float32Array;
    const choice = new Int32Array(S * k);
    const firstShare = new Float32Array(E);
    for (let s = 0; s < S; s++) {
      let a = 0;
      for (let e = 1; e < E; e++) if (probs[s * E + e] > probs[s * E + a]) a = e;
      let b = a === 0 ? 1 : 0;
      for (let e = 0; e < E; e++) if (e !== a && probs[s * E + e] > probs[s * E + b]) b = e;
      choice[s * k] = a; choice[s * k + 1] = b;
      firstShare[a] += 1 / S;
    }
    const expertTokens: number[][] = Array.from({ length: E }, () => []);
    const slotChoice: number[][] = Array.from({ length: E }, () => []);
    let dropped = 0;
    for (let r = 0; r < k; r++) for (let s = 0; s < S; s++) {
      const e = choice[s * k + r];
      if (expertTokens[e].length < C) { expertTokens[e].push(s); slotChoice[e].push(r); } else dropped++;
    }
    // Padding slots point at token 0 with gate 0 (computed, then multiplied away).
    const index = new Int32Array(E * C), gateIndex = new Int32Array(E * C), otherIndex = new Int32Array(E * C), live = new Float32Array(E * C);
    expertTokens.forEach((list, e) => list.forEach((s, j) => {
      const r = slotChoice[e][j];
      index[e * C + j] = s; gateIndex[e * C + j] = s * E + e; otherIndex[e * C + j] = s * E + choice[s * k + (1 - r)]; live[e * C + j] = 1;
    }));
    trace = traceOf('tc', probs, S, E, C, expertTokens, dropped);
    const flat = A.reshape([S * E]);
    const mine = tf.gather(flat, tf.tensor1d(gateIndex, 'int32')), other = tf.gather(flat, tf.tensor1d(otherIndex, 'int32'));
    const gates = mine.div(mine.add(other)).mul(tf.tensor1d(live)) as tf.Tensor1D;
    const y = dispatch(x, w.experts, index, gates, E, C);
    const auxLoss = A.mean(0).mul(tf.tensor1d(firstShare)).sum().mul(E) as tf.Scalar;
    return { y, auxLoss };
  });
  return { ...out, trace };
}

/** Activated multiply-adds per token of each FFN kind (router included), for equal-compute baselines. */
export function ffnMacsPerToken(kind: 'dense' | 'ec' | 'tc', d: number, hidden: number, E: number, fc: number): number {
  if (kind === 'dense') return 2 * d * hidden;
  return d * E + fc * 2 * d * hidden; // router + on average f_c (EC) or ≤ 2 (TC) experts of width `hidden`
}
