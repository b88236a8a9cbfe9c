// The learned MSE codec as a shared trained part: `ctx.require('codec:mnist:0.01')`, or
// with side information Y at every scale: `ctx.require('codec:mnist:0.0001:class')`.
// Trained deterministically from its recipe on a miss; saved with its integer CDF tables.
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import { batchFloats, loadDataset, type DatasetName } from '../runtime/datasets';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../runtime/checkpoint';
import { Rng } from '../runtime/rng';
import type { SharedPart } from '../runtime/shared-parts';
import { analysis, codecLoss, synthesis, codecVariables, createImageCodec, decodeImage, encodeImage, disposeCodec, finalizeCodec, type ImageCodec } from '../nn/image-codec';
import { priorVariables } from '../nn/factorized-prior';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { sideChannels, sideInfo, type SideKind } from '../data/side-info';

export interface CodecRecipe {
  dataset: DatasetName;
  lambda: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  N: number;
  M: number;
  radius: number;
  seed: number;
  /** Side information both ends know (absent: none; the key and the recipe's hash then stay as before). */
  side?: SideKind;
}

export function codecRecipe(dataset: DatasetName, lambda: number, overrides: Partial<CodecRecipe> = {}): CodecRecipe {
  return { dataset, lambda, steps: 3000, batchSize: 32, learningRate: 1e-3, N: 32, M: 16, radius: 24, seed: 0, ...overrides };
}

export interface CodecEvaluation { bpp: number; psnrDb: number; mse: number; images: number; decodesBitExact: boolean; clampedPct: number }

export async function trainImageCodec(r: CodecRecipe, ctx: RunContext, phase: string, emitMetrics = true): Promise<ImageCodec> {
  const rng = new Rng(r.seed);
  const codec = createImageCodec({ N: r.N, M: r.M, ...(r.side ? { side: sideChannels(r.side) } : {}) }, rng.fork('init'), r.radius);
  const ds = loadDataset(r.dataset);
  const order = rng.fork('order');
  // The prior's few parameters get their own optimizer at 10x the step size: with one
  // shared rate the density lags far behind the transforms and the rate stays high.
  const opt = tf.train.adam(r.learningRate);
  const priorOpt = tf.train.adam(r.learningRate * 10);
  const netVars = Object.values(codec.weights);
  const priorVars = Object.values(priorVariables(codec.prior));
  let pool = Array.from(order.permutation(ds.train.count)), at = 0;
  try {
    for (let step = 1; step <= r.steps; step++) {
      ctx.throwIfCancelled();
      if (at + r.batchSize > pool.length) { pool = Array.from(order.permutation(ds.train.count)); at = 0; }
      const { x, y } = batchFloats(ds.train, pool.slice(at, at + r.batchSize));
      const side = r.side ? sideInfo(r.side, y, x, r.batchSize).map : undefined;
      at += r.batchSize;
      const decay = cosineDecay(step, r.steps);
      setLearningRate(opt, r.learningRate * decay);
      setLearningRate(priorOpt, r.learningRate * 10 * decay);
      const noiseSeed = rng.nextU32();
      const terms = tf.tidy(() => {
        const xs = tf.tensor2d(x, [r.batchSize, 784]);
        const noise = tf.randomUniform([r.batchSize, 7, 7, r.M], -0.5, 0.5, 'float32', noiseSeed);
        const sideMap = side ? tf.tensor4d(side, [r.batchSize, 7, 7, sideChannels(r.side!)]) : undefined;
        let out = { bpp: 0, mse: 0 };
        const { grads } = tf.variableGrads(() => {
          const t = codecLoss(codec, xs, r.lambda, noise, undefined, sideMap);
          out = { bpp: t.bpp.dataSync()[0], mse: t.mse.dataSync()[0] };
          return t.loss;
        }, [...netVars, ...priorVars]);
        opt.applyGradients(Object.fromEntries(netVars.map((v) => [v.name, grads[v.name]])) as unknown as Parameters<typeof opt.applyGradients>[0]);
        priorOpt.applyGradients(Object.fromEntries(priorVars.map((v) => [v.name, grads[v.name]])) as unknown as Parameters<typeof opt.applyGradients>[0]);
        return out;
      });
      if (step % 25 === 0 || step === r.steps) {
        if (emitMetrics) {
          ctx.metric(step, `${phase}.bpp`, terms.bpp);
          ctx.metric(step, `${phase}.psnrDb`, 10 * Math.log10(1 / terms.mse));
        }
        ctx.progress(phase, step, r.steps);
        await new Promise((res) => setImmediate(res));
      }
    }
  } finally {
    opt.dispose();
    priorOpt.dispose();
  }
  finalizeCodec(codec);
  return codec;
}

/** Real bytes: encodes and decodes each test image, checks the decode matches the encoder's x̂. */
export function evaluateCodec(codec: ImageCodec, dataset: DatasetName, count: number): CodecEvaluation {
  const test = loadDataset(dataset).test;
  const n = Math.min(count, test.count);
  let bits = 0, se = 0, exact = true, clamped = 0;
  for (let i = 0; i < n; i++) {
    const { x } = batchFloats(test, [i]);
    const bytes = encodeImage(codec, x);
    bits += bytes.length * 8;
    const decoded = decodeImage(codec, bytes);
    // One analysis pass gives both the clamp count and the encoder-side reconstruction.
    const { ref, over } = tf.tidy(() => {
      const y = tf.round(analysis(codec, tf.tensor2d(x, [1, 784]))) as tf.Tensor4D;
      const yHat = tf.clipByValue(y, -codec.radius, codec.radius) as tf.Tensor4D;
      return { ref: tf.clipByValue(synthesis(codec, yHat), 0, 1).dataSync() as Float32Array, over: tf.abs(y).greater(codec.radius).sum().dataSync()[0] };
    });
    clamped += over;
    for (let p = 0; p < 784; p++) { if (decoded[p] !== ref[p]) exact = false; se += (decoded[p] - x[p]) ** 2; }
  }
  const mse = se / (n * 784);
  return { bpp: bits / (n * 784), psnrDb: 10 * Math.log10(1 / mse), mse, images: n, decodesBitExact: exact, clampedPct: (100 * clamped) / (n * 49 * codec.shape.M) };
}

export function saveCodec(path: string, codec: ImageCodec, meta: Record<string, unknown>): void {
  saveCheckpoint(path, codecVariables(codec), { ...meta, shape: codec.shape, radius: codec.radius, tables: codec.tables!.map((t) => Array.from(t)) });
}

export function loadCodec(path: string): ImageCodec {
  const ckpt = readCheckpoint(path);
  const shape = ckpt.meta.shape as { N: number; M: number };
  const codec = createImageCodec(shape, new Rng(0), Number(ckpt.meta.radius));
  assignCheckpoint(ckpt, codecVariables(codec));
  codec.tables = (ckpt.meta.tables as number[][]).map((t) => Uint32Array.from(t));
  return codec;
}

/** A small, quickly trained codec for smoke runs and tests. */
export const TINY_CODEC: Partial<CodecRecipe> = { steps: 150, N: 16, M: 8, batchSize: 16 };

export function codecPart(dataset: DatasetName, lambda: number, overrides: Partial<CodecRecipe> = {}, suffix = ''): SharedPart<ImageCodec> {
  const recipe = codecRecipe(dataset, lambda, overrides);
  return {
    key: `codec:${dataset}:${lambda}${recipe.side ? `:${recipe.side}` : ''}${suffix}`,
    recipe: recipe as unknown as Record<string, unknown>,
    codeVersion: 1,
    async build(dir, ctx) {
      const codec = await trainImageCodec(recipe, ctx, `train codec λ=${lambda}${recipe.side ? ` with Y = ${recipe.side}` : ''}`, false);
      saveCodec(`${dir}/codec.ckpt`, codec, { recipe });
      disposeCodec(codec);
    },
    async load(dir) { return loadCodec(`${dir}/codec.ckpt`); },
  };
}
