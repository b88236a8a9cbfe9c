// activation-codec lab on the smoke preset (tiny cached codec, fixed seed): real activations
// are coded by every coder bit-exactly, EG lengths equal their formula, the Gaussian coder's
// bytes match its model estimate. The lab run itself is in activation-codec-run.test.ts.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyEncoder, bitsEstimate, createActEncoder, quantize } from '../workers/labs/activation-codec/act-encoder';
import { analysis, codecVariables, decodeImage, encodeImage } from '../workers/nn/image-codec';
import { decodeEGk, decodeSymmetricEG, encodeEGk, encodeSymmetricEG, egkLength, symmetricEGBits } from '../workers/coding/exp-golomb';
import { decodeGaussian, encodeGaussian, gaussianEstimateBits } from '../workers/coding/gaussian';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { testContext } from './helpers/context';

const home = mkdtempSync(join(tmpdir(), 'bt-act-'));

describe('activation-codec (smoke, seed 3)', () => {
  it('codes real activations of the codec: exact EG lengths, bit-exact round trips, estimate within 1 % + 6 bytes', async () => {
    const { ctx } = await testContext(3, { home });
    const codec = await ctx.require('codec:mnist:0.001:tiny');
    const { x } = batchFloats(loadDataset('mnist').test, Array.from({ length: 16 }, (_, i) => i));
    const captured: { q: Int32Array; C: number }[] = [];
    tf.tidy(() => {
      analysis(codec, tf.tensor2d(x, [16, 784]), (layer, a) => {
        const z = quantize(a, 8);
        captured.push({ q: Int32Array.from(z.q.dataSync()), C: a.shape[3] });
        // The differentiable estimates agree with the exact lengths at identity transforms.
        expect(bitsEstimate('eg4', z.q, 8).dataSync()[0]).toBe(encodeEGk(z.q.dataSync(), 4).bits + 64);
        expect(bitsEstimate('seg', z.q, 8).dataSync()[0]).toBe(symmetricEGBits(z.q.dataSync(), a.shape[3], 8) + 64);
        // Same model, computed in float32 on the tape: equal to 1e-4 relative (float32 CDF differences and sums over ~10^5 values).
        const exactBits = gaussianEstimateBits(z.q.dataSync(), a.shape[3], 0, 255) + 64;
        expect(Math.abs(bitsEstimate('gaussian', z.q, 8).dataSync()[0] - exactBits)).toBeLessThanOrEqual(1e-4 * exactBits);
        return a;
      });
    });
    expect(captured).toHaveLength(2); // a1, a2 on the analysis side
    for (const { q, C } of captured) {
      expect(Math.min(...q)).toBe(0);
      expect(Math.max(...q)).toBe(255); // min–max quantization uses the full range
      const eg = encodeEGk(q, 4);
      expect(eg.bits).toBe(q.reduce((s, v) => s + egkLength(v, 4), 0));
      expect(Array.from(decodeEGk(eg.bytes, q.length, 4))).toEqual(Array.from(q));
      const seg = encodeSymmetricEG(q, C);
      expect(Array.from(decodeSymmetricEG(seg.bytes, q.length, C))).toEqual(Array.from(q));
      const g = encodeGaussian(q, C, 0, 255);
      expect(Array.from(decodeGaussian(g, q.length, C, 0, 255))).toEqual(Array.from(q));
      const est = gaussianEstimateBits(q, C, 0, 255);
      expect(Math.abs(g.length * 8 - est)).toBeLessThanOrEqual(est * 0.01 + 48);
    }
    // The codec's own bitstream decodes to what the encoder reconstructed, with coded activations.
    const enc = createActEncoder('a1', codec.shape.N, 'diagonal');
    const hook = (layer: string, a: tf.Tensor4D) => (layer === 'a1' ? applyEncoder(enc, a, 8).out : a);
    const bytes = encodeImage(codec, x.subarray(0, 784), hook);
    expect(decodeImage(codec, bytes, hook).length).toBe(784);
    for (const v of [...Object.values(codecVariables(codec)), enc.T, enc.tb, enc.Tinv, enc.tinvb]) v.dispose();
  });
});
