// The decoder's ONNX export run in onnxruntime-node equals the TensorFlow.js decoder: full
// forward, left padding, KV-cached decoding, palettized projections (packed indices +
// fp16 tables) and unmerged LoRA; plus the palettizer itself (k-means, bits, plans).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { addLora, createDecoder, decoderForward, disposeDecoder, embedTokens, PROJECTIONS, sampleTokens, tokenLogProbs, type DecoderConfig } from '../workers/nn/decoder';
import { exportDecoderOnnx, packIndices, readDecoderWeights } from '../workers/nn/decoder-onnx';
import { dequantize, groupBits, kmeans1d, palettize, planToTarget, sensitivityOrder, storageBits, type PalettizedMatrix } from '../workers/nn/palettize';
import { OnnxDecoder } from '../workers/runtime/onnx-generate';
import { fromFp16Bits, roundToFp16, toFp16Bits } from '../workers/runtime/fp16';
import { writeHfFolder } from '../workers/runtime/hf-folder';
import { storyCorpus } from '../workers/data/stories';
import { toHuggingFaceJson, trainBpe } from '../workers/data/bpe-tokenizer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

beforeAll(async () => { await initBackend('wasm'); });

const config: DecoderConfig = { vocab: 37, dModel: 32, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 48, maxLen: 40, qkNorm: true, window: null, ropeBase: 10000 };
const shapeOf = (c: DecoderConfig) => ({ vocab: c.vocab, layers: c.layers, kvHeads: c.kvHeads, headDim: c.dModel / c.heads });

function tfLogits(d: ReturnType<typeof createDecoder>, ids: number[][], padStart?: number[]): Float32Array {
  return tf.tidy(() => decoderForward(d, embedTokens(d, tf.tensor2d(ids, undefined, 'int32')), { padStart }).logits.dataSync() as Float32Array);
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>, skip?: (i: number) => boolean) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (!skip?.(i)) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('fp16 and palettes', () => {
  it('rounds to half precision like IEEE does', () => {
    expect(toFp16Bits(1)).toBe(0x3c00);
    expect(toFp16Bits(-2)).toBe(0xc000);
    expect(toFp16Bits(65504)).toBe(0x7bff);
    expect(toFp16Bits(1e6)).toBe(0x7c00);
    expect(fromFp16Bits(toFp16Bits(1 + 2 ** -11))).toBe(1); // a tie rounds to even
    expect(fromFp16Bits(toFp16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(fromFp16Bits(toFp16Bits(2 ** -20))).toBe(2 ** -20); // subnormal
    expect(Array.from(roundToFp16([0.1]))[0]).toBeCloseTo(0.0999755859375, 12);
  });
  it('finds the obvious clusters and never does worse than its start', () => {
    const centres = kmeans1d([1, 1.1, 0.9, 5, 5.2, 4.8, -3, -3.1], 3);
    expect(Array.from(centres).map((c) => +c.toFixed(6))).toEqual([-3.05, 1, 5]);
  });
  it('keeps 2^bits values per group of 16 columns and counts index and table bits', () => {
    const rng = new Rng(2);
    const w = rng.normalArray(8 * 32);
    const p = palettize(w, 8, 32, [4, 2]);
    expect(p.tables.map((t) => t.length)).toEqual([16, 4]);
    const dq = dequantize(p);
    for (let r = 0; r < 8; r++) {
      expect(new Set(Array.from({ length: 16 }, (_, j) => dq[r * 32 + j])).size).toBeLessThanOrEqual(16);
      for (let j = 16; j < 32; j++) expect(p.tables[1]).toContain(dq[r * 32 + j]);
    }
    expect(storageBits(p)).toBe(8 * 16 * 4 + 16 * 16 + 8 * 16 * 2 + 4 * 16);
    const err = (a: Float32Array, from: number) => Array.from({ length: 8 * 16 }, (_, i) => (a[Math.floor(i / 16) * 32 + from + (i % 16)] - w[Math.floor(i / 16) * 32 + from + (i % 16)]) ** 2).reduce((s, x) => s + x, 0);
    const fourBitEverywhere = dequantize(palettize(w, 8, 32, [4, 4]));
    expect(err(dq, 16)).toBeGreaterThan(err(fourBitEverywhere, 16));
    expect(Array.from(packIndices(Uint8Array.of(1, 2, 3, 0), 2))).toEqual([1 | (2 << 2) | (3 << 4)]);
    expect(Array.from(packIndices(Uint8Array.of(15, 1), 4))).toEqual([0x1f]);
  });
  it('plans 2-bit groups to a bits-per-weight target, least damage per bit first', () => {
    const groups = [0.5, 0.1, 3, 0.2].map((damage, group) => ({ matrix: 'm', group, rows: 64, damage }));
    const order = sensitivityOrder(groups);
    expect(order).toEqual([1, 3, 0, 2]);
    const { twoBit, bpw } = planToTarget(groups, order, 3.6);
    // All at 4 bits is 4.25 bpw (tables included); one 2-bit group gives 3.70, two give 3.16.
    expect([...twoBit]).toEqual([1, 3]);
    expect(bpw).toBeCloseTo((2 * groupBits(64, 4) + 2 * groupBits(64, 2)) / (4 * 64 * 16), 12);
    expect(bpw).toBeLessThanOrEqual(3.6);
  });
});

describe('decoder → ONNX → onnxruntime', () => {
  it('gives the TensorFlow.js logits, with left padding too', async () => {
    const d = createDecoder(config, new Rng(4));
    const ort = await OnnxDecoder.open(exportDecoderOnnx(readDecoderWeights(d)), shapeOf(config));
    const ids = [[1, 5, 9, 2, 30, 7, 7, 3], [0, 0, 0, 4, 8, 15, 16, 23]];
    const a = await ort.logits(ids, [0, 3]);
    const b = tfLogits(d, ids, [0, 3]);
    // Pad positions' own outputs are meaningless in both engines: compare real positions.
    expect(maxDiff(a, b, (i) => Math.floor(i / config.vocab) >= 8 && Math.floor(i / config.vocab) < 11)).toBeLessThan(1e-4);
    await ort.release(); disposeDecoder(d);
  });
  it('decodes with its KV cache to the same greedy tokens as TensorFlow.js (sliding window too)', async () => {
    for (const window of [null, 5]) {
      const c = { ...config, window };
      const d = createDecoder(c, new Rng(6));
      const ort = await OnnxDecoder.open(exportDecoderOnnx(readDecoderWeights(d)), shapeOf(c));
      const prompt = [3, 1, 4, 1, 5, 9];
      const opts = { maxNewTokens: 20, temperature: 0, topK: 0, topP: 1, rng: new Rng(1) };
      const viaOrt = await ort.generate(prompt, opts);
      const embedded = tf.tidy(() => embedTokens(d, tf.tensor2d([prompt], undefined, 'int32')));
      const viaTf = sampleTokens(d, embedded, opts).tokens[0];
      embedded.dispose();
      expect(viaOrt.tokens).toEqual(viaTf);
      // And the cached path equals a full forward over the grown sequence.
      const full = await ort.logits([[...prompt, ...viaOrt.tokens.slice(0, -1)]]);
      const grown = [...prompt, ...viaOrt.tokens.slice(0, -1)];
      const last = full.subarray((grown.length - 1) * c.vocab, grown.length * c.vocab);
      let best = 0; for (let t = 1; t < c.vocab; t++) if (last[t] > last[best]) best = t;
      expect(best).toBe(viaOrt.tokens[viaOrt.tokens.length - 1]);
      await ort.release(); disposeDecoder(d);
    }
  });
  it('samples a batch as the TF.js sampler does, from ids or from embeddings (a prefix that is not tokens): same tokens, same log-probs', async () => {
    const d = createDecoder(config, new Rng(12));
    const weights = readDecoderWeights(d);
    const byIds = await OnnxDecoder.open(exportDecoderOnnx(weights), shapeOf(config), 1);
    const byEmbeds = await OnnxDecoder.open(exportDecoderOnnx({ ...weights, input: 'embeds' }), shapeOf(config), 1);
    const ids = [[1, 2, 9, 9], [3, 4, 0, 1], [5, 6, 6, 6], [7, 8, 2, 2]];
    const B = 4, D = config.dModel;
    // Embeddings in: five random vectors ahead of each row's first two tokens.
    const prefix = new Rng(13).normalArray(B * 5 * D);
    const prompt = tf.tidy(() => tf.concat([tf.tensor3d(prefix, [B, 5, D]), embedTokens(d, tf.tensor2d(ids.map((r) => r.slice(0, 2)), undefined, 'int32'))], 1) as tf.Tensor3D);
    const embeds = prompt.dataSync() as Float32Array;
    const idPrompt = tf.tidy(() => embedTokens(d, tf.tensor2d(ids, undefined, 'int32')));
    const settings = [{ temperature: 0, topK: 0, topP: 1 }, { temperature: 1, topK: 0, topP: 1 }, { temperature: 0.8, topK: 5, topP: 0.9 }, { temperature: 0, topK: 0, topP: 1, noRepeat: true }];
    for (const o of settings) {
      const opts = { maxNewTokens: 12, stopToken: 3, ...o };
      for (const [viaTf, viaOrt] of [
        [sampleTokens(d, prompt, { ...opts, rng: new Rng(21) }), await byEmbeds.sample({ embeds, batch: B, length: 7, table: weights.weights.embed }, { ...opts, rng: new Rng(21) })],
        [sampleTokens(d, idPrompt, { ...opts, rng: new Rng(22) }), await byIds.sample({ ids }, { ...opts, rng: new Rng(22) })],
      ]) {
        expect(viaOrt.tokens, JSON.stringify(o)).toEqual(viaTf.tokens);
        expect(viaOrt.tokens.some((t) => t.length > 1)).toBe(true);
        expect(maxDiff(viaOrt.logProbs.flat(), viaTf.logProbs.flat())).toBeLessThan(1e-4);
      }
    }
    // Prompts of the wrong size are named.
    const greedy = { maxNewTokens: 2, temperature: 0, topK: 0, topP: 1, rng: new Rng(1) };
    await expect(byEmbeds.sample({ embeds: embeds.subarray(1), batch: B, length: 7, table: weights.weights.embed }, greedy)).rejects.toThrow(/are not \[4, 7, 32\]/);
    await expect(byIds.sample({ ids: [[1, 2], [3]] }, greedy)).rejects.toThrow(/unequal or zero length/);
    prompt.dispose(); idPrompt.dispose(); await byIds.release(); await byEmbeds.release(); disposeDecoder(d);
  });
  it('keeps palettes packed and LoRA unmerged, and still equals the TensorFlow.js model', async () => {
    // Wide enough that weights, not the graph's nodes, make most of the file.
    const wide = { ...config, dModel: 64, ffnHidden: 128 };
    const d = createDecoder(wide, new Rng(8));
    addLora(d, PROJECTIONS, 2, 4, new Rng(9));
    for (const a of Object.values(d.lora)) a.B.assign(tf.randomNormal(a.B.shape, 0, 0.05, 'float32', 3));
    const plain = readDecoderWeights(d);
    const palettes: Record<string, PalettizedMatrix> = {};
    const rng = new Rng(10);
    for (const [name, w] of Object.entries(plain.weights)) {
      if (!/^l\d+\.w/.test(name)) continue;
      const [rows, cols] = d.weights[name].shape as [number, number];
      palettes[name] = palettize(w, rows, cols, Array.from({ length: cols / 16 }, () => (rng.next() < 0.4 ? 2 : 4)));
      d.weights[name].assign(tf.tensor2d(dequantize(palettes[name]), [rows, cols]));
    }
    // The on-device layout stores embedding, norms and adapters at fp16: the TF.js model rounds them alike.
    for (const [name, v] of Object.entries(d.weights)) if (!palettes[name]) v.assign(tf.tensor(roundToFp16(v.dataSync()), v.shape));
    for (const a of Object.values(d.lora)) { a.A.assign(tf.tensor(roundToFp16(a.A.dataSync()), a.A.shape)); a.B.assign(tf.tensor(roundToFp16(a.B.dataSync()), a.B.shape)); }
    const bytes = exportDecoderOnnx({ ...readDecoderWeights(d), palettes, fp16: true });
    const floatBytes = exportDecoderOnnx(readDecoderWeights(d)).byteLength;
    expect(bytes.byteLength).toBeLessThan(floatBytes * 0.45);
    const ort = await OnnxDecoder.open(bytes, shapeOf(wide));
    const ids = [[2, 7, 1, 8, 2, 8, 1, 8, 2, 8]];
    expect(maxDiff(await ort.logits(ids), tfLogits(d, ids))).toBeLessThan(1e-4);
    // Without the adapters the logits move: the LoRA branch is really in the graph.
    const noLora = await OnnxDecoder.open(exportDecoderOnnx({ ...readDecoderWeights(d), lora: undefined, palettes, fp16: true }), shapeOf(wide));
    expect(maxDiff(await noLora.logits(ids), tfLogits(d, ids))).toBeGreaterThan(1e-3);
    await ort.release(); await noLora.release(); disposeDecoder(d);
  });
});

/** Greedy tokens of the TF.js decoder, each with its top-2 logit gap. */
function greedyWithGaps(d: ReturnType<typeof createDecoder>, prompt: number[], n: number): { tokens: number[]; gaps: number[] } {
  const seq = [...prompt], tokens: number[] = [], gaps: number[] = [];
  for (let i = 0; i < n; i++) {
    const all = tfLogits(d, [seq]);
    const last = Array.from(all.subarray((seq.length - 1) * d.config.vocab));
    const sorted = [...last].sort((a, b) => b - a);
    const t = last.indexOf(sorted[0]);
    tokens.push(t); gaps.push(sorted[0] - sorted[1]); seq.push(t);
  }
  return { tokens, gaps };
}

describe('the Hugging Face folder', () => {
  it('loads offline in transformers.js and generates the TensorFlow.js greedy tokens', async () => {
    const tok = trainBpe(storyCorpus(200, new Rng(1)).text, 120);
    const c = { ...config, vocab: tok.vocab.length, maxLen: 64 };
    const d = createDecoder(c, new Rng(12));
    // A few steps on the stories, so greedy decoding follows the text instead of repeating one token.
    const ids = tok.encode(storyCorpus(60, new Rng(2)).text);
    const opt = tf.train.adam(1e-2);
    for (let step = 0; step < 80; step++) {
      const rows = Array.from({ length: 8 }, (_, b) => ids.slice((step * 8 + b) * 17 % (ids.length - 40), ((step * 8 + b) * 17 % (ids.length - 40)) + 33));
      opt.minimize(() => {
        const x = tf.tensor2d(rows.map((r) => r.slice(0, 32)), undefined, 'int32'), y = tf.tensor2d(rows.map((r) => r.slice(1)), undefined, 'int32');
        return tokenLogProbs(decoderForward(d, embedTokens(d, x)).logits, y).mean().neg() as tf.Scalar;
      });
    }
    opt.dispose();
    const dir = mkdtempSync(join(tmpdir(), 'benchtop-hf-'));
    try {
      writeHfFolder(join(dir, 'tiny'), { onnx: exportDecoderOnnx(readDecoderWeights(d)), config: c, tokenizerJson: toHuggingFaceJson(tok), eosTokenId: tok.eos, eosToken: tok.vocab[tok.eos] });
      const config = JSON.parse(readFileSync(join(dir, 'tiny', 'config.json'), 'utf8'));
      expect(config).toMatchObject({ model_type: 'llama', num_key_value_heads: 2, head_dim: 8, rope_theta: 10000, tie_word_embeddings: true });
      const T = await import('@huggingface/transformers');
      T.env.allowRemoteModels = false; T.env.localModelPath = dir; T.env.useFSCache = false;
      const tokenizer = await T.AutoTokenizer.from_pretrained('tiny');
      const model = await T.AutoModelForCausalLM.from_pretrained('tiny', { dtype: 'fp32', device: 'cpu' });
      const prompt = 'once upon a time there was a';
      const inputs = tokenizer(prompt);
      expect(inputs.input_ids.tolist()[0].map(Number)).toEqual(tok.encode(prompt));
      const n = 16;
      const out = await model.generate({ ...inputs, max_new_tokens: n, do_sample: false, eos_token_id: -1 });
      const theirs = (out as { tolist(): bigint[][] }).tolist()[0].map(Number).slice(tok.encode(prompt).length);
      const ours = greedyWithGaps(d, tok.encode(prompt), n);
      // Equal while the choice is clear (top-2 gap > 1e-3); a near-tie may go either way.
      const clear = ours.gaps.findIndex((g) => g <= 1e-3);
      const upTo = clear < 0 ? n : clear;
      expect(upTo).toBeGreaterThan(8);
      expect(theirs.slice(0, upTo)).toEqual(ours.tokens.slice(0, upTo));
      expect(new Set(ours.tokens).size).toBeGreaterThan(2);
      await model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true }); disposeDecoder(d);
    }
  });
});
