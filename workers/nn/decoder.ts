// The shared decoder-only transformer of the language labs (cot-dpo now; longpibench,
// mm-ego, mm15-mixture and afm-ondevice later): pre-RMSNorm blocks, optional QK-norm,
// grouped-query attention with RoPE, SwiGLU FFN, tied input/output embeddings, causal or
// sliding-window masks, left padding (rows of different lengths in one batch), the last
// layer's hidden states beside the logits, KV-cached sampling, per-token log-probs and LoRA.
// Every projection is a plain [in, out] matmul on a named variable, so an ONNX exporter maps
// each one to one MatMul and a checkpoint names each weight.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';

export interface DecoderConfig {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  /** Key/value heads (GQA): heads must be a multiple; equal to heads is plain multi-head. */
  kvHeads: number;
  ffnHidden: number;
  /** Longest sequence (prefix embeddings + tokens); sizes the RoPE tables. */
  maxLen: number;
  qkNorm: boolean;
  /** Sliding-window attention: a query sees the last `window` positions (itself included); null = full causal. */
  window: number | null;
  ropeBase: number;
}

export const PROJECTIONS = ['wq', 'wk', 'wv', 'wo', 'w1', 'w3', 'w2'] as const;
export type Projection = (typeof PROJECTIONS)[number];

export interface LoraAdapter { A: tf.Variable; B: tf.Variable; scale: number }

export interface Decoder {
  config: DecoderConfig;
  /** 'embed' [V, D], 'final_norm' [D], and per layer i: 'l{i}.attn_norm', 'l{i}.ffn_norm' [D],
   * 'l{i}.wq' [D, H·hd], 'l{i}.wk'/'l{i}.wv' [D, KV·hd], 'l{i}.wo' [H·hd, D],
   * 'l{i}.w1'/'l{i}.w3' [D, F], 'l{i}.w2' [F, D], and with QK-norm 'l{i}.q_norm'/'l{i}.k_norm' [hd]. */
  weights: Record<string, tf.Variable>;
  /** LoRA adapters keyed by the projection's weight name ('l0.wq', …): W·x + scale·B(A(x)). */
  lora: Record<string, LoraAdapter>;
  rope: { cos: tf.Tensor2D; sin: tf.Tensor2D };
}

/** Per layer, keys and values of the positions seen so far: [B, KV, T, hd]. */
export interface KvCache { k: tf.Tensor4D[]; v: tf.Tensor4D[]; length: number }

export const headDim = (c: DecoderConfig) => c.dModel / c.heads;

export function validateConfig(c: DecoderConfig): void {
  const problems: string[] = [];
  if (c.dModel % c.heads !== 0) problems.push(`dModel ${c.dModel} is not a multiple of heads ${c.heads}`);
  else if (headDim(c) % 2 !== 0) problems.push(`head size ${headDim(c)} must be even for RoPE`);
  if (c.heads % c.kvHeads !== 0) problems.push(`heads ${c.heads} is not a multiple of kvHeads ${c.kvHeads}`);
  if (c.window !== null && c.window < 1) problems.push(`window ${c.window} must be ≥ 1 or null`);
  if (problems.length) throw new RangeError(`decoder config: ${problems.join('; ')}`);
}

function ropeTables(c: DecoderConfig): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = headDim(c) / 2;
  const cos = new Float32Array(c.maxLen * half), sin = new Float32Array(c.maxLen * half);
  for (let p = 0; p < c.maxLen; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / c.ropeBase ** ((2 * i) / headDim(c));
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [c.maxLen, half]), sin: tf.tensor2d(sin, [c.maxLen, half]) };
}

/** Normal(0, 0.02)-style init scaled to the width; output projections shrunk by 1/√(2L) (GPT-2). */
export function createDecoder(c: DecoderConfig, rng: Rng): Decoder {
  validateConfig(c);
  const hd = headDim(c);
  const v = (dims: number[], std: number) => tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), std), dims), true));
  const ones = (n: number) => tf.tidy(() => tf.variable(tf.ones([n]), true));
  const std = 1 / Math.sqrt(c.dModel), out = std / Math.sqrt(2 * c.layers);
  const w: Record<string, tf.Variable> = { embed: v([c.vocab, c.dModel], std), final_norm: ones(c.dModel) };
  for (let i = 0; i < c.layers; i++) {
    w[`l${i}.attn_norm`] = ones(c.dModel);
    w[`l${i}.wq`] = v([c.dModel, c.heads * hd], std);
    w[`l${i}.wk`] = v([c.dModel, c.kvHeads * hd], std);
    w[`l${i}.wv`] = v([c.dModel, c.kvHeads * hd], std);
    w[`l${i}.wo`] = v([c.heads * hd, c.dModel], out);
    if (c.qkNorm) { w[`l${i}.q_norm`] = ones(hd); w[`l${i}.k_norm`] = ones(hd); }
    w[`l${i}.ffn_norm`] = ones(c.dModel);
    w[`l${i}.w1`] = v([c.dModel, c.ffnHidden], std);
    w[`l${i}.w3`] = v([c.dModel, c.ffnHidden], std);
    w[`l${i}.w2`] = v([c.ffnHidden, c.dModel], 1 / Math.sqrt(c.ffnHidden) / Math.sqrt(2 * c.layers));
  }
  return { config: c, weights: w, lora: {}, rope: ropeTables(c) };
}

/** Adds LoRA (rank r, scale α/r) to the named projections; B starts at zero so the model is unchanged. */
export function addLora(d: Decoder, projections: readonly Projection[], rank: number, alpha: number, rng: Rng): LoraAdapter[] {
  const added: LoraAdapter[] = [];
  for (let i = 0; i < d.config.layers; i++) {
    for (const p of projections) {
      const name = `l${i}.${p}`;
      const [fanIn, fanOut] = d.weights[name].shape;
      const A = tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(fanIn * rank, 1 / Math.sqrt(fanIn)), [fanIn, rank]), true));
      const B = tf.tidy(() => tf.variable(tf.zeros([rank, fanOut]), true));
      d.lora[name] = { A, B, scale: alpha / rank };
      added.push(d.lora[name]);
    }
  }
  return added;
}

/** Folds every adapter into its projection (W ← W + scale·A·B) and removes it: the plain layout again, for checkpoints and export. */
export function mergeLora(d: Decoder): void {
  for (const [name, a] of Object.entries(d.lora)) {
    const merged = tf.tidy(() => d.weights[name].add(tf.matMul(a.A, a.B).mul(a.scale)));
    d.weights[name].assign(merged);
    merged.dispose(); a.A.dispose(); a.B.dispose();
    delete d.lora[name];
  }
}

export function loraVariables(d: Decoder): tf.Variable[] {
  return Object.values(d.lora).flatMap((a) => [a.A, a.B]);
}

export function disposeDecoder(d: Decoder): void {
  for (const t of Object.values(d.weights)) t.dispose();
  for (const t of loraVariables(d)) t.dispose();
  d.rope.cos.dispose(); d.rope.sin.dispose();
}

export function disposeCache(cache: KvCache): void {
  for (const t of [...cache.k, ...cache.v]) t.dispose();
}

const rmsNorm = (x: tf.Tensor, gain: tf.Tensor, eps = 1e-6) => x.mul(tf.rsqrt(x.square().mean(-1, true).add(eps))).mul(gain);

/** x·W (+ LoRA): x [..., in] flattened to 2-D so the op is one MatMul. */
function project(d: Decoder, name: string, x: tf.Tensor): tf.Tensor {
  const shape = x.shape as number[];
  const flat = x.reshape([-1, shape[shape.length - 1]]) as tf.Tensor2D;
  let y = tf.matMul(flat, d.weights[name] as tf.Tensor2D);
  const lora = d.lora[name];
  if (lora) y = y.add(tf.matMul(tf.matMul(flat, lora.A as tf.Tensor2D), lora.B as tf.Tensor2D).mul(lora.scale));
  return y.reshape([...shape.slice(0, -1), y.shape[1] as number]);
}

/** RoPE on [B, heads, T, hd] for positions start..start+T-1 (rotates the two halves of each head). */
function rope(d: Decoder, x: tf.Tensor4D, start: number): tf.Tensor4D {
  const [, , T, hd] = x.shape;
  const half = hd / 2;
  const cos = d.rope.cos.slice([start, 0], [T, half]), sin = d.rope.sin.slice([start, 0], [T, half]);
  const x1 = x.slice([0, 0, 0, 0], [-1, -1, -1, half]), x2 = x.slice([0, 0, 0, half], [-1, -1, -1, half]);
  return tf.concat([x1.mul(cos).sub(x2.mul(sin)), x1.mul(sin).add(x2.mul(cos))], 3) as tf.Tensor4D;
}

/** Additive mask [T, Tk] for queries at start..start+T-1 over keys 0..start+T-1: 0 allowed, -1e9 not. */
export function attentionMask(T: number, start: number, window: number | null): Float32Array {
  const Tk = start + T;
  const m = new Float32Array(T * Tk);
  for (let q = 0; q < T; q++) {
    const qp = start + q;
    for (let k = 0; k < Tk; k++) if (k > qp || (window !== null && qp - k >= window)) m[q * Tk + k] = -1e9;
  }
  return m;
}

export interface ForwardOptions {
  /** Keys/values of earlier positions (sampling); the call appends to a new cache it returns. */
  cache?: KvCache;
  /** Keep the per-layer keys/values (to start a cache from a prompt). */
  returnCache?: boolean;
  /** Left padding: how many positions at the start of each row are padding. They are masked
   * as keys, so rows of different lengths share a batch and all end at the last position
   * (where the answer is read). RoPE is relative, so a padded row's real positions give the
   * same outputs as the row alone; the pad positions' own outputs are meaningless. */
  padStart?: readonly number[];
}

/** Additive key-padding mask [B, 1, 1, Tk]: -1e9 for a row's first padStart[b] keys, 0 after. */
function paddingMask(padStart: readonly number[], Tk: number): tf.Tensor4D {
  const m = new Float32Array(padStart.length * Tk);
  padStart.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 0 || n >= Tk) throw new RangeError(`row ${b}: ${n} padding positions must be an integer in 0..${Tk - 1}`);
    m.fill(-1e9, b * Tk, b * Tk + n);
  });
  return tf.tensor4d(m, [padStart.length, 1, 1, Tk]);
}

/**
 * Hidden states [B, T, D] → logits [B, T, V] (tied embeddings). `x` is already embedded, so
 * a vision prefix can be concatenated in front of token embeddings (see embedTokens).
 */
export function decoderForward(d: Decoder, x: tf.Tensor3D, opts: ForwardOptions = {}): { logits: tf.Tensor3D; hidden: tf.Tensor3D; cache?: KvCache } {
  const c = d.config, hd = headDim(c), G = c.heads / c.kvHeads;
  const [B, T] = x.shape;
  const start = opts.cache?.length ?? 0;
  if (start + T > c.maxLen) throw new RangeError(`sequence of ${start + T} positions exceeds the decoder's maxLen ${c.maxLen}`);
  const Tk = start + T;
  // The mask repeated for the G query heads that share one key/value head.
  const base = attentionMask(T, start, c.window);
  const maskData = new Float32Array(G * T * Tk);
  for (let g = 0; g < G; g++) maskData.set(base, g * T * Tk);
  const causal = tf.tensor2d(maskData, [G * T, Tk]);
  if (opts.padStart && opts.padStart.length !== B) throw new RangeError(`padding given for ${opts.padStart.length} rows in a batch of ${B}`);
  if (opts.padStart && opts.cache) throw new RangeError('padding is for whole sequences, not a cached continuation');
  const pad = opts.padStart?.some((n) => n !== 0) ? paddingMask(opts.padStart, Tk) : null;
  const mask = pad ? causal.add(pad) : causal;
  const cache: KvCache | undefined = opts.returnCache || opts.cache ? { k: [], v: [], length: Tk } : undefined;
  let h: tf.Tensor = x;
  for (let i = 0; i < c.layers; i++) {
    const a = rmsNorm(h, d.weights[`l${i}.attn_norm`]);
    let q = project(d, `l${i}.wq`, a).reshape([B, T, c.heads, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    let k = project(d, `l${i}.wk`, a).reshape([B, T, c.kvHeads, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    const vNew = project(d, `l${i}.wv`, a).reshape([B, T, c.kvHeads, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    if (c.qkNorm) { q = rmsNorm(q, d.weights[`l${i}.q_norm`]) as tf.Tensor4D; k = rmsNorm(k, d.weights[`l${i}.k_norm`]) as tf.Tensor4D; }
    q = rope(d, q, start); k = rope(d, k, start);
    const kAll = opts.cache ? tf.concat([opts.cache.k[i], k], 2) as tf.Tensor4D : k;
    const vAll = opts.cache ? tf.concat([opts.cache.v[i], vNew], 2) as tf.Tensor4D : vNew;
    if (cache) { cache.k.push(tf.keep(kAll)); cache.v.push(tf.keep(vAll)); }
    // GQA without copying keys: the G query heads of one KV head become G·T rows.
    const qg = q.reshape([B, c.kvHeads, G * T, hd]);
    const scores = tf.matMul(qg, kAll, false, true).mul(1 / Math.sqrt(hd)).add(mask);
    const ctx = tf.matMul(tf.softmax(scores), vAll).reshape([B, c.heads, T, hd]).transpose([0, 2, 1, 3]).reshape([B, T, c.heads * hd]);
    h = h.add(project(d, `l${i}.wo`, ctx));
    const f = rmsNorm(h, d.weights[`l${i}.ffn_norm`]);
    const gate = project(d, `l${i}.w1`, f);
    h = h.add(project(d, `l${i}.w2`, gate.mul(tf.sigmoid(gate)).mul(project(d, `l${i}.w3`, f))));
  }
  const hidden = rmsNorm(h, d.weights.final_norm) as tf.Tensor3D;
  const logits = tf.matMul(hidden.reshape([B * T, c.dModel]) as tf.Tensor2D, d.weights.embed as tf.Tensor2D, false, true).reshape([B, T, c.vocab]) as tf.Tensor3D;
  causal.dispose(); pad?.dispose(); if (mask !== causal) mask.dispose();
  return { logits, hidden, cache };
}

/** Token ids [B, T] → embeddings [B, T, D]. */
export function embedTokens(d: Decoder, tokens: tf.Tensor2D): tf.Tensor3D {
  return tf.gather(d.weights.embed, tokens.toInt()) as tf.Tensor3D;
}

/** log p(target) at every position: logits [B, T, V], targets [B, T] → [B, T]. */
export function tokenLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  const V = logits.shape[2];
  return tf.logSoftmax(logits).mul(tf.oneHot(targets.toInt(), V)).sum(-1) as tf.Tensor2D;
}

export interface SamplingOptions {
  maxNewTokens: number;
  temperature: number;
  /** Keep the k most likely tokens (0 = all). */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = all). */
  topP: number;
  /** Generation of a row stops after this token (it is included). */
  stopToken?: number;
  rng: Rng;
  /** false recomputes the whole sequence every step (the bench's no-cache baseline). */
  useCache?: boolean;
  /** Never pick a token the row has already generated (the stop token excepted): Hugging Face's no_repeat_ngram_size = 1. */
  noRepeat?: boolean;
}

export interface Sampled { tokens: number[][]; logProbs: number[][] }

/**
 * Token ids by logit, highest first, ties by lower id (the order the sampler walks). Small
 * vocabularies (up to 128 tokens: cot-dpo's) insertion-sort in place: a batch
 * of 512 rows picks a token per row each step, and a comparator sort cost more than the model.
 */
function descendingOrder(logits: Float32Array): Int32Array {
  const V = logits.length, order = new Int32Array(V);
  if (V > 128) {
    order.set(Array.from({ length: V }, (_, t) => t).sort((a, b) => logits[b] - logits[a] || a - b));
    return order;
  }
  for (let t = 0; t < V; t++) {
    const l = logits[t];
    let i = t;
    while (i > 0 && logits[order[i - 1]] < l) { order[i] = order[i - 1]; i--; }
    order[i] = t;
  }
  return order;
}

/** Picks a token from one row of logits (greedy when temperature is 0). Returns the token and its log-prob under the full softmax at T = 1. */
export function pickToken(logits: Float32Array, o: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP' | 'rng'>): { token: number; logProb: number } {
  const V = logits.length;
  let max = -Infinity;
  for (let t = 0; t < V; t++) if (logits[t] > max) max = logits[t];
  let z = 0;
  for (let t = 0; t < V; t++) z += Math.exp(logits[t] - max);
  const logProbOf = (t: number) => logits[t] - max - Math.log(z);
  if (o.temperature === 0) {
    let best = 0;
    for (let t = 1; t < V; t++) if (logits[t] > logits[best]) best = t;
    return { token: best, logProb: logProbOf(best) };
  }
  const order = descendingOrder(logits);
  const p = new Float64Array(V);
  for (let i = 0; i < V; i++) p[i] = Math.exp((logits[order[i]] - max) / o.temperature);
  let keep = o.topK > 0 ? Math.min(o.topK, V) : V;
  let total = 0;
  for (let i = 0; i < keep; i++) total += p[i];
  if (o.topP < 1) {
    let acc = 0;
    for (let i = 0; i < keep; i++) { acc += p[i] / total; if (acc >= o.topP) { keep = i + 1; break; } }
  }
  let kept = 0;
  for (let i = 0; i < keep; i++) kept += p[i];
  let u = o.rng.next() * kept;
  for (let i = 0; i < keep; i++) {
    u -= p[i];
    if (u < 0) return { token: order[i], logProb: logProbOf(order[i]) };
  }
  return { token: order[keep - 1], logProb: logProbOf(order[keep - 1]) };
}

/**
 * Samples continuations of a batch of prompts of equal length (prompt: embeddings [B, P, D]).
 * Returns the new tokens per row (up to and including stopToken) and their log-probs under
 * the model at temperature 1.
 */
export function sampleTokens(d: Decoder, prompt: tf.Tensor3D, o: SamplingOptions): Sampled {
  const B = prompt.shape[0];
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const logProbs: number[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  const useCache = o.useCache ?? true;
  let cache: KvCache | undefined;
  // Only the no-cache path re-reads the whole sequence.
  let seq: tf.Tensor3D | null = useCache ? null : tf.keep(prompt.clone());
  let last: Float32Array;
  {
    const r = tf.tidy(() => {
      const { logits, cache: c } = decoderForward(d, prompt, { returnCache: useCache });
      if (c) cache = c;
      return logits.slice([0, prompt.shape[1] - 1, 0], [B, 1, -1]).reshape([B, -1]);
    });
    last = r.dataSync() as Float32Array; r.dispose();
  }
  const V = d.config.vocab;
  for (let step = 0; step < o.maxNewTokens && done.some((x) => !x); step++) {
    const next = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      if (done[b]) { next[b] = o.stopToken ?? 0; continue; }
      let row = last.subarray(b * V, (b + 1) * V);
      if (o.noRepeat && tokens[b].length) {
        row = row.slice();
        for (const t of tokens[b]) if (t !== o.stopToken) row[t] = -Infinity;
      }
      const { token, logProb } = pickToken(row, o);
      tokens[b].push(token); logProbs[b].push(logProb); next[b] = token;
      if (token === o.stopToken) done[b] = true;
    }
    if (step === o.maxNewTokens - 1 || done.every((x) => x)) break;
    const r = tf.tidy(() => {
      const e = embedTokens(d, tf.tensor2d(next, [B, 1], 'int32'));
      if (useCache && cache) {
        const { logits, cache: c } = decoderForward(d, e, { cache });
        disposeCache(cache);
        cache = c;
        return logits.reshape([B, V]);
      }
      const grown = tf.concat([seq!, e], 1) as tf.Tensor3D;
      seq!.dispose(); seq = tf.keep(grown);
      const { logits } = decoderForward(d, grown);
      return logits.slice([0, grown.shape[1] - 1, 0], [B, 1, -1]).reshape([B, V]);
    });
    last = r.dataSync() as Float32Array; r.dispose();
  }
  if (cache) disposeCache(cache);
  seq?.dispose();
  return { tokens, logProbs };
}

/**
 * One prompt continued token by token with the KV cache, awaiting `onToken` between tokens (a UI
 * streams them; queries keep flowing). Returns the prefill time and the decode rate, as the
 * onnxruntime engine (runtime/onnx-generate.ts) does.
 */
export async function generateStream(d: Decoder, ids: readonly number[], o: Omit<SamplingOptions, 'useCache'> & { stopToken: number }, onToken?: (t: number) => Promise<void>) {
  const t0 = performance.now();
  let cache: KvCache | undefined;
  let last = tf.tidy(() => {
    const r = decoderForward(d, embedTokens(d, tf.tensor2d([Array.from(ids)], undefined, 'int32')), { returnCache: true });
    cache = r.cache;
    return r.logits.slice([0, ids.length - 1, 0], [1, 1, -1]).reshape([-1]);
  });
  let logits = last.dataSync() as Float32Array; last.dispose();
  const ttftMs = performance.now() - t0;
  const t1 = performance.now();
  let n = 0;
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      const { token } = pickToken(logits, o);
      n++;
      await onToken?.(token);
      if (token === o.stopToken || step === o.maxNewTokens - 1) break;
      last = tf.tidy(() => {
        const r = decoderForward(d, embedTokens(d, tf.tensor2d([[token]], undefined, 'int32')), { cache });
        disposeCache(cache!);
        cache = r.cache;
        return r.logits.reshape([-1]);
      });
      logits = last.dataSync() as Float32Array; last.dispose();
    }
  } finally {
    if (cache) disposeCache(cache);
  }
  return { ttftMs, tokensPerSec: n > 1 ? (n - 1) / ((performance.now() - t1) / 1000) : 0 };
}
