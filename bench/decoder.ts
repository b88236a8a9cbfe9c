// The shared decoder at cot-dpo's default size: sampled tokens/s with the KV cache against
// recomputing the whole sequence every step (same tokens: the cache is exact).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createDecoder, disposeDecoder, embedTokens, sampleTokens } from '../workers/nn/decoder';

export async function decoderBench() {
  const backend = await initBackend();
  const d = createDecoder({ vocab: 48, dModel: 64, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 171, maxLen: 64, qkNorm: true, window: null, ropeBase: 10000 }, new Rng(1));
  const rows: Record<string, unknown> = {};
  for (const batch of [1, 64, 512]) {
    const prompt = tf.tidy(() => embedTokens(d, tf.zeros([batch, 5], 'int32') as tf.Tensor2D));
    const rate = (useCache: boolean) => {
      const t0 = performance.now();
      // No stop token: every row generates the full 48 tokens.
      const s = sampleTokens(d, prompt, { maxNewTokens: 48, temperature: 1, topK: 0, topP: 1, rng: new Rng(2), useCache });
      const tokens = s.tokens.reduce((n, r) => n + r.length, 0);
      return tokens / ((performance.now() - t0) / 1000);
    };
    rate(true);
    rows[`batch${batch}`] = { tokensPerSecWithCache: rate(true), tokensPerSecWithoutCache: rate(false) };
    prompt.dispose();
  }
  disposeDecoder(d);
  return { backend: backend.name, model: 'd=64, 2 layers, 4 heads / 2 KV heads, 5 prompt + 48 new tokens', ...rows };
}
