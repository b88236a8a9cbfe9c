// The critic of a Wasserstein GAN: an MLP over an image and its context (whatever the
// critic is conditioned on, flattened), D = w₃·h + b₃ with h = lrelu(W₂·lrelu(W₁·[x, c] + b₁) + b₂),
// with no output squashing (a WGAN critic scores, it does not classify). The last
// `projected` values of the context may instead enter by projection (Miyato & Koyama 2018):
// D = w₃·h + b₃ + ⟨E·y, h⟩, so the condition y sets which direction of the features scores
// well rather than being one more input among hundreds. An MLP because
// the gradient penalty differentiates ∂D/∂x once more: matMul, add and abs have gradients
// TF.js can differentiate again, while tf.leakyRelu's gradient uses Greater, which has
// none; so LeakyReLU is written as ((1 + a)·x + (1 − a)·|x|) / 2 (tested against finite
// differences).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';

/** `contextSize` counts every context value; the last `projected` of them are projected, the rest concatenated. */
export interface Critic { imageSize: number; contextSize: number; projected: number; hidden: number; weights: Record<string, tf.Variable> }

export const CRITIC_SLOPE = 0.2;

export function createCritic(imageSize: number, contextSize: number, hidden: number, rng: Rng, projected = 0): Critic {
  if (projected < 0 || projected > contextSize) throw new RangeError(`a critic cannot project ${projected} of its ${contextSize} context values`);
  const v = (rows: number, cols: number) => tf.tidy(() => tf.variable(tf.tensor2d(rng.normalArray(rows * cols, Math.sqrt(2 / rows)), [rows, cols])));
  const zeros = (n: number) => tf.tidy(() => tf.variable(tf.zeros([n])));
  const inputs = imageSize + contextSize - projected;
  const weights: Record<string, tf.Variable> = { w1: v(inputs, hidden), b1: zeros(hidden), w2: v(hidden, hidden), b2: zeros(hidden), w3: v(hidden, 1), b3: zeros(1) };
  // The embedding starts at w₃'s scale, so the projection and the shared head begin equal in weight.
  if (projected) weights.embed = tf.tidy(() => tf.variable(tf.tensor2d(rng.normalArray(projected * hidden, Math.sqrt(2 / hidden)), [projected, hidden])));
  return { imageSize, contextSize, projected, hidden, weights };
}

/** LeakyReLU from ops that are twice differentiable in TF.js. */
const leaky = (x: tf.Tensor) => x.mul((1 + CRITIC_SLOPE) / 2).add(tf.abs(x).mul((1 - CRITIC_SLOPE) / 2));

/** Scores [B] of images x [B, imageSize] with their context [B, contextSize] (absent when contextSize is 0). */
export function criticScores(c: Critic, x: tf.Tensor2D, context?: tf.Tensor2D): tf.Tensor1D {
  if (x.shape[1] !== c.imageSize) throw new RangeError(`the critic scores ${c.imageSize} values an image, not ${x.shape[1]}`);
  if ((context?.shape[1] ?? 0) !== c.contextSize) throw new RangeError(`the critic's context has ${c.contextSize} values, not ${context?.shape[1] ?? 0}`);
  const w = c.weights, B = x.shape[0], concatenated = c.contextSize - c.projected;
  const input = concatenated ? tf.concat([x, c.projected ? context!.slice([0, 0], [B, concatenated]) : context!], 1) : x;
  const h1 = leaky(tf.matMul(input, w.w1 as tf.Tensor2D).add(w.b1));
  const h2 = leaky(tf.matMul(h1, w.w2 as tf.Tensor2D).add(w.b2));
  const head = tf.matMul(h2, w.w3 as tf.Tensor2D).add(w.b3).reshape([-1]) as tf.Tensor1D;
  if (!c.projected) return head;
  const condition = context!.slice([0, concatenated], [B, c.projected]) as tf.Tensor2D;
  return head.add(h2.mul(tf.matMul(condition, w.embed as tf.Tensor2D)).sum(1)) as tf.Tensor1D;
}

export function disposeCritic(c: Critic): void {
  for (const v of Object.values(c.weights)) v.dispose();
}
