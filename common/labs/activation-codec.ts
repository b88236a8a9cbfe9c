import { z } from 'zod';
import type { LabSpec } from '../lab';
import { bytes784, extendedNumber, pixels784 } from '../lab-contract';

export const ACTIVATION_CODERS = ['raw', 'eg4', 'seg', 'gaussian'] as const;
export type ActivationCoder = (typeof ACTIVATION_CODERS)[number];
/** The λs of the codec's rate-distortion curve (shared codec parts, cached once trained). */
export const CODEC_LAMBDAS = [0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01] as const;

export const activationCodecParams = z.object({
  dataset: z.enum(['mnist', 'fashion-mnist']).default('mnist').describe('Image set (canonical train/test split)'),
  lambda: z.number().min(0.00001).max(1).default(0.001).describe('λ of the MSE codec whose activations are compressed (loss λ·255²·MSE + bpp)'),
  codecSize: z.enum(['full', 'tiny']).default('full').describe('The cached codec: full (N=32, M=16, 3,000 steps) or tiny (for smoke runs)'),
  batchSize: z.number().int().min(1).max(64).default(16).describe('B: images per coded tensor (side information is counted once per tensor)'),
  bitDepth: z.number().int().min(4).max(12).default(8).describe('b: per-tensor min–max quantization of activations to b bits'),
  fineTuneCoder: z.enum(['gaussian', 'seg', 'eg4']).default('gaussian').describe('Whose differentiable bit estimate drives the (shared) fine-tune'),
  transform: z.enum(['full', 'diagonal']).default('diagonal').describe('The learned 1x1 transform: a full channel mix (the paper) or per-channel scales, which keep ReLU zeros exactly zero'),
  trainCodec: z.boolean().default(true).describe('Fine-tune the codec weights too (else only the transforms train, the codec frozen)'),
  fineTuneSteps: z.number().int().min(0).max(20000).default(800).describe('Steps training the 1x1 transforms with λ·255²·MSE + bpp + β·bits/(B·H·W)'),
  beta: z.number().min(0).max(0.1).default(0.01).describe('β, weight of the activation bits in the fine-tune loss (paper: 1e-5, negligible at our scale; see RESULTS.md)'),
  learningRate: z.number().min(1e-5).max(0.1).default(1e-3).describe('Adam step size of the fine-tune'),
  evalImages: z.number().int().min(16).max(10000).default(512).describe('Test images coded for the reported figures'),
  rdCurve: z.enum(['off', 'cached', 'all']).default('cached').describe('RD curve of the codec at its λs: off, only codecs already cached, or all (trains any missing one, ~5 min each)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for the fine-tune'),
});
export type ActivationCodecParams = z.infer<typeof activationCodecParams>;

const rdPoint = z.object({ lambda: z.number().positive(), bpp: z.number().nonnegative(), psnrDb: extendedNumber });

export const activationCodecSamples = {
  /** Per hidden layer: bits per activation of each coder (side information included) and the Gaussian model's estimate. */
  'layer-bits': z.array(z.object({
    layer: z.string(), tensors: z.number().int().positive(), activations: z.number().int().positive(),
    raw: z.number().positive(), eg4: z.number().positive(), seg: z.number().positive(), gaussian: z.number().positive(), gaussianEstimate: z.number().positive(),
  })),
  /** Per hidden layer: histograms of the quantized levels before and after the transform, and the fitted Gaussians (summed). */
  histograms: z.array(z.object({ layer: z.string(), before: z.array(z.number().nonnegative()), after: z.array(z.number().nonnegative()), gaussian: z.array(z.number().nonnegative()) })),
  /** Test images: original, decoded with float activations, decoded with coded activations. */
  images: z.array(z.object({ original: bytes784, without: bytes784, with: bytes784 })),
  /** The codec's rate-distortion curve (bits counted from the bytes) and this run's point with coded activations. */
  rd: z.object({ points: z.array(rdPoint), withActivations: rdPoint }),
  /** DRAM traffic energy per image, raw against coded, at a stated pJ/bit. */
  energy: z.object({ pjPerBit: z.number().positive(), source: z.string(), rawNjPerImage: z.number().nonnegative(), gaussianNjPerImage: z.number().nonnegative() }),
};

export const activationCodecQueries = {
  /** The user's image through the codec, with float and with coded activations. */
  compress: {
    args: z.object({ pixels: pixels784 }),
    result: z.object({
      without: z.array(z.number()).length(784), with: z.array(z.number()).length(784), bytes: z.number().int().positive(), bpp: z.number().positive(),
      psnrWithout: extendedNumber, psnrWith: extendedNumber,
    }),
  },
};

export const activationCodecSpec: LabSpec<typeof activationCodecParams> = {
  id: 'activation-codec',
  title: 'Activation compression',
  paper: { title: 'Bandwidth-Efficient Inference for Neural Image Compression (Yin et al., ICASSP 2024)', arxiv: '2309.02855' },
  summary: 'Entropy-code the activations of a learned image codec: 1x1 transform, 8-bit quantization, exp-Golomb or Gaussian coding with real bitstreams.',
  params: activationCodecParams,
  samples: activationCodecSamples,
  queries: activationCodecQueries,
  presets: {
    smoke: { codecSize: 'tiny', fineTuneSteps: 20, evalImages: 64, rdCurve: 'off' },
    default: {},
    paper: { evalImages: 1000, rdCurve: 'all' },
  },
  metrics: ['bandwidthReduction', 'psnrDb', 'psnrDropDb', 'bitsPerActivation_raw', 'bitsPerActivation_eg4', 'bitsPerActivation_seg', 'bitsPerActivation_gaussian', 'estimateErrorPct', 'codecBpp', 'encodeMBps', 'decodeMBps', 'stepsPerSec'],
  checks: ['decodesBitExact', 'reductionAtLeast3x', 'psnrDropUnder0p3dB', 'coderOrdering'],
  keyMetrics: ['bandwidthReduction', 'psnrDropDb', 'bitsPerActivation_gaussian', 'codecBpp'],
  metricInfo: {
    bandwidthReduction: { label: 'bandwidth reduction (Gaussian vs 8-bit raw)', unit: 'ratio' },
    bandwidthReductionVsFloat32: { label: 'bandwidth reduction vs float32', unit: 'ratio' },
    codecBpp: { label: 'codec rate', unit: 'bpp' },
    estimateErrorPct: { label: 'Gaussian estimate error', unit: 'percent' },
  },
  checkPresets: { reductionAtLeast3x: ['default', 'paper'], psnrDropUnder0p3dB: ['default', 'paper'], coderOrdering: ['default', 'paper'] },
  // The control and the coded fine-tune train side by side on 2 cores (workers/labs/activation-codec/fine-tune-task.ts).
  cores: 2,
  codeVersion: 1,
  defaultTime: '≈ 4 min once its codec is cached (229 s: its two 800-step fine-tunes side by side on 2 cores, the coded one four times the control\'s cost; 249 s one after another); the first run also trains the codec (+6 min)',
  sweeps: [
    {
      title: 'β: activation bandwidth against PSNR', param: 'beta', values: [0.00001, 0.001, 0.01, 0.03], preset: 'default', seed: 1,
      metrics: ['bandwidthReduction', 'bitsPerActivation_gaussian', 'bitsPerActivation_seg', 'psnrDropDb', 'psnrDb'],
      note: 'The drop is against the control fine-tune (same steps, loss and batches, float activations).',
    },
  ],
  reproduce: [
    { metric: 'bandwidthReduction', paper: '19× (abstract; baseline unstated in the code: 8-bit or float32)', note: 'Ours against 8-bit raw activations, Gaussian coder, side information included.' },
    { metric: 'psnrDropDb', paper: '"negligible"', note: 'PSNR of a control fine-tune (float activations, same steps, loss and batches) minus the PSNR with coded 8-bit activations.' },
    { metric: 'bandwidthReductionVsFloat32', paper: '19× if against float32', note: '32·#activations / actual bits.' },
    { metric: 'bitsPerActivation_raw', paper: '8', note: '' },
    { metric: 'bitsPerActivation_eg4', paper: '—', note: 'EG-4 on min–max-quantized values.' },
    { metric: 'bitsPerActivation_seg', paper: '—', note: 'Symmetric EG around each channel median.' },
    { metric: 'bitsPerActivation_gaussian', paper: '—', note: 'Per-channel discretized Gaussian (μ, σ fitted by code length, sent as float32), rANS-coded.' },
    { metric: 'estimateErrorPct', paper: '—', note: 'Actual rANS bytes vs the Gaussian model estimate.' },
    { metric: 'codecBpp', paper: '—', note: 'Bits per pixel of the codec bitstream (arithmetic-coded, counted from bytes).' },
    { metric: 'psnrDb', paper: '—', note: '' },
  ],
};
