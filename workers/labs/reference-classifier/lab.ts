import * as tf from '@tensorflow/tfjs';
import { referenceClassifierQueries, referenceClassifierSamples, referenceClassifierSpec } from '../../../common/labs/reference-classifier';
import { sampleEmitter } from '../../../common/lab-contract';
import { CLASS_NAMES } from '../../runtime/datasets';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../../runtime/checkpoint';
import { queryHandlers, type LabDefinition } from '../../runtime/context';
import { classifierForward, createClassifier, type ClassifierVars } from '../../nn/classifier';
import { trainClassifier } from '../../train/classifier';
import { Rng } from '../../runtime/rng';

interface LiveModel { vars: ClassifierVars; dataset: 'mnist' | 'fashion-mnist' }

function classify(model: LiveModel, pixels: number[]) {
  const probs = tf.tidy(() => tf.softmax(classifierForward(model.vars, tf.tensor2d(pixels, [1, 784])).logits).dataSync());
  const list = Array.from(probs);
  const label = list.indexOf(Math.max(...list));
  return { probs: list, label, className: CLASS_NAMES[model.dataset][label] };
}

export const referenceClassifierLab: LabDefinition<typeof referenceClassifierSpec.params> = {
  spec: referenceClassifierSpec,
  async run(p, ctx) {
    ctx.plan(['train']);
    const result = await trainClassifier(p, ctx, 'train');
    const ckpt = ctx.checkpointPath('classifier');
    saveCheckpoint(ckpt, result.vars, { params: p });
    ctx.setLiveModel({ vars: result.vars, dataset: p.dataset } satisfies LiveModel);
    sampleEmitter(referenceClassifierSamples, ctx.emit)('confusion', { classes: [...CLASS_NAMES[p.dataset]], matrix: result.test.confusion });
    const stepsPerSec = result.steps / (result.trainMs / 1000);
    ctx.metric(result.steps, 'stepsPerSec', stepsPerSec);
    return {
      metrics: { testAccuracy: result.test.accuracy, testLoss: result.test.loss, trainLoss: result.trainLoss, stepsPerSec },
      checks: { accuracyAbove0p97: result.test.accuracy >= 0.97 },
    };
  },
  async loadModel(runDir, ctx) {
    const ckpt = readCheckpoint(`${runDir}/checkpoints/classifier.ckpt`);
    const p = (ckpt.meta.params ?? {}) as { channels: number; featureDim: number; dataset: 'mnist' | 'fashion-mnist' };
    const vars = createClassifier({ channels: p.channels, featureDim: p.featureDim }, new Rng(0));
    assignCheckpoint(ckpt, vars);
    void ctx;
    return { vars, dataset: p.dataset } satisfies LiveModel;
  },
  queries: queryHandlers(referenceClassifierQueries, {
    classify: (args, model) => classify(model as LiveModel, args.pixels),
  }),
};
