// Exports the image codec's transforms (./image-codec) to ONNX for inference on
// onnxruntime-node, op for op with the TF.js forward: g_a to the quantized latent
// ŷ = clamp(round(g_a(x)), ±radius) (Round is half-to-even in both), and a synthesis (G1's
// g_s or a conditional generator's) to raw pixels. Inputs and outputs keep the TF.js
// layouts (NHWC latents, 784 pixels a row); inside, the graph is NCHW, as ONNX's Conv and
// ConvTranspose are. TF.js's 'same' padding puts the odd pixel at the end: pads [1, 1, 2, 2]
// for the 5 × 5 stride-2 layers. Side information Y enters as in withSide: a matmul per
// position of the 7 × 7 grid, then nearest upsampling (a reshape and an Expand: exact).
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { encodeOnnxModel, OnnxType, type OnnxValue } from '../runtime/onnx-writer';
import { GraphBuilder } from '../runtime/onnx-graph';
import { onnxRuntime, openOnnxSession } from '../runtime/onnx';
import type { ImageCodec, Synthesis } from './image-codec';

export const CODEC_ONNX_IO = { pixels: 'pixels', latent: 'latent', side: 'side', yHat: 'y_hat' } as const;

/** A graph over one model's weights, with the codec's layers as calls. */
function codecGraph(weights: Record<string, tf.Variable>, sideChannels: number) {
  const g = new GraphBuilder();
  const plain = (name: string) => ({ data: Float32Array.from(weights[name].dataSync()), dims: weights[name].shape });
  /** A weight re-laid out: `perm` of the TF.js axes. */
  const permuted = (name: string, perm: number[]) => {
    const data = tf.tidy(() => (tf.transpose(weights[name], perm).dataSync() as Float32Array).slice());
    return g.init({ name, dims: perm.map((p) => weights[name].shape[p]), data });
  };
  const bias = (name: string) => g.init({ name, ...plain(name) });
  /** TF.js conv2d filter [h, w, in, out] → ONNX Conv [out, in, h, w]. */
  const conv = (x: string, layer: string, stride: number, kernel: number) =>
    g.op('Conv', [x, permuted(layer, [3, 2, 0, 1]), bias(`${layer}b`)], { strides: [stride, stride], pads: kernel === 5 ? [1, 1, 2, 2] : [1, 1, 1, 1] });
  /** TF.js conv2dTranspose filter [h, w, out, in] → ONNX ConvTranspose [in, out, h, w]; stride 2, 'same'. */
  const deconv = (x: string, layer: string) =>
    g.op('ConvTranspose', [x, permuted(layer, [3, 2, 0, 1]), bias(`${layer}b`)], { strides: [2, 2], pads: [1, 1, 2, 2] });
  /** The layer's pre-activation plus Y's position-wise projection, upsampled to the layer's grid. */
  const withSide = (pre: string, layer: string, grid: number) => {
    if (!sideChannels || !weights[`${layer}y`]) return pre;
    const C = weights[`${layer}y`].shape[3] as number;
    const w = g.init({ name: `${layer}y`, dims: [49, sideChannels, C], data: plain(`${layer}y`).data });
    const perPosition = g.op('MatMul', [g.op('Transpose', [g.op('Reshape', [CODEC_ONNX_IO.side, g.ints([-1, 49, sideChannels])])], { perm: [1, 0, 2] }), w]);
    let term = g.op('Reshape', [g.op('Transpose', [perPosition], { perm: [1, 2, 0] }), g.ints([-1, C, 7, 7])]);
    const f = grid / 7;
    if (f > 1) term = g.op('Reshape', [g.op('Expand', [g.op('Reshape', [term, g.ints([-1, C, 7, 1, 7, 1])]), g.ints([1, 1, 1, f, 1, f])]), g.ints([-1, C, grid, grid])]);
    return g.op('Add', [pre, term]);
  };
  const relu = (x: string) => g.op('Relu', [x]);
  return { g, conv, deconv, withSide, relu };
}

function model(g: GraphBuilder, name: string, inputs: OnnxValue[], output: OnnxValue): Uint8Array {
  return encodeOnnxModel({ name, opset: 18, nodes: g.nodes, initializers: g.initializers, inputs, outputs: [output] });
}

const sideInput = (K: number): OnnxValue[] => (K ? [{ name: CODEC_ONNX_IO.side, elemType: OnnxType.FLOAT, shape: ['batch', 7, 7, K] }] : []);

/** A synthesis: `latent` [B, 7, 7, inChannels] (+ `side` [B, 7, 7, K]) → `pixels` [B, 784], raw (not clipped). */
export function exportSynthesisOnnx(s: Synthesis): Uint8Array {
  const { g, conv, deconv, withSide, relu } = codecGraph(s.weights, s.side);
  const x = g.op('Transpose', [CODEC_ONNX_IO.latent], { perm: [0, 3, 1, 2] });
  const s1 = relu(withSide(conv(x, 's1', 1, 3), 's1', 7));
  const s2 = relu(withSide(deconv(s1, 's2'), 's2', 14));
  const out = withSide(deconv(s2, 's3'), 's3', 28);
  g.op('Reshape', [out, g.ints([-1, 784])], undefined, CODEC_ONNX_IO.pixels);
  const inputs: OnnxValue[] = [{ name: CODEC_ONNX_IO.latent, elemType: OnnxType.FLOAT, shape: ['batch', 7, 7, s.inChannels] }, ...sideInput(s.side)];
  return model(g, 'benchtop-synthesis', inputs, { name: CODEC_ONNX_IO.pixels, shape: ['batch', 784] });
}

/** A codec's g_a and quantizer: `pixels` [B, 784] (+ `side`) → `y_hat` [B, 7, 7, M], clamp(round(g_a(x)), ±radius). */
export function exportAnalysisOnnx(c: ImageCodec): Uint8Array {
  const K = c.shape.side ?? 0;
  const { g, conv, withSide, relu } = codecGraph(c.weights, K);
  const img = g.op('Reshape', [CODEC_ONNX_IO.pixels, g.ints([-1, 1, 28, 28])]);
  const a1 = relu(withSide(conv(img, 'a1', 2, 5), 'a1', 14));
  const a2 = relu(withSide(conv(a1, 'a2', 2, 5), 'a2', 7));
  const y = withSide(conv(a2, 'a3', 1, 3), 'a3', 7);
  const rounded = g.op('Clip', [g.op('Round', [y]), g.float(-c.radius), g.float(c.radius)]);
  g.op('Transpose', [rounded], { perm: [0, 2, 3, 1] }, CODEC_ONNX_IO.yHat);
  const inputs: OnnxValue[] = [{ name: CODEC_ONNX_IO.pixels, elemType: OnnxType.FLOAT, shape: ['batch', 784] }, ...sideInput(K)];
  return model(g, 'benchtop-analysis', inputs, { name: CODEC_ONNX_IO.yHat, shape: ['batch', 7, 7, c.shape.M] });
}

/** One exported transform in an onnxruntime session: rows in, rows out. */
export interface OnnxTransform {
  run(input: Float32Array, n: number, side?: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

async function openTransform(bytes: Uint8Array, input: string, output: string, inputWidth: number, sideChannels: number, threads: number): Promise<OnnxTransform> {
  const rt = onnxRuntime();
  const { session } = await openOnnxSession(bytes, { threads });
  return {
    async run(values, n, side) {
      if (values.length !== n * inputWidth) throw new RangeError(`${n} rows of ${inputWidth} values expected, not ${values.length} values`);
      const feeds: Record<string, Ort.Tensor> = { [input]: new rt.Tensor('float32', values, input === CODEC_ONNX_IO.latent ? [n, 7, 7, inputWidth / 49] : [n, inputWidth]) };
      if (sideChannels) {
        if (!side || side.length !== n * 49 * sideChannels) throw new RangeError(`side information must be ${n} × 7 × 7 × ${sideChannels} values, not ${side?.length ?? 'none'}`);
        feeds[CODEC_ONNX_IO.side] = new rt.Tensor('float32', side, [n, 7, 7, sideChannels]);
      }
      return (await session.run(feeds))[output].data as Float32Array;
    },
    release: () => session.release(),
  };
}

/** A synthesis on onnxruntime: latents [n·49·inChannels] (NHWC) → raw pixels [n·784]; `threads` is the job's core budget. */
export const openSynthesisOnnx = (s: Synthesis, threads: number) =>
  openTransform(exportSynthesisOnnx(s), CODEC_ONNX_IO.latent, CODEC_ONNX_IO.pixels, 49 * s.inChannels, s.side, threads);

/** A codec's quantizing analysis on onnxruntime: pixels [n·784] → ŷ [n·49·M] (NHWC). */
export const openAnalysisOnnx = (c: ImageCodec, threads: number) =>
  openTransform(exportAnalysisOnnx(c), CODEC_ONNX_IO.pixels, CODEC_ONNX_IO.yHat, 784, c.shape.side ?? 0, threads);
