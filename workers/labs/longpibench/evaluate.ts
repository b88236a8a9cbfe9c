// Answers instances with a built-in decoder (greedy, KV cache, batches of one prompt
// length) and scores them; summarises scores per level or placement with bootstrap
// intervals.
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { longpibenchSamples } from '../../../common/labs/longpibench';
import { embedTokens, sampleTokens, type Decoder } from '../../nn/decoder';
import { Rng } from '../../runtime/rng';
import { bootstrapInterval, mean } from '../../runtime/stats';
import { scoreRetrieval, scoreTimeline, type RetrievalScore, type TableInstance } from '../../data/longpi/generator';
import { decodeAnswer, encodeTable, parseTextAnswer, parseTimelineAnswer, tableText, TOKEN, type TableTokens } from '../../data/longpi/format';
import type { TextLm } from '../../runtime/text-lm';
import type { OnnxDecoder } from '../../runtime/onnx-generate';

export type CurvePoint = z.input<typeof longpibenchSamples.curves>['absolute'][number];

export interface Answered { values: number[]; score: RetrievalScore }

/** Tokens a model may write: one more than 1.5·n answer rows plus <eos>, so a too-long answer shows as malformed. */
export const maxAnswerTokens = (n: number) => Math.floor(1.5 * n) + 2;

/**
 * Every instance answered, on the TF.js decoder or (`onnx`, the same decoder exported) on
 * onnxruntime-node; greedy either way. `onBatch` after each batch (progress, cancel, yield).
 */
export async function answerAll(model: Decoder, instances: readonly TableInstance[], t: TableTokens, o: { batch: number; noRepeat: boolean; onnx?: OnnxDecoder }, onBatch: (done: number) => Promise<void>): Promise<Answered[]> {
  const { batch } = o;
  const out: Answered[] = new Array(instances.length);
  const prompts = instances.map((x) => encodeTable(x, t).prompt);
  // Sampling takes prompts of equal length: group by length (one per placement), keep each instance's slot.
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => byLength.set(p.length, [...(byLength.get(p.length) ?? []), i]));
  let done = 0;
  for (const ids of byLength.values()) {
    for (let s = 0; s < ids.length; s += batch) {
      const chunk = ids.slice(s, s + batch);
      const greedy = { maxNewTokens: maxAnswerTokens(instances[chunk[0]].n), temperature: 0, topK: 0, topP: 1, stopToken: TOKEN['<eos>'], noRepeat: o.noRepeat, rng: new Rng(0) /* unused */ };
      const rows = chunk.map((i) => prompts[i]);
      let tokens: number[][];
      if (o.onnx) tokens = (await o.onnx.sample({ ids: rows }, greedy)).tokens;
      else {
        const prompt = tf.tidy(() => embedTokens(model, tf.tensor2d(rows, undefined, 'int32')));
        tokens = sampleTokens(model, prompt, greedy).tokens;
        prompt.dispose();
      }
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

/** Consecutive failed requests after which a text model is not asked the rest of the sweep. */
export const GIVE_UP_AFTER = 3;

/** What a text model answered, or why it could not (the instance is then not scored). */
export type TextAnswered = Answered & { text: string } | { error: string };

/**
 * Every instance asked of a text model (an ONNX folder or an endpoint), one at a time; a
 * failed request is kept as its message and the sweep goes on, until GIVE_UP_AFTER fail in a
 * row: the rest are then marked not asked. `onEach` after each one.
 */
export async function answerAllText(lm: TextLm, instances: readonly TableInstance[], vocab: { keys: number; values: number }, maxTokens: number, signal: AbortSignal, onEach: (done: number) => Promise<void>): Promise<TextAnswered[]> {
  const out: TextAnswered[] = [];
  let failedInRow = 0, lastError = '';
  for (const x of instances) {
    if (failedInRow >= GIVE_UP_AFTER) {
      // A dead endpoint or a model that cannot take these prompts: the rest are not asked (each would wait out its retries).
      out.push({ error: `not asked: the ${GIVE_UP_AFTER} requests before it failed (last: ${lastError})` });
    } else {
      try {
        const text = await lm.complete(tableText(x), maxTokens, signal);
        const values = x.task === 'timeline' ? parseTimelineAnswer(text, vocab) : parseTextAnswer(text, vocab, x.key);
        out.push({ text, values, score: x.task === 'timeline' ? scoreTimeline(values, x.answer) : scoreRetrieval(values, x.answer) });
        failedInRow = 0;
      } catch (e) {
        if (signal.aborted) throw e;
        lastError = (e as Error).message;
        out.push({ error: lastError });
        failedInRow++;
      }
    }
    await onEach(out.length);
  }
  return out;
}

/** Mean recall (with its bootstrap interval), precision, F1 and malformed share of a group of answers; nulls when none was scored. */
export function curvePoint(scores: readonly RetrievalScore[], resamples: number, rng: Rng): CurvePoint {
  if (!scores.length) return { recall: null, lo: null, hi: null, precision: null, f1: null, malformed: null, instances: 0 };
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
