// The image codec's transforms on onnxruntime against the TF.js forward they mirror, on the
// same random weights and inputs: the quantized latent ŷ identical for ≥ 99.9 % of symbols
// (a value within float error of a half may round either way), the synthesis within 1e-4;
// with side information at every layer and without; a wrong-sized input named.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { analysis, codecRoundTrip, createImageCodec, createSynthesis, disposeCodec, synthesize, synthesisOf, type ImageCodec } from '../workers/nn/image-codec';
import { openAnalysisOnnx, openSynthesisOnnx } from '../workers/nn/codec-onnx';

/** Every weight drawn afresh: Y's projections start at zero and would hide a wrong layout. */
function randomize(weights: Record<string, tf.Variable>, rng: Rng) {
  tf.tidy(() => {
    for (const v of Object.values(weights)) {
      const fanIn = v.shape.length === 4 ? v.shape[0] * v.shape[1] * Math.max(v.shape[2], v.shape[3]) / 4 : 8;
      v.assign(tf.tensor(rng.normalArray(v.size, 1.5 / Math.sqrt(fanIn)), v.shape));
    }
  });
}

function setup(K: number, seed: number) {
  const rng = new Rng(seed);
  const codec = createImageCodec({ N: 8, M: 4, side: K }, rng.fork('codec'), 3);
  randomize(codec.weights, rng.fork('weights'));
  const n = 5;
  const pixels = Float32Array.from({ length: n * 784 }, () => rng.next());
  const side = K ? Float32Array.from({ length: n * 49 * K }, () => rng.next()) : undefined;
  return { codec, n, pixels, side, rng };
}

const sideTensor = (side: Float32Array | undefined, n: number, K: number) => (side ? tf.tensor4d(side, [n, 7, 7, K]) : undefined);

describe('image codec transforms on onnxruntime', () => {
  for (const K of [0, 3]) {
    it(`ŷ = clamp(round(g_a(x))) and g_s(ŷ) equal TF.js (${K ? `Y with ${K} channels at every layer` : 'no side information'})`, async () => {
      await initBackend('wasm');
      const { codec, n, pixels, side } = setup(K, 11 + K);
      const expected = tf.tidy(() => {
        const r = codecRoundTrip(codec, tf.tensor2d(pixels, [n, 784]), undefined, sideTensor(side, n, K));
        const raw = synthesize(synthesisOf(codec), r.yHat, sideTensor(side, n, K));
        return { yHat: r.yHat.dataSync() as Float32Array, raw: raw.dataSync() as Float32Array, y: analysis(codec, tf.tensor2d(pixels, [n, 784]), undefined, sideTensor(side, n, K)).dataSync() as Float32Array };
      });
      const g_a = await openAnalysisOnnx(codec, 1), g_s = await openSynthesisOnnx(synthesisOf(codec), 1);
      try {
        const yHat = await g_a.run(pixels, n, side);
        let differ = 0, clamped = 0;
        for (let i = 0; i < yHat.length; i++) { if (yHat[i] !== expected.yHat[i]) differ++; if (Math.abs(expected.y[i]) > codec.radius) clamped++; }
        expect(differ / yHat.length).toBeLessThanOrEqual(0.001);
        expect(new Set(expected.yHat).size).toBeGreaterThan(5); // symbols spread over the range, not all one value
        expect(clamped).toBeGreaterThan(0); // the clamp is exercised
        const raw = await g_s.run(expected.yHat, n, side);
        let worst = 0;
        for (let i = 0; i < raw.length; i++) worst = Math.max(worst, Math.abs(raw[i] - expected.raw[i]));
        expect(worst).toBeLessThan(1e-4);
        expect(Math.max(...Array.from(expected.raw, Math.abs))).toBeGreaterThan(0.5); // a forward that is not ≈ 0 everywhere
      } finally {
        await g_a.release(); await g_s.release();
        disposeCodec(codec as ImageCodec);
      }
    });
  }

  it('a conditional generator\'s synthesis (more input channels than the codec\'s latent) equals TF.js', async () => {
    await initBackend('wasm');
    const rng = new Rng(21), K = 10, n = 4;
    const g2 = createSynthesis(8, 6, K, rng.fork('g2'));
    randomize(g2.weights, rng.fork('weights'));
    const latent = Float32Array.from(rng.normalArray(n * 49 * 8, 1)), side = new Float32Array(n * 49 * K);
    for (let i = 0; i < n; i++) for (let p = 0; p < 49; p++) side[(i * 49 + p) * K + (i * 3) % K] = 1;
    const expected = tf.tidy(() => synthesize(g2, tf.tensor4d(latent, [n, 7, 7, 8]), tf.tensor4d(side, [n, 7, 7, K])).dataSync() as Float32Array);
    const onnx = await openSynthesisOnnx(g2, 1);
    try {
      const got = await onnx.run(latent, n, side);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-4);
      await expect(onnx.run(latent.subarray(1), n, side)).rejects.toThrow(/4 rows of 392 values expected/);
      await expect(onnx.run(latent, n)).rejects.toThrow(/side information must be 4 × 7 × 7 × 10 values, not none/);
    } finally {
      await onnx.release();
      for (const v of Object.values(g2.weights)) v.dispose();
    }
  });
});
