// A small CNN that turns a video frame into a 2 × 2 grid of tokens (the high-resolution
// view of a frame) and their mean (one token per frame), for video-language models:
// conv3x3(C) → relu → maxpool2 → conv3x3(2C) → relu → maxpool2 → conv3x3(D) → relu →
// average pool to 2 × 2. Label heads on the flattened grid let it be pre-trained on
// per-frame labels before it is frozen.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';

export interface FrameEncoderShape {
  /** Frame side in pixels (grey frames); a multiple of 8. */
  size: number;
  channels: number;
  /** Width of each token. */
  tokenDim: number;
  /** Classes of each label head used in pre-training (e.g. place, held object, action). */
  heads: readonly number[];
}

export interface FrameEncoder {
  shape: FrameEncoderShape;
  conv: Record<'c1' | 'b1' | 'c2' | 'b2' | 'c3' | 'b3', tf.Variable>;
  heads: { w: tf.Variable; b: tf.Variable }[];
}

export const TOKENS_PER_FRAME = 4;

export function createFrameEncoder(shape: FrameEncoderShape, rng: Rng): FrameEncoder {
  if (shape.size % 8 !== 0) throw new RangeError(`frame size ${shape.size} must be a multiple of 8`);
  const he = (dims: number[], fanIn: number) => tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), Math.sqrt(2 / fanIn)), dims), true));
  const zeros = (n: number) => tf.tidy(() => tf.variable(tf.zeros([n]), true));
  const c = shape.channels, d = shape.tokenDim, flat = TOKENS_PER_FRAME * d;
  return {
    shape,
    conv: { c1: he([3, 3, 1, c], 9), b1: zeros(c), c2: he([3, 3, c, 2 * c], 9 * c), b2: zeros(2 * c), c3: he([3, 3, 2 * c, d], 18 * c), b3: zeros(d) },
    heads: shape.heads.map((n) => ({ w: he([flat, n], flat), b: zeros(n) })),
  };
}

/** Frames [B, S·S] in [0, 1] → tokens [B, 4, D] (row-major 2 × 2 grid). */
export function encodeFrames(e: FrameEncoder, frames: tf.Tensor2D): tf.Tensor3D {
  const S = e.shape.size, v = e.conv;
  const x = frames.reshape([-1, S, S, 1]) as tf.Tensor4D;
  const h1 = tf.maxPool(tf.relu(tf.conv2d(x, v.c1 as tf.Tensor4D, 1, 'same').add(v.b1)) as tf.Tensor4D, 2, 2, 'valid');
  const h2 = tf.maxPool(tf.relu(tf.conv2d(h1, v.c2 as tf.Tensor4D, 1, 'same').add(v.b2)) as tf.Tensor4D, 2, 2, 'valid');
  const h3 = tf.relu(tf.conv2d(h2, v.c3 as tf.Tensor4D, 1, 'same').add(v.b3)) as tf.Tensor4D;
  const pooled = tf.avgPool(h3, S / 8, S / 8, 'valid');
  return pooled.reshape([-1, TOKENS_PER_FRAME, e.shape.tokenDim]) as tf.Tensor3D;
}

/** Logits of each label head from the tokens. */
export function frameHeads(e: FrameEncoder, tokens: tf.Tensor3D): tf.Tensor2D[] {
  const flat = tokens.reshape([tokens.shape[0], -1]) as tf.Tensor2D;
  return e.heads.map((h) => tf.matMul(flat, h.w as tf.Tensor2D).add(h.b) as tf.Tensor2D);
}

export function frameEncoderVariables(e: FrameEncoder): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = { ...e.conv };
  e.heads.forEach((h, i) => { out[`head${i}.w`] = h.w; out[`head${i}.b`] = h.b; });
  return out;
}

export function disposeFrameEncoder(e: FrameEncoder): void {
  for (const v of Object.values(frameEncoderVariables(e))) v.dispose();
}

/**
 * Pre-trains the encoder on per-frame labels: the sum of each head's cross-entropy, Adam.
 * `batchAt(step)` returns frames [B, S·S] and one label array per head. Returns the last loss.
 */
export function trainFrameEncoder(e: FrameEncoder, steps: number, lr: number, batchAt: (step: number) => { frames: Float32Array; labels: Int32Array[] }, onStep?: (step: number, loss: number) => void): number {
  const opt = tf.train.adam(lr);
  const vars = Object.values(frameEncoderVariables(e));
  let last = NaN;
  for (let s = 0; s < steps; s++) {
    const { frames, labels } = batchAt(s);
    const B = labels[0].length;
    const loss = opt.minimize(() => {
      const logits = frameHeads(e, encodeFrames(e, tf.tensor2d(frames, [B, e.shape.size ** 2])));
      return logits.map((l, i) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels[i], 'int32'), e.shape.heads[i]), l)).reduce((a, b) => a.add(b)) as tf.Scalar;
    }, true, vars);
    last = loss!.dataSync()[0];
    loss!.dispose();
    onStep?.(s, last);
  }
  opt.dispose();
  return last;
}
