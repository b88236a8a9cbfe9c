// Training the tile LM (workers/nn/tile-lm.ts) on its answer loss: Adam, linear warm-up then
// cosine decay, the variables the caller names (all, or the language side with the encoder frozen).
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { answerLoss, type TileLm, type TileLmRow } from '../nn/tile-lm';

export interface TileLmTrainOptions {
  steps: number;
  learningRate: number;
  warmup: number;
  variables: tf.Variable[];
  batch(step: number): TileLmRow[];
  /** Every 10 steps and at the last: the step's loss (awaited: progress, metrics, a chance to cancel). */
  report(step: number, loss: number): Promise<void>;
}

export async function trainTileLm(m: TileLm, o: TileLmTrainOptions, ctx: Pick<RunContext, 'throwIfCancelled'>): Promise<{ ms: number; lastLoss: number }> {
  const opt = tf.train.adam(o.learningRate);
  let ms = 0, lastLoss = NaN;
  try {
    for (let step = 1; step <= o.steps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const rows = o.batch(step);
      setLearningRate(opt, o.learningRate * (step <= o.warmup ? step / o.warmup : cosineDecay(step - o.warmup, Math.max(1, o.steps - o.warmup))));
      const loss = opt.minimize(() => answerLoss(m, rows).loss, true, o.variables)!;
      lastLoss = loss.dataSync()[0];
      loss.dispose();
      ms += performance.now() - t0;
      if (step % 10 === 0 || step === o.steps) await o.report(step, lastLoss);
    }
  } finally { opt.dispose(); }
  return { ms, lastLoss };
}
