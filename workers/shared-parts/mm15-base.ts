// MM1.5's bases as shared trained parts: the tile LM pre-trained on a caption : interleaved :
// text mix at low resolution (MM1.5 pre-trains at 378 px), `mm15:base:50-10-40`, and that base
// continually pre-trained on digit strips read aloud ("the digits 4 0 9 1") at high resolution
// (tiles and an overview, as MM1.5's image splitting) or low (the overview alone, where digits
// blur), `mm15:cpt:high:50-10-40`. Everything trains, the encoder too.
import { join } from 'node:path';
import type { RunContext } from '../runtime/context';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../runtime/checkpoint';
import { loadDataset } from '../runtime/datasets';
import { Rng } from '../runtime/rng';
import type { SharedPart } from '../runtime/shared-parts';
import { obtainPart } from '../runtime/shared-parts';
import { createTileLm, disposeTileLm, tileLmVariables, type TileLm } from '../nn/tile-lm';
import { frameEncoderVariables } from '../nn/frame-encoder';
import { makePretrainItem, mixtureCounts, PRETRAIN_KINDS, type Mm15Sources, type PretrainKind } from '../data/mm15';
import { mm15Tokenizer, pretrainRow, type Resolution } from '../data/mm15-rows';
import { trainTileLm } from '../train/tile-lm';

export interface Mm15BaseRecipe {
  dModel: number; layers: number; heads: number; kvHeads: number; ffnHidden: number; channels: number; tokenDim: number;
  /** Pre-training steps and the caption : interleaved : text mix (sample shares). */
  ptSteps: number; mix: readonly [number, number, number];
  /** Continual pre-training steps on digit strips. */
  cptSteps: number;
  batch: number; learningRate: number; warmup: number; seed: number;
}
export const MM15_BASE: Omit<Mm15BaseRecipe, 'mix'> = { dModel: 64, layers: 2, heads: 4, kvHeads: 2, ffnHidden: 128, channels: 16, tokenDim: 32, ptSteps: 1500, cptSteps: 600, batch: 32, learningRate: 3e-3, warmup: 50, seed: 0 };
/** Small ones for smoke runs and tests (seconds). */
export const TINY_MM15_BASE: Partial<Mm15BaseRecipe> = { dModel: 32, layers: 1, heads: 2, kvHeads: 2, ffnHidden: 64, channels: 8, tokenDim: 16, ptSteps: 30, cptSteps: 20, batch: 8, warmup: 5 };

export interface Mm15Base { model: TileLm; key: string; steps: number; trainSeconds: number; finalLoss: number; dispose(): void }

/** The tile LM's shape for a recipe and vocabulary. */
export const tileLmShape = (r: Omit<Mm15BaseRecipe, 'mix'>, vocab: number, eos: number) => ({
  channels: r.channels, tokenDim: r.tokenDim, eos,
  decoder: { vocab, dModel: r.dModel, layers: r.layers, heads: r.heads, kvHeads: r.kvHeads, ffnHidden: r.ffnHidden, maxLen: 96, qkNorm: true, window: null, ropeBase: 10000 },
});
const mixKey = (mix: readonly number[]) => mix.join('-');
const trainSources = (): Mm15Sources => ({ digits: loadDataset('mnist').train, items: loadDataset('fashion-mnist').train });

function loadBase(dir: string, r: Mm15BaseRecipe, key: string): Mm15Base {
  const tok = mm15Tokenizer();
  const ckpt = readCheckpoint(join(dir, 'model.ckpt'));
  const model = createTileLm(tileLmShape(r, tok.vocab.length, tok.id('<eos>')), new Rng(0));
  assignCheckpoint(ckpt, tileLmTensors(model));
  return { model, key, steps: Number(ckpt.meta.steps), trainSeconds: Number(ckpt.meta.trainSeconds), finalLoss: Number(ckpt.meta.finalLoss), dispose: () => disposeTileLm(model) };
}

/** Every variable of the tile LM by a stable checkpoint name. */
export function tileLmTensors(m: TileLm) {
  return { ...Object.fromEntries(Object.entries(frameEncoderVariables(m.encoder)).map(([k, v]) => [`encoder.${k}`, v])), proj: m.proj, projBias: m.projBias, ...m.decoder.weights };
}

async function train(model: TileLm, r: Mm15BaseRecipe, steps: number, key: string, rowsAt: (rng: Rng) => ReturnType<typeof pretrainRow>[], dir: string, ctx: RunContext) {
  const rng = new Rng(r.seed).fork(key);
  const phase = `train ${key}`;
  const t0 = performance.now();
  const { lastLoss } = await trainTileLm(model, {
    steps, learningRate: r.learningRate, warmup: r.warmup, variables: tileLmVariables(model), batch: () => rowsAt(rng),
    async report(step, loss) { ctx.progress(phase, step, steps); if (step % 100 === 0) ctx.log(`${key} step ${step}: loss ${loss.toFixed(3)}`, 'debug'); await new Promise((res) => setImmediate(res)); },
  }, ctx);
  const trainSeconds = (performance.now() - t0) / 1000;
  ctx.log(`${key} trained in ${trainSeconds.toFixed(0)} s (${steps} steps, final loss ${lastLoss.toFixed(3)})`);
  saveCheckpoint(join(dir, 'model.ckpt'), tileLmTensors(model), { steps, trainSeconds, finalLoss: lastLoss });
}

export function mm15BasePart(mix: readonly [number, number, number], tiny: boolean): SharedPart<Mm15Base> {
  const recipe: Mm15BaseRecipe = { ...MM15_BASE, ...(tiny ? TINY_MM15_BASE : {}), mix };
  const key = `mm15:base:${mixKey(mix)}${tiny ? ':tiny' : ''}`;
  return {
    key, recipe: recipe as unknown as Record<string, unknown>, codeVersion: 1,
    async build(dir, ctx) {
      const tok = mm15Tokenizer(), src = trainSources();
      const model = createTileLm(tileLmShape(recipe, tok.vocab.length, tok.id('<eos>')), new Rng(recipe.seed).fork('init'));
      const counts = mixtureCounts(Object.fromEntries(PRETRAIN_KINDS.map((k, i) => [k, mix[i]])) as Record<PretrainKind, number>, recipe.batch);
      // Each batch holds the mix's shares (rounded by largest remainder), at low resolution.
      const rowsAt = (rng: Rng) => PRETRAIN_KINDS.flatMap((k) => Array.from({ length: counts[k] }, () => pretrainRow(tok, makePretrainItem(k, src, rng), 'low')));
      try { await train(model, recipe, recipe.ptSteps, key, rowsAt, dir, ctx); } finally { disposeTileLm(model); }
    },
    async load(dir) { return loadBase(dir, recipe, key); },
  };
}

export function mm15CptPart(resolution: Resolution, mix: readonly [number, number, number], tiny: boolean): SharedPart<Mm15Base> {
  const base = mm15BasePart(mix, tiny);
  const recipe = base.recipe as unknown as Mm15BaseRecipe;
  const key = `mm15:cpt:${resolution}:${mixKey(mix)}${tiny ? ':tiny' : ''}`;
  return {
    key, recipe: { ...base.recipe, resolution }, codeVersion: 1,
    async build(dir, ctx) {
      const tok = mm15Tokenizer(), src = trainSources();
      const { model } = await obtainPart(base, ctx, ctx.partsHome);
      // OCR-like documents: strips of 4–6 digits and their reading.
      const strip = (rng: Rng) => {
        const ids = Array.from({ length: 4 + rng.int(3) }, () => rng.int(src.digits.count));
        const canvas = { width: 28 * ids.length, height: 28, pixels: new Uint8Array(28 * 28 * ids.length) };
        ids.forEach((idx, k) => { for (let r = 0; r < 28; r++) canvas.pixels.set(src.digits.pixels.subarray(idx * 784 + r * 28, idx * 784 + r * 28 + 28), r * canvas.width + k * 28); });
        return pretrainRow(tok, { kind: 'caption', segments: [canvas, `the digits ${ids.map((i) => src.digits.labels[i]).join(' ')}`] }, resolution);
      };
      try { await train(model, recipe, recipe.cptSteps, key, (rng) => Array.from({ length: recipe.batch }, () => strip(rng)), dir, ctx); } finally { disposeTileLm(model); }
    },
    async load(dir) { return loadBase(dir, recipe, key); },
  };
}
