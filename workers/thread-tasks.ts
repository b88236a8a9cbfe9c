// What a run may hand to a worker thread, by kind (workers/runtime/task-threads.ts).
import type { TaskHandler } from './runtime/task-threads';
import { trainDitTask } from './labs/ec-dit/train-task';
import { trainEgoTask } from './labs/mm-ego/train-task';
import { buildRetrievalPartTask } from './shared-parts/retrieval-lm';
import { trainArmTask } from './labs/cond-perceptual/train-arm';
import { sftVariantTask } from './labs/cot-dpo/sft-task';
import { sftArmTask } from './labs/mm15-mixture/sft-arm';
import { fineTuneTask } from './labs/activation-codec/fine-tune-task';

export const THREAD_TASKS: Record<string, TaskHandler> = {
  'ec-dit:train': trainDitTask as TaskHandler,
  'mm-ego:train': trainEgoTask as TaskHandler,
  'longpi:build-part': buildRetrievalPartTask as TaskHandler,
  'cond-perceptual:train-arm': trainArmTask as TaskHandler,
  'cot-dpo:sft': sftVariantTask as TaskHandler,
  'mm15:sft-arm': sftArmTask as TaskHandler,
  'activation-codec:fine-tune': fineTuneTask as TaskHandler,
};
