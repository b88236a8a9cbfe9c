// WGAN-GP on the wasm backend: the gradient penalty equals its definition computed with a
// finite-difference ∇ₓD, and its gradient in the critic's weights (a second-order gradient:
// it differentiates ∂D/∂x) equals central finite differences of the penalty itself; for a
// critic that concatenates its context and for one that projects part of it.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createCritic, criticScores, CRITIC_SLOPE, type Critic } from '../workers/nn/critic';
import { criticLoss, generatorAdversarialLoss, gradientPenalty } from '../workers/train/wgan-gp';

const B = 3, X = 5, C = 2, H = 6;

function setup(seed: number, projected = 0) {
  const rng = new Rng(seed);
  const critic = createCritic(X, C, H, rng, projected);
  // Non-zero biases, so no pre-activation sits at LeakyReLU's kink by construction.
  tf.tidy(() => { for (const k of ['b1', 'b2', 'b3'] as const) critic.weights[k].assign(tf.tensor(rng.normalArray(critic.weights[k].size, 0.3), critic.weights[k].shape)); });
  const t = (n: number, cols: number) => tf.tensor2d(rng.normalArray(n * cols, 1), [n, cols]);
  return { critic, real: t(B, X), fake: t(B, X), context: t(B, C), alpha: tf.tensor2d([0.2, 0.5, 0.9], [B, 1]) };
}

describe('WGAN-GP', () => {
  it.each([0, 1])('the penalty is E[(‖∇ₓD(x̂)‖ − 1)²] at x̂ = α·real + (1 − α)·fake (∇ₓD by finite differences; %i context values projected)', async (projected) => {
    await initBackend('wasm');
    const { critic, real, fake, context, alpha } = setup(3, projected);
    const gp = gradientPenalty(critic, real, fake, alpha, context).dataSync()[0];
    const mixed = tf.tidy(() => real.mul(alpha).add(fake.mul(tf.scalar(1).sub(alpha))).arraySync() as number[][]);
    const ctx = context.arraySync() as number[][];
    const score = (row: number[], b: number) => tf.tidy(() => criticScores(critic, tf.tensor2d([row], [1, X]), tf.tensor2d([ctx[b]], [1, C])).dataSync()[0]);
    let expected = 0;
    const h = 1e-2;
    for (let b = 0; b < B; b++) {
      let sq = 0;
      for (let i = 0; i < X; i++) {
        const up = [...mixed[b]], down = [...mixed[b]];
        up[i] += h; down[i] -= h;
        sq += ((score(up, b) - score(down, b)) / (2 * h)) ** 2;
      }
      expected += (Math.sqrt(sq) - 1) ** 2 / B;
    }
    expect(gp).toBeCloseTo(expected, 3);
    expect(gp).toBeGreaterThan(0.01); // a critic at unit slope everywhere would make this test vacuous
  });

  it.each([0, 1])('its gradient in the critic\'s weights (second order) equals finite differences of the penalty (%i context values projected)', async (projected) => {
    await initBackend('wasm');
    const { critic, real, fake, context, alpha } = setup(5, projected);
    const vars = Object.values(critic.weights);
    const { grads } = tf.variableGrads(() => gradientPenalty(critic, real, fake, alpha, context), vars);
    const penalty = () => tf.tidy(() => gradientPenalty(critic, real, fake, alpha, context).dataSync()[0]);
    const h = 1e-2;
    let checked = 0, largest = 0;
    for (const name of ['w1', 'w2', 'w3', 'b1', 'b2', ...(projected ? ['embed'] : [])]) {
      const v = critic.weights[name], g = grads[v.name].dataSync(), values = v.dataSync().slice();
      for (const i of [0, Math.floor(v.size / 2), v.size - 1]) {
        const at = (delta: number) => { const w = values.slice(); w[i] += delta; v.assign(tf.tensor(w, v.shape)); return penalty(); };
        const numeric = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.tensor(values, v.shape));
        expect(g[i], `${name}[${i}]`).toBeCloseTo(numeric, 2);
        largest = Math.max(largest, Math.abs(g[i]));
        checked++;
      }
    }
    expect(checked).toBe(projected ? 18 : 15);
    expect(largest).toBeGreaterThan(0.05); // the penalty reaches the weights only through ∇ₓD: a tape that dropped the inner gradient would give zeros
  });

  it('the critic loss is E[D(fake)] − E[D(real)] + λ·penalty, the generator\'s −E[D(fake)]', async () => {
    await initBackend('wasm');
    const { critic, real, fake, context, alpha } = setup(7);
    const dReal = criticScores(critic, real, context).dataSync() as Float32Array, dFake = criticScores(critic, fake, context).dataSync() as Float32Array;
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const gp = gradientPenalty(critic, real, fake, alpha, context).dataSync()[0];
    const l = criticLoss(critic, real, fake, alpha, 10, context);
    expect(l.loss.dataSync()[0]).toBeCloseTo(mean(dFake) - mean(dReal) + 10 * gp, 4);
    expect(l.wasserstein.dataSync()[0]).toBeCloseTo(mean(dReal) - mean(dFake), 5);
    expect(generatorAdversarialLoss(critic, fake, context).dataSync()[0]).toBeCloseTo(-mean(dFake), 5);
  });

  it('scores by hand: w₃·h + b₃, plus ⟨E·y, h⟩ for the projected part of the context', async () => {
    await initBackend('wasm');
    for (const projected of [0, 1, 2]) {
      const { critic, real, context } = setup(11, projected);
      const got = criticScores(critic, real, context).dataSync();
      const x = real.arraySync(), c = context.arraySync();
      for (let b = 0; b < B; b++) expect(got[b], `${projected} projected, image ${b}`).toBeCloseTo(scoreByHand(critic, x[b], c[b]), 4);
    }
  });

  it('names a context of the wrong width', async () => {
    await initBackend('wasm');
    const { critic, real } = setup(9);
    expect(() => criticScores(critic, real, tf.zeros([B, 3]) as tf.Tensor2D)).toThrow(/context has 2 values, not 3/);
  });
});

/** The critic's forward pass in plain arithmetic, from its weights. */
function scoreByHand(critic: Critic, x: number[], context: number[]): number {
  const w = Object.fromEntries(Object.entries(critic.weights).map(([k, v]) => [k, Array.from(v.dataSync())]));
  const concatenated = context.length - critic.projected, H = critic.hidden;
  const leaky = (v: number) => (v > 0 ? v : CRITIC_SLOPE * v);
  const layer = (input: number[], weights: number[], bias: number[]) => bias.map((b0, j) => leaky(input.reduce((s, v, i) => s + v * weights[i * H + j], b0)));
  const h1 = layer([...x, ...context.slice(0, concatenated)], w.w1, w.b1), h2 = layer(h1, w.w2, w.b2);
  let score = w.b3[0] + h2.reduce((s, v, j) => s + v * w.w3[j], 0);
  const y = context.slice(concatenated);
  for (let j = 0; j < H; j++) score += h2[j] * y.reduce((s, v, k) => s + v * w.embed[k * H + j], 0);
  return score;
}
