// The unconditional generative prior of the images as a shared trained part
// (`ctx.require('prior:mnist')`): a DDPM with ε-prediction on the 1,000-step linear schedule
// (workers/train/ddpm.ts), its network the shared DiT with dense FFNs and the null
// condition. Trained once per recipe and cached; the idempotent-codec lab inverts the MSE
// codec through it, and any lab that needs p(x) can load it.
import type { RunContext } from '../runtime/context';
import { loadDataset, type DatasetName } from '../runtime/datasets';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../runtime/checkpoint';
import { Rng } from '../runtime/rng';
import type { SharedPart } from '../runtime/shared-parts';
import { createDit, disposeDit, ditVariables, type Dit } from '../nn/dit';
import { CONTEXT_VOCAB } from '../data/class-condition';
import { linearSchedule, trainDdpm, type DdpmSchedule } from '../train/ddpm';

export interface PriorRecipe {
  dataset: DatasetName;
  T: number;
  patch: number;
  dModel: number;
  heads: number;
  layers: number;
  ffnHidden: number;
  trainSteps: number;
  batchSize: number;
  learningRate: number;
  emaDecay: number;
  seed: number;
}

export interface DdpmPrior { dit: Dit; schedule: DdpmSchedule; recipe: PriorRecipe; finalLoss: number; trainSeconds: number; dispose(): void }

export function priorRecipe(dataset: DatasetName, overrides: Partial<PriorRecipe> = {}): PriorRecipe {
  return { dataset, T: 1000, patch: 4, dModel: 64, heads: 4, layers: 4, ffnHidden: 256, trainSteps: 5000, batchSize: 32, learningRate: 1e-3, emaDecay: 0.999, seed: 0, ...overrides };
}

/** A small prior for smoke runs and tests (trains in seconds; its samples are blobs). */
export const TINY_PRIOR: Partial<PriorRecipe> = { dModel: 32, heads: 2, layers: 2, ffnHidden: 64, trainSteps: 60, batchSize: 16, emaDecay: 0 };

function priorNetwork(r: PriorRecipe, rng: Rng): Dit {
  return createDit({
    image: 28, patch: r.patch, dModel: r.dModel, heads: r.heads, layers: r.layers, contextVocab: CONTEXT_VOCAB,
    ffn: new Array(r.layers).fill('dense'), ffnHidden: new Array(r.layers).fill(r.ffnHidden), experts: 2, expertHidden: 8, capacityFactor: 1, tcCapacityFactor: 1,
  }, rng);
}

export async function trainPrior(r: PriorRecipe, ctx: RunContext, phase: string): Promise<{ dit: Dit; finalLoss: number; ms: number }> {
  const rng = new Rng(r.seed);
  const dit = priorNetwork(r, rng.fork('init'));
  const { ms, lastLoss } = await trainDdpm(dit, linearSchedule(r.T), loadDataset(r.dataset).train, r, ctx, rng.fork('train'), phase);
  return { dit, finalLoss: lastLoss, ms };
}

export function priorPart(dataset: DatasetName, overrides: Partial<PriorRecipe> = {}, suffix = ''): SharedPart<DdpmPrior> {
  const recipe = priorRecipe(dataset, overrides);
  return {
    key: `prior:${dataset}${suffix}`,
    recipe: recipe as unknown as Record<string, unknown>,
    codeVersion: 1,
    async build(dir, ctx: RunContext) {
      const { dit, finalLoss, ms } = await trainPrior(recipe, { ...ctx, metric: () => {} }, `train prior:${dataset}${suffix}`);
      ctx.log(`prior:${dataset}${suffix} trained in ${(ms / 1000).toFixed(0)} s (${recipe.trainSteps} steps, final loss ${finalLoss.toFixed(4)})`, 'info');
      saveCheckpoint(`${dir}/prior.ckpt`, ditVariables(dit), { recipe, finalLoss, trainSeconds: ms / 1000 });
      disposeDit(dit);
    },
    async load(dir) {
      const ckpt = readCheckpoint(`${dir}/prior.ckpt`);
      const dit = priorNetwork(recipe, new Rng(0));
      assignCheckpoint(ckpt, ditVariables(dit));
      return { dit, schedule: linearSchedule(recipe.T), recipe, finalLoss: Number(ckpt.meta.finalLoss), trainSeconds: Number(ckpt.meta.trainSeconds), dispose: () => disposeDit(dit) };
    },
  };
}
