// DDPM prior math: the schedule against NumPy's values, the respacing of the paper's code,
// samplers that reproduce a Gaussian data distribution exactly when given its exact ε
// predictor, guidance that pulls toward a measurement per image (batching changes nothing),
// and input gradients through the DiT prior and through the codec against finite differences.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { linearSchedule, predictEps, type DdpmSchedule } from '../workers/train/ddpm';
import { respacedSteps, sampleDdpm, type EpsModel, type ImageDistance } from '../workers/train/ddpm-sampling';
import { createDit } from '../workers/nn/dit';
import { analysis, createImageCodec, synthesis } from '../workers/nn/image-codec';
import { roundSTE } from '../workers/nn/ste';
import { CONTEXT_VOCAB } from '../workers/data/class-condition';
import { Rng } from '../workers/runtime/rng';

const PIXELS = 784;

/** The exact ε predictor for data x_0 ~ N(μ, c²) per pixel: E[ε | x_t] = √(1−ᾱ)(x_t − √ᾱ μ)/(ᾱc² + 1 − ᾱ). */
function gaussianEps(s: DdpmSchedule, mu: number, c: number): EpsModel {
  return (xt, steps) => {
    const ab = s.alphaBar[steps[0]];
    return xt.sub(Math.sqrt(ab) * mu).mul(Math.sqrt(1 - ab) / (ab * c * c + 1 - ab)) as tf.Tensor2D;
  };
}
const stats = (x: Float32Array) => { let m = 0; for (const v of x) m += v; m /= x.length; let v2 = 0; for (const v of x) v2 += (v - m) ** 2; return { mean: m, std: Math.sqrt(v2 / x.length) }; };
const streams = (n: number, seed: number) => Array.from({ length: n }, (_, i) => new Rng(seed).fork(`image-${i}`));

describe('DDPM', () => {
  it('the linear schedule matches NumPy (β 1e-4 … 0.02 over 1,000 steps); respacing matches the paper code', () => {
    const s = linearSchedule(1000);
    expect(s.betas[0]).toBeCloseTo(1e-4, 15); expect(s.betas[999]).toBeCloseTo(0.02, 15);
    expect(s.alphaBar[0]).toBeCloseTo(0.9999, 15);
    expect(s.alphaBar[499]).toBeCloseTo(0.07858724288177824, 12);
    expect(s.alphaBar[999]).toBeCloseTo(4.035829765375676e-05, 15);
    const r = respacedSteps(1000, 100);
    expect(r.length).toBe(100);
    expect(r.slice(0, 6)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(r.slice(48, 52)).toEqual([484, 494, 505, 515]);
    expect(r.slice(-3)).toEqual([979, 989, 999]);
    expect(() => respacedSteps(1000, 1001)).toThrow(/cannot take 1001 of 1000/);
  });

  it('with the exact ε of Gaussian data, DDPM and DDIM land on the distribution the step recurrence predicts', () => {
    // Data x_0 ~ N(μ, c²) per pixel makes every step linear in x: x' = A·x + B (+ σ·z), so the output's
    // mean and variance follow from a scalar recurrence, written here apart from the tensor sampler.
    const s = linearSchedule(1000);
    const mu = 0.1, c = 0.2;
    const predicted = (used: number[], eta: number) => {
      let m = 0, v = 1;
      for (let i = used.length - 1; i >= 0; i--) {
        const a = s.alphaBar[used[i]], ap = i > 0 ? s.alphaBar[used[i - 1]] : 1;
        const sig = eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
        const k = Math.sqrt(1 - a) / (a * c * c + 1 - a);
        const A0 = (1 - Math.sqrt(1 - a) * k) / Math.sqrt(a), B0 = Math.sqrt(1 - a) * k * mu;
        const Ae = (1 / Math.sqrt(a) - A0) / Math.sqrt(1 / a - 1), Be = -B0 / Math.sqrt(1 / a - 1);
        const c2 = Math.sqrt(Math.max(0, 1 - ap - sig * sig));
        const A = Math.sqrt(ap) * A0 + c2 * Ae, B = Math.sqrt(ap) * B0 + c2 * Be;
        m = A * m + B; v = A * A * v + (i > 0 ? sig * sig : 0);
      }
      return { mean: m, std: Math.sqrt(v) };
    };
    const eps = gaussianEps(s, mu, c);
    for (const opts of [{ steps: 1000, eta: 1 }, { steps: 100, eta: 0 }, { steps: 100, eta: 1 }]) {
      const want = predicted(respacedSteps(1000, opts.steps), opts.eta);
      const got = stats(sampleDdpm(eps, s, streams(16, 3), { ...opts, guidance: { kind: 'none' } }).images);
      expect(Math.abs(got.mean - want.mean), `mean, ${opts.steps} steps η ${opts.eta}`).toBeLessThan(0.004);
      expect(Math.abs(got.std - want.std), `std, ${opts.steps} steps η ${opts.eta}: want ${want.std}`).toBeLessThan(0.004);
    }
    // The full ancestral sampler is within 2 % of the data's own spread; coarse DDIM is not (0.1875): a step-count effect, not a bug.
    expect(Math.abs(predicted(respacedSteps(1000, 1000), 1).std - c)).toBeLessThan(0.004);
  });

  it('DPS and DSG pull each image toward its own measurement; a decode does not depend on its batch', () => {
    const s = linearSchedule(1000);
    const eps = gaussianEps(s, 0, 0.3);
    const y = tf.tensor2d(Float32Array.from({ length: 2 * PIXELS }, (_, i) => (i < PIXELS ? 0.5 : -0.5) * Math.sin(i)), [2, PIXELS]);
    const dist = (target: tf.Tensor2D): ImageDistance => (x0) => x0.sub(target.slice([0, 0], [x0.shape[0], PIXELS])).square().sum(1).sqrt() as tf.Tensor1D;
    const gap = (imgs: Float32Array, row: number) => Math.sqrt(imgs.slice(row * PIXELS, (row + 1) * PIXELS).reduce((a, v, i) => a + (v - y.dataSync()[row * PIXELS + i]) ** 2, 0));
    const free = sampleDdpm(eps, s, streams(2, 5), { steps: 100, eta: 1, guidance: { kind: 'none' } });
    const dsg = sampleDdpm(eps, s, streams(2, 5), { steps: 100, eta: 1, guidance: { kind: 'dsg', rate: 0.1 } }, dist(y));
    const dps = sampleDdpm(eps, s, streams(2, 5), { steps: 1000, eta: 1, guidance: { kind: 'dps', zeta: 0.6 } }, dist(y));
    for (const row of [0, 1]) {
      expect(gap(dsg.images, row)).toBeLessThan(0.8 * gap(free.images, row));
      expect(gap(dps.images, row)).toBeLessThan(0.8 * gap(free.images, row));
    }
    // Image 0 decoded alone equals image 0 decoded beside image 1 (its own noise stream and distance).
    const alone = sampleDdpm(eps, s, streams(1, 5), { steps: 100, eta: 1, guidance: { kind: 'dsg', rate: 0.1 } }, dist(y));
    const maxDiff = alone.images.reduce((mx, v, i) => Math.max(mx, Math.abs(v - dsg.images[i])), 0);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(() => sampleDdpm(eps, s, streams(1, 5), { steps: 10, eta: 1, guidance: { kind: 'dps', zeta: 1 } })).toThrow(/needs a distance/);
    y.dispose();
  });

  it('input gradients through the DiT prior and through the codec agree with central differences', () => {
    const rng = new Rng(11);
    const m = createDit({
      image: 28, patch: 4, dModel: 32, heads: 2, layers: 2, contextVocab: CONTEXT_VOCAB, ffn: ['dense', 'dense'], ffnHidden: [64, 64], experts: 2, expertHidden: 8, capacityFactor: 1, tcCapacityFactor: 1,
    }, rng.fork('dit'));
    // adaLN-zero starts every block as identity and the output at zero: give the zero-initialised weights values.
    for (const [name, v] of Object.entries(m.weights)) if (/mod|final|x_o/.test(name)) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 7));
    const s = linearSchedule(1000);
    const codec = createImageCodec({ N: 8, M: 4 }, rng.fork('codec'));
    const probe = tf.tensor2d(rng.fork('probe').normalArray(PIXELS), [1, PIXELS]);
    // f(x) = ⟨probe, ε_θ(x, t)⟩ + ⟨probe, g_s(g_a((x + 1)/2))⟩: a scalar through both networks.
    const f = (x: tf.Tensor2D) => tf.tidy(() => predictEps(m, s, x, [300]).mul(probe).sum().add(synthesis(codec, analysis(codec, x.add(1).div(2) as tf.Tensor2D)).mul(probe).sum()) as tf.Scalar);
    const x = tf.tensor2d(rng.fork('x').normalArray(PIXELS, 0.5), [1, PIXELS]);
    const grad = tf.grad((xi: tf.Tensor) => f(xi as tf.Tensor2D))(x).dataSync();
    const base = x.dataSync();
    const h = 1e-2;
    let checked = 0;
    for (const i of [100, 350, 406, 600, 700]) {
      const plus = Float32Array.from(base), minus = Float32Array.from(base);
      plus[i] += h; minus[i] -= h;
      const fd = (f(tf.tensor2d(plus, [1, PIXELS])).dataSync()[0] - f(tf.tensor2d(minus, [1, PIXELS])).dataSync()[0]) / (2 * h);
      expect(Math.abs(grad[i] - fd), `pixel ${i}: autodiff ${grad[i]} vs FD ${fd}`).toBeLessThan(0.02 * Math.max(1, Math.abs(fd)));
      checked++;
    }
    expect(checked).toBe(5);
    // Straight-through rounding passes the gradient of the unrounded path unchanged.
    const y = tf.tensor4d(rng.fork('y').normalArray(49 * 4, 2), [1, 7, 7, 4]);
    const gSte = tf.grad((v: tf.Tensor) => synthesis(codec, roundSTE(v) as tf.Tensor4D).mul(probe).sum())(y).dataSync();
    const gId = tf.grad((v: tf.Tensor) => synthesis(codec, v as tf.Tensor4D).mul(probe).sum())(tf.round(y)).dataSync(); // at the rounded point
    expect(Array.from(gSte)).toEqual(Array.from(gId));
  });
});
