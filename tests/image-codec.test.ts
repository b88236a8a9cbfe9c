// The learned codec's parts, on a freshly initialized (untrained) model: the prior is a
// density over the integers, its tables are valid, encode/decode are bit-exact, the stream
// costs the table bits plus the coder's ~2-bit termination, and the loss is λ·255²·MSE + bpp.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { priorLikelihood } from '../workers/nn/factorized-prior';
import { codecLoss, codecRoundTrip, codecVariables, createImageCodec, decodeImage, encodeImage, finalizeCodec } from '../workers/nn/image-codec';
import { checkTable, tableBits } from '../workers/coding/rans';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';

describe('factorized prior and image codec', () => {
  it('prior: likelihoods over all integers sum to 1 per channel', async () => {
    await initBackend('wasm');
    const codec = createImageCodec({ N: 8, M: 4 }, new Rng(1), 24);
    const sums = tf.tidy(() => {
      const grid = tf.range(-60, 61).reshape([-1, 1]).tile([1, 4]).reshape([-1, 1, 1, 4]);
      return priorLikelihood(codec.prior, grid).reshape([-1, 4]).sum(0).dataSync();
    });
    for (const s of sums) expect(s).toBeCloseTo(1, 3);
    for (const v of Object.values(codecVariables(codec))) v.dispose();
  });

  it('encode/decode: bit-exact against the encoder-side reconstruction; bytes = table bits + termination', async () => {
    await initBackend('wasm');
    const codec = createImageCodec({ N: 8, M: 4 }, new Rng(2), 24);
    finalizeCodec(codec);
    codec.tables!.forEach((t) => expect(() => checkTable(t)).not.toThrow());
    const { x } = batchFloats(loadDataset('mnist').test, [0, 1, 2, 3]);
    for (let i = 0; i < 4; i++) {
      const img = x.subarray(i * 784, (i + 1) * 784);
      const bytes = encodeImage(codec, img);
      const decoded = decodeImage(codec, bytes);
      const { ref, symbols } = tf.tidy(() => {
        const r = codecRoundTrip(codec, tf.tensor2d(img, [1, 784]));
        return { ref: r.xHat.dataSync() as Float32Array, symbols: Int32Array.from(r.yHat.dataSync(), (v) => v + codec.radius) };
      });
      expect(Array.from(decoded)).toEqual(Array.from(ref));
      const est = tableBits(symbols, (j) => codec.tables![j % 4]);
      expect(bytes.length * 8).toBeLessThanOrEqual(Math.ceil(est) + 2 + 7);
      expect(bytes.length * 8).toBeGreaterThanOrEqual(Math.floor(est) - 7);
    }
    expect(() => decodeImage(createImageCodec({ N: 8, M: 4 }, new Rng(3)), new Uint8Array(4))).toThrow(/no CDF tables/);
    for (const v of Object.values(codecVariables(codec))) v.dispose();
  });

  it('the loss is λ·255²·MSE + bpp, bpp = -Σ log2 p / (B·784)', async () => {
    await initBackend('wasm');
    const codec = createImageCodec({ N: 8, M: 4 }, new Rng(4), 24);
    const { x } = batchFloats(loadDataset('mnist').test, [5, 6]);
    tf.tidy(() => {
      const xs = tf.tensor2d(x, [2, 784]);
      const noise = tf.zeros([2, 7, 7, 4]);
      const t = codecLoss(codec, xs, 0.01, noise);
      const mse = t.mse.dataSync()[0], bpp = t.bpp.dataSync()[0];
      expect(t.loss.dataSync()[0]).toBeCloseTo(0.01 * 255 * 255 * mse + bpp, 4);
      const xHat = t.xHat.dataSync();
      let se = 0; for (let i = 0; i < x.length; i++) se += (xHat[i] - x[i]) ** 2;
      expect(mse).toBeCloseTo(se / x.length, 6);
    });
    for (const v of Object.values(codecVariables(codec))) v.dispose();
  });
});
