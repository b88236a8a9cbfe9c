// The decoders the lab compares and what each one sees. Every G2 decodes G1's bits ŷ:
// X̂ = G2(ŷ, Y, ε), with ε ~ N(0, I) shaped like ŷ and drawn at the decoder only (the
// development code draws it inside G2's forward pass; the encoder never sees it), from a
// seed the two ends share: the paper's common randomness, here "decoder-side shared noise".
import * as tf from '@tensorflow/tfjs';
import type { CondArm, CondPerceptualParams } from '../../../common/labs/cond-perceptual';
import { sideChannels, sideVectorSize } from '../../data/side-info';
import { createSynthesis, quantizeLatent, analysis, synthesis, synthesize, type ImageCodec, type Synthesis } from '../../nn/image-codec';
import type { Rng } from '../../runtime/rng';
import type { CodecKey, JudgeKey } from '../../shared-parts';

export interface ArmSpec {
  /** G1 (and so the bits) conditioned on Y. */
  g1Side: boolean;
  /** G2 reads Y. */
  g2Side: boolean;
  /** The critic reads Y beside the image and the bits. */
  criticSide: boolean;
  /** G2 reads ε. */
  eps: boolean;
}

export const ARM_SPEC: Record<CondArm, ArmSpec> = {
  cond: { g1Side: true, g2Side: true, criticSide: true, eps: true },
  uncondCritic: { g1Side: true, g2Side: true, criticSide: false, eps: true },
  noEps: { g1Side: true, g2Side: true, criticSide: true, eps: false },
  uncondAll: { g1Side: false, g2Side: false, criticSide: false, eps: true },
};

export const g1Key = (p: CondPerceptualParams, lambda: number, withSide: boolean): CodecKey =>
  `codec:${p.dataset}:${lambda}${withSide ? `:${p.side}` : ''}${p.models === 'tiny' ? ':tiny' : ''}` as CodecKey;
export const judgeKey = (p: CondPerceptualParams): JudgeKey => (p.models === 'tiny' ? `judge:${p.dataset}:tiny` : `judge:${p.dataset}`);

/** Scale of the ε channels' starting weights against He's: G2 starts close to G1's decoder and learns how much to use ε. */
const EPS_INIT_SCALE = 0.1;

/** G2 for an arm: G1's synthesis shape, ŷ (+ ε) in, Y at every scale when the arm reads it; started from G1's g_s unless asked not to. */
export function buildG2(g1: ImageCodec, p: CondPerceptualParams, arm: CondArm, rng: Rng): Synthesis {
  const s = ARM_SPEC[arm], M = g1.shape.M;
  const g2 = createSynthesis(s.eps ? 2 * M : M, g1.shape.N, s.g2Side ? sideChannels(p.side) : 0, rng);
  if (p.g2Start === 'scratch') return g2;
  tf.tidy(() => {
    for (const [name, v] of Object.entries(g2.weights)) {
      const from = g1.weights[name];
      if (name === 's1' && s.eps) v.assign(tf.concat([from, v.slice([0, 0, M, 0], [3, 3, M, g1.shape.N]).mul(EPS_INIT_SCALE)], 2));
      else if (from && from.shape.join() === v.shape.join()) v.assign(from);
    }
  });
  return g2;
}

/** ε for `n` images: N(0, I) shaped like ŷ, from the shared seed. */
export const sharedNoise = (n: number, M: number, seed: number) => tf.randomNormal([n, 7, 7, M], 0, 1, 'float32', seed) as tf.Tensor4D;

/** G2's decode of ŷ (+ ε from `epsSeed`) with Y's map when it reads it; raw output (training), clip for images. */
export function g2Decode(g2: Synthesis, arm: CondArm, yHat: tf.Tensor4D, sideMap: tf.Tensor4D | undefined, epsSeed: number): tf.Tensor2D {
  const s = ARM_SPEC[arm];
  const input = s.eps ? tf.concat([yHat, sharedNoise(yHat.shape[0], yHat.shape[3], epsSeed)], 3) as tf.Tensor4D : yHat;
  return synthesize(g2, input, s.g2Side ? sideMap : undefined);
}

/** G1's encode (ŷ, rounded and clamped) and MSE decode x̄ of a batch, with Y's map when G1 reads it. */
export function g1Pass(g1: ImageCodec, x: tf.Tensor2D, sideMap: tf.Tensor4D | undefined): { yHat: tf.Tensor4D; xBar: tf.Tensor2D } {
  const side = g1.shape.side ? sideMap : undefined;
  const yHat = quantizeLatent(g1, analysis(g1, x, undefined, side));
  return { yHat, xBar: tf.clipByValue(synthesis(g1, yHat, undefined, side), 0, 1) as tf.Tensor2D };
}

/** What the critic reads beside the image: the bits ŷ, flattened, and Y's vector last (the part a projecting critic projects) when the arm's critic is conditional. */
export function criticContext(arm: CondArm, yHat: tf.Tensor4D, sideVector: tf.Tensor2D | undefined): tf.Tensor2D {
  const flat = yHat.reshape([yHat.shape[0], -1]) as tf.Tensor2D;
  return ARM_SPEC[arm].criticSide ? tf.concat([flat, sideVector!], 1) as tf.Tensor2D : flat;
}

export const criticContextSize = (p: CondPerceptualParams, arm: CondArm, M: number) => 49 * M + (ARM_SPEC[arm].criticSide ? sideVectorSize(p.side) : 0);
