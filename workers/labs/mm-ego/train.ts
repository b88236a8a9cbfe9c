// Training the three models on the same questions. The pointer model is trained jointly
// as MM-Ego: BCE of the glimpse scores against the ground-truth key frames, plus the
// answer loss of the fallback fed the ground-truth key frames (with a few other frames
// beside them, so it also meets frames that do not matter, as the top-k at inference
// brings). The all-frames and blind models learn the answer loss only.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng';
import { cosineDecay, setLearningRate } from '../../runtime/schedule';
import { shuffledBatches } from '../../train/batches';
import { gridOf, LENGTH_BINS, meanOf, type EgoClipRecord, type EgoQuestion, type EgoSplit } from './data';
import { answerLogits, egoModelTensors, glimpseScores, MEAN_KIND, optionTokens, questionTokens, WORDS, type EgoModel, type SeqRow } from './model';
import { TOKENS_PER_FRAME } from '../../nn/frame-encoder';


/** Glimpse input: every frame's mean token, the question, the pointer. */
export function glimpseRow(m: EgoModel, clip: EgoClipRecord, words: number[]): SeqRow {
  const vis = new Float32Array(clip.length * m.tokenDim);
  for (let f = 0; f < clip.length; f++) vis.set(meanOf(clip, f, m.tokenDim), f * m.tokenDim);
  return { vis, kinds: new Array<number>(clip.length).fill(MEAN_KIND), words, end: 'pointer' };
}

/** Fallback input: the chosen frames' 2 × 2 tokens in time order, the question, <answer>. */
export function fallbackRow(m: EgoModel, clip: EgoClipRecord, frames: readonly number[], words: number[]): SeqRow {
  const sorted = [...frames].sort((a, b) => a - b);
  const per = TOKENS_PER_FRAME * m.tokenDim;
  const vis = new Float32Array(sorted.length * per);
  sorted.forEach((f, i) => vis.set(gridOf(clip, f, m.tokenDim), i * per));
  return { vis, kinds: sorted.flatMap(() => Array.from({ length: TOKENS_PER_FRAME }, (_, k) => k)), words, end: 'answer' };
}

/** All-frames input: one mean token per frame, the question, <answer>. */
export function allFramesRow(m: EgoModel, clip: EgoClipRecord, words: number[]): SeqRow {
  return { ...glimpseRow(m, clip, words), end: 'answer' };
}

/** Blind input: the question alone. */
export const blindRow = (words: number[]): SeqRow => ({ vis: new Float32Array(0), kinds: [], words, end: 'answer' });

/**
 * The fallback's training frames: the key frames (a random `maxFrames` of them when there
 * are more), then other frames up to a total drawn from |key|..maxFrames.
 */
export function trainingFrames(q: EgoQuestion, length: number, maxFrames: number, rng: Rng): number[] {
  let keys = [...q.keyFrames];
  if (keys.length > maxFrames) keys = Array.from(rng.permutation(keys.length)).slice(0, maxFrames).map((i) => keys[i]);
  const total = keys.length + rng.int(maxFrames - keys.length + 1);
  const others = Array.from({ length }, (_, f) => f).filter((f) => !keys.includes(f));
  const order = rng.permutation(others.length);
  return [...keys, ...Array.from(order).slice(0, total - keys.length).map((i) => others[i])];
}

export interface TrainOptions { steps: number; batch: number; learningRate: number; maxFrames: number; glimpseLoss: GlimpseLoss }
export type StepReport = (step: number, losses: Record<string, number>) => Promise<void> | void;

/** Batches of one bin at a time (the glimpse needs one frame count per batch), bins drawn by their share of questions. */
function binBatches(split: EgoSplit, rng: Rng) {
  const byBin = LENGTH_BINS.map((bin) => split.questions.filter((q) => q.bin === bin)).filter((qs) => qs.length > 0);
  const draw = byBin.map((qs) => shuffledBatches(rng.fork(`batches-${qs[0].bin}`), qs.length));
  const total = byBin.reduce((s, qs) => s + qs.length, 0);
  return (size: number): EgoQuestion[] => {
    let u = rng.next() * total, b = 0;
    while (b < byBin.length - 1 && (u -= byBin[b].length) >= 0) b++;
    return Array.from(draw[b](size)).map((i) => byBin[b][i]);
  };
}

/** Cross-entropy of the answer token (letter or word) over the whole vocabulary: the LM loss on the answer. */
function answerLoss(m: EgoModel, rows: SeqRow[], qs: readonly EgoQuestion[]): tf.Scalar {
  const logits = answerLogits(m, rows);
  const targets = tf.tensor1d(qs.map((q) => optionTokens(m, q)[q.answerIndex]), 'int32');
  return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, WORDS.vocab.length), logits) as tf.Scalar;
}

export type GlimpseLoss = 'mean' | 'balanced';

/**
 * BCE of the glimpse's softmax scores against the key-frame indicator. `mean` averages over
 * every frame (a key frame weighs 1/N); `balanced` averages the key frames' terms and the
 * other frames' terms separately per clip and adds them, so the pull towards key frames does
 * not shrink as clips grow.
 */
export function glimpseBce(scores: tf.Tensor2D, keyFrames: readonly (readonly number[])[], loss: GlimpseLoss): tf.Scalar {
  const [B, N] = scores.shape;
  const y = new Float32Array(B * N);
  keyFrames.forEach((ks, b) => { for (const f of ks) y[b * N + f] = 1; });
  return tf.tidy(() => {
    const s = scores.clipByValue(1e-7, 1 - 1e-7);
    const t = tf.tensor2d(y, [B, N]);
    const pos = t.mul(s.log()).neg(), neg = tf.scalar(1).sub(t).mul(tf.scalar(1).sub(s).log()).neg();
    if (loss === 'mean') return pos.add(neg).mean() as tf.Scalar;
    const keys = t.sum(1).maximum(1), others = tf.scalar(N).sub(t.sum(1)).maximum(1);
    return pos.sum(1).div(keys).add(neg.sum(1).div(others)).mean() as tf.Scalar;
  });
}

async function trainLoop(m: EgoModel, split: EgoSplit, o: TrainOptions, rng: Rng, lossOf: (qs: EgoQuestion[]) => Record<string, tf.Scalar>, report: StepReport): Promise<void> {
  const opt = tf.train.adam(o.learningRate);
  const vars = Object.values(egoModelTensors(m));
  const next = binBatches(split, rng);
  for (let step = 1; step <= o.steps; step++) {
    setLearningRate(opt, o.learningRate * Math.min(1, step / 50) * cosineDecay(step, o.steps));
    const qs = next(o.batch);
    const parts: Record<string, number> = {};
    const loss = opt.minimize(() => {
      const terms = lossOf(qs);
      const total = Object.values(terms).reduce((a, b) => a.add(b)) as tf.Scalar;
      for (const [k, v] of Object.entries(terms)) parts[k] = v.dataSync()[0];
      return total;
    }, true, vars);
    loss!.dispose();
    await report(step, parts);
  }
  opt.dispose();
}

/** MM-Ego's joint objective: glimpse BCE + fallback answer loss on ground-truth key frames. */
export function trainPointerModel(m: EgoModel, split: EgoSplit, o: TrainOptions, rng: Rng, report: StepReport): Promise<void> {
  const frameRng = rng.fork('frames');
  return trainLoop(m, split, o, rng, (qs) => {
    const clips = qs.map((q) => split.clips[q.clip]);
    const words = qs.map((q) => questionTokens(m, q));
    const scores = glimpseScores(m, qs.map((q, b) => glimpseRow(m, clips[b], words[b])));
    const bce = glimpseBce(scores, qs.map((q) => q.keyFrames), o.glimpseLoss);
    const answer = answerLoss(m, qs.map((q, b) => fallbackRow(m, clips[b], trainingFrames(q, clips[b].length, o.maxFrames, frameRng), words[b])), qs);
    return { bce, answer };
  }, report);
}

/** The all-frames model: every frame's mean token, answer loss only. */
export function trainAllFramesModel(m: EgoModel, split: EgoSplit, o: TrainOptions, rng: Rng, report: StepReport): Promise<void> {
  return trainLoop(m, split, o, rng, (qs) => ({ answer: answerLoss(m, qs.map((q) => allFramesRow(m, split.clips[q.clip], questionTokens(m, q))), qs) }), report);
}

/** The blind model: the question alone. */
export function trainBlindModel(m: EgoModel, split: EgoSplit, o: TrainOptions, rng: Rng, report: StepReport): Promise<void> {
  return trainLoop(m, split, o, rng, (qs) => ({ answer: answerLoss(m, qs.map((q) => blindRow(questionTokens(m, q))), qs) }), report);
}
