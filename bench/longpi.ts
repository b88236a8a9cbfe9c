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
import { exportDecoderOnnx, onnxDecoderShape, readDecoderWeights } from '../workers/nn/decoder-onnx';
import { OnnxDecoder } from '../workers/runtime/onnx-generate';
import { retrievalDecoderConfig, retrievalLmRecipe, RETRIEVAL_ATTENTION } from '../workers/shared-parts/retrieval-lm';
import { tableInstance } from '../workers/data/longpi/generator';
import { encodeTable, tableText, tableTokens } from '../workers/data/longpi/format';
import { toHuggingFaceJson, trainBpe } from '../workers/data/bpe-tokenizer';
import { writeHfFolder } from '../workers/runtime/hf-folder';
import { openEndpoint, openOnnxFolder } from '../workers/runtime/text-lm';
import { startLmServer } from '../workers/runtime/lm-server';

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
    const ort = await OnnxDecoder.open(path, onnxDecoderShape(config));
    await ort.generate(prompts[0], { maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, topP: 1, rng: new Rng(0) });
    let ttft = 0;
    const t0 = performance.now();
    for (const p of prompts) ttft += (await ort.generate(p, { maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, topP: 1, rng: new Rng(0) })).ttftMs;
    const ortBatch1 = prompts.length / ((performance.now() - t0) / 1000);
    await ort.release();
    disposeDecoder(d);
    rows.push({ attention, promptTokens: prompts[0].length, tfjsBatch32, tfjsBatch1, ortBatch1, ortPromptTokensPerSec: (prompts[0].length * prompts.length) / (ttft / 1000), ortOverTfjsBatch1: ortBatch1 / tfjsBatch1 });
  }
  const serveLm = await serveLmBench(dir);
  const model = 'd64, 3 layers, 4 heads, FFN 128, vocab 1,045 (sliding window 32); 11 greedy tokens per instance';
  return { backend: backend.name, serveLm, model, unit: 'instances/s', peakRssMb: process.resourceUsage().maxRSS / 1024, rows };
}

/**
 * Requests/s through `serve-lm`: a decoder of the same shape with a byte-level BPE (300 merges)
 * trained on table prompts, exported as a folder, served, and asked 16 table prompts of 40
 * rows (max 40 new tokens) by the endpoint client; the same prompts asked of the folder
 * directly give the server's overhead.
 */
async function serveLmBench(dir: string) {
  const rng = new Rng(2), shape = { L: 40, n: 10, N: 16 }, vocab = { keys: 16, values: 64 };
  const prompts = Array.from({ length: 16 }, (_, i) => tableText(tableInstance('relative', 1 + i, 'both', shape, vocab, rng)));
  const tok = trainBpe(prompts.join('\n'), 300);
  const d = createDecoder({ vocab: tok.vocab.length, dModel: 64, layers: 3, heads: 4, kvHeads: 4, ffnHidden: 128, maxLen: 1024, qkNorm: true, window: null, ropeBase: 10000 }, rng.fork('init'));
  const folder = join(dir, 'served');
  writeHfFolder(folder, { onnx: exportDecoderOnnx(readDecoderWeights(d)), config: d.config, tokenizerJson: toHuggingFaceJson(tok), eosTokenId: tok.eos, eosToken: tok.vocab[tok.eos] });
  disposeDecoder(d);
  const lm = await openOnnxFolder(folder);
  const server = await startLmServer(lm, 'bench');
  const never = new AbortController().signal;
  try {
    const client = openEndpoint({ url: server.url, model: 'bench', api: 'completions' });
    await client.complete(prompts[0], 40, never);
    let t0 = performance.now();
    for (const p of prompts) await client.complete(p, 40, never);
    const viaServer = prompts.length / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (const p of prompts) await lm.complete(p, 40, never);
    const direct = prompts.length / ((performance.now() - t0) / 1000);
    return { promptTokens: tok.encode(prompts[0]).length, maxNewTokens: 40, requestsPerSec: viaServer, folderDirectPerSec: direct };
  } finally {
    await server.close(); await lm.close();
  }
}
