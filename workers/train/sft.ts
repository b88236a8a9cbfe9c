// Supervised fine-tuning of a sequence model: token-averaged cross-entropy on each
// example's target (the prompt is not scored), Adam with a cosine-decayed step size,
// examples reshuffled every pass. The model is reached only through `targetLogProbs`, so
// any prompt (a visual prefix, video frames, plain text) can sit before the target.
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import type { Rng } from '../runtime/rng';
import { cosineDecay, setLearningRate } from '../runtime/schedule';

/** Per-token log-probs [B, L+1] of each target (0 at padding) and their mask, for a batch of examples. */
export type TargetLogProbs<E> = (examples: readonly E[], targets: readonly number[][], open?: readonly boolean[]) => { perToken: tf.Tensor2D; mask: tf.Tensor2D };

export interface SftOptions<E> {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** The variables trained. */
  variables: tf.Variable[];
  /** An example's target tokens (without <eos>). */
  target(example: E): number[];
  /** Recorded as `${metricName}` every 10 steps; the progress phase shown meanwhile. */
  metricName: string;
  phase: string;
}

export interface TrainStats { steps: number; ms: number }

export async function trainSft<E>(examples: readonly E[], logProbs: TargetLogProbs<E>, o: SftOptions<E>, ctx: Pick<RunContext, 'throwIfCancelled' | 'metric' | 'progress'>, rng: Rng): Promise<TrainStats> {
  const opt = tf.train.adam(o.learningRate);
  const order: number[] = [];
  let ms = 0;
  try {
    for (let step = 1; step <= o.steps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const batch: E[] = [];
      while (batch.length < o.batchSize) {
        if (!order.length) order.push(...(rng.shuffle(Array.from(examples, (_, i) => i)) as number[]));
        batch.push(examples[order.pop()!]);
      }
      setLearningRate(opt, o.learningRate * cosineDecay(step, o.steps));
      const targets = batch.map(o.target);
      const loss = opt.minimize(() => {
        const { perToken, mask } = logProbs(batch, targets);
        return perToken.sum().div(mask.sum()).neg() as tf.Scalar;
      }, true, o.variables)!;
      const value = loss.dataSync()[0];
      loss.dispose();
      ms += performance.now() - t0;
      if (step % 10 === 0 || step === o.steps) {
        ctx.metric(step, o.metricName, value);
        ctx.progress(o.phase, step, o.steps);
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    opt.dispose();
  }
  return { steps: o.steps, ms };
}
