// The built-in models of the longpibench lab as shared trained parts
// (`ctx.require('lm:longpi:full:levels')`, …): the shared decoder with full or
// sliding-window attention, trained on table retrieval (one token a row, answers as rows,
// the set-target loss) with one of two training distributions — instances drawn uniformly
// over the generator's 32 levels and 3 query placements, or the control: pieces at
// uniformly random units, the query at both ends. Training grows the context in stages
// (12, 24, 48, 96 units, then L): a model trained at 160 units from the start sits on the
// uniform-answer plateau for thousands of steps, while each stage starts from a model that
// already retrieves (docs/notes/longpibench.md).
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../runtime/checkpoint';
import { Rng } from '../runtime/rng';
import { cosineDecay, setLearningRate } from '../runtime/schedule';
import { obtainPart, type SharedPart } from '../runtime/shared-parts';
import type { TaskIo } from '../runtime/task-threads';
import { createDecoder, disposeDecoder, type Decoder, type DecoderConfig } from '../nn/decoder';
import { setTargetLoss } from '../train/set-target';
import { tableInstance, PLACEMENTS, type GeneratorShape, type TableInstance, type TableVocabulary } from '../data/longpi/generator';
import { encodeTable, tableTokens } from '../data/longpi/format';

export const RETRIEVAL_ATTENTION = ['full', 'sliding'] as const;
export const RETRIEVAL_TRAINING = ['levels', 'random'] as const;
export type RetrievalAttention = (typeof RETRIEVAL_ATTENTION)[number];
export type RetrievalTraining = (typeof RETRIEVAL_TRAINING)[number];

export interface RetrievalLmRecipe extends GeneratorShape, TableVocabulary, Pick<DecoderConfig, 'dModel' | 'layers' | 'heads' | 'ffnHidden'> {
  attention: RetrievalAttention;
  training: RetrievalTraining;
  /** Tokens a sliding-window query sees (itself included). */
  window: number;
  /** Context sizes of the warm-up stages, `stageSteps` each, before the rest of the steps at L. */
  stages: number[];
  stageSteps: number;
  steps: number;
  batch: number;
  learningRate: number;
  seed: number;
}

export interface RetrievalLm { model: Decoder; recipe: RetrievalLmRecipe; trainSeconds: number; finalLoss: number; dispose(): void }

export function retrievalLmRecipe(attention: RetrievalAttention, training: RetrievalTraining, overrides: Partial<RetrievalLmRecipe> = {}): RetrievalLmRecipe {
  return {
    attention, training, L: 160, n: 10, N: 16, keys: 16, values: 64, dModel: 64, layers: 3, heads: 4, ffnHidden: 128, window: 32,
    stages: [12, 24, 48, 96], stageSteps: 400, steps: 3000, batch: 16, learningRate: 3e-3, seed: 0, ...overrides,
  };
}

/** A small one for smoke runs and tests (trains in seconds; it does not learn the task). */
export const TINY_RETRIEVAL_LM: Partial<RetrievalLmRecipe> = { dModel: 16, layers: 1, heads: 2, ffnHidden: 32, window: 8, stages: [12], stageSteps: 4, steps: 8, batch: 4 };

export function retrievalDecoderConfig(r: RetrievalLmRecipe): DecoderConfig {
  // Prompt: <bos>, the query twice (4), L rows, '=>'; then up to 1.5·n + 1 answer tokens.
  const maxLen = r.L + 6 + Math.ceil(1.5 * r.n) + 1;
  return { vocab: tableTokens(r).vocab, dModel: r.dModel, layers: r.layers, heads: r.heads, kvHeads: r.heads, ffnHidden: r.ffnHidden, maxLen, qkNorm: true, window: r.attention === 'sliding' ? r.window : null, ropeBase: 10000 };
}

/** One training instance of the recipe's distribution at context size L. */
export function trainingInstance(r: RetrievalLmRecipe, L: number, rng: Rng): TableInstance {
  const shape = { L, n: r.n, N: r.N };
  if (r.training === 'random') {
    // The control: positions uniform, the query mostly at both ends (head-only and tail-only rare).
    const u = rng.next();
    return tableInstance('random', 0, u < 0.05 ? 'head' : u < 0.1 ? 'tail' : 'both', shape, r, rng);
  }
  return tableInstance(rng.next() < 0.5 ? 'absolute' : 'relative', 1 + rng.int(r.N), PLACEMENTS[rng.int(PLACEMENTS.length)], shape, r, rng);
}

/** The context size at a training step: the warm-up stages, then L. */
export const stageLength = (r: RetrievalLmRecipe, step: number) => r.stages[Math.floor((step - 1) / r.stageSteps)] ?? r.L;

/**
 * Row tokens start as key part + value part (two random vectors), the query's key token as
 * the key part: the factorisation a row has, given to the model instead of learnt from
 * 1,024 separate rows. Training changes them freely.
 */
function factoredEmbedding(d: Decoder, r: RetrievalLmRecipe, rng: Rng): void {
  const t = tableTokens(r), D = r.dModel, std = 1 / Math.sqrt(D);
  const keyPart = rng.normalArray(r.keys * D, std), valuePart = rng.normalArray(r.values * D, std);
  const E = d.weights.embed.dataSync().slice() as Float32Array;
  for (let k = 0; k < r.keys; k++) {
    E.set(keyPart.subarray(k * D, (k + 1) * D), t.keyToken(k) * D);
    for (let v = 0; v < r.values; v++) {
      const row = t.rowToken(k, v) * D;
      for (let j = 0; j < D; j++) E[row + j] = keyPart[k * D + j] + valuePart[v * D + j];
    }
  }
  tf.tidy(() => d.weights.embed.assign(tf.tensor2d(E, [t.vocab, D])));
}

export function retrievalLmKey(attention: RetrievalAttention, training: RetrievalTraining, tiny: boolean): string {
  return `lm:longpi:${attention}:${training}${tiny ? ':tiny' : ''}`;
}

export async function trainRetrievalLm(r: RetrievalLmRecipe, ctx: Pick<RunContext, 'progress' | 'log' | 'throwIfCancelled'>, phase: string): Promise<{ model: Decoder; finalLoss: number; seconds: number }> {
  const rng = new Rng(r.seed).fork(`${r.attention}/${r.training}`);
  const model = createDecoder(retrievalDecoderConfig(r), rng.fork('init'));
  factoredEmbedding(model, r, rng.fork('embedding'));
  const t = tableTokens(r), data = rng.fork('data');
  const opt = tf.train.adam(r.learningRate, 0.9, 0.98);
  const t0 = performance.now();
  let finalLoss = NaN, recent = 0;
  try {
    for (let step = 1; step <= r.steps; step++) {
      ctx.throwIfCancelled();
      setLearningRate(opt, r.learningRate * (step <= 50 ? step / 50 : cosineDecay(step - 50, Math.max(1, r.steps - 50), 0.1)));
      const L = stageLength(r, step);
      const rows = Array.from({ length: r.batch }, () => encodeTable(trainingInstance(r, L, data), t));
      const loss = opt.minimize(() => setTargetLoss(model, rows), true, Object.values(model.weights))!;
      recent += loss.dataSync()[0];
      loss.dispose();
      if (step % 25 === 0 || step === r.steps) {
        finalLoss = recent / (step % 25 || 25);
        recent = 0;
        ctx.progress(phase, step, r.steps);
        if (step % 250 === 0) ctx.log(`${phase} step ${step} (L ${L}): set loss ${finalLoss.toFixed(3)}`, 'debug');
        await new Promise((res) => setImmediate(res));
      }
    }
  } finally {
    opt.dispose();
  }
  return { model, finalLoss, seconds: (performance.now() - t0) / 1000 };
}

export function retrievalLmPart(attention: RetrievalAttention, training: RetrievalTraining, tiny = false): SharedPart<RetrievalLm> {
  const recipe = retrievalLmRecipe(attention, training, tiny ? TINY_RETRIEVAL_LM : {});
  const key = retrievalLmKey(attention, training, tiny);
  return {
    key,
    recipe: recipe as unknown as Record<string, unknown>,
    codeVersion: 1,
    async build(dir, ctx) {
      const { model, finalLoss, seconds } = await trainRetrievalLm(recipe, ctx, `train ${key}`);
      ctx.log(`${key} trained in ${seconds.toFixed(0)} s (${recipe.steps} steps, final set loss ${finalLoss.toFixed(3)})`, 'info');
      saveCheckpoint(join(dir, 'lm.ckpt'), model.weights, { recipe, finalLoss, trainSeconds: seconds });
      disposeDecoder(model);
    },
    async load(dir) {
      const ckpt = readCheckpoint(join(dir, 'lm.ckpt'));
      const model = createDecoder(retrievalDecoderConfig(recipe), new Rng(0));
      assignCheckpoint(ckpt, model.weights);
      return { model, recipe, trainSeconds: Number(ckpt.meta.trainSeconds), finalLoss: Number(ckpt.meta.finalLoss), dispose: () => disposeDecoder(model) };
    },
  };
}

export interface RetrievalPartTask { attention: RetrievalAttention; training: RetrievalTraining; tiny: boolean; home?: string }

/** A task thread's job (`longpi:build-part`): train a missing part into the cache (its lock keeps two builders apart). */
export async function buildRetrievalPartTask(t: RetrievalPartTask, io: TaskIo): Promise<{ trainSeconds: number }> {
  const lm = await obtainPart(retrievalLmPart(t.attention, t.training, t.tiny), io as RunContext, t.home);
  const trainSeconds = lm.trainSeconds;
  lm.dispose();
  return { trainSeconds };
}
