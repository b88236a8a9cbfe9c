// longpibench's costs: answering an instance (a 166-token prompt, 11 greedy answer tokens)
// with the built-in decoder's shape (d 64, 3 layers, vocabulary 1,045), full and
// sliding-window attention, in TensorFlow.js (batches of 32 and of 1) and onnxruntime-node
// (one prompt at a time, the engine user-model folders run on); prompt tokens/s of the
// prefill. Weights are random (speed does not depend on them), so every answer runs to 11 tokens.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createDecoder, disposeDecoder, embedTokens, sampleTokens, type Decoder } from '../workers/nn/decoder';
import { exportDecoderOnnx, readDecoderWeights } from '../workers/nn/decoder-onnx';
import { OnnxDecoder } from '../workers/runtime/onnx-generate';
import { retrievalDecoderConfig, retrievalLmRecipe, RETRIEVAL_ATTENTION } from '../workers/shared-parts/retrieval-lm';
import { tableInstance } from '../workers/data/longpi/generator';
import { encodeTable, tableTokens } from '../workers/data/longpi/format';

const NEW_TOKENS = 11, INSTANCES = 64;

function tfjsInstancesPerSec(d: Decoder, prompts: number[][], batch: number): number {
  const t0 = performance.now();
  for (let s = 0; s < prompts.length; s += batch) {
    const x = tf.tidy(() => embedTokens(d, tf.tensor2d(prompts.slice(s, s + batch), undefined, 'int32')));
    sampleTokens(d, x, { maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, topP: 1, rng: new Rng(0) });
    x.dispose();
  }
  return prompts.length / ((performance.now() - t0) / 1000);
}

export async function longpiBench() {
  const backend = await initBackend();
  const dir = mkdtempSync(join(tmpdir(), 'bt-bench-longpi-'));
  const rows = [];
  for (const attention of RETRIEVAL_ATTENTION) {
    const recipe = retrievalLmRecipe(attention, 'levels');
    const config = retrievalDecoderConfig(recipe), t = tableTokens(recipe);
    const d = createDecoder(config, new Rng(0));
    const rng = new Rng(1);
    const prompts = Array.from({ length: INSTANCES }, (_, i) => encodeTable(tableInstance('relative', 1 + (i % 16), 'both', recipe, recipe, rng), t).prompt);
    tfjsInstancesPerSec(d, prompts.slice(0, 32), 32); // warm-up
    const tfjsBatch32 = tfjsInstancesPerSec(d, prompts, 32);
    const tfjsBatch1 = tfjsInstancesPerSec(d, prompts.slice(0, 16), 1);
    const path = join(dir, `${attention}.onnx`);
    writeFileSync(path, exportDecoderOnnx(readDecoderWeights(d)));
    const ort = await OnnxDecoder.open(path, { vocab: config.vocab, layers: config.layers, kvHeads: config.kvHeads, headDim: config.dModel / config.heads });
    await ort.generate(prompts[0], { maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, topP: 1, rng: new Rng(0) });
    let ttft = 0;
    const t0 = performance.now();
    for (const p of prompts) ttft += (await ort.generate(p, { maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, topP: 1, rng: new Rng(0) })).ttftMs;
    const ortBatch1 = prompts.length / ((performance.now() - t0) / 1000);
    await ort.release();
    disposeDecoder(d);
    rows.push({ attention, promptTokens: prompts[0].length, tfjsBatch32, tfjsBatch1, ortBatch1, ortPromptTokensPerSec: (prompts[0].length * prompts.length) / (ttft / 1000), ortOverTfjsBatch1: ortBatch1 / tfjsBatch1 });
  }
  return { backend: backend.name, model: 'd64, 3 layers, 4 heads, FFN 128, vocab 1,045 (sliding window 32); 11 greedy tokens per instance', unit: 'instances/s', peakRssMb: process.resourceUsage().maxRSS / 1024, rows };
}
