// The small VLM: each digit slot becomes one visual token (the judge's frozen conv features,
// a learned projection and a slot embedding), then the shared decoder reads
// [slot tokens, <op>, <format>] and writes the answer or the chain, character by character.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng';
import { createDecoder, decoderForward, disposeDecoder, embedTokens, sampleTokens, tokenLogProbs, type Decoder, type DecoderConfig } from '../../nn/decoder';
import { openDecoderOnnx, readDecoderWeights } from '../../nn/decoder-onnx';
import { SLOTS } from './data';
import { EOS, PAD, VOCAB } from './tokenizer';

export const PROMPT_TOKENS = 2; // <op> <format>
export const MAX_TARGET = 56;

export interface Vlm { decoder: Decoder; visProj: tf.Variable; visBias: tf.Variable; slotEmbed: tf.Variable; featureDim: number }

export function createVlm(shape: { dModel: number; layers: number; heads: number; kvHeads: number }, featureDim: number, rng: Rng): Vlm {
  const config: DecoderConfig = {
    vocab: VOCAB.length, dModel: shape.dModel, layers: shape.layers, heads: shape.heads, kvHeads: shape.kvHeads, ffnHidden: Math.round((8 / 3) * shape.dModel),
    maxLen: SLOTS + PROMPT_TOKENS + MAX_TARGET + 1, qkNorm: true, window: null, ropeBase: 10000,
  };
  const decoder = createDecoder(config, rng);
  const v = (dims: number[], std: number) => tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), std), dims), true));
  return { decoder, featureDim, visProj: v([featureDim, shape.dModel], 1 / Math.sqrt(featureDim)), visBias: tf.tidy(() => tf.variable(tf.zeros([shape.dModel]), true)), slotEmbed: v([SLOTS, shape.dModel], 1 / Math.sqrt(shape.dModel)) };
}

/** Named tensors for checkpoints and copies. */
export function vlmTensors(m: Vlm): Record<string, tf.Variable> {
  return { ...Object.fromEntries(Object.entries(m.decoder.weights).map(([k, v]) => [`decoder.${k}`, v])), visProj: m.visProj, visBias: m.visBias, slotEmbed: m.slotEmbed };
}

export const visualVariables = (m: Vlm) => [m.visProj, m.visBias, m.slotEmbed];
export const languageVariables = (m: Vlm) => Object.values(m.decoder.weights);

/** A deep copy (the frozen reference of DPO). */
export function cloneVlm(m: Vlm, rng: Rng): Vlm {
  const c = m.decoder.config;
  const copy = createVlm({ dModel: c.dModel, layers: c.layers, heads: c.heads, kvHeads: c.kvHeads }, m.featureDim, rng);
  const src = vlmTensors(m), dst = vlmTensors(copy);
  for (const k of Object.keys(src)) dst[k].assign(src[k]);
  return copy;
}

export function disposeVlm(m: Vlm): void {
  disposeDecoder(m.decoder);
  for (const v of visualVariables(m)) v.dispose();
}

/** A batch of prompts: slot features [B, SLOTS, F] and (op, format) tokens [B, 2]. */
export interface PromptBatch { features: Float32Array; prompts: Int32Array; size: number }

export function promptEmbeddings(m: Vlm, b: PromptBatch): tf.Tensor3D {
  return tf.tidy(() => {
    const f = tf.tensor2d(b.features, [b.size * SLOTS, m.featureDim]);
    const vis = tf.matMul(f, m.visProj as tf.Tensor2D).add(m.visBias).reshape([b.size, SLOTS, -1]).add(m.slotEmbed);
    const words = embedTokens(m.decoder, tf.tensor2d(b.prompts, [b.size, PROMPT_TOKENS], 'int32'));
    return tf.concat([vis, words], 1) as tf.Tensor3D;
  });
}

/**
 * Targets right-padded to L: the tokens fed after the prompt, and the token each of the L + 1
 * positions predicts (target tokens, then <eos> unless the row is open, then -1: not scored).
 */
function scoredTokens(targets: readonly number[][], open?: readonly boolean[]) {
  const L = Math.max(1, ...targets.map((t) => t.length));
  if (L > MAX_TARGET) throw new RangeError(`a target of ${L} tokens exceeds ${MAX_TARGET}`);
  const inputs = targets.map((t) => Array.from({ length: L }, (_, i) => (i < t.length ? t[i] : PAD)));
  const outputs = targets.map((t, r) => Array.from({ length: L + 1 }, (_, i) => (i < t.length ? t[i] : i === t.length && !open?.[r] ? EOS : -1)));
  return { L, inputs, outputs };
}

/**
 * log p(target tokens, then <eos>) per row, with its token mask: targets are right-padded,
 * and padding after a sequence cannot change it (causal attention).
 * Returns per-token log-probs [B, L+1] (0 at padding) so callers can sum or average.
 * `open[r]` marks target r as a prefix cut from a longer chain: its <eos> is not scored
 * (the chain did not end there).
 */
export function targetLogProbs(m: Vlm, b: PromptBatch, targets: readonly number[][], open?: readonly boolean[]): { perToken: tf.Tensor2D; mask: tf.Tensor2D } {
  const scored = scoredTokens(targets, open), L = scored.L;
  const inputs = Int32Array.from(scored.inputs.flat());
  const outputs = Int32Array.from(scored.outputs.flat(), (t) => (t < 0 ? PAD : t)), mask = Float32Array.from(scored.outputs.flat(), (t) => (t < 0 ? 0 : 1));
  return tf.tidy(() => {
    const x = tf.concat([promptEmbeddings(m, b), embedTokens(m.decoder, tf.tensor2d(inputs, [b.size, L], 'int32'))], 1) as tf.Tensor3D;
    const { logits } = decoderForward(m.decoder, x);
    const P = SLOTS + PROMPT_TOKENS;
    const predicting = logits.slice([0, P - 1, 0], [b.size, L + 1, -1]) as tf.Tensor3D;
    const maskT = tf.tensor2d(mask, [b.size, L + 1]);
    return { perToken: tokenLogProbs(predicting, tf.tensor2d(outputs, [b.size, L + 1], 'int32')).mul(maskT) as tf.Tensor2D, mask: maskT };
  });
}

export interface Generation { tokens: number[][]; logProbs: number[][] }

/** Greedy (temperature 0) or sampled continuations, up to <eos> (on TensorFlow.js). */
export function generate(m: Vlm, b: PromptBatch, temperature: number, rng: Rng, opts: { topK?: number; topP?: number; useCache?: boolean } = {}): Generation {
  const prompt = promptEmbeddings(m, b);
  try {
    return sampleTokens(m.decoder, prompt, { maxNewTokens: MAX_TARGET, temperature, topK: opts.topK ?? 0, topP: opts.topP ?? 1, stopToken: EOS, rng, useCache: opts.useCache });
  } finally {
    prompt.dispose();
  }
}

/** Where a VLM's chains are sampled: its TF.js model, or its decoder exported to ONNX and run on onnxruntime-node. */
export type ChainEngine = 'onnxruntime' | 'tfjs';

/**
 * A model's chain sampler, fixed to its weights when made (make a new one after training).
 * Both engines draw from the rng in the same order and pick with the same code, so they give
 * the same chains wherever their logits agree (tests/decoder-onnx.test.ts, tests/cot-dpo-run.test.ts).
 */
export interface ChainSampler {
  readonly vlm: Vlm;
  sample(b: PromptBatch, temperature: number, rng: Rng): Promise<Generation>;
  /** Per row, log p(target, then <eos>) summed, as targetLogProbs (no gradient); `open` rows are not charged their <eos>. */
  score(b: PromptBatch, targets: readonly number[][], open?: readonly boolean[]): Promise<Float64Array>;
  release(): Promise<void>;
}


/** `threads`: onnxruntime's intra-op threads (the job's core budget). */
export async function chainSampler(m: Vlm, engine: ChainEngine, threads = 1): Promise<ChainSampler> {
  if (engine === 'tfjs') {
    return {
      vlm: m,
      sample: async (b, temperature, rng) => generate(m, b, temperature, rng),
      score: async (b, targets, open) => Float64Array.from(tf.tidy(() => targetLogProbs(m, b, targets, open).perToken.sum(1).dataSync())),
      release: async () => {},
    };
  }
  const weights = readDecoderWeights(m.decoder);
  const c = m.decoder.config;
  const onnx = await openDecoderOnnx({ ...weights, input: 'embeds' }, threads);
  return {
    vlm: m,
    async sample(b, temperature, rng) {
      const prompt = promptEmbeddings(m, b);
      const values = prompt.dataSync() as Float32Array;
      prompt.dispose();
      return onnx.sample({ embeds: values, batch: b.size, length: SLOTS + PROMPT_TOKENS, table: weights.weights.embed }, { maxNewTokens: MAX_TARGET, temperature, topK: 0, topP: 1, stopToken: EOS, rng });
    },
    async score(b, targets, open) {
      const { L, inputs, outputs } = scoredTokens(targets, open);
      const P = SLOTS + PROMPT_TOKENS, T = P + L, D = c.dModel, V = c.vocab, table = weights.weights.embed;
      const prompt = promptEmbeddings(m, b);
      const promptValues = prompt.dataSync() as Float32Array;
      prompt.dispose();
      const embeds = new Float32Array(b.size * T * D);
      for (let r = 0; r < b.size; r++) {
        embeds.set(promptValues.subarray(r * P * D, (r + 1) * P * D), r * T * D);
        inputs[r].forEach((t, i) => embeds.set(table.subarray(t * D, (t + 1) * D), (r * T + P + i) * D));
      }
      const logits = await onnx.logits({ embeds, batch: b.size, length: T });
      const sums = new Float64Array(b.size);
      for (let r = 0; r < b.size; r++) {
        for (let i = 0; i <= L; i++) {
          const target = outputs[r][i];
          if (target < 0) continue;
          // Position P − 1 + i predicts the i-th target token: its log-softmax there.
          const at = (r * T + P - 1 + i) * V;
          let max = -Infinity, z = 0;
          for (let v = 0; v < V; v++) max = Math.max(max, logits[at + v]);
          for (let v = 0; v < V; v++) z += Math.exp(logits[at + v] - max);
          sums[r] += logits[at + target] - max - Math.log(z);
        }
      }
      return sums;
    },
    release: () => onnx.release(),
  };
}

/** Runs `use` with a sampler of `m`, released afterwards. */
export async function withSampler<T>(m: Vlm, engine: ChainEngine, threads: number, use: (s: ChainSampler) => Promise<T>): Promise<T> {
  const s = await chainSampler(m, engine, threads);
  try { return await use(s); } finally { await s.release(); }
}
