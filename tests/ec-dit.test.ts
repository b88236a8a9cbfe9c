// ec-dit: condition tokens, patch ink and Spearman's ρ by hand, the flow loss by hand,
// and a smoke run end to end: every metric, capacities exact at every sampling step,
// routing samples for the panel, the generate query (and its refusals), no tensor leak.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { resolveParams } from '../common/lab';
import { ecDitSpec } from '../common/labs/ec-dit';
import { contextTokens } from '../workers/data/class-condition';
import { patchInk } from '../workers/labs/ec-dit/ink';
import { spearman } from '../workers/runtime/stats';
import { flowLoss, trainDit } from '../workers/train/flow-matching';
import { loadDataset } from '../workers/runtime/datasets';
import { ditConfig } from '../workers/labs/ec-dit/model';
import { createDit, disposeDit } from '../workers/nn/dit';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { testContext } from './helpers/context';

describe('ec-dit pieces', () => {
  it('condition tokens: [kind, class] per label, [null, null] for the null label', () => {
    expect(Array.from(contextTokens('mnist', [7, -1, 0]))).toEqual([1, 9, 0, 0, 1, 2]);
  });

  it('patch ink sums each 4x4 patch', () => {
    const img = new Float32Array(784);
    img[0] = 1; img[3 * 28 + 3] = 0.5; img[4] = 0.25; img[27 * 28 + 27] = 1;
    const ink = patchInk(img, 1, 28, 4);
    expect(ink[0]).toBeCloseTo(1.5); expect(ink[1]).toBeCloseTo(0.25); expect(ink[48]).toBeCloseTo(1);
    expect(ink.reduce((a, b) => a + b, 0)).toBeCloseTo(2.75);
  });

  it("Spearman's ρ: perfect, reversed, and with ties (averaged ranks) by hand", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    // a ranks 1, 2.5, 2.5, 4; b ranks 1..4: ρ = Pearson of the ranks = 0.9486832…
    expect(spearman([0, 5, 5, 9], [1, 2, 3, 4])).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(Number.isNaN(spearman([1, 1, 1], [1, 2, 3]))).toBe(true);
  });

  it('the flow loss is the mean squared error against x1 − x0 (zero-initialised output layer: v = 0)', async () => {
    await initBackend('wasm');
    const p = resolveParams(ecDitSpec, 'smoke');
    const m = createDit(ditConfig(p, 'ec'), new Rng(1));
    const r = new Rng(2), B = 8;
    const x1 = r.normalArray(B * 784), x0 = r.normalArray(B * 784), t = Float32Array.from({ length: B }, () => r.next());
    // adaLN-zero: the final projection starts at zero, so v ≡ 0 and the loss is mean((x1 − x0)²).
    let expected = 0;
    for (let i = 0; i < x1.length; i++) expected += (x1[i] - x0[i]) ** 2;
    const got = tf.tidy(() => flowLoss(m, x1, x0, t, contextTokens('mnist', new Int32Array(B)), 0).flow.dataSync()[0]);
    expect(got).toBeCloseTo(expected / x1.length, 4);
    disposeDit(m);
  });
});

describe('ec-dit training', () => {
  it('with an EMA, the model ends at the average of its weights, not its last step (and frees it)', async () => {
    await initBackend('wasm');
    const ds = loadDataset('mnist');
    const base = resolveParams(ecDitSpec, 'smoke', { trainSteps: 3 });
    const weightsAfter = async (emaDecay: number) => {
      const m = createDit(ditConfig(base, 'ec'), new Rng(1));
      const { ctx } = await testContext(1);
      const before = tf.memory().numTensors;
      await trainDit(m, 'ec', ds.train, { ...base, emaDecay }, ctx, new Rng(2));
      expect(tf.memory().numTensors).toBe(before);
      const w = Array.from(m.weights.patch_w.dataSync());
      disposeDit(m);
      return w;
    };
    const init = (() => { const m = createDit(ditConfig(base, 'ec'), new Rng(1)); const w = Array.from(m.weights.patch_w.dataSync()); disposeDit(m); return w; })();
    const raw = await weightsAfter(0), ema = await weightsAfter(0.9);
    // decay min(0.9, (1+s)/(10+s)) = 2/11, 3/12, 4/13: the EMA keeps (2/11)(3/12)(4/13) ≈ 1.4 % of the initial weights.
    const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
    expect(dist(ema, raw)).toBeGreaterThan(0);
    expect(dist(ema, init)).toBeLessThan(dist(raw, init));
  });
});
