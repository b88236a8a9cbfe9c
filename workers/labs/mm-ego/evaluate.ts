// Inference and the de-biased evaluation: glimpse scores with the uniform prior α at k
// evenly spaced frames, top-k selection, the fallback's answer; the same fallback on k
// uniformly spaced frames; the all-frames and blind models; every model run blind for MDA.
import { accuracy, debiasedAccuracy } from '../../runtime/debiased';
import { LENGTH_BINS, type EgoClipRecord, type EgoQuestion, type EgoSplit, type LengthBin } from './data';
import { answerLogits, glimpseScores, optionTokens, pickOptions, questionTokens, WORDS, type EgoModel, type SeqRow } from './model';
import { allFramesRow, blindRow, fallbackRow, glimpseRow } from './train';

/** round(linspace(0, N − 1, k)): the frames uniform selection takes and α favours. */
export function uniformFrames(N: number, k: number): number[] {
  if (k >= N) return Array.from({ length: N }, (_, i) => i);
  if (k === 1) return [0];
  return [...new Set(Array.from({ length: k }, (_, i) => Math.round((i * (N - 1)) / (k - 1))))];
}

/** Top-k frames of s + α·1[i ∈ linspace(0, N−1, k)], in time order (ties to the earlier frame). */
export function selectFrames(scores: ArrayLike<number>, k: number, alpha: number): number[] {
  const N = scores.length;
  const s = Float64Array.from(scores);
  for (const i of uniformFrames(N, k)) s[i] += alpha;
  return Array.from({ length: N }, (_, i) => i).sort((a, b) => s[b] - s[a] || a - b).slice(0, Math.min(k, N)).sort((a, b) => a - b);
}

/** Share of the key frames with a selected frame within ±`tolerance` frames. */
export function keyFrameRecall(selected: readonly number[], keyFrames: readonly number[], tolerance = 1): number {
  if (!keyFrames.length) return NaN;
  return keyFrames.filter((f) => selected.some((s) => Math.abs(s - f) <= tolerance)).length / keyFrames.length;
}

/** The answer letter of every question, asking in batches of `batch` rows (rows from one bin at a time are similar in length). */
function answerEach(m: EgoModel, qs: readonly EgoQuestion[], rowOf: (q: EgoQuestion, i: number) => SeqRow, batch: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < qs.length; i += batch) {
    const part = qs.slice(i, i + batch);
    const logits = answerLogits(m, part.map((q, j) => rowOf(q, i + j)));
    out.push(...pickOptions(logits.dataSync() as Float32Array, WORDS.vocab.length, part.map((q) => optionTokens(m, q))));
    logits.dispose();
  }
  return out;
}

/** Glimpse scores of every question [N of its clip], batched within a bin. */
export function glimpseAll(m: EgoModel, split: EgoSplit, qs: readonly EgoQuestion[], batch: number): Float32Array[] {
  const out: Float32Array[] = new Array(qs.length);
  for (const bin of LENGTH_BINS) {
    const ids = qs.map((q, i) => (q.bin === bin ? i : -1)).filter((i) => i >= 0);
    for (let i = 0; i < ids.length; i += batch) {
      const part = ids.slice(i, i + batch);
      const s = glimpseScores(m, part.map((j) => glimpseRow(m, split.clips[qs[j].clip], questionTokens(m, qs[j]))));
      const data = s.dataSync() as Float32Array, N = s.shape[1];
      part.forEach((j, r) => { out[j] = data.slice(r * N, (r + 1) * N); });
      s.dispose();
    }
  }
  return out;
}

export interface EgoModels { pointer: EgoModel; allFrames: EgoModel; blind: EgoModel }

/** What the pointer model does per question: one glimpse, top-k selection, one fallback pass. */
export function pointerAnswers(m: EgoModel, split: EgoSplit, qs: readonly EgoQuestion[], k: number, alpha: number, batch: number, scores = glimpseAll(m, split, qs, batch)): { frames: number[][]; letters: number[] } {
  const frames = scores.map((s) => selectFrames(s, k, alpha));
  return { frames, letters: answerEach(m, qs, (q, i) => fallbackRow(m, split.clips[q.clip], frames[i], questionTokens(m, q)), batch) };
}

export interface EvalOptions { k: number; alpha: number; kSweep: readonly number[]; batch: number }

/** Answers of every compared configuration, with and without video, on one question list. */
export interface EgoAnswers {
  scores: Float32Array[];
  /** Pointer selection at each k of the sweep (α as set), and at k with α = 0. */
  pointer: Record<number, { frames: number[][]; letters: number[] }>;
  pointerAlpha0: { frames: number[][]; letters: number[] };
  uniform: Record<number, number[]>;
  allFrames: number[];
  blind: number[];
  /** Each compared model run blind: pointer and uniform share their weights, so one run serves both. */
  blindRuns: { pointerWeights: number[]; allFrames: number[]; blind: number[] };
}

export function answerQuestions(models: EgoModels, split: EgoSplit, qs: readonly EgoQuestion[], o: EvalOptions, onPhase?: (done: number, total: number) => void): EgoAnswers {
  const clip = (q: EgoQuestion): EgoClipRecord => split.clips[q.clip];
  const ks = [...new Set([...o.kSweep, o.k])].sort((a, b) => a - b);
  const total = 2 * ks.length + 6;
  let done = 0;
  const tick = () => onPhase?.(++done, total);
  const scores = glimpseAll(models.pointer, split, qs, o.batch); tick();
  const pointer: EgoAnswers['pointer'] = {};
  for (const k of ks) { pointer[k] = pointerAnswers(models.pointer, split, qs, k, o.alpha, o.batch, scores); tick(); }
  const pointerAlpha0 = pointerAnswers(models.pointer, split, qs, o.k, 0, o.batch, scores); tick();
  const uniform: EgoAnswers['uniform'] = {};
  for (const k of ks) { uniform[k] = answerEach(models.pointer, qs, (q) => fallbackRow(models.pointer, clip(q), uniformFrames(clip(q).length, k), questionTokens(models.pointer, q)), o.batch); tick(); }
  const allFrames = answerEach(models.allFrames, qs, (q) => allFramesRow(models.allFrames, clip(q), questionTokens(models.allFrames, q)), o.batch); tick();
  const blind = answerEach(models.blind, qs, (q) => blindRow(questionTokens(models.blind, q)), o.batch); tick();
  const pointerBlind = answerEach(models.pointer, qs, (q) => blindRow(questionTokens(models.pointer, q)), o.batch); tick();
  const allFramesBlind = answerEach(models.allFrames, qs, (q) => blindRow(questionTokens(models.allFrames, q)), o.batch); tick();
  const blindRuns = { pointerWeights: pointerBlind, allFrames: allFramesBlind, blind };
  return { scores, pointer, pointerAlpha0, uniform, allFrames, blind, blindRuns };
}

export interface BinRow { bin: LengthBin | 'all'; questions: number; frames: number; rawAcc: Record<string, number>; mda: Record<string, number>; recallAtK: number; recallUniform: number }

/** Raw accuracy and MDA per model and bin, and the pointer's key-frame recall@k beside uniform selection's. */
export function scoreAnswers(qs: readonly EgoQuestion[], split: EgoSplit, a: EgoAnswers, o: EvalOptions): { rows: BinRow[]; correct: Record<string, boolean[]>; blindSets: boolean[][] } {
  const right = (letters: number[]) => letters.map((l, i) => l === qs[i].answerIndex);
  const correct: Record<string, boolean[]> = { pointer: right(a.pointer[o.k].letters), uniform: right(a.uniform[o.k]), allFrames: right(a.allFrames), blind: right(a.blind), pointerAlpha0: right(a.pointerAlpha0.letters) };
  for (const k of Object.keys(a.pointer).map(Number)) { correct[`pointer@${k}`] = right(a.pointer[k].letters); correct[`uniform@${k}`] = right(a.uniform[k]); }
  // M = {pointer, uniform-k, all-frames, blind}: pointer and uniform-k are one set of weights, so the same blind run counts for both.
  const blindSets = [right(a.blindRuns.pointerWeights), right(a.blindRuns.pointerWeights), right(a.blindRuns.allFrames), right(a.blindRuns.blind)];
  const rows: BinRow[] = [];
  for (const bin of [...LENGTH_BINS, 'all'] as const) {
    const ids = qs.map((q, i) => (bin === 'all' || q.bin === bin ? i : -1)).filter((i) => i >= 0);
    if (!ids.length) continue;
    const rawAcc: Record<string, number> = {}, mda: Record<string, number> = {};
    for (const [name, c] of Object.entries(correct)) { rawAcc[name] = accuracy(c, ids); mda[name] = debiasedAccuracy(c, blindSets, ids); }
    const recall = (frames: (i: number) => number[]) => ids.reduce((s, i) => s + keyFrameRecall(frames(i), qs[i].keyFrames), 0) / ids.length;
    rows.push({
      bin, questions: ids.length, frames: bin === 'all' ? NaN : split.clips[qs[ids[0]].clip].length, rawAcc, mda,
      recallAtK: recall((i) => a.pointer[o.k].frames[i]), recallUniform: recall((i) => uniformFrames(split.clips[qs[i].clip].length, o.k)),
    });
  }
  return { rows, correct, blindSets };
}

/** Bootstrap standard error of MDA(pointer) − MDA(uniform) over questions. */
export function mdaDifferenceSe(correct: Record<string, boolean[]>, blindSets: boolean[][], a: string, b: string, resamples: number, rng: { int(n: number): number }): number {
  const n = correct[a].length, diffs: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const ids = Array.from({ length: n }, () => rng.int(n));
    diffs.push(debiasedAccuracy(correct[a], blindSets, ids) - debiasedAccuracy(correct[b], blindSets, ids));
  }
  const mean = diffs.reduce((s, x) => s + x, 0) / diffs.length;
  return Math.sqrt(diffs.reduce((s, x) => s + (x - mean) ** 2, 0) / (diffs.length - 1));
}
