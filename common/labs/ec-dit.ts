import { z } from 'zod';
import type { LabSpec } from '../lab';
import { bytes784 } from '../lab-contract';

export const DIT_MODELS = ['ec', 'dense', 'tc'] as const;
export type DitModelName = (typeof DIT_MODELS)[number];

export const ecDitParams = z.object({
  dataset: z.enum(['mnist', 'fashion-mnist']).default('mnist').describe('Image set (canonical train/test split)'),
  judge: z.enum(['full', 'tiny']).default('full').describe('Reference classifier scoring the samples: full (≈0.98) or tiny (smoke runs)'),
  models: z.array(z.enum(DIT_MODELS)).min(1).default(['ec', 'dense', 'tc']).describe('Which DiTs to train: expert choice, dense, token-choice top-2'),
  dModel: z.number().int().min(16).max(256).default(64).describe('Width d'),
  layers: z.number().int().min(2).max(12).default(4).describe('DiT blocks (every other FFN is a MoE: blocks 2, 4, …)'),
  heads: z.number().int().min(1).max(16).default(4).describe('Attention heads'),
  experts: z.number().int().min(2).max(32).default(8).describe('E: experts per MoE block'),
  capacityFactor: z.number().min(0.25).max(8).default(2).describe('f_c of expert choice: each expert takes S·f_c/E tokens of its routing group'),
  expertHidden: z.number().int().min(8).max(1024).default(128).describe('Hidden width of one expert (the dense baseline\'s MoE-position FFN is f_c experts wide plus the router\'s compute)'),
  tcCapacityFactor: z.number().min(0.5).max(4).default(1.25).describe('Capacity factor of token-choice top-2'),
  tcAuxWeight: z.number().min(0).max(1).default(0.01).describe('Weight of token choice\'s balancing loss'),
  trainSteps: z.number().int().min(1).max(100000).default(1500).describe('Training steps per model (equal for all)'),
  batchSize: z.number().int().min(2).max(256).default(32).describe('Images per training step; its B·49 tokens are one routing group'),
  learningRate: z.number().min(1e-5).max(0.02).default(3e-3).describe('Adam step size (warm-up 50 steps, cosine decay)'),
  emaDecay: z.number().min(0).max(0.9999).default(0).describe('Decay of the weights\' exponential moving average used for validation and sampling (warmed up as min(decay, (1+step)/(10+step))); 0 = the '
    + 'raw weights (default: 0.999 gave no gain at 1,500 steps)'),
  labelDropout: z.number().min(0).max(0.5).default(0.1).describe('Share of training images given the null label (for classifier-free guidance)'),
  sampleSteps: z.number().int().min(1).max(200).default(20).describe('Euler steps from t = 0 (noise) to 1 (data)'),
  cfgScale: z.number().min(0).max(10).default(4).describe('Classifier-free guidance scale s: v = v_null + s·(v_label − v_null)'),
  samplesPerClass: z.number().int().min(1).max(500).default(100).describe('Generated images per class for accuracy and Fréchet distance'),
  sampleBatch: z.number().int().min(2).max(64).default(16).describe('Images generated together: one routing group per branch (conditional, null) at every step'),
  inference: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime').describe('Sampling engine: the trained DiT exported to ONNX and run natively (fast), or the TF.js model it was trained as (tested equal)'),
  fdReference: z.number().int().min(100).max(10000).default(1000).describe('Test images the Fréchet distance compares against'),
  valImages: z.number().int().min(16).max(10000).default(1000).describe('Test images of the validation flow loss (fixed noise and t)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for init, batches, noise and sampling'),
}).superRefine((p, ctx) => {
  if (p.dModel % p.heads !== 0 || p.dModel % 4 !== 0) ctx.addIssue({ code: 'custom', path: ['heads'], message: `dModel ${p.dModel} must be a multiple of 4 and split into ${p.heads} heads` });
  if (Math.floor((p.sampleBatch * 49 * p.capacityFactor) / p.experts) < 1) {
    ctx.addIssue({ code: 'custom', path: ['capacityFactor'], message: `capacity floor(${p.sampleBatch}·49·${p.capacityFactor}/${p.experts}) is 0: raise f_c or the batch` });
  }
  if (new Set(p.models).size !== p.models.length) ctx.addIssue({ code: 'custom', path: ['models'], message: `models repeat: ${p.models.join(', ')}` });
});
export type EcDitParams = z.infer<typeof ecDitParams>;

const count = z.number().int().nonnegative();
const byte = z.number().int().min(0).max(255);
/** A sampling batch denoised step by step: per step the images and, per MoE block, how many experts took each patch, which ones, and the router's probabilities. */
const routingBatch = z.object({
  model: z.enum(DIT_MODELS), labels: z.array(z.number().int().min(0).max(9)), steps: count, experts: count,
  frames: z.array(z.object({
    t: z.number().min(0).max(1), images: z.array(byte),
    routing: z.array(z.object({ layer: count, expertsPerToken: z.array(count), expertMask: z.array(count), probs: z.array(z.number().min(0).max(1)) })),
  })),
});
const denseBatch = z.object({ model: z.literal('dense'), labels: z.array(z.number().int().min(0).max(9)), images: z.array(byte) });
const CLASSES_ERROR = { error: 'must be 1 to 10 class numbers in 0..9' };

export const ecDitSamples = {
  routing: routingBatch,
  /** ρ(patch ink, experts per patch) per MoE block and step (NaN where an image's ink or counts are constant). */
  spearman: z.object({ model: z.enum(DIT_MODELS), layers: z.array(count), steps: count, rho: z.array(z.array(z.union([z.number(), z.nan()]))) }),
  /** Up to 4 samples per class (class-major) with the model's quality figures. */
  grid: z.object({ model: z.enum(DIT_MODELS), images: z.array(bytes784), perClass: count, classAcc: z.number().min(0).max(1), fd: z.number(), valLoss: z.number() }),
};

export const ecDitQueries = {
  /** New samples of the chosen classes from every trained model, the routed ones traced step by step. */
  generate: {
    args: z.object({
      classes: z.array(z.number(CLASSES_ERROR).int(CLASSES_ERROR).min(0, CLASSES_ERROR).max(9, CLASSES_ERROR), CLASSES_ERROR).min(1, CLASSES_ERROR).max(10, CLASSES_ERROR).default([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      seed: z.number().int().min(0).max(2 ** 31 - 1, { error: 'must be an integer in 0..2^31-1' }).default(0),
    }),
    result: z.object({ labels: z.array(z.number().int().min(0).max(9)), tokensPerImage: count, models: z.record(z.string(), z.union([routingBatch, denseBatch])) }),
  },
};

export const ecDitSpec: LabSpec<typeof ecDitParams> = {
  id: 'ec-dit',
  title: 'Expert-choice diffusion transformer',
  paper: { title: 'EC-DiT: Scaling Diffusion Transformers with Adaptive Expert-Choice Routing (Sun et al., ICLR 2025)', arxiv: '2410.02098' },
  summary: 'A rectified-flow DiT on digits whose FFNs are expert-choice MoEs, against dense and token-choice top-2 at equal activated compute; heatmaps of how many experts pick each patch.',
  params: ecDitParams,
  samples: ecDitSamples,
  queries: ecDitQueries,
  presets: {
    smoke: { judge: 'tiny', dModel: 32, layers: 2, heads: 2, experts: 4, expertHidden: 32, trainSteps: 12, batchSize: 8, sampleSteps: 3, samplesPerClass: 2, sampleBatch: 8, fdReference: 100, valImages: 32 },
    default: {},
    paper: {},
  },
  metrics: ['valLoss_ec', 'valLoss_dense', 'valLoss_tc', 'classAcc_ec', 'classAcc_dense', 'classAcc_tc', 'fd_ec', 'fd_dense', 'fd_tc', 'tcDroppedTokenPct', 'inkExpertSpearman_lastLayer', 'stepsPerSec'],
  checks: ['expertCapacityExact', 'classAccEcAbove0p8'],
  keyMetrics: ['classAcc_ec', 'classAcc_dense', 'classAcc_tc', 'fd_ec'],
  metricInfo: { fd_ec: { label: 'Fréchet distance · ec' }, fd_dense: { label: 'Fréchet distance · dense' }, fd_tc: { label: 'Fréchet distance · tc' } },
  checkPresets: { classAccEcAbove0p8: ['default', 'paper'] },
  codeVersion: 1,
  cores: 3,
  defaultTime: '≈ 22 min on a quiet 2-core machine (seed 4: 1,299 s): the three 1,500-step trainings two at a time (20 min), then 1,000 samples a model on onnxruntime (≈ 27 s each)',
  reproduce: [
    { metric: 'valLoss_ec', paper: 'EC lowest training loss (Fig. 4)', note: 'Validation flow loss on test images, fixed noise and t.' },
    { metric: 'valLoss_dense', paper: '—', note: 'Dense FFN as wide as f_c experts (+ router compute).' },
    { metric: 'valLoss_tc', paper: '—', note: 'Token-choice top-2, capacity 1.25, balancing loss.' },
    { metric: 'classAcc_ec', paper: 'GenEval 71.68 % (EC-DiT-M, 256²)', note: 'Judge accuracy against the requested class on 100 samples per class (our GenEval stand-in).' },
    { metric: 'classAcc_dense', paper: 'dense baseline below EC', note: '' },
    { metric: 'classAcc_tc', paper: 'token choice below EC', note: '' },
    { metric: 'fd_ec', paper: '—', note: 'Fréchet distance of judge features, 1,000 samples vs 1,000 test images (our FID stand-in).' },
    { metric: 'fd_dense', paper: '—', note: '' },
    { metric: 'fd_tc', paper: '—', note: '' },
    { metric: 'tcDroppedTokenPct', paper: '—', note: 'Share of token-choice (token, expert) assignments over capacity, during training.' },
    { metric: 'inkExpertSpearman_lastLayer', paper: 'experts concentrate on detailed regions late (up to 44 % of experts on one patch)', note: 'Spearman ρ per sample between patch ink and experts per patch, last MoE block, last step.' },
  ],
};
