import { z } from 'zod';
import type { LabSpec } from '../lab';
import { pixels784 } from '../lab-contract';

export const referenceClassifierParams = z.object({
  dataset: z.enum(['mnist', 'fashion-mnist']).default('mnist').describe('Image set (canonical train/test split)'),
  epochs: z.number().int().min(1).max(50).default(5).describe('Passes over the training split'),
  trainLimit: z.number().int().min(64).max(60000).default(60000).describe('Use at most this many training images'),
  testLimit: z.number().int().min(64).max(10000).default(10000).describe('Evaluate on at most this many test images'),
  batchSize: z.number().int().min(8).max(512).default(64).describe('Images per SGD step'),
  learningRate: z.number().min(1e-5).max(0.1).default(0.002).describe('Adam step size'),
  augmentShift: z.number().int().min(0).max(4).default(2).describe('Random translation of training images, in pixels (mnist has only 8,000 training digits)'),
  channels: z.number().int().min(4).max(64).default(16).describe('Filters in the first conv layer (doubled in the second)'),
  featureDim: z.number().int().min(16).max(256).default(64).describe('Width of the penultimate layer (the judge features)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for init and shuffling'),
});
export type ReferenceClassifierParams = z.infer<typeof referenceClassifierParams>;

export const referenceClassifierSamples = {
  /** The test split's confusion matrix: matrix[true][predicted] counts. */
  confusion: z.object({ classes: z.array(z.string()).length(10), matrix: z.array(z.array(z.number().int().min(0)).length(10)).length(10) }),
};

export const referenceClassifierQueries = {
  /** The trained classifier on one 28×28 image (the draw pad). */
  classify: {
    args: z.object({ pixels: pixels784 }),
    result: z.object({ probs: z.array(z.number().min(0).max(1)).length(10), label: z.number().int().min(0).max(9), className: z.string() }),
  },
};

export const referenceClassifierSpec: LabSpec<typeof referenceClassifierParams> = {
  id: 'reference-classifier',
  title: 'Reference classifier',
  paper: { title: 'Judge CNN for the generative labs (class accuracy, Fréchet features)', arxiv: '—' },
  summary: 'A small CNN on mnist / fashion-mnist; later labs load it as their judge.',
  params: referenceClassifierParams,
  samples: referenceClassifierSamples,
  queries: referenceClassifierQueries,
  presets: {
    smoke: { epochs: 3, trainLimit: 2048, testLimit: 512, batchSize: 64, learningRate: 0.003, augmentShift: 0, channels: 8, featureDim: 32 },
    default: { epochs: 5 },
    paper: { epochs: 10 },
  },
  metrics: ['testAccuracy', 'testLoss', 'trainLoss', 'stepsPerSec'],
  checks: ['accuracyAbove0p97'],
  keyMetrics: ['testAccuracy', 'testLoss'],
  checkPresets: { accuracyAbove0p97: ['default', 'paper'] },
  codeVersion: 1,
  defaultTime: '≈ 1 min on 2 cores (wasm)',
  reproduce: [
    { metric: 'testAccuracy', paper: '≥ 0.97 (our target for a judge; no paper)', note: 'Trained on the 8,000 training digits of the `mnist` package (not the 60,000 of MNIST), tested on its 2,000 held-out digits.' },
    { metric: 'stepsPerSec', paper: '—', note: 'Batch 64 on tfjs-backend-wasm with our kernel fixes, 2 cores.' },
  ],
};
