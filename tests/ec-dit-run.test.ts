// ec-dit smoke run end to end, in a file of its own: a test in another file that overruns
// its timeout can never leave tensors alive in this one's count (vitest runs each file in its own process).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { resolveParams } from '../common/lab';
import { ecDitSpec } from '../common/labs/ec-dit';
import { ecDitLab } from '../workers/labs/ec-dit/lab';
import { disposeDit } from '../workers/nn/dit';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

describe('ec-dit smoke run', () => {
  it('runs end to end with exact capacities, routing samples, the generate query, and no tensor leak', async () => {
    const p = resolveParams(ecDitSpec, 'smoke');
    const { ctx, events, live } = await testContext(p.seed);
    await ctx.require('judge:mnist:tiny');
    const before = tf.memory().numTensors;
    const result = await ecDitLab.run(p, ctx);
    for (const name of ecDitSpec.metrics) expect(Number.isFinite(result.metrics[name]), name).toBe(true);
    expect(result.checks.expertCapacityExact).toBe(true);
    expect(result.metrics.tcDroppedTokenPct).toBeGreaterThanOrEqual(0);
    const routing = events.filter((e) => e.type === 'sample' && e.kind === 'routing').map((e) => (e as { data: { model: string; frames: { routing: { expertsPerToken: number[] }[] }[] } }).data);
    expect(routing.map((r) => r.model)).toEqual(['ec', 'tc']);
    const C = Math.floor((p.sampleBatch * 49 * p.capacityFactor) / p.experts);
    for (const f of routing[0].frames) expect(f.routing[0].expertsPerToken.reduce((a, b) => a + b, 0)).toBe(p.experts * C);
    expect(routing[0].frames).toHaveLength(p.sampleSteps);
    const grids = events.filter((e) => e.type === 'sample' && e.kind === 'grid');
    expect(grids).toHaveLength(3);

    const contract = contractChecker(ecDitLab);
    const gen = (await contract.query('generate', { classes: [3, 7], seed: 5 }, live())) as { labels: number[]; models: Record<string, { frames?: unknown[]; images?: number[] }> };
    expect(gen.labels.slice(0, 4)).toEqual([3, 7, 3, 7]);
    expect(Object.keys(gen.models).sort()).toEqual(['dense', 'ec', 'tc']);
    expect(gen.models.ec.frames).toHaveLength(p.sampleSteps);
    expect(gen.models.dense.images).toHaveLength(p.sampleBatch * 784);
    await expect(contract.query('generate', { classes: [12] }, live())).rejects.toThrow(/bad arguments to query "generate": classes\.0: must be 1 to 10 class numbers in 0\.\.9/);
    await expect(contract.query('generate', { classes: [] }, live())).rejects.toThrow(/classes: must be 1 to 10 class numbers/);
    await expect(contract.query('generate', { seed: -1 }, live())).rejects.toThrow(/bad arguments to query "generate": seed: /);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);

    // Only the live models' variables (and their position tables) remain.
    const models = Object.values((live() as { models: Record<string, { weights: object; moe: object }> }).models);
    const kept = tf.memory().numTensors - before;
    for (const m of models) disposeDit(m as never);
    expect(tf.memory().numTensors).toBe(before);
    expect(kept).toBeGreaterThan(0);

    // A reloaded run answers for every model it trained, or names the checkpoint that is missing.
    const reloaded = (await ecDitLab.loadModel!(ctx.runDir, ctx)) as { models: Record<string, unknown> };
    expect(Object.keys(reloaded.models).sort()).toEqual(['dense', 'ec', 'tc']);
    for (const m of Object.values(reloaded.models)) disposeDit(m as never);
    rmSync(join(ctx.runDir, 'checkpoints', 'tc.ckpt'));
    await expect(ecDitLab.loadModel!(ctx.runDir, ctx)).rejects.toThrow(/checkpoint missing for the tc model this run trained: .*tc\.ckpt/);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('samples on onnxruntime score as on TF.js: same images, so the same class accuracy and Fréchet distance', async () => {
    const scored = async (inference: 'onnxruntime' | 'tfjs') => {
      const p = resolveParams(ecDitSpec, 'smoke', { models: ['ec', 'tc'], inference, samplesPerClass: 4 });
      const { ctx, live } = await testContext(p.seed);
      await ctx.require('judge:mnist:tiny');
      const result = await ecDitLab.run(p, ctx);
      for (const m of Object.values((live() as { models: Record<string, unknown> }).models)) disposeDit(m as never);
      return result.metrics;
    };
    const onnx = await scored('onnxruntime'), tfjs = await scored('tfjs');
    for (const model of ['ec', 'tc']) {
      // 40 samples: one image judged differently moves accuracy by 0.025.
      expect(Math.abs(onnx[`classAcc_${model}`] - tfjs[`classAcc_${model}`]), model).toBeLessThanOrEqual(0.025);
      expect(Math.abs(onnx[`fd_${model}`] - tfjs[`fd_${model}`]) / tfjs[`fd_${model}`], model).toBeLessThan(0.01);
      expect(onnx[`inkExpertSpearman_${model}_lastLayer`]).toBeCloseTo(tfjs[`inkExpertSpearman_${model}_lastLayer`], 2);
    }
  }, 120_000);

  it('trains its models side by side in worker threads when the job has the cores, to the very weights of one thread; cancel stops the threads', async () => {
    const p = resolveParams(ecDitSpec, 'smoke', { models: ['ec', 'dense'], samplesPerClass: 2 });
    const run = async (cores: number) => {
      const { ctx, events, live } = await testContext(p.seed, { cores });
      await ctx.require('judge:mnist:tiny');
      const result = await ecDitLab.run(p, ctx);
      for (const m of Object.values((live() as { models: Record<string, unknown> }).models)) disposeDit(m as never);
      return { result, events };
    };
    const one = await run(1), two = await run(2);
    const phases = (events: typeof one.events) => [...new Set(events.flatMap((e) => (e.type === 'progress' && !e.phase.startsWith('train judge') ? [e.phase] : [])))];
    expect(phases(one.events)).toEqual(['judge', 'train ec', 'train dense', 'sample ec', 'sample dense']);
    expect(phases(two.events)).toEqual(['judge', 'train ec, dense on 2 cores', 'sample ec', 'sample dense']);
    const last = two.events.filter((e) => e.type === 'progress' && e.phase.endsWith('cores')).at(-1) as { done: number; total: number };
    expect(last.done).toBe(2 * p.trainSteps);
    expect(last.total).toBe(2 * p.trainSteps);
    // Threads report each model's loss curve as the run's own thread does.
    const curve = (events: typeof one.events, name: string) => events.filter((e) => e.type === 'metric' && e.name === name).map((e) => (e as { value: number }).value);
    expect(curve(two.events, 'ec.loss')).toEqual(curve(one.events, 'ec.loss'));
    for (const k of ['valLoss_ec', 'valLoss_dense', 'classAcc_ec', 'fd_ec', 'fd_dense']) expect(two.result.metrics[k], k).toBe(one.result.metrics[k]);

    const long = resolveParams(ecDitSpec, 'smoke', { models: ['ec', 'dense'], trainSteps: 5000 });
    const { ctx, controller, events } = await testContext(p.seed, { cores: 2 });
    const running = ecDitLab.run(long, ctx);
    while (!events.some((e) => e.type === 'progress' && e.phase.endsWith('cores') && e.done > 0)) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    await expect(running).rejects.toThrow(/cancelled/);
  }, 180_000);
});
