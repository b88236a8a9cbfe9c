// One DiT's training as a task: in the run's own thread, or in a worker thread beside the
// others (workers/runtime/task-threads.ts); the same code and seeds either way, so a model
// trains to the same weights wherever it runs.
import type { DitModelName, EcDitParams } from '../../../common/labs/ec-dit';
import { loadDataset } from '../../runtime/datasets';
import { Rng } from '../../runtime/rng';
import type { TaskIo } from '../../runtime/task-threads';
import { ditVariables, disposeDit } from '../../nn/dit';
import { trainDit, type TrainResult } from '../../train/flow-matching';
import { buildDit } from './model';

export interface DitTrainInput { params: EcDitParams; model: DitModelName }
export interface DitTrainOutput { weights: Record<string, Float32Array>; stats: TrainResult }

export async function trainDitTask({ params: p, model }: DitTrainInput, io: TaskIo): Promise<DitTrainOutput> {
  const ds = loadDataset(p.dataset);
  const m = buildDit(p, model, new Rng(p.seed).fork('init'));
  try {
    const stats = await trainDit(m, model, ds.train, p, io, new Rng(p.seed).fork('batches'));
    const weights = Object.fromEntries(Object.entries(ditVariables(m)).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
    return { weights, stats };
  } finally {
    disposeDit(m);
  }
}
