// The judge: the reference classifier trained with a fixed recipe, loaded by generative
// labs for class accuracy of their samples and for Fréchet features.
import * as tf from '@tensorflow/tfjs';
import { referenceClassifierParams, type ReferenceClassifierParams } from '../../common/labs/reference-classifier';
import type { DatasetName } from '../runtime/datasets';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../runtime/checkpoint';
import { Rng } from '../runtime/rng';
import type { SharedPart } from '../runtime/shared-parts';
import { classifierForward, createClassifier } from '../nn/classifier';
import { trainClassifier } from '../train/classifier';

export interface Judge {
  dataset: DatasetName;
  testAccuracy: number;
  featureDim: number;
  /** x: n x 784 floats in [0, 1]. */
  predict(x: Float32Array, n: number): { labels: Int32Array; features: Float32Array };
  dispose(): void;
}

/** A small judge for smoke runs and tests (~10 s to train, ~0.9 accuracy). */
export const TINY_JUDGE: Partial<ReferenceClassifierParams> = { epochs: 2, trainLimit: 2048, channels: 8, featureDim: 16, augmentShift: 0, learningRate: 0.003 };

/** The judge's recipe is fixed; `overrides` exist for tests and the tiny judge (a different recipe is a different cache entry). */
export function judgePart(dataset: DatasetName, overrides: Partial<ReferenceClassifierParams> = {}, keySuffix = ''): SharedPart<Judge> {
  const recipe = referenceClassifierParams.parse({ dataset, epochs: 5, seed: 0, ...overrides });
  return {
    key: `judge:${dataset}${keySuffix}`,
    recipe,
    codeVersion: 1,
    async build(dir, ctx) {
      const result = await trainClassifier(recipe, { ...ctx, rng: new Rng(recipe.seed), metric: () => {} }, `train judge:${dataset}`);
      saveCheckpoint(`${dir}/classifier.ckpt`, result.vars, { params: recipe, testAccuracy: result.test.accuracy });
      for (const v of Object.values(result.vars)) v.dispose();
    },
    async load(dir) {
      const ckpt = readCheckpoint(`${dir}/classifier.ckpt`);
      const vars = createClassifier({ channels: recipe.channels, featureDim: recipe.featureDim }, new Rng(0));
      assignCheckpoint(ckpt, vars);
      return {
        dataset,
        testAccuracy: Number(ckpt.meta.testAccuracy),
        featureDim: recipe.featureDim,
        predict(x, n) {
          return tf.tidy(() => {
            const out = classifierForward(vars, tf.tensor2d(x, [n, 784]));
            return { labels: out.logits.argMax(1).dataSync() as Int32Array, features: out.features.dataSync() as Float32Array };
          });
        },
        dispose() { for (const v of Object.values(vars)) v.dispose(); },
      };
    },
  };
}
