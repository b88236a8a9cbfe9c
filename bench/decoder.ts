// The shared decoder at cot-dpo's default size: sampled tokens/s with the KV cache against
// recomputing the whole sequence every step (same tokens: the cache is exact), and the same
// sampling on onnxruntime-node from embeddings (cot-dpo's path: a VLM prefix, then tokens).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createDecoder, disposeDecoder, embedTokens, sampleTokens } from '../workers/nn/decoder';
import { openDecoderOnnx, readDecoderWeights } from '../workers/nn/decoder-onnx';

export async function decoderBench(cores = 2) {
  const backend = await initBackend();
  const config = { vocab: 48, dModel: 64, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 171, maxLen: 64, qkNorm: true, window: null, ropeBase: 10000 };
  const d = createDecoder(config, new Rng(1));
  const weights = readDecoderWeights(d);
  const ort = await openDecoderOnnx({ ...weights, input: 'embeds' }, cores);
  const rows: Record<string, unknown> = {};
  for (const batch of [1, 64, 512]) {
    const prompt = tf.tidy(() => embedTokens(d, tf.zeros([batch, 5], 'int32') as tf.Tensor2D));
    const values = prompt.dataSync() as Float32Array;
    // No stop token: every row generates the full 48 tokens.
    const opts = { maxNewTokens: 48, temperature: 1, topK: 0, topP: 1 };
    const perSec = (tokens: number[][], t0: number) => tokens.reduce((n, r) => n + r.length, 0) / ((performance.now() - t0) / 1000);
    const rate = (useCache: boolean) => { const t0 = performance.now(); return perSec(sampleTokens(d, prompt, { ...opts, rng: new Rng(2), useCache }).tokens, t0); };
    const onnxRate = async () => { const t0 = performance.now(); return perSec((await ort.sample({ embeds: values, batch, length: 5, table: weights.weights.embed }, { ...opts, rng: new Rng(2) })).tokens, t0); };
    rate(true); await onnxRate();
    const withCache = rate(true), onnx = await onnxRate();
    rows[`batch${batch}`] = { tokensPerSecWithCache: withCache, tokensPerSecWithoutCache: rate(false), tokensPerSecOnnx: onnx, onnxOverTfjs: onnx / withCache };
    prompt.dispose();
  }
  await ort.release();
  disposeDecoder(d);
  return { backend: backend.name, onnxThreads: cores, model: 'd=64, 2 layers, 4 heads / 2 KV heads, 5 prompt + 48 new tokens; onnxruntime from embeddings, KV-cached', ...rows };
}
