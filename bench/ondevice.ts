// afm-ondevice's costs: for the on-device student's shape (d 128, 4 layers, FFN 192,
// vocabulary 656), each variant's ONNX file bytes, the memory its onnxruntime session
// takes, and generation speed — milliseconds per prompt token to the first token, then
// tokens/s of cached decoding — in onnxruntime-node against TensorFlow.js. Weights are
// random (speed does not depend on them); the mixed plan's 2-bit groups are drawn at random
// at the default 3.6 bits per weight.
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { addLora, createDecoder, disposeDecoder, PROJECTIONS } from '../workers/nn/decoder';
import { exportDecoderOnnx, onnxDecoderShape, readDecoderWeights } from '../workers/nn/decoder-onnx';
import { OnnxDecoder } from '../workers/runtime/onnx-generate';
import { fourBitPlan, palettizedVariant, planGroups, randomPlan } from '../workers/labs/afm-ondevice/quantize';
import { ortSpeed, tfjsSpeed } from '../workers/labs/afm-ondevice/evaluate';

export async function ondeviceBench() {
  const backend = await initBackend();
  const config = { vocab: 656, dModel: 128, layers: 4, heads: 4, kvHeads: 2, ffnHidden: 192, maxLen: 128, qkNorm: true, window: null, ropeBase: 10000 };
  const rng = new Rng(0);
  const student = createDecoder(config, rng.fork('init'));
  const ones = Object.fromEntries(Object.entries(student.weights).map(([k, v]) => [k, new Float32Array(v.size).fill(1)]));
  const inputs = planGroups(student, ones);
  const v4 = palettizedVariant(student, inputs, fourBitPlan(inputs));
  const vMixed = palettizedVariant(student, inputs, randomPlan(inputs, 3.6, rng.fork('plan')));
  const withLora = palettizedVariant(student, inputs, randomPlan(inputs, 3.6, rng.fork('plan')));
  addLora(withLora.model, PROJECTIONS, 2, 4, rng.fork('lora'));
  const variants = [
    { name: 'fp32', model: student, palettes: undefined, fp16: false },
    { name: '4bit', model: v4.model, palettes: v4.palettes, fp16: true },
    { name: 'mixed', model: vMixed.model, palettes: vMixed.palettes, fp16: true },
    { name: 'mixedLora', model: withLora.model, palettes: withLora.palettes, fp16: true },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'bt-bench-ondevice-'));
  const prompt = Array.from({ length: 32 }, (_, i) => (i * 37) % config.vocab);
  const rows = [];
  for (const v of variants) {
    const bytes = exportDecoderOnnx({ ...readDecoderWeights(v.model), palettes: v.palettes, fp16: v.fp16 });
    const path = join(dir, `${v.name}.onnx`);
    writeFileSync(path, bytes);
    const before = process.memoryUsage().rss;
    const ort = await OnnxDecoder.open(path, onnxDecoderShape(config));
    const o = await ortSpeed(ort, prompt, 48);
    const sessionMb = (process.memoryUsage().rss - before) / 2 ** 20;
    const t = await tfjsSpeed(v.model, prompt, 48);
    rows.push({ variant: v.name, onnxBytes: bytes.byteLength, sessionMb, ort: o, tfjs: t, ortOverTfjs: o.tokensPerSec / t.tokensPerSec });
    await ort.release();
  }
  for (const v of variants) disposeDecoder(v.model);
  return { backend: backend.name, model: 'd128, 4 layers, 4 heads (2 KV), FFN 192, vocab 656; prompt 32 tokens, 48 new tokens, greedy', peakRssMb: process.resourceUsage().maxRSS / 1024, rows };
}
