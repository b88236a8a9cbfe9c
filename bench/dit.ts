// ec-dit at its default size: training steps/s (batch 32, one routing group) and sampling
// images/s (batch 16, 20 Euler steps with guidance) for expert choice, dense and token
// choice, and expert choice's routing overhead over dense at inference (the paper: 20–28 %).
import * as tf from '@tensorflow/tfjs';
import { resolveParams } from '../common/lab';
import { ecDitSpec, type DitModelName } from '../common/labs/ec-dit';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createDit, ditForward, ditVariables, disposeDit } from '../workers/nn/dit';
import { ditConfig } from '../workers/labs/ec-dit/model';
import { contextTokens } from '../workers/data/class-condition';
import { sampleImages, tfjsVelocity } from '../workers/train/flow-sampling';
import { onnxVelocity } from '../workers/nn/dit-onnx';
import { runInThreads } from '../workers/runtime/task-threads';
import type { DitTrainInput } from '../workers/labs/ec-dit/train-task';

/** Two of the lab's trainings (ec, dense; 60 steps each) on one worker thread, then on two: the wall-time ratio. */
async function trainingThreadScaling(backend: string) {
  const p = resolveParams(ecDitSpec, 'default', { trainSteps: 60 });
  const tasks = (['ec', 'dense'] as const).map((model) => ({ kind: 'ec-dit:train', input: { params: p, model } satisfies DitTrainInput }));
  const hooks = { signal: new AbortController().signal, backend, progress() {}, metric() {}, log() {} };
  const wall = async (threads: number) => { const t0 = performance.now(); await runInThreads(tasks, threads, hooks); return performance.now() - t0; };
  const oneMs = await wall(1), twoMs = await wall(2);
  return { steps: 60, oneThreadMs: oneMs, twoThreadsMs: twoMs, scaling: oneMs / twoMs, note: 'ec and dense, 60 steps each, each in a fresh thread (backend start and dataset load included)' };
}

/** One training step split by kernel: the ten costliest kernels (calls, ms) and the total, from tf.profile. */
async function trainStepByOp(step: () => void) {
  const info = await tf.profile(() => { step(); });
  const by = new Map<string, { calls: number; ms: number }>();
  let totalMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    totalMs += ms;
    const e = by.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++; e.ms += ms;
    by.set(k.name, e);
  }
  const top = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10).map(([kernel, e]) => ({ kernel, calls: e.calls, ms: Math.round(e.ms * 10) / 10 }));
  return { kernels: info.kernels.length, totalMs: Math.round(totalMs), top };
}

export async function ditBench() {
  const backend = await initBackend();
  const p = resolveParams(ecDitSpec, 'default');
  const rows: Record<string, unknown> = {};
  const forwardMs: Record<string, number> = {};
  for (const model of ['ec', 'dense', 'tc'] as DitModelName[]) {
    const m = createDit(ditConfig(p, model), new Rng(1));
    const vars = Object.values(ditVariables(m));
    const B = p.batchSize, rng = new Rng(2);
    const x = tf.tensor2d(rng.normalArray(B * 784), [B, 784]), t = Float32Array.from({ length: B }, () => rng.next());
    const ctx = contextTokens(p.dataset, Int32Array.from({ length: B }, (_, i) => i % 10));
    const opt = tf.train.adam(1e-3);
    const step = () => opt.minimize(() => ditForward(m, x, t, ctx, 2).v.square().mean() as tf.Scalar, false, vars);
    step();
    let t0 = performance.now();
    for (let i = 0; i < 5; i++) step();
    const trainStepsPerSec = 5 / ((performance.now() - t0) / 1000);
    const byOp = await trainStepByOp(step);
    const xs = tf.tensor2d(rng.normalArray(16 * 784), [16, 784]), ts = new Float32Array(16).fill(0.5), cs = contextTokens(p.dataset, Int32Array.from({ length: 16 }, (_, i) => i % 10));
    tf.tidy(() => ditForward(m, xs, ts, cs, 2).v.dataSync());
    t0 = performance.now();
    for (let i = 0; i < 10; i++) tf.tidy(() => ditForward(m, xs, ts, cs, 2).v.dataSync());
    forwardMs[model] = (performance.now() - t0) / 10;
    const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
    t0 = performance.now();
    await sampleImages(tfjsVelocity(m), p.dataset, labels, p.sampleSteps, p.cfgScale, new Rng(3));
    const samplingImagesPerSec = 16 / ((performance.now() - t0) / 1000);
    // onnxruntime on one intra-op thread (a default job's core budget), export and session creation timed apart.
    t0 = performance.now();
    const ort = await onnxVelocity(m, 1);
    const onnxOpenMs = performance.now() - t0;
    await sampleImages(ort.field, p.dataset, labels, 2, p.cfgScale, new Rng(3));
    t0 = performance.now();
    for (let rep = 0; rep < 3; rep++) await sampleImages(ort.field, p.dataset, labels, p.sampleSteps, p.cfgScale, new Rng(3 + rep), { trace: model !== 'dense' });
    const samplingImagesPerSecOnnx = (3 * 16) / ((performance.now() - t0) / 1000);
    await ort.release();
    rows[model] = { trainStepsPerSec, trainStepByOp: byOp, samplingImagesPerSec, samplingImagesPerSecOnnx, onnxOverTfjs: samplingImagesPerSecOnnx / samplingImagesPerSec, onnxOpenMs, forwardMsBatch16: forwardMs[model] };
    tf.dispose([x, xs]); opt.dispose(); disposeDit(m);
  }
  const threads = await trainingThreadScaling(backend.name);
  return {
    backend: backend.name,
    trainingThreads: threads,
    model: `d=${p.dModel}, ${p.layers} blocks, E=${p.experts}, f_c=${p.capacityFactor}; train batch ${p.batchSize}, sampling batch 16 × ${p.sampleSteps} steps, CFG (two routing groups per step)`,
    ...rows,
    ecRoutingOverheadPct: 100 * (forwardMs.ec / forwardMs.dense - 1),
    tcRoutingOverheadPct: 100 * (forwardMs.tc / forwardMs.dense - 1),
  };
}
