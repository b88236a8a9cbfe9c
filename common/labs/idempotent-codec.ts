import { z } from 'zod';
import type { LabSpec } from '../lab';
import { bytes784, extendedNumber, pixels784 } from '../lab-contract';
import { ANCHOR_FORMATS } from '../anchors';

/** The rates of the comparison: λ of the cached MSE codecs (loss λ·255²·MSE + bpp). */
export const IDEMPOTENT_LAMBDAS = [0.0001, 0.0003, 0.001, 0.003] as const;

const lambda = z.number().min(0.00001).max(1);

export const idempotentCodecParams = z.object({
  dataset: z.enum(['mnist', 'fashion-mnist']).default('mnist').describe('Image set (canonical train/test split)'),
  lambdas: z.array(lambda).min(1).max(8).default([...IDEMPOTENT_LAMBDAS]).describe('λ of each MSE codec whose bits are decoded (one rate each; BD metrics need 4 for the cubic fit)'),
  headlineLambda: lambda.default(0.001).describe('The rate the headline metrics and the checks read (must be one of lambdas)'),
  models: z.enum(['full', 'tiny']).default('full').describe('The cached codecs, prior and judge: full, or tiny ones for smoke runs (their samples are blobs)'),
  sampler: z.enum(['dsg', 'dps']).default('dsg').describe('Perceptual decode at the headline rate: DSG (DDIM, 100 steps; the paper code\'s fast variant) or DPS (1,000 DDPM steps, ~10× slower)'),
  dsgSteps: z.number().int().min(2).max(1000).default(100).describe('DDIM steps of DSG (η = 1)'),
  dsgRate: z.number().min(0).max(1).default(0.1).describe('DSG guidance rate: the share of the descent direction mixed into each step\'s noise (the paper code\'s 0.1)'),
  dpsSteps: z.number().int().min(2).max(1000).default(1000).describe('DDPM steps of DPS'),
  zeta: z.number().min(0).max(10).default(0.6).describe('ζ, DPS step on ∇‖x̄ − h(x̂₀)‖₂ (the paper\'s 0.6)'),
  zetaSweep: z.array(z.number().min(0).max(10)).max(5).default([]).describe('Also decode the headline rate with DPS at each of these ζ (FD–MSE trade; the paper preset: 0.3, 0.6, 1.2)'),
  images: z.number().int().min(2).max(2000).default(100).describe('Test images decoded at each rate (the same images at every rate)'),
  anchors: z.array(z.enum(ANCHOR_FORMATS)).max(3).default([...ANCHOR_FORMATS]).describe('Standard codecs drawn beside the learned one (libvips via sharp; digits tiled 10 × 10, whole files counted)'),
  headlineImages: z.number().int().min(2).max(2000).default(100).describe('Test images decoded at the headline rate (at least `images`)'),
  sweepImages: z.number().int().min(2).max(500).default(50).describe('Test images per ζ of the sweep'),
  samplesShown: z.number().int().min(1).max(8).default(4).describe('Perceptual samples per image in the side-by-side grid (different noise, same bits)'),
  batch: z.number().int().min(1).max(64).default(16).describe('Images decoded together (a decode never depends on its batch)'),
  fdReference: z.number().int().min(100).max(10000).default(1000).describe('Test images the Fréchet distance compares against (disjoint from the decoded ones)'),
  bootstrap: z.number().int().min(50).max(5000).default(300).describe('Bootstrap resamples of the decoded images for the 95 % intervals'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for the sampling noise and the bootstrap (which test images are decoded is fixed)'),
});
export type IdempotentCodecParams = z.infer<typeof idempotentCodecParams>;

const interval = z.tuple([extendedNumber, extendedNumber]);
const rateRow = z.object({
  lambda: z.number().positive(), bpp: z.number().nonnegative(), images: z.number().int().positive(), sampler: z.enum(['dsg', 'dps']), zeta: z.number().nullable(),
  psnrMse: extendedNumber, psnrIdem: extendedNumber, fdMse: z.number(), fdIdem: z.number(), fdDiffCi: interval, mseRatio: z.number(), mseRatioCi: interval,
  reencodeSamePct: z.number().min(0).max(100), reencodeSamePctMse: z.number().min(0).max(100), symbolDistance: z.number().nonnegative(), symbolDistanceMse: z.number().nonnegative(),
  psnrReencode: extendedNumber, decodeSecPerImage: z.number().nonnegative(),
});

export const idempotentCodecSamples = {
  /** One row per rate (and per ζ of the sweep): the MSE decode against the perceptual decode of the same bits. */
  rates: z.array(rateRow),
  /** The Fréchet distance of as many real test images as were decoded, against the reference set: the floor. */
  floor: z.object({ fd: z.number(), images: z.number().int().positive(), reference: z.number().int().positive() }),
  /** Side-by-side at each rate: originals, MSE decodes, several perceptual samples of the same bits; bytes per image. */
  grid: z.array(z.object({
    lambda: z.number().positive(), bpp: z.array(z.number().nonnegative()),
    original: z.array(bytes784), mse: z.array(bytes784), perceptual: z.array(z.array(bytes784)), psnrMse: z.array(extendedNumber), psnrIdem: z.array(z.array(extendedNumber)),
    /** Each anchor at the quality whose rate is nearest this rate's. */
    anchors: z.array(z.object({ format: z.enum(ANCHOR_FORMATS), quality: z.number(), bpp: z.number().nonnegative(), images: z.array(bytes784), psnr: z.array(extendedNumber) })),
  })),
  /** The anchors' curves over their quality settings, on the images decoded at every rate. */
  anchors: z.array(z.object({
    format: z.enum(ANCHOR_FORMATS), images: z.number().int().positive(),
    points: z.array(z.object({ quality: z.number(), bpp: z.number().nonnegative(), psnr: extendedNumber, fd: z.number(), encodeMs: z.number().nonnegative() })),
  })),
  /** BD metrics of the perceptual decode against the MSE decode over the rates (cubic in log-rate; PCHIP under 4 rates). */
  bd: z.object({ bdFd: z.number().nullable(), bdPsnr: z.number().nullable(), interpolation: z.enum(['cubic', 'pchip', 'akima']), rates: z.number().int() }),
};

export const idempotentCodecQueries = {
  /** An image through the headline codec: its bits, the MSE decode, perceptual decodes, and whether re-encoding each gives back the same bits. */
  decode: {
    args: z.object({ pixels: pixels784, samples: z.number().int().min(1).max(4).default(2), seed: z.number().int().min(0).max(2 ** 31 - 1).default(0) }),
    result: z.object({
      bytes: z.number().int().nonnegative(), bpp: z.number().nonnegative(), lambda: z.number().positive(),
      mse: z.array(z.number()).length(784), perceptual: z.array(z.array(z.number()).length(784)),
      psnrMse: extendedNumber, psnrIdem: z.array(extendedNumber),
      sameBitsMse: z.boolean(), sameBitsIdem: z.array(z.boolean()), decodeSeconds: z.number().nonnegative(),
    }),
  },
  /** Re-compress a decode (as shown: 8-bit pixels) with the codec of its rate: do its bits equal the original's? */
  recompress: {
    args: z.object({ lambda: z.number().positive(), original: pixels784, decoded: pixels784 }),
    result: z.object({ originalBytes: z.number().int().nonnegative(), decodedBytes: z.number().int().nonnegative(), identical: z.boolean(), symbolDistance: z.number().nonnegative() }),
  },
};

export const idempotentCodecSpec: LabSpec<typeof idempotentCodecParams> = {
  id: 'idempotent-codec',
  title: 'Idempotent perceptual decoding',
  paper: { title: 'Idempotence and Perceptual Image Compression (Xu et al., ICLR 2024)', arxiv: '2401.08920' },
  summary: 'Decode an MSE codec\'s own bits perceptually: sample an unconditional DDPM prior under the constraint that re-encoding gives the same bits (DPS / DSG).',
  params: idempotentCodecParams,
  samples: idempotentCodecSamples,
  queries: idempotentCodecQueries,
  presets: {
    smoke: { models: 'tiny', lambdas: [0.001, 0.003], images: 8, headlineImages: 8, dsgSteps: 8, samplesShown: 2, batch: 8, fdReference: 100, bootstrap: 50 },
    default: {},
    paper: { sampler: 'dps', headlineImages: 200, images: 100, zetaSweep: [0.3, 0.6, 1.2], sweepImages: 40 },
  },
  metrics: ['bpp', 'psnr_mse', 'psnr_idem', 'fd_mse', 'fd_idem', 'fd_realFloor', 'mseRatio', 'psnr_reencode', 'reencodeSameSymbolsPct', 'reencodeSameSymbolsPct_mse', 'bdFd', 'bdPsnr', 'decodeSecPerImage'],
  checks: ['fdImproves', 'mseWithin2p5x', 'idempotent'],
  keyMetrics: ['fd_idem', 'fd_mse', 'mseRatio', 'reencodeSameSymbolsPct'],
  metricInfo: {
    bpp: { label: 'rate (headline λ)', unit: 'bpp' },
    psnr_mse: { label: 'PSNR · MSE decode', unit: 'dB' }, psnr_idem: { label: 'PSNR · perceptual decode', unit: 'dB' },
    fd_mse: { label: 'Fréchet distance · MSE decode' }, fd_idem: { label: 'Fréchet distance · perceptual decode' }, fd_realFloor: { label: 'Fréchet distance · real images (floor)' },
    mseRatio: { label: 'MSE ratio (perceptual / MSE decode)', unit: 'ratio' },
    psnr_reencode: { label: 'PSNR of x̄ vs h(x̂) (paper\'s idempotence)', unit: 'dB' },
    reencodeSameSymbolsPct: { label: 'same bits after re-encoding · perceptual', unit: 'percent' },
    reencodeSameSymbolsPct_mse: { label: 'same bits after re-encoding · MSE decode', unit: 'percent' },
    bdFd: { label: 'BD-FD (perceptual − MSE; lower is better)' }, bdPsnr: { label: 'BD-PSNR (perceptual − MSE)', unit: 'dB' },
    decodeSecPerImage: { label: 'perceptual decode time per image', unit: 'number' },
  },
  checkPresets: { fdImproves: ['default', 'paper'], mseWithin2p5x: ['default', 'paper'], idempotent: ['default', 'paper'] },
  codeVersion: 1,
  defaultTime: '≈ 10 min once the prior and the four codecs are cached (DSG at four rates, 100 images each); the first run also trains them (prior ≈ 20 min, codecs ≈ 6 min each)',
  reproduce: [
    { metric: 'fd_idem', paper: 'FID far below the MSE decode\'s at every rate (Fig. 4, FFHQ/ImageNet/COCO/CLIC)', note: 'Fréchet distance of judge features, perceptual decode vs held-out test images; samples counted beside it.' },
    { metric: 'fd_mse', paper: '—', note: 'The MSE decode x̄ of the same bits.' },
    { metric: 'fd_realFloor', paper: '—', note: 'Real test images against the same reference: what the sample count alone costs.' },
    { metric: 'mseRatio', paper: '≤ 2× in theory (Blau–Michaeli), ≈ 1.5–2× in Table 2', note: 'Mean MSE of the perceptual decode over that of x̄, same images.' },
    { metric: 'reencodeSameSymbolsPct', paper: 'PSNR(x̄, h(x̂)) > 40 dB reported', note: 'Share of images whose re-encoded symbols equal the received ones.' },
    { metric: 'psnr_reencode', paper: '> 40 dB (Table 4)', note: 'As the paper\'s code measures idempotence.' },
    { metric: 'bdFd', paper: 'large negative BD-FID', note: 'Over the four rates, cubic fit in log-rate.' },
    { metric: 'bdPsnr', paper: '≈ −2 to −3 dB', note: '' },
  ],
};
