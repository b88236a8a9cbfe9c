// cond-perceptual's costs at the default sizes, on freshly initialised models (speed does not
// depend on training): G1 training steps/s (with Y, batch 32), the critic's WGAN-GP step and
// G2's step (from two short trainings with 1 and 5 critic steps a G2 step), and decodes/s
// (G1's g_a, then G2 with ε) on TF.js and on onnxruntime (the exported transforms, 1 thread).
import * as tf from '@tensorflow/tfjs';
import { resolveParams } from '../common/lab';
import { condPerceptualSpec } from '../common/labs/cond-perceptual';
import { sideChannels, sideInfo } from '../workers/data/side-info';
import { codecLoss, codecVariables, createImageCodec, disposeCodec } from '../workers/nn/image-codec';
import { initBackend } from '../workers/runtime/backend';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import { codecRecipe } from '../workers/shared-parts/mse-codec';
import { codeImages, g2FromWeights, trainArm } from '../workers/labs/cond-perceptual/train-arm';
import { decodeAll, heldOut, openRateDecoders } from '../workers/labs/cond-perceptual/evaluate';

export async function condBench() {
  const backend = await initBackend();
  const p = resolveParams(condPerceptualSpec, 'default');
  const r = codecRecipe(p.dataset, p.lambdas[0], { side: p.side });
  const g1 = createImageCodec({ N: r.N, M: r.M, side: sideChannels(p.side) }, new Rng(1), r.radius);
  const ds = loadDataset(p.dataset);
  const { x, y } = batchFloats(ds.train, Array.from({ length: r.batchSize }, (_, i) => i));
  const side = sideInfo(p.side, y, x, r.batchSize).map;
  const opt = tf.train.adam(1e-3), vars = Object.values(codecVariables(g1));
  const g1Step = () => tf.tidy(() => {
    const noise = tf.randomUniform([r.batchSize, 7, 7, r.M], -0.5, 0.5);
    const s = tf.tensor4d(side, [r.batchSize, 7, 7, sideChannels(p.side)]);
    const { grads } = tf.variableGrads(() => codecLoss(g1, tf.tensor2d(x, [r.batchSize, 784]), r.lambda, noise, undefined, s).loss, vars);
    opt.applyGradients(grads as never);
  });
  g1Step();
  let t0 = performance.now();
  for (let i = 0; i < 20; i++) g1Step();
  const g1StepsPerSec = 20 / ((performance.now() - t0) / 1000);
  opt.dispose();
  const io = { throwIfCancelled() {}, metric() {}, progress() {}, log() {} };
  const steps = 20;
  // Each training first codes the training split through G1 once: timed apart and taken out of the step costs.
  t0 = performance.now();
  codeImages(g1, p, ds.train);
  const codeSplitSec = (performance.now() - t0) / 1000;
  const timed = async (criticSteps: number) => {
    const t = performance.now();
    const out = await trainArm(g1, { ...p, generatorSteps: steps, criticSteps }, 'cond', p.lambdas[0], io);
    return { s: (performance.now() - t) / 1000 - codeSplitSec, out };
  };
  await timed(1);
  const one = await timed(1), five = await timed(5);
  const criticSec = (five.s - one.s) / (4 * steps), g2Sec = one.s / steps - criticSec;
  const g2 = g2FromWeights(g1, p, 'cond', five.out.weights);
  const held = heldOut(ds, 80, 10);
  decodeAll(p, g1, 'cond', g2, held.decoded, 1);
  t0 = performance.now();
  for (let i = 0; i < 3; i++) decodeAll(p, g1, 'cond', g2, held.decoded, 1);
  const decodesPerSec = (3 * held.decoded.n) / ((performance.now() - t0) / 1000);
  const onnx = await openRateDecoders({ ...p, inference: 'onnxruntime' }, { g1, g1NoY: g1, g2: { cond: g2 } }, 1);
  await onnx.decode('cond', held.decoded, 1);
  t0 = performance.now();
  for (let i = 0; i < 3; i++) await onnx.decode('cond', held.decoded, 1);
  const onnxDecodesPerSec = (3 * held.decoded.n) / ((performance.now() - t0) / 1000);
  await onnx.release();
  for (const v of Object.values(g2.weights)) v.dispose();
  disposeCodec(g1);
  return {
    backend: backend.name, note: `batch ${p.batchSize} for G2 and the critic (MLP ${p.criticHidden} wide, gradient penalty), G1 N=${r.N} M=${r.M} batch ${r.batchSize}`,
    g1StepsPerSec, codeTrainingSplitSec: codeSplitSec, criticStepsPerSec: 1 / criticSec, g2StepsPerSec: 1 / g2Sec, generatorStepsPerSecWith5Critic: steps / five.s,
    decodesPerSec, onnxDecodesPerSec, onnxVsTfjs: onnxDecodesPerSec / decodesPerSec,
  };
}
