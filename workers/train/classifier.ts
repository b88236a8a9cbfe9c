import * as tf from '@tensorflow/tfjs';
// Trains and evaluates the small CNN (workers/nn/classifier.ts): the reference-classifier
// lab's model, and the judge's.
import type { ReferenceClassifierParams } from '../../common/labs/reference-classifier';
import { batchFloats, loadDataset, type ImageSet } from '../runtime/datasets';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { randomShift } from '../data/augment';

import type { RunContext } from '../runtime/context';
import { classifierForward, createClassifier, type ClassifierVars } from '../nn/classifier';

export interface Evaluation { accuracy: number; loss: number; confusion: number[][] }

export function evaluate(vars: ClassifierVars, set: ImageSet, limit: number, batch = 250): Evaluation {
  const n = Math.min(limit, set.count);
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let correct = 0, lossSum = 0;
  for (let from = 0; from < n; from += batch) {
    const idx = Array.from({ length: Math.min(batch, n - from) }, (_, j) => from + j);
    const { x, y } = batchFloats(set, idx);
    const [pred, loss] = tf.tidy(() => {
      const { logits } = classifierForward(vars, tf.tensor2d(x, [idx.length, 784]));
      const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
      return [logits.argMax(1).dataSync() as Int32Array, tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.SUM).dataSync()[0]];
    });
    lossSum += loss;
    for (let j = 0; j < idx.length; j++) { confusion[y[j]][pred[j]]++; if (pred[j] === y[j]) correct++; }
  }
  return { accuracy: correct / n, loss: lossSum / n, confusion };
}

/** trainLoss is the mean over the last 50 steps. */
export interface TrainResult { vars: ClassifierVars; test: Evaluation; trainLoss: number; steps: number; trainMs: number }

/** Trains the CNN with Adam on the canonical train split; reports to ctx as it goes. */
export async function trainClassifier(p: ReferenceClassifierParams, ctx: RunContext, phase = 'train'): Promise<TrainResult> {
  const ds = loadDataset(p.dataset);
  const vars = createClassifier({ channels: p.channels, featureDim: p.featureDim }, ctx.rng.fork('init'));
  const optimizer = tf.train.adam(p.learningRate);
  const shuffle = ctx.rng.fork('shuffle');
  const augment = ctx.rng.fork('augment');
  const nTrain = Math.min(p.trainLimit, ds.train.count);
  const stepsPerEpoch = Math.floor(nTrain / p.batchSize);
  const totalSteps = stepsPerEpoch * p.epochs;
  let step = 0, trainMs = 0;
  const recentLosses: number[] = [];
  try {
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      // The first nTrain images of a fixed permutation, reshuffled each epoch.
      const pool = Array.from(ctx.rng.fork(`subset`).permutation(ds.train.count).subarray(0, nTrain));
      shuffle.shuffle(pool);
      for (let s = 0; s < stepsPerEpoch; s++) {
        ctx.throwIfCancelled();
        const t0 = performance.now();
        const batch = batchFloats(ds.train, pool.slice(s * p.batchSize, (s + 1) * p.batchSize));
        const x = randomShift(batch.x, p.batchSize, p.augmentShift, augment), y = batch.y;
        setLearningRate(optimizer, p.learningRate * cosineDecay(step, totalSteps));
        const loss = tf.tidy(() => {
          const xs = tf.tensor2d(x, [p.batchSize, 784]);
          const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
          const cost = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(onehot, classifierForward(vars, xs).logits) as tf.Scalar, true);
          return cost!.dataSync()[0];
        });
        trainMs += performance.now() - t0;
        step++;
        recentLosses.push(loss);
        if (recentLosses.length > 50) recentLosses.shift();
        if (step % 10 === 0 || step === totalSteps) {
          ctx.metric(step, 'trainLoss', loss);
          ctx.progress(phase, step, totalSteps);
          await new Promise((r) => setImmediate(r)); // let cancel messages in
        }
      }
      const test = evaluate(vars, ds.test, p.testLimit);
      ctx.metric(step, 'testAccuracy', test.accuracy);
      ctx.metric(step, 'testLoss', test.loss);
      ctx.log(`${phase}: epoch ${epoch + 1}/${p.epochs} test accuracy ${(test.accuracy * 100).toFixed(2)}%`);
    }
  } finally {
    optimizer.dispose();
  }
  const test = evaluate(vars, ds.test, p.testLimit);
  const trainLoss = recentLosses.reduce((a, b) => a + b, 0) / Math.max(1, recentLosses.length);
  return { vars, test, trainLoss, steps: step, trainMs };
}
