// Side information Y and the codec that reads it at every scale.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { coarseMask, maskIou, sideFromValues, sideInfo } from '../workers/data/side-info';
import { analysis, codecVariables, createImageCodec, decodeImage, decodeStream, encodeImage, encodeStream, finalizeCodec, synthesis } from '../workers/nn/image-codec';

describe('side information', () => {
  it('a class is a one-hot map at every position and a one-hot vector; a bad class is named', () => {
    const s = sideInfo('class', [3, 0], new Float32Array(2 * 784), 2);
    expect(s.map).toHaveLength(2 * 49 * 10);
    expect(Array.from(s.map.subarray(0, 10))).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(s.map.subarray((49 + 48) * 10, (49 + 49) * 10))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(s.vector)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => sideInfo('class', [10], new Float32Array(784), 1)).toThrow(/class 10 of image 0 is not one of 0–9/);
  });

  it('the coarse mask marks the 4 × 4 blocks whose mean reaches the ink level; IoU by hand', () => {
    const img = new Float32Array(784);
    for (let r = 0; r < 4; r++) for (let c = 4; c < 8; c++) img[r * 28 + c] = 1; // block (0, 1) full
    for (let r = 24; r < 28; r++) img[r * 28 + 27] = 1; // block (6, 6): a quarter inked, mean 0.25 < 0.3
    const m = coarseMask(img);
    expect([...m.keys()].filter((i) => m[i] === 1)).toEqual([1]);
    expect(maskIou([1, 1, 0, 0], [1, 0, 1, 0])).toBeCloseTo(1 / 3, 10);
    expect(maskIou([0, 0], [0, 0])).toBe(1);
    expect(() => sideFromValues('mask', [[1, 0]])).toThrow(/mask 0 has 2 cells, not 7 × 7 = 49/);
  });

  it('a codec with Y: per-position side weights, zero at start (the codec without Y); once trained, Y changes the latent and the decode; Y is required', async () => {
    await initBackend('wasm');
    const plain = createImageCodec({ N: 8, M: 4 }, new Rng(2)), withY = createImageCodec({ N: 8, M: 4, side: 10 }, new Rng(2));
    const shared = Object.keys(codecVariables(plain));
    for (const k of shared) expect(Array.from(codecVariables(withY)[k].dataSync()), k).toEqual(Array.from(codecVariables(plain)[k].dataSync()));
    const sideKeys = Object.keys(withY.weights).filter((k) => !shared.includes(k)).sort();
    expect(sideKeys).toEqual(['a1y', 'a2y', 'a3y', 's1y', 's2y', 's3y']);
    expect(sideKeys.map((k) => withY.weights[k].shape)).toEqual([[7, 7, 10, 8], [7, 7, 10, 8], [7, 7, 10, 4], [7, 7, 10, 8], [7, 7, 10, 8], [7, 7, 10, 1]]);
    for (const k of sideKeys) { expect(withY.weights[k].abs().max().dataSync()[0], k).toBe(0); withY.weights[k].assign(tf.randomNormal(withY.weights[k].shape, 0, 0.5, 'float32', 9)); }
    const x = tf.tensor2d(new Rng(3).normalArray(784, 0.3).map((v) => Math.min(1, Math.abs(v))), [1, 784]);
    const yA = tf.tensor4d(sideInfo('class', [1], new Float32Array(784), 1).map, [1, 7, 7, 10]);
    const yB = tf.tensor4d(sideInfo('class', [7], new Float32Array(784), 1).map, [1, 7, 7, 10]);
    const latA = analysis(withY, x, undefined, yA).dataSync(), latB = analysis(withY, x, undefined, yB).dataSync();
    expect(latA.some((v, i) => Math.abs(v - latB[i]) > 1e-4)).toBe(true);
    const zero = tf.zeros([1, 7, 7, 4]) as tf.Tensor4D;
    const decA = synthesis(withY, zero, undefined, yA).dataSync(), decB = synthesis(withY, zero, undefined, yB).dataSync();
    expect(decA.some((v, i) => Math.abs(v - decB[i]) > 1e-4)).toBe(true);
    // A class reaches each position through that position's own weights: from ŷ = 0 the decode's 4 × 4 block means
    // vary away from the border (a shared 1 × 1 projection of a constant map leaves only the deconvolutions' stride pattern, whose block means are flat).
    const blocks: number[] = [];
    for (let r = 1; r < 6; r++) for (let c = 1; c < 6; c++) { let m = 0; for (let d = 0; d < 16; d++) m += decA[(4 * r + (d >> 2)) * 28 + 4 * c + (d & 3)] / 16; blocks.push(m); }
    expect(Math.max(...blocks) - Math.min(...blocks)).toBeGreaterThan(0.05);
    expect(() => analysis(withY, x)).toThrow(/takes side information/);
  });

  it('with Y, encode → decode is bit-exact per image and over one stream of several images', async () => {
    await initBackend('wasm');
    const c = createImageCodec({ N: 8, M: 4, side: 10 }, new Rng(4), 8);
    finalizeCodec(c);
    const rng = new Rng(5), n = 3, x = Float32Array.from(rng.normalArray(n * 784, 0.4), (v) => Math.min(1, Math.abs(v)));
    const side = sideInfo('class', [2, 5, 9], x, n).map;
    const one = decodeImage(c, encodeImage(c, x.subarray(0, 784), undefined, side.subarray(0, 490)), undefined, side.subarray(0, 490));
    const ref = tf.tidy(() => {
      const s = tf.tensor4d(side.subarray(0, 490), [1, 7, 7, 10]);
      const yHat = tf.clipByValue(tf.round(analysis(c, tf.tensor2d(x.subarray(0, 784), [1, 784]), undefined, s)), -8, 8) as tf.Tensor4D;
      return tf.clipByValue(synthesis(c, yHat, undefined, s), 0, 1).dataSync();
    });
    expect(Array.from(one)).toEqual(Array.from(ref));
    const stream = encodeStream(c, x, n, undefined, side);
    const all = decodeStream(c, stream, n, undefined, side);
    expect(Array.from(all.subarray(0, 784))).toEqual(Array.from(one));
    expect(() => encodeStream(c, x, n, undefined, side.subarray(0, 490))).toThrow(/3 × 7 × 7 × 10 values, not 490/);
  });
});
