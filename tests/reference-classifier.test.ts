// Lab test on the smoke preset with a fixed seed: it learns, it is deterministic, it
// leaks no tensors, its checkpoint reloads to the same predictions, bad queries are refused.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { resolveParams } from '../common/lab';
import { referenceClassifierSpec } from '../common/labs/reference-classifier';
import { referenceClassifierLab } from '../workers/labs/reference-classifier/lab';
import { randomShift } from '../workers/data/augment';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

const params = resolveParams(referenceClassifierSpec, 'smoke', { seed: 5 });

describe('reference-classifier lab (smoke, seed 5)', () => {
  it('learns, repeats itself exactly, leaks nothing, and reloads from its checkpoint', async () => {
    const a = await testContext(5);
    const contract = contractChecker(referenceClassifierLab);
    const before = tf.memory().numTensors;
    const first = await referenceClassifierLab.run(params, a.ctx);
    expect(first.metrics.testAccuracy).toBeGreaterThan(0.8); // chance is 0.1
    expect(first.checks.accuracyAbove0p97).toBe(first.metrics.testAccuracy >= 0.97);
    const live = a.live() as { vars: Record<string, tf.Variable> };
    // Only the live model's variables remain.
    expect(tf.memory().numTensors - before).toBe(Object.keys(live.vars).length);

    const b = await testContext(5);
    const second = await referenceClassifierLab.run(params, b.ctx);
    expect(second.metrics.testAccuracy).toBe(first.metrics.testAccuracy);
    expect(second.metrics.testLoss).toBe(first.metrics.testLoss);

    const confusion = a.events.find((e) => e.type === 'sample' && e.kind === 'confusion');
    const matrix = (confusion as { data: { matrix: number[][] } }).data.matrix;
    const total = matrix.flat().reduce((x, y) => x + y, 0);
    expect(total).toBe(params.testLimit);
    expect(matrix.reduce((s, row, i) => s + row[i], 0) / total).toBeCloseTo(first.metrics.testAccuracy, 10);

    // Reload into a fresh model and compare predictions on real test digits.
    const reloaded = await referenceClassifierLab.loadModel!(a.ctx.runDir, a.ctx);
    const { x } = batchFloats(loadDataset('mnist').test, [0, 1, 2, 3, 4]);
    for (let i = 0; i < 5; i++) {
      const pixels = Array.from(x.subarray(i * 784, (i + 1) * 784));
      const p1 = await contract.query('classify', { pixels }, live) as { probs: number[] };
      const p2 = await contract.query('classify', { pixels }, reloaded) as { probs: number[] };
      p1.probs.forEach((p, k) => expect(p2.probs[k]).toBeCloseTo(p, 6));
    }
    await expect(contract.query('classify', { pixels: [1, 2, 3] }, live)).rejects.toThrow(/bad arguments to query "classify": pixels: must hold 784 numbers in \[0, 1\]/);
    await expect(contract.query('classify', { pixels: new Array(784).fill(2) }, live)).rejects.toThrow(/pixels\.0: /);
    contract.expectFulfilled(a.events);
    contract.expectPlanFollowed(a.events);
    for (const m of [live, reloaded] as { vars: Record<string, tf.Variable> }[]) for (const v of Object.values(m.vars)) v.dispose();
    const bLive = b.live() as { vars: Record<string, tf.Variable> };
    for (const v of Object.values(bLive.vars)) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('random shift moves ink without creating or losing it away from the border', () => {
    const img = new Float32Array(784); img[14 * 28 + 14] = 1;
    const out = randomShift(img, 1, 2, new Rng(1));
    expect(out.reduce((a, b) => a + b, 0)).toBe(1);
    const at = out.indexOf(1);
    expect(Math.abs((at % 28) - 14)).toBeLessThanOrEqual(2);
    expect(Math.abs(Math.floor(at / 28) - 14)).toBeLessThanOrEqual(2);
  });
});
