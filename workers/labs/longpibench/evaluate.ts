// Answers instances with a built-in decoder (greedy, KV cache, batches of one prompt
// length) and scores them; summarises scores per level or placement with bootstrap
// intervals.
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { longpibenchSamples } from '../../../common/labs/longpibench';
import { embedTokens, sampleTokens, type Decoder } from '../../nn/decoder';
import { Rng } from '../../runtime/rng';
import { bootstrapInterval, mean } from '../../runtime/stats';
import { scoreRetrieval, type RetrievalScore, type TableInstance } from '../../data/longpi/generator';
import { decodeAnswer, encodeTable, TOKEN, type TableTokens } from '../../data/longpi/format';

export type CurvePoint = z.input<typeof longpibenchSamples.curves>['absolute'][number];

export interface Answered { values: number[]; score: RetrievalScore }

/** Tokens a model may write: one more than 1.5·n answer rows plus <eos>, so a too-long answer shows as malformed. */
export const maxAnswerTokens = (n: number) => Math.floor(1.5 * n) + 2;

/** Every instance answered; `onBatch` after each batch (progress, cancel, yield). */
export async function answerAll(model: Decoder, instances: readonly TableInstance[], t: TableTokens, batch: number, onBatch: (done: number) => Promise<void>): Promise<Answered[]> {
  const out: Answered[] = new Array(instances.length);
  const prompts = instances.map((x) => encodeTable(x, t).prompt);
  // Sampling takes prompts of equal length: group by length (one per placement), keep each instance's slot.
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => byLength.set(p.length, [...(byLength.get(p.length) ?? []), i]));
  let done = 0;
  for (const ids of byLength.values()) {
    for (let s = 0; s < ids.length; s += batch) {
      const chunk = ids.slice(s, s + batch);
      const prompt = tf.tidy(() => embedTokens(model, tf.tensor2d(chunk.map((i) => prompts[i]), undefined, 'int32')));
      const { tokens } = sampleTokens(model, prompt, { maxNewTokens: maxAnswerTokens(instances[chunk[0]].n), temperature: 0, topK: 0, topP: 1, stopToken: TOKEN['<eos>'], rng: new Rng(0) /* greedy: unused */ });
      prompt.dispose();
      chunk.forEach((i, j) => {
        const values = decodeAnswer(tokens[j], t, instances[i].key);
        out[i] = { values, score: scoreRetrieval(values, instances[i].answer) };
      });
      done += chunk.length;
      await onBatch(done);
    }
  }
  return out;
}

/** Mean recall (with its bootstrap interval), precision, F1 and malformed share of a group of answers. */
export function curvePoint(scores: readonly RetrievalScore[], resamples: number, rng: Rng): CurvePoint {
  const recall = scores.map((s) => s.recall);
  const { lo, hi } = bootstrapInterval([recall], (m) => m[0], resamples, rng);
  return {
    recall: mean(recall), lo, hi, precision: mean(scores.map((s) => s.precision)), f1: mean(scores.map((s) => s.f1)),
    malformed: mean(scores.map((s) => Number(s.malformed))), instances: scores.length,
  };
}

/**
 * Recall at relative level 1 minus the mean of levels 2..N, with its bootstrap interval
 * (each level's instances resampled apart): the `spacingHurts` statistic.
 */
export function spacingDrop(byLevel: readonly (readonly number[])[], resamples: number, rng: Rng): { drop: number; lo: number; hi: number } {
  const stat = (m: number[]) => m[0] - mean(m.slice(1));
  return { drop: stat(byLevel.map((g) => mean(g))), ...bootstrapInterval(byLevel, stat, resamples, rng) };
}
