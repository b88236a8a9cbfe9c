// One decoder's adversarial training (G2 and its critic, WGAN-GP) as a task: in the run's
// own thread or in a worker thread beside the other arms; the same seeds either way. G1
// is frozen, so the training images are encoded to ŷ and decoded to x̄ once, up front (a
// G1 pass was a third of every critic step); then per batch
//   critic (criticSteps a G2 step): E[D(X̂)] − E[D(x)] + λ_gp·GP, D reading ŷ (and Y),
//   G2: −E[D(X̂)] + w·255²·mean((x̄ − X̂)²).
import * as tf from '@tensorflow/tfjs';
import type { CondArm, CondPerceptualParams } from '../../../common/labs/cond-perceptual';
import { sideChannels, sideInfo, sideVectorSize } from '../../data/side-info';
import { createCritic, disposeCritic } from '../../nn/critic';
import { disposeCodec, type ImageCodec, type Synthesis } from '../../nn/image-codec';
import type { RunContext } from '../../runtime/context';
import { batchFloats, loadDataset, type ImageSet } from '../../runtime/datasets';
import { Rng } from '../../runtime/rng';
import { obtainPart } from '../../runtime/shared-parts';
import type { TaskIo } from '../../runtime/task-threads';
import { sharedPart } from '../../shared-parts';
import { criticLoss, generatorAdversarialLoss } from '../../train/wgan-gp';
import { ARM_SPEC, buildG2, criticContext, criticContextSize, g1Key, g1Pass, g2Decode } from './decoders';

/** `lambda` names the rate (and seeds the arm); `g1Lambda` is the λ of the G1 the arm decodes (the reference's own, without Y). */
export interface ArmTrainInput { params: CondPerceptualParams; arm: CondArm; lambda: number; g1Lambda: number; home?: string }
export interface ArmCurvePoint { step: number; wasserstein: number; penalty: number; fidelityMse: number }
export interface ArmTrainOutput { arm: CondArm; lambda: number; weights: Record<string, Float32Array>; curve: ArmCurvePoint[]; seconds: number }

const CURVE_EVERY = 25;
export const armPhase = (arm: CondArm, lambda: number) => `train ${arm} λ=${lambda}`;

type Grads = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Trains one arm's G2 against its critic on G1's bits; G1 and the data come from the task's input. */
export async function trainArm(g1: ImageCodec, p: CondPerceptualParams, arm: CondArm, lambda: number, io: TaskIo): Promise<ArmTrainOutput> {
  const t0 = performance.now();
  const M = g1.shape.M, B = p.batchSize, K = sideChannels(p.side), V = sideVectorSize(p.side);
  const rng = new Rng(p.seed).fork(`arm ${arm} ${lambda}`);
  const g2 = buildG2(g1, p, arm, rng.fork('g2'));
  const projected = ARM_SPEC[arm].criticSide && p.criticCondition === 'projection' ? V : 0;
  const critic = createCritic(784, criticContextSize(p, arm, M), p.criticHidden, rng.fork('critic'), projected);
  const coded = codeImages(g1, p, loadDataset(p.dataset).train);
  const order = rng.fork('order'), noise = rng.fork('noise');
  let pool = order.permutation(coded.count), at = 0;
  const rows = (from: Float32Array, width: number, ids: Int32Array) => { const out = new Float32Array(ids.length * width); ids.forEach((id, j) => out.set(from.subarray(id * width, (id + 1) * width), j * width)); return out; };
  const nextBatch = () => {
    if (at + B > pool.length) { pool = order.permutation(coded.count); at = 0; }
    const ids = pool.subarray(at, at + B);
    at += B;
    const x = rows(coded.x, 784, ids), side = sideInfo(p.side, Int32Array.from(ids, (i) => coded.labels[i]), x, B);
    return {
      x: tf.tensor2d(x, [B, 784]), yHat: tf.tensor4d(rows(coded.yHat, 49 * M, ids), [B, 7, 7, M]), xBar: tf.tensor2d(rows(coded.xBar, 784, ids), [B, 784]),
      map: tf.tensor4d(side.map, [B, 7, 7, K]), vector: tf.tensor2d(side.vector, [B, V]),
    };
  };
  const g2Vars = Object.values(g2.weights), criticVars = Object.values(critic.weights);
  const optG = tf.train.adam(p.learningRate, 0.5, 0.9), optD = tf.train.adam(p.learningRate, 0.5, 0.9);
  const curve: ArmCurvePoint[] = [];
  const phase = armPhase(arm, lambda);
  try {
    for (let step = 1; step <= p.generatorSteps; step++) {
      io.throwIfCancelled();
      let last = { wasserstein: 0, penalty: 0 };
      for (let k = 0; k < p.criticSteps; k++) {
        const epsSeed = noise.nextU32(), alphaSeed = noise.nextU32();
        last = tf.tidy(() => {
          const b = nextBatch();
          const fake = g2Decode(g2, arm, b.yHat, b.map, epsSeed);
          const context = criticContext(arm, b.yHat, b.vector);
          const alpha = tf.randomUniform([B, 1], 0, 1, 'float32', alphaSeed) as tf.Tensor2D;
          let parts = { wasserstein: 0, penalty: 0 };
          const { grads } = tf.variableGrads(() => {
            const l = criticLoss(critic, b.x, fake, alpha, p.lambdaGp, context);
            parts = { wasserstein: l.wasserstein.dataSync()[0], penalty: l.penalty.dataSync()[0] };
            return l.loss;
          }, criticVars);
          optD.applyGradients(grads as unknown as Grads);
          return parts;
        });
      }
      const epsSeed = noise.nextU32();
      const fidelityMse = tf.tidy(() => {
        const b = nextBatch();
        const context = criticContext(arm, b.yHat, b.vector);
        let mse = 0;
        const { grads } = tf.variableGrads(() => {
          const fake = g2Decode(g2, arm, b.yHat, b.map, epsSeed);
          const fidelity = b.xBar.sub(fake).square().mean() as tf.Scalar;
          mse = fidelity.dataSync()[0];
          return generatorAdversarialLoss(critic, fake, context).add(fidelity.mul(p.fidelity * 255 * 255)) as tf.Scalar;
        }, g2Vars);
        optG.applyGradients(grads as unknown as Grads);
        return mse;
      });
      if (step % CURVE_EVERY === 0 || step === p.generatorSteps) {
        curve.push({ step, ...last, fidelityMse });
        io.metric(step, `${arm}.wasserstein`, last.wasserstein);
        io.metric(step, `${arm}.fidelityMse`, fidelityMse);
        io.progress(phase, step, p.generatorSteps);
        await new Promise((r) => setImmediate(r));
      }
    }
    const weights = Object.fromEntries(Object.entries(g2.weights).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
    return { arm, lambda, weights, curve, seconds: (performance.now() - t0) / 1000 };
  } finally {
    optG.dispose(); optD.dispose();
    disposeCritic(critic);
    for (const v of g2Vars) v.dispose();
  }
}

/** A training split through the frozen G1: pixels in [0, 1], labels, ŷ [n, 7, 7, M] and x̄, in the split's order. */
export function codeImages(g1: ImageCodec, p: CondPerceptualParams, set: ImageSet, batch = 500) {
  const n = set.count, M = g1.shape.M, K = sideChannels(p.side);
  const all = batchFloats(set, Int32Array.from({ length: n }, (_, i) => i));
  const yHat = new Float32Array(n * 49 * M), xBar = new Float32Array(n * 784);
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s), xs = all.x.subarray(s * 784, (s + m) * 784);
    const side = sideInfo(p.side, all.y.subarray(s, s + m), xs, m);
    tf.tidy(() => {
      const out = g1Pass(g1, tf.tensor2d(xs, [m, 784]), tf.tensor4d(side.map, [m, 7, 7, K]));
      yHat.set(out.yHat.dataSync(), s * 49 * M);
      xBar.set(out.xBar.dataSync(), s * 784);
    });
  }
  return { count: n, x: all.x, labels: all.y, yHat, xBar };
}

/** The thread task: loads the arm's G1 (already cached by the run) and trains. */
export async function trainArmTask(input: ArmTrainInput, io: TaskIo): Promise<ArmTrainOutput> {
  const key = g1Key(input.params, input.g1Lambda, ARM_SPEC[input.arm].g1Side);
  const g1 = await obtainPart(sharedPart(key)!, io as RunContext, input.home);
  try {
    return await trainArm(g1 as ImageCodec, input.params, input.arm, input.lambda, io);
  } finally {
    disposeCodec(g1 as ImageCodec);
  }
}

/** G2 rebuilt from a task's weights (for evaluation and queries in the run's thread). */
export function g2FromWeights(g1: ImageCodec, p: CondPerceptualParams, arm: CondArm, weights: Record<string, Float32Array>): Synthesis {
  const g2 = buildG2(g1, p, arm, new Rng(0));
  tf.tidy(() => { for (const [k, v] of Object.entries(g2.weights)) v.assign(tf.tensor(weights[k], v.shape)); });
  return g2;
}
