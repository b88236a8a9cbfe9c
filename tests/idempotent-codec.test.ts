// The idempotent decoder's pieces: the MSE decode of bytes equals the synthesis of the
// encoder's own symbols, and the idempotence distance keeps a finite (zero) gradient where a
// decode is exactly idempotent (the norm at 0).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createImageCodec, finalizeCodec } from '../workers/nn/image-codec';
import { encodeImages, idempotenceDistance, mseDecode, roundTrip } from '../workers/labs/idempotent-codec/decode';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';

describe('idempotent decoding', () => {
  const codec = createImageCodec({ N: 8, M: 4 }, new Rng(3));
  finalizeCodec(codec);
  const { x } = batchFloats(loadDataset('mnist').test, [0, 1, 2]);

  it('bytes decode to the encoder\'s symbols, and x̄ is their synthesis', () => {
    const bits = encodeImages(codec, x, 3);
    const direct = tf.tidy(() => roundTrip(codec, tf.tensor2d(x, [3, 784])).dataSync());
    expect(Array.from(mseDecode(codec, bits.latents))).toEqual(Array.from(direct));
  });

  it('the distance is 0 with a zero gradient at an idempotent point, and positive with a finite gradient elsewhere', () => {
    const x0 = tf.tensor2d(x.map((v) => 2 * v - 1), [3, 784]);
    const xbar = tf.tidy(() => roundTrip(codec, x0.add(1).div(2) as tf.Tensor2D)); // x̄ := h(x̂₀) exactly
    const d = idempotenceDistance(codec, xbar);
    expect(Array.from(d(x0).dataSync()).every((v) => v < 1e-5)).toBe(true);
    const g = tf.grad((v: tf.Tensor) => d(v as tf.Tensor2D).sum())(x0).dataSync();
    expect(g.every((v) => Number.isFinite(v))).toBe(true);
    const moved = x0.add(0.3) as tf.Tensor2D;
    expect(Math.min(...d(moved).dataSync())).toBeGreaterThan(0.1);
    expect(tf.grad((v: tf.Tensor) => d(v as tf.Tensor2D).sum())(moved).dataSync().every((v) => Number.isFinite(v))).toBe(true);
  });
});
