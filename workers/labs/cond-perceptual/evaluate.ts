// Scoring the decoders on the same held-out images: the conditional Fréchet distance (judge
// features, per class against held-out images of that class, averaged over classes), the
// unconditional one, PSNR, the judge's agreement with the class, the mask IoU with Y's
// mask, and the diversity of decodes of the same bits under different ε.
import * as tf from '@tensorflow/tfjs';
import type { CondDecoder, CondPerceptualParams } from '../../../common/labs/cond-perceptual';
import { coarseMask, maskIou, sideChannels, sideInfo } from '../../data/side-info';
import { openAnalysisOnnx, openSynthesisOnnx, type OnnxTransform } from '../../nn/codec-onnx';
import { encodeStream, synthesisOf, type ImageCodec, type Synthesis } from '../../nn/image-codec';
import { PIXELS, type ImageSet } from '../../runtime/datasets';
import { frechetReference } from '../../runtime/frechet';
import type { Rng } from '../../runtime/rng';
import type { Judge } from '../../shared-parts/judge';
import { ARM_SPEC, g1Pass, g2Decode, sharedNoise } from './decoders';

export const CLASSES = 10;

/**
 * The images scored: per class, `perClass` test images to decode and the next `perClass`
 * as the real floor; the reference each class is compared against, `referencePerClass`
 * images of that class from the training split (mnist's test split has only 173 of its
 * rarest class; G2 never sees the reference as such, it is the class's distribution).
 */
export interface ImageRows { x: Float32Array; labels: Int32Array; n: number }
export interface HeldOut { decoded: ImageRows; reference: ImageRows; floor: ImageRows }

function byClassIndices(set: ImageSet): number[][] {
  const out: number[][] = Array.from({ length: CLASSES }, () => []);
  for (let i = 0; i < set.count; i++) out[set.labels[i]].push(i);
  return out;
}

function take(set: ImageSet, ids: number[][], from: number, count: number): ImageRows {
  const flat = ids.flatMap((c) => c.slice(from, from + count));
  const x = new Float32Array(flat.length * PIXELS), labels = new Int32Array(flat.length);
  flat.forEach((id, j) => { for (let p = 0; p < PIXELS; p++) x[j * PIXELS + p] = set.pixels[id * PIXELS + p] / 255; labels[j] = set.labels[id]; });
  return { x, labels, n: flat.length };
}

export function heldOut(ds: { train: ImageSet; test: ImageSet }, perClass: number, referencePerClass: number): HeldOut {
  const test = byClassIndices(ds.test), train = byClassIndices(ds.train);
  const shortTest = test.findIndex((ids) => ids.length < 2 * perClass), shortTrain = train.findIndex((ids) => ids.length < referencePerClass);
  if (shortTest >= 0) throw new RangeError(`class ${shortTest} has ${test[shortTest].length} test images; 2 × perClass = ${2 * perClass} are needed (decoded and floor)`);
  if (shortTrain >= 0) throw new RangeError(`class ${shortTrain} has ${train[shortTrain].length} training images; referencePerClass = ${referencePerClass} are needed`);
  return { decoded: take(ds.test, test, 0, perClass), floor: take(ds.test, test, perClass, perClass), reference: take(ds.train, train, 0, referencePerClass) };
}

/** Features grouped by class: rows of class c, in order. */
function byClass(features: Float32Array, labels: Int32Array, d: number): { feats: Float32Array; n: number }[] {
  return Array.from({ length: CLASSES }, (_, c) => {
    const rows = [...labels.keys()].filter((i) => labels[i] === c);
    const feats = new Float32Array(rows.length * d);
    rows.forEach((r, j) => feats.set(features.subarray(r * d, (r + 1) * d), j * d));
    return { feats, n: rows.length };
  });
}

export interface References { perClass: { distanceTo(f: ArrayLike<number>, n: number): number }[]; all: { distanceTo(f: ArrayLike<number>, n: number): number }; d: number }

export function references(judge: Judge, ref: HeldOut['reference']): References {
  const { features } = judge.predict(ref.x, ref.n), d = judge.featureDim;
  return { perClass: byClass(features, ref.labels, d).map((g) => frechetReference(g.feats, g.n, d)), all: frechetReference(features, ref.n, d), d };
}

/** Conditional FD: the mean over classes of each class's FD against its reference. */
export function conditionalFd(refs: References, features: Float32Array, labels: Int32Array): number {
  const groups = byClass(features, labels, refs.d);
  return groups.reduce((s, g, c) => s + refs.perClass[c].distanceTo(g.feats, g.n), 0) / CLASSES;
}

export interface DecoderScore { decoder: CondDecoder; condFd: number; fd: number; psnr: number; semanticAgree: number; maskIou: number; diversity: number }

/** Decodes of the held-out images (x̄ or an arm's X̂ with ε from `epsSeed`), batched, clipped to [0, 1]. */
export function decodeAll(p: CondPerceptualParams, g1: ImageCodec, decoder: CondDecoder, g2: Synthesis | undefined, images: HeldOut['decoded'], epsSeed: number, batch = DECODE_BATCH): Float32Array {
  const out = new Float32Array(images.n * PIXELS), K = sideChannels(p.side);
  for (let s = 0; s < images.n; s += batch) {
    const n = Math.min(batch, images.n - s), xs = images.x.subarray(s * PIXELS, (s + n) * PIXELS);
    const side = sideInfo(p.side, images.labels.subarray(s, s + n), xs, n);
    out.set(tf.tidy(() => {
      const map = tf.tensor4d(side.map, [n, 7, 7, K]);
      const { yHat, xBar } = g1Pass(g1, tf.tensor2d(xs, [n, PIXELS]), map);
      if (decoder === 'mse') return xBar.dataSync();
      return tf.clipByValue(g2Decode(g2!, decoder, yHat, map, epsSeed + s), 0, 1).dataSync();
    }) as Float32Array, s * PIXELS);
  }
  return out;
}

/** Images a decode batch; ε of a batch is drawn from `epsSeed` plus the batch's first row, on either engine. */
const DECODE_BATCH = 100;

/** One rate's models: G1 with Y, the reference's G1 without Y, the trained G2s. */
export interface RateCodecs { g1: ImageCodec; g1NoY: ImageCodec; g2: Partial<Record<CondDecoder, Synthesis>> }
export type RateDecode = (decoder: CondDecoder, images: HeldOut['decoded'], epsSeed: number) => Promise<Float32Array>;

/**
 * The decoders of a rate on the run's inference engine: TF.js (decodeAll), or onnxruntime
 * (the codec transforms exported: G1's quantizing g_a and g_s, each G2's synthesis; ε drawn
 * by TF.js from the same seeds, so both engines decode the same noise).
 */
export async function openRateDecoders(p: CondPerceptualParams, rate: RateCodecs, threads: number): Promise<{ decode: RateDecode; release: () => Promise<void> }> {
  const g1For = (decoder: CondDecoder) => (decoder !== 'mse' && !ARM_SPEC[decoder].g1Side ? rate.g1NoY : rate.g1);
  if (p.inference === 'tfjs') return { decode: async (decoder, images, seed) => decodeAll(p, g1For(decoder), decoder, rate.g2[decoder], images, seed), release: async () => {} };
  const sessions: OnnxTransform[] = [];
  const open = async (t: Promise<OnnxTransform>) => { const s = await t; sessions.push(s); return s; };
  const release = async () => { for (const s of sessions) await s.release(); };
  try {
    const analysis = new Map<ImageCodec, OnnxTransform>();
    for (const g1 of new Set([rate.g1, ...Object.keys(rate.g2).map((d) => g1For(d as CondDecoder))])) analysis.set(g1, await open(openAnalysisOnnx(g1, threads)));
    const synthesis = new Map<CondDecoder, OnnxTransform>([['mse', await open(openSynthesisOnnx(synthesisOf(rate.g1), threads))]]);
    for (const [d, g2] of Object.entries(rate.g2)) synthesis.set(d as CondDecoder, await open(openSynthesisOnnx(g2, threads)));
    const decode: RateDecode = async (decoder, images, epsSeed) => {
      const g1 = g1For(decoder), out = new Float32Array(images.n * PIXELS);
      const g2Side = decoder === 'mse' ? !!rate.g1.shape.side : ARM_SPEC[decoder].g2Side, eps = decoder !== 'mse' && ARM_SPEC[decoder].eps;
      for (let s = 0; s < images.n; s += DECODE_BATCH) {
        const n = Math.min(DECODE_BATCH, images.n - s), xs = images.x.subarray(s * PIXELS, (s + n) * PIXELS);
        const map = sideInfo(p.side, images.labels.subarray(s, s + n), xs, n).map;
        const yHat = await analysis.get(g1)!.run(xs, n, g1.shape.side ? map : undefined);
        const M = g1.shape.M, input = eps ? withNoise(yHat, tf.tidy(() => sharedNoise(n, M, epsSeed + s).dataSync() as Float32Array), n * 49, M) : yHat;
        const raw = await synthesis.get(decoder)!.run(input, n, g2Side ? map : undefined);
        for (let i = 0; i < raw.length; i++) out[s * PIXELS + i] = Math.min(1, Math.max(0, raw[i]));
      }
      return out;
    };
    return { decode, release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** [ŷ, ε] along channels, as tf.concat(…, 3) lays them out: M of ŷ then M of ε at each of `cells` positions. */
function withNoise(yHat: Float32Array, eps: Float32Array, cells: number, M: number): Float32Array {
  const out = new Float32Array(cells * 2 * M);
  for (let c = 0; c < cells; c++) { out.set(yHat.subarray(c * M, (c + 1) * M), c * 2 * M); out.set(eps.subarray(c * M, (c + 1) * M), c * 2 * M + M); }
  return out;
}

/** Mean pixel standard deviation across `draws` decodes of the same bits (ε seeds differ), over the first `count` images. */
export function diversity(decodes: readonly Float32Array[], count: number): number {
  if (decodes.length < 2) return 0;
  let sum = 0;
  for (let i = 0; i < count * PIXELS; i++) {
    let m = 0, m2 = 0;
    for (const d of decodes) { m += d[i]; m2 += d[i] * d[i]; }
    m /= decodes.length;
    sum += Math.sqrt(Math.max(0, m2 / decodes.length - m * m));
  }
  return sum / (count * PIXELS);
}

export function scoreDecodes(judge: Judge, refs: References, decoder: CondDecoder, decodes: Float32Array, images: HeldOut['decoded'], diversityOf: number) {
  const { features, labels: judged } = judge.predict(decodes, images.n);
  let se = 0, agree = 0, iou = 0;
  for (let i = 0; i < images.n; i++) {
    for (let q = i * PIXELS; q < (i + 1) * PIXELS; q++) se += (decodes[q] - images.x[q]) ** 2;
    if (judged[i] === images.labels[i]) agree++;
    iou += maskIou(coarseMask(decodes, i * PIXELS), coarseMask(images.x, i * PIXELS));
  }
  const score: DecoderScore = {
    decoder, condFd: conditionalFd(refs, features, images.labels), fd: refs.all.distanceTo(features, images.n),
    psnr: 10 * Math.log10(1 / (se / (images.n * PIXELS))), semanticAgree: agree / images.n, maskIou: iou / images.n, diversity: diversityOf,
  };
  return { score, features, judged };
}

/** Bits an image of the held-out images through G1: one arithmetic-coded stream over all of them, divided by their number. */
export function bitsPerImage(p: CondPerceptualParams, g1: ImageCodec, images: HeldOut['decoded']): number {
  const side = g1.shape.side ? sideInfo(p.side, images.labels, images.x, images.n).map : undefined;
  return (encodeStream(g1, images.x, images.n, undefined, side).length * 8) / images.n;
}

/**
 * The 95 % interval of condFD(a) − condFD(b) on paired decodes: each resample redraws the
 * images of every class with replacement (the same draw for both decoders).
 */
export function conditionalFdGap(refs: References, a: Float32Array, b: Float32Array, labels: Int32Array, resamples: number, rng: Rng): { lo: number; hi: number } {
  const d = refs.d, ga = byClass(a, labels, d), gb = byClass(b, labels, d);
  const diffs: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let c = 0; c < CLASSES; c++) {
      const n = ga[c].n, fa = new Float32Array(n * d), fb = new Float32Array(n * d);
      for (let j = 0; j < n; j++) {
        const k = rng.int(n);
        fa.set(ga[c].feats.subarray(k * d, (k + 1) * d), j * d);
        fb.set(gb[c].feats.subarray(k * d, (k + 1) * d), j * d);
      }
      s += refs.perClass[c].distanceTo(fa, n) - refs.perClass[c].distanceTo(fb, n);
    }
    diffs.push(s / CLASSES);
  }
  // The percentile interval, as bootstrapInterval (runtime/stats) takes it.
  diffs.sort((x, y) => x - y);
  const at = (q: number) => diffs[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { lo: at(0.025), hi: at(0.975) };
}
