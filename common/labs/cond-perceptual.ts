import { z } from 'zod';
import type { LabSpec } from '../lab';
import { bytes784, extendedNumber, pixels784 } from '../lab-contract';

/**
 * λ of the conditional MSE codecs G1 (loss λ·255²·MSE + bpp), lowest rate first. With Y this
 * codec's rate climbs in steps as latent channels switch on: ≈ 0.8 bits an image at 5e-5 (the
 * stream's termination: nothing sent), ≈ 3.6 at 5.25e-5 (one channel, a symbol in every fourth
 * image), ≈ 31 at 5.5e-5, ≈ 38 at 6e-5, ≈ 48 at 7e-5.
 */
export const COND_LAMBDAS = [0.0000525, 0.00006, 0.00007] as const;

/**
 * λ of the codecs without Y the rate-matched reference chooses from (cached shared parts,
 * highest rate first): at each rate, the one at or below G1's λ whose bits are closest to
 * G1-with-Y's (workers/labs/cond-perceptual/lab.ts). This codec's rate jumps between 3e-5
 * (≈ 0.8 bits: nothing sent) and 4e-5 (≈ 59); 3.5e-5 probes between them.
 */
export const COND_REFERENCE_LADDER = [0.00007, 0.00006, 0.00005, 0.00004, 0.000035, 0.00003, 0.00002, 0.00001, 0.000005, 0.000002] as const;

/**
 * The decoders compared on the same bits: G2 with a conditional critic D(x, ŷ, Y) and ε
 * (cond), with an unconditional critic D(x, ŷ) (uncondCritic), with the conditional critic
 * and no ε (noEps), and G1 and G2 without Y (uncondAll); beside them G1's MSE decode x̄.
 */
export const COND_ARMS = ['cond', 'uncondCritic', 'noEps', 'uncondAll'] as const;
export type CondArm = (typeof COND_ARMS)[number];
export const COND_DECODERS = ['mse', ...COND_ARMS] as const;
export type CondDecoder = (typeof COND_DECODERS)[number];

const lambda = z.number().min(0.000001).max(0.1);

export const condPerceptualParams = z.object({
  dataset: z.enum(['mnist', 'fashion-mnist']).default('mnist').describe('Image set (canonical train/test split)'),
  side: z.enum(['class', 'mask']).default('class').describe('Side information Y, known to encoder and decoder and not counted in the rate: the class label, or a coarse 7 × 7 mask of the ink'),
  lambdas: z.array(lambda).min(1).max(4).default([COND_LAMBDAS[0]]).describe('λ of each rate\'s G1 (a cached shared part each); the lowest λ is the low rate the headline metrics read'),
  models: z.enum(['full', 'tiny']).default('full').describe('The cached G1 codecs and judge: full, or tiny ones for smoke runs'),
  reference: z.enum(['rateMatched', 'sameLambda']).default('rateMatched')
    .describe('The fully unconditional reference\'s G1 (without Y): at the ladder λ whose bits are closest to G1-with-Y\'s (rateMatched), or at G1\'s own λ, where it spends more bits (sameLambda)'),
  generatorSteps: z.number().int().min(1).max(20000).default(500).describe('G2 steps per decoder'),
  criticSteps: z.number().int().min(1).max(10).default(5).describe('Critic steps per G2 step (WGAN-GP: 5)'),
  lambdaGp: z.number().min(0).max(100).default(10).describe('Gradient-penalty weight λ_gp'),
  fidelity: z.number().min(0).max(1).default(0.0001).describe('Weight w of G2\'s fidelity term w·255²·‖x̄ − X̂‖² (mean over pixels; the development code\'s 1e-4)'),
  learningRate: z.number().min(0.000001).max(0.01).default(0.0002).describe('Adam step of G2 and the critic (β = 0.5, 0.9)'),
  batchSize: z.number().int().min(4).max(256).default(64).describe('Images per G2 and critic step'),
  criticCondition: z.enum(['concat', 'projection']).default('concat')
    .describe('How a conditional critic reads Y: as inputs beside the image and the bits (concat), or by projection onto its features, D = w·h + ⟨E·Y, h⟩ (projection)'),
  criticHidden: z.number().int().min(16).max(1024).default(256).describe('Width of the MLP critic\'s two hidden layers'),
  g2Start: z.enum(['g1', 'scratch']).default('g1').describe('G2 starts from G1\'s synthesis weights (ε channels small), or from scratch'),
  perClass: z.number().int().min(2).max(86).default(80).describe('Test images decoded per class (the same images for every decoder); as many more are the real floor'),
  referencePerClass: z.number().int().min(10).max(700).default(500).describe('Training images per class the conditional Fréchet distance compares against (the class\'s distribution)'),
  draws: z.number().int().min(2).max(8).default(4).describe('ε draws per image for the diversity measure and the grid (same bits, different ε)'),
  bootstrap: z.number().int().min(50).max(5000).default(300).describe('Bootstrap resamples for the interval of condFD(no ε) − condFD(ε)'),
  inference: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime').describe('Engine of the evaluation\'s decodes: the codec transforms exported to onnxruntime-node, or TF.js (training is TF.js either way)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for G2 and critic initialisation, batches, ε and the bootstrap'),
});
export type CondPerceptualParams = z.infer<typeof condPerceptualParams>;

const decoderRow = z.object({
  decoder: z.enum(COND_DECODERS),
  condFd: z.number(), fd: z.number(), psnr: extendedNumber, semanticAgree: z.number().min(0).max(1),
  maskIou: z.number().min(0).max(1), diversity: z.number().nonnegative(),
});

export const condPerceptualSamples = {
  /** One row per rate: its bits and every decoder's scores on the same test images. */
  rates: z.array(z.object({
    lambda: z.number().positive(), bitsPerImage: z.number().nonnegative(), bitsPerImageNoY: z.number().nonnegative(), bpp: z.number().nonnegative(),
    /** λ of the reference's G1 without Y (its bits are bitsPerImageNoY); absent on runs from before rate matching, whose reference was at `lambda`. */
    referenceLambda: z.number().positive().optional(),
    images: z.number().int().positive(), decoders: z.array(decoderRow),
  })),
  /** Real test images (not decoded) against the reference, at the same count per class: what the sample count alone costs. */
  floor: z.object({ condFd: z.number(), fd: z.number(), perClass: z.number().int().positive() }),
  /** The low rate's side-by-side: originals, Y, x̄ and each decoder's decodes (ε draws for the ε decoders). */
  grid: z.object({
    lambda: z.number().positive(), side: z.enum(['class', 'mask']), labels: z.array(z.number().int()), masks: z.array(z.array(z.number().min(0).max(1)).length(49)),
    original: z.array(bytes784),
    /** Per decoder, its decodes of the shown images, draw after draw (ε decoders: `draws` rows of them; x̄: one). */
    decodes: z.array(z.object({ decoder: z.enum(COND_DECODERS), images: z.array(bytes784) })),
  }),
  /** The interval of condFD(no ε) − condFD(ε) at the low rate (bootstrap over images within each class). */
  epsEffect: z.object({ difference: z.number(), lo: z.number(), hi: z.number(), resamples: z.number().int() }),
};

const sideValue = z.union([z.number().int().min(0).max(9), z.array(z.number().min(0).max(1)).length(49)]);

export const condPerceptualQueries = {
  /**
   * An image through a rate's G1 with its own Y; the bits decoded with the Y the user picks
   * (`decodeSide`: a class, or 49 mask cells) by x̄ and each trained decoder, several ε draws.
   */
  decode: {
    args: z.object({
      pixels: pixels784, lambda: z.number().positive(), encodeSide: sideValue, decodeSide: sideValue,
      draws: z.number().int().min(1).max(6).default(3), seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    }),
    result: z.object({
      bits: z.number().int().nonnegative(), lambda: z.number().positive(), encodeMask: z.array(z.number()).length(49),
      decodes: z.array(z.object({ decoder: z.enum(COND_DECODERS), images: z.array(z.array(z.number()).length(784)), judged: z.array(z.number().int()) })),
    }),
  },
};

export const condPerceptualSpec: LabSpec<typeof condPerceptualParams> = {
  id: 'cond-perceptual',
  title: 'Conditional perceptual quality codec',
  paper: { title: 'Conditional Perceptual Quality Preserving Image Compression (Xu et al.)', arxiv: '2308.08154' },
  summary: 'At a few bits an image, decode a codec conditioned on side information Y with a generator G2 trained against a critic that sees Y (or not), with shared noise ε (or not): which decoder matches the images of each class?',
  params: condPerceptualParams,
  samples: condPerceptualSamples,
  queries: condPerceptualQueries,
  cores: 2,
  presets: {
    smoke: { models: 'tiny', generatorSteps: 12, criticSteps: 2, batchSize: 16, criticHidden: 32, perClass: 4, referencePerClass: 20, draws: 2, bootstrap: 50 },
    default: {},
    paper: { lambdas: [...COND_LAMBDAS], generatorSteps: 1000 },
  },
  metrics: [
    'condFd_cond', 'condFd_uncondCritic', 'condFd_uncondAll', 'condFd_mse', 'condFd_realFloor',
    'semanticAgree_cond_lowRate', 'semanticAgree_uncondAll_lowRate', 'semanticAgree_cond_minOverRates',
    'condFd_noEps_lowRate', 'condFd_eps_lowRate', 'condFdEpsGap_lo', 'condFdEpsGap_hi', 'diversity_eps', 'diversity_noEps',
    'bitsPerImage_lowRate', 'bitsPerImageNoY_lowRate', 'referenceLambda_lowRate', 'psnr_cond', 'psnr_mse', 'maskIou_cond', 'maskIou_uncondAll', 'maskIou_mse',
  ],
  checks: ['condFdLowest', 'semanticAtLeast95pct', 'epsLowersCondFd'],
  keyMetrics: ['condFd_cond', 'condFd_uncondCritic', 'condFd_uncondAll', 'semanticAgree_cond_lowRate'],
  metricInfo: {
    condFd_cond: { label: 'conditional FD · G2, conditional critic, ε (low rate)' },
    condFd_uncondCritic: { label: 'conditional FD · G2, unconditional critic, ε' },
    condFd_uncondAll: { label: 'conditional FD · G1 and G2 without Y' },
    condFd_mse: { label: 'conditional FD · MSE decode x̄' },
    condFd_realFloor: { label: 'conditional FD · real images (floor)' },
    semanticAgree_cond_lowRate: { label: 'judge agrees with Y · conditional decoder', unit: 'fraction' },
    semanticAgree_uncondAll_lowRate: { label: 'judge agrees with the class · unconditional reference', unit: 'fraction' },
    semanticAgree_cond_minOverRates: { label: 'judge agrees with Y · conditional decoder, worst rate', unit: 'fraction' },
    condFd_noEps_lowRate: { label: 'conditional FD · conditional critic without ε' },
    condFd_eps_lowRate: { label: 'conditional FD · conditional critic with ε' },
    condFdEpsGap_lo: { label: 'condFD(no ε) − condFD(ε): 95 % interval, low end' },
    condFdEpsGap_hi: { label: 'condFD(no ε) − condFD(ε): 95 % interval, high end' },
    diversity_eps: { label: 'pixel std across ε draws of the same bits' },
    diversity_noEps: { label: 'pixel std across draws without ε (0 by construction)' },
    bitsPerImage_lowRate: { label: 'bits an image at the low rate (stream bits / images)', unit: 'number' },
    bitsPerImageNoY_lowRate: { label: 'bits an image, G1 without Y (the reference)', unit: 'number' },
    referenceLambda_lowRate: { label: 'λ of the reference\'s G1 without Y', unit: 'number' },
    psnr_cond: { label: 'PSNR · conditional decoder', unit: 'dB' }, psnr_mse: { label: 'PSNR · MSE decode', unit: 'dB' },
    maskIou_cond: { label: 'mask IoU with Y · conditional decoder', unit: 'fraction' },
    maskIou_uncondAll: { label: 'mask IoU with Y · unconditional reference', unit: 'fraction' },
    maskIou_mse: { label: 'mask IoU with Y · MSE decode', unit: 'fraction' },
  },
  checkPresets: { condFdLowest: ['default', 'paper'], semanticAtLeast95pct: ['default', 'paper'], epsLowersCondFd: ['default', 'paper'] },
  codeVersion: 3,
  defaultTime: '≈ 9–12 min once the two G1 codecs (with and without Y) and the judge are cached; each G1 trains once in ≈ 5 min',
  reproduce: [
    { metric: 'condFd_cond', paper: 'best conditional perceptual quality (Fig. 3–4, qualitative; numbers unverified)', note: 'Per-class Fréchet distance of judge features against training images of that class, averaged over classes.' },
    { metric: 'condFd_uncondCritic', paper: 'worse than the conditional critic', note: 'Same G1, bits and G2 inputs; only the critic lacks Y.' },
    { metric: 'condFd_uncondAll', paper: '—', note: 'G1 and G2 without Y at the same rate (its λ chosen so its bits match; the bits then also carry the class).' },
    { metric: 'condFd_mse', paper: 'blurry: worst perception', note: 'G1\'s own decode x̄ of the same bits.' },
    { metric: 'condFd_realFloor', paper: '—', note: 'Real images at the same count per class.' },
    { metric: 'semanticAgree_cond_lowRate', paper: '"high semantic quality at all bitrates"', note: 'Share of decodes the judge assigns to Y\'s class.' },
    { metric: 'condFd_noEps_lowRate', paper: 'without common randomness a decoder collapses at near-zero rate', note: 'Conditional critic, no ε; compare condFd_eps_lowRate.' },
    { metric: 'diversity_eps', paper: '—', note: 'Mean pixel std across ε draws of the same bits.' },
    { metric: 'bitsPerImage_lowRate', paper: 'papers.md analogue: 4–16 bits an image', note: 'Arithmetic-coded stream of all decoded images, bits / images.' },
  ],
};
