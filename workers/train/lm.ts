// Next-token training of a shared-decoder language model on rows of token ids, with the
// target the recipe names: the label (pretraining), a teacher's top-1 mixed with the label
// (Apple's on-device distillation: 0.9·top-1 + 0.1·label), or a teacher's full softmax
// (soft distillation; with labelWeight 0, plain knowledge distillation for recovery).
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { decoderForward, embedTokens, type Decoder } from '../nn/decoder';

export type LmTarget =
  | { kind: 'label' }
  | { kind: 'top1' | 'soft'; teacher: Decoder; /** The label's share of the target (the teacher's is the rest). */ labelWeight: number };

export interface LmTrainOptions {
  steps: number;
  learningRate: number;
  /** Steps of linear warm-up before the cosine decay. */
  warmup: number;
  target: LmTarget;
  /** The variables trained (default: every weight of the model). */
  variables?: tf.Variable[];
  /** Rows of length+1 token ids for a step. */
  batch(step: number): number[][];
  /** Called every `reportEvery` steps with the step's loss (awaited: progress, cancel, yield). */
  report(step: number, loss: number): Promise<void>;
  reportEvery?: number;
}

export function logits(d: Decoder, x: tf.Tensor2D): tf.Tensor3D {
  return decoderForward(d, embedTokens(d, x)).logits;
}

/** The loss of one batch: cross-entropy against the chosen target distribution, mean over tokens. */
export function lmLoss(d: Decoder, rows: readonly number[][], target: LmTarget): tf.Scalar {
  const L = rows[0].length - 1;
  const x = tf.tensor2d(rows.map((r) => r.slice(0, L)), undefined, 'int32');
  const y = tf.tensor2d(rows.map((r) => r.slice(1)), undefined, 'int32');
  const V = d.config.vocab;
  const logProbs = tf.logSoftmax(logits(d, x));
  const label = tf.oneHot(y, V);
  let q: tf.Tensor = label;
  if (target.kind !== 'label') {
    const t = tf.tidy(() => {
      const tl = logits(target.teacher, x);
      return target.kind === 'top1' ? tf.oneHot(tl.argMax(-1), V) : tf.softmax(tl);
    });
    q = t.mul(1 - target.labelWeight).add(label.mul(target.labelWeight));
  }
  return q.mul(logProbs).sum(-1).mean().neg() as tf.Scalar;
}

export async function trainLm(d: Decoder, o: LmTrainOptions, ctx: Pick<RunContext, 'throwIfCancelled'>): Promise<{ ms: number; lastLoss: number }> {
  const opt = tf.train.adam(o.learningRate, 0.9, 0.95);
  const vars = o.variables ?? Object.values(d.weights);
  const every = o.reportEvery ?? 10;
  let ms = 0, lastLoss = NaN;
  try {
    for (let step = 1; step <= o.steps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      setLearningRate(opt, o.learningRate * (step <= o.warmup ? step / o.warmup : cosineDecay(step - o.warmup, Math.max(1, o.steps - o.warmup), 0.1)));
      const rows = o.batch(step);
      const loss = opt.minimize(() => lmLoss(d, rows, o.target), true, vars)!;
      if (step % every === 0 || step === o.steps) {
        lastLoss = loss.dataSync()[0];
        ms += performance.now() - t0;
        loss.dispose();
        await o.report(step, lastLoss);
      } else { loss.dispose(); ms += performance.now() - t0; }
    }
  } finally {
    opt.dispose();
  }
  return { ms, lastLoss };
}
