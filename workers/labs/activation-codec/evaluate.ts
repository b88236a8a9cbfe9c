// Codes every hidden activation tensor of the test batches with all four coders, for real:
// each stream is decoded and compared symbol by symbol; bits are counted from the bytes.
import * as tf from '@tensorflow/tfjs';
import type { ActivationCodecParams, ActivationCoder } from '../../../common/labs/activation-codec';
import { decodeEGk, decodeSymmetricEG, encodeEGk, encodeSymmetricEG } from '../../coding/exp-golomb';
import { channelGaussians, decodeGaussian, encodeGaussian, gaussianEstimateBits, gaussianPmf } from '../../coding/gaussian';
import { batchFloats, loadDataset } from '../../runtime/datasets';
import { codecRoundTrip, encodeImage, HIDDEN_LAYERS, type HiddenLayer, type ImageCodec } from '../../nn/image-codec';
import { applyEncoder, quantize, type ActEncoder } from './act-encoder';

const SIDE_MINMAX_BITS = 64; // the tensor's min and max as float32, needed by every coder

export interface LayerTotals { layer: HiddenLayer; tensors: number; activations: number; bits: Record<ActivationCoder, number>; gaussianEstimate: number }
export interface Histograms { layer: HiddenLayer; before: number[]; after: number[]; gaussian: number[] }

export interface ActEvaluation {
  layers: LayerTotals[];
  psnrWithout: number;
  psnrWith: number;
  codecBpp: number;
  decodesBitExact: boolean;
  encodeMs: number;
  decodeMs: number;
  symbols: number;
  histograms: Histograms[];
  images: { original: number[]; without: number[]; with: number[] }[];
}

function sameInts(a: Int32Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const toBytes = (x: ArrayLike<number>) => Array.from(x, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

export function evaluateActivations(p: ActivationCodecParams, codec: ImageCodec, encoders: Record<HiddenLayer, ActEncoder>, onBatch?: (done: number, total: number) => void): ActEvaluation {
  const test = loadDataset(p.dataset).test;
  const B = p.batchSize;
  const batches = Math.max(1, Math.floor(Math.min(p.evalImages, test.count) / B));
  const maxLevel = 2 ** p.bitDepth - 1;
  const layers = Object.fromEntries(HIDDEN_LAYERS.map((l) => [l, { layer: l, tensors: 0, activations: 0, bits: { raw: 0, eg4: 0, seg: 0, gaussian: 0 }, gaussianEstimate: 0 }])) as Record<HiddenLayer, LayerTotals>;
  const hist = Object.fromEntries(HIDDEN_LAYERS.map((l) => [l, { layer: l, before: new Array(maxLevel + 1).fill(0), after: new Array(maxLevel + 1).fill(0), gaussian: new Array(maxLevel + 1).fill(0) }])) as Record<HiddenLayer, Histograms>;
  let seWithout = 0, seWith = 0, codecBits = 0, exact = true, encodeMs = 0, decodeMs = 0, symbols = 0;
  const images: ActEvaluation['images'] = [];

  for (let b = 0; b < batches; b++) {
    const idx = Array.from({ length: B }, (_, i) => b * B + i);
    const { x } = batchFloats(test, idx);
    const captured: { layer: HiddenLayer; q: Int32Array; C: number; before: Int32Array }[] = [];
    const { without, withAct } = tf.tidy(() => {
      const xs = tf.tensor2d(x, [B, 784]);
      const plain = codecRoundTrip(codec, xs).xHat.dataSync();
      const hook = (layer: HiddenLayer, a: tf.Tensor4D) => {
        const { out, z } = applyEncoder(encoders[layer], a, p.bitDepth);
        captured.push({ layer, q: Int32Array.from(z.q.dataSync()), C: a.shape[3], before: b < 4 ? Int32Array.from(quantize(a, p.bitDepth).q.dataSync()) : new Int32Array(0) });
        return out;
      };
      return { without: plain, withAct: codecRoundTrip(codec, xs, hook).xHat.dataSync() };
    });
    for (let i = 0; i < x.length; i++) { seWithout += (without[i] - x[i]) ** 2; seWith += (withAct[i] - x[i]) ** 2; }
    const image = (a: { subarray(start: number, end: number): ArrayLike<number> }, i: number) => toBytes(a.subarray(i * 784, (i + 1) * 784));
    for (let i = 0; i < B && images.length < 8; i++) images.push({ original: image(x, i), without: image(without, i), with: image(withAct, i) });

    for (const { layer, q, C, before } of captured) {
      const t = layers[layer];
      t.tensors++; t.activations += q.length;
      t.bits.raw += q.length * p.bitDepth + SIDE_MINMAX_BITS;
      const eg = encodeEGk(q, 4);
      t.bits.eg4 += eg.bits + SIDE_MINMAX_BITS;
      if (!sameInts(decodeEGk(eg.bytes, q.length, 4), q)) exact = false;
      const seg = encodeSymmetricEG(q, C, p.bitDepth);
      t.bits.seg += seg.bits + SIDE_MINMAX_BITS;
      if (!sameInts(decodeSymmetricEG(seg.bytes, q.length, C, p.bitDepth), q)) exact = false;
      // The fit is part of encoding (timed); the estimate and the histogram reuse it.
      const t0 = performance.now();
      const fit = channelGaussians(q, C, 0, maxLevel);
      const gauss = encodeGaussian(q, C, 0, maxLevel, fit);
      const t1 = performance.now();
      const back = decodeGaussian(gauss, q.length, C, 0, maxLevel);
      decodeMs += performance.now() - t1; encodeMs += t1 - t0; symbols += q.length;
      if (!sameInts(back, q)) exact = false;
      t.bits.gaussian += gauss.length * 8 + SIDE_MINMAX_BITS;
      t.gaussianEstimate += gaussianEstimateBits(q, C, 0, maxLevel, fit) + SIDE_MINMAX_BITS;
      if (before.length) {
        const h = hist[layer];
        for (const v of before) h.before[v]++;
        for (const v of q) h.after[v]++;
        const { mu, sigma } = fit;
        const perChannel = q.length / C;
        for (let c = 0; c < C; c++) gaussianPmf(mu[c], sigma[c], 0, maxLevel).forEach((pv, v) => (h.gaussian[v] += pv * perChannel));
      }
    }
    // The codec's own bitstream, with the activations compressed (both ends run the hook).
    for (let i = 0; i < B; i++) {
      codecBits += encodeImage(codec, x.subarray(i * 784, (i + 1) * 784), (layer, a) => tf.tidy(() => applyEncoder(encoders[layer], a, p.bitDepth).out)).length * 8;
    }
    onBatch?.(b + 1, batches);
  }
  const pixels = batches * B * 784;
  return {
    layers: HIDDEN_LAYERS.map((l) => layers[l]),
    psnrWithout: 10 * Math.log10(pixels / seWithout),
    psnrWith: 10 * Math.log10(pixels / seWith),
    codecBpp: codecBits / pixels,
    decodesBitExact: exact,
    encodeMs, decodeMs, symbols,
    histograms: HIDDEN_LAYERS.map((l) => hist[l]),
    images,
  };
}
