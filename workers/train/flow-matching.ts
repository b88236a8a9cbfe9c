// Rectified flow (x_t = t·x1 + (1−t)·x0, x0 noise, x1 data; loss ‖(x1 − x0) − v(x_t, t)‖²,
// t logit-normal) for a class-conditional DiT: training (with an optional EMA of the
// weights), its validation loss at fixed noise and t, and Euler sampling with
// classifier-free guidance (flow-sampling.ts).
import * as tf from '@tensorflow/tfjs';
import type { TaskIo } from '../runtime/task-threads';
import type { DatasetName, ImageSet } from '../runtime/datasets';
import { PIXELS } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { ditForward, ditVariables, type Dit } from '../nn/dit';
import type { RoutingTrace } from '../nn/moe';
import { CONTEXT_LEN, contextTokens, flowBatch } from '../data/class-condition';
import { WeightEma } from './ema';
import { shuffledBatches } from './batches';

/** What training and validation read of a lab's params. */
export interface FlowTrainOptions {
  dataset: DatasetName;
  batchSize: number;
  trainSteps: number;
  learningRate: number;
  /** 0 for none. */
  emaDecay: number;
  /** Share of labels replaced by the null label (for classifier-free guidance). */
  labelDropout: number;
  /** Weight of the token-choice balancing loss (token-choice FFNs only). */
  tcAuxWeight: number;
  valImages: number;
}

export const logitNormal = (rng: Rng) => 1 / (1 + Math.exp(-rng.normal()));

/** The flow-matching loss of one batch (plus the token-choice balancing loss × weight). */
export function flowLoss(m: Dit, x1: Float32Array, x0: Float32Array, t: Float32Array, context: Int32Array, auxWeight: number): { loss: tf.Scalar; flow: tf.Scalar; routing: Record<number, RoutingTrace> } {
  const B = t.length;
  const a = tf.tensor2d(x1, [B, PIXELS]), n = tf.tensor2d(x0, [B, PIXELS]), tt = tf.tensor2d(t, [B, 1]);
  const xt = a.mul(tt).add(n.mul(tf.scalar(1).sub(tt))) as tf.Tensor2D;
  const { v, auxLoss, routing } = ditForward(m, xt, t, context, CONTEXT_LEN, { trace: true });
  const flow = v.sub(a.sub(n)).square().mean() as tf.Scalar;
  return { loss: (auxWeight > 0 ? flow.add(auxLoss.mul(auxWeight)) : flow) as tf.Scalar, flow, routing };
}

export interface TrainResult { steps: number; ms: number; droppedPct: number }

/** The progress phase of training the model called `name`. */
export const trainPhase = (name: string) => `train ${name}`;

export async function trainDit(m: Dit, name: string, set: ImageSet, p: FlowTrainOptions, ctx: TaskIo, rng: Rng, onStep?: (step: number) => void): Promise<TrainResult> {
  const vars = Object.values(ditVariables(m));
  const opt = tf.train.adam(p.learningRate, 0.9, 0.99);
  const warm = Math.min(50, Math.floor(p.trainSteps / 4));
  const nextBatch = shuffledBatches(rng, set.count);
  let ms = 0, dropped = 0, assignments = 0;
  // The exponential moving average of the weights, swapped in when training ends.
  const ema = new WeightEma(vars, p.emaDecay);
  try {
    for (let step = 1; step <= p.trainSteps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const { x1, labels } = flowBatch(set, nextBatch(p.batchSize));
      for (let j = 0; j < labels.length; j++) if (rng.next() < p.labelDropout) labels[j] = -1;
      const x0 = rng.normalArray(p.batchSize * PIXELS);
      const t = Float32Array.from({ length: p.batchSize }, () => logitNormal(rng));
      setLearningRate(opt, p.learningRate * (step <= warm ? step / warm : cosineDecay(step - warm, p.trainSteps - warm)));
      let flowValue = 0;
      const loss = opt.minimize(() => {
        const r = flowLoss(m, x1, x0, t, contextTokens(p.dataset, labels), m.config.ffn.includes('tc') ? p.tcAuxWeight : 0);
        flowValue = r.flow.dataSync()[0];
        for (const tr of Object.values(r.routing)) if (tr.kind === 'tc') { dropped += tr.droppedAssignments; assignments += 2 * tr.tokens; }
        return r.loss;
      }, true, vars)!;
      loss.dispose();
      ema.update(step);
      ms += performance.now() - t0;
      if (step % 10 === 0 || step === p.trainSteps) {
        ctx.metric(step, `${name}.loss`, flowValue);
        ctx.progress(trainPhase(name), step, p.trainSteps);
        onStep?.(step);
        await new Promise((r) => setImmediate(r));
      }
    }
    ema.swapIn();
  } finally {
    opt.dispose();
    ema.dispose();
  }
  return { steps: p.trainSteps, ms, droppedPct: assignments ? (100 * dropped) / assignments : 0 };
}

/** Mean flow loss on test images with noise and t fixed by `seed` (the same for every model). */
export function validationLoss(m: Dit, set: ImageSet, p: Pick<FlowTrainOptions, 'dataset' | 'batchSize' | 'valImages'>, seed: Rng): number {
  const rng = seed.fork('val');
  const n = Math.min(p.valImages, set.count);
  let sum = 0, batches = 0;
  for (let s = 0; s + p.batchSize <= n; s += p.batchSize) {
    const idx = Int32Array.from({ length: p.batchSize }, (_, j) => s + j);
    const { x1, labels } = flowBatch(set, idx);
    const x0 = rng.normalArray(p.batchSize * PIXELS), t = Float32Array.from({ length: p.batchSize }, () => logitNormal(rng));
    sum += tf.tidy(() => flowLoss(m, x1, x0, t, contextTokens(p.dataset, labels), 0).flow.dataSync()[0]);
    batches++;
  }
  return batches ? sum / batches : NaN;
}
