// The small CNN of the reference-classifier lab and of the judge: conv3x3(C) -> relu ->
// maxpool2 -> conv3x3(2C) -> relu -> maxpool2 -> dense(F) -> relu -> dense(10). The
// relu(dense(F)) layer is the judge's feature space for Fréchet distance.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';

export interface ClassifierShape { channels: number; featureDim: number }
export type ClassifierVars = Record<'conv1' | 'b1' | 'conv2' | 'b2' | 'fc1' | 'bf1' | 'fc2' | 'bf2', tf.Variable>;

/** He-normal init from the run's seeded stream. */
export function createClassifier(shape: ClassifierShape, rng: Rng): ClassifierVars {
  const { channels: c, featureDim: f } = shape;
  // tidy frees the initial values; the variables own copies and survive it. Variables stay
  // unnamed (tf names must be unique per engine); checkpoints use this record's keys.
  const he = (dims: number[], fanIn: number) =>
    tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), Math.sqrt(2 / fanIn)), dims), true));
  const zeros = (n: number) => tf.tidy(() => tf.variable(tf.zeros([n]), true));
  return {
    conv1: he([3, 3, 1, c], 9), b1: zeros(c),
    conv2: he([3, 3, c, 2 * c], 9 * c), b2: zeros(2 * c),
    fc1: he([7 * 7 * 2 * c, f], 7 * 7 * 2 * c), bf1: zeros(f),
    fc2: he([f, 10], f), bf2: zeros(10),
  };
}

/** x: [B, 784] in [0, 1]. Returns penultimate features [B, F] and logits [B, 10]. */
export function classifierForward(v: ClassifierVars, x: tf.Tensor2D): { features: tf.Tensor2D; logits: tf.Tensor2D } {
  const img = x.reshape([-1, 28, 28, 1]) as tf.Tensor4D;
  const h1 = tf.maxPool(tf.relu(tf.conv2d(img, v.conv1 as tf.Tensor4D, 1, 'same').add(v.b1)) as tf.Tensor4D, 2, 2, 'valid');
  const h2 = tf.maxPool(tf.relu(tf.conv2d(h1, v.conv2 as tf.Tensor4D, 1, 'same').add(v.b2)) as tf.Tensor4D, 2, 2, 'valid');
  const flat = h2.reshape([h2.shape[0], -1]) as tf.Tensor2D;
  const features = tf.relu(tf.matMul(flat, v.fc1 as tf.Tensor2D).add(v.bf1)) as tf.Tensor2D;
  const logits = tf.matMul(features, v.fc2 as tf.Tensor2D).add(v.bf2) as tf.Tensor2D;
  return { features, logits };
}

export function disposeVars(v: Partial<ClassifierVars>): void {
  for (const t of Object.values(v)) t?.dispose();
}
