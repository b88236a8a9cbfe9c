// The three models' trainings as tasks: in the run's own thread one after another, or in
// worker threads side by side (workers/runtime/task-threads.ts). Each model's init and
// batch streams are forked from the seed in one fixed order, so a model trains to the same
// weights wherever it runs.
import type { MmEgoParams } from '../../../common/labs/mm-ego';
import { Rng } from '../../runtime/rng';
import type { TaskIo } from '../../runtime/task-threads';
import type { EgoSplit } from './data';
import { createEgoModel, disposeEgoModel, egoModelTensors, type EgoModel } from './model';
import { trainAllFramesModel, trainBlindModel, trainPointerModel, type StepReport } from './train';

export const TOKEN_DIM = 32;
export type EgoModelName = 'pointer' | 'allFrames' | 'blind';
export const EGO_MODELS: readonly EgoModelName[] = ['pointer', 'allFrames', 'blind'];
export const TRAIN_PHASES: Record<EgoModelName, string> = { pointer: 'train the pointer model', allFrames: 'train the all-frames model', blind: 'train the blind model' };

/** Longest input: a glimpse over the longest clip, or a fallback over the most frames, plus the question with its options. */
const maxLenOf = (p: MmEgoParams) => Math.max(p.longFrames, 4 * Math.max(p.k, p.maxTrainFrames, ...p.kSweep)) + 24;
export const modelShape = (p: MmEgoParams) => ({ dModel: p.dModel, layers: p.layers, heads: 4, kvHeads: 2, tokenDim: TOKEN_DIM, maxLen: maxLenOf(p), answerFormat: p.answerFormat });

/** Every model's init and training streams, forked from the seed in one fixed order. */
export function egoModelRngs(seed: number): Record<EgoModelName, { init: Rng; train: Rng }> {
  const rng = new Rng(seed);
  const init = { pointer: rng.fork('pointer-init'), allFrames: rng.fork('all-init'), blind: rng.fork('blind-init') };
  const train = { pointer: rng.fork('pointer-train'), allFrames: rng.fork('all-train'), blind: rng.fork('blind-train') };
  return { pointer: { init: init.pointer, train: train.pointer }, allFrames: { init: init.allFrames, train: train.allFrames }, blind: { init: init.blind, train: train.blind } };
}

export const stepsOf = (p: MmEgoParams, who: EgoModelName) => ({ pointer: p.steps, allFrames: p.baselineSteps, blind: p.blindSteps })[who];

function reporter(io: TaskIo, who: EgoModelName, total: number): StepReport {
  return async (step, losses) => {
    if (step % 10 === 0 || step === total) {
      for (const [k, v] of Object.entries(losses)) io.metric(step, `${who}.${k}`, v);
      io.progress(TRAIN_PHASES[who], step, total);
      io.throwIfCancelled();
      await new Promise((res) => setImmediate(res));
    }
  };
}

/** Trains one model from its seeded init; the caller owns the model. */
async function trainEgoModel(p: MmEgoParams, who: EgoModelName, train: EgoSplit, io: TaskIo): Promise<EgoModel> {
  const rngs = egoModelRngs(p.seed)[who];
  const m = createEgoModel(modelShape(p), rngs.init);
  const o = { steps: stepsOf(p, who), batch: p.batch, learningRate: p.learningRate, maxFrames: p.maxTrainFrames, glimpseLoss: p.glimpseLoss };
  const trainer = { pointer: trainPointerModel, allFrames: trainAllFramesModel, blind: trainBlindModel }[who];
  try {
    await trainer(m, train, o, rngs.train, reporter(io, who, o.steps));
  } catch (e) {
    disposeEgoModel(m);
    throw e;
  }
  return m;
}

export interface EgoTrainInput { params: MmEgoParams; who: EgoModelName; train: EgoSplit }

/** The thread task: train, then hand the weights back as plain arrays. */
export async function trainEgoTask({ params, who, train }: EgoTrainInput, io: TaskIo): Promise<Record<string, Float32Array>> {
  const m = await trainEgoModel(params, who, train, io);
  try {
    return Object.fromEntries(Object.entries(egoModelTensors(m)).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
  } finally {
    disposeEgoModel(m);
  }
}
