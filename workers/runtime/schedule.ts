// Learning-rate schedules shared by every training loop.
import type * as tf from '@tensorflow/tfjs';

/** Cosine decay from 1 to `floor` over `total` steps (step counts from 1). */
export function cosineDecay(step: number, total: number, floor = 0.05): number {
  return floor + (1 - floor) * 0.5 * (1 + Math.cos((Math.PI * step) / total));
}

/**
 * tfjs declares an optimizer's learningRate protected but reads it on every step; setting
 * it schedules the rate without rebuilding the optimizer's moment estimates.
 */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { learningRate: number }).learningRate = lr;
}
