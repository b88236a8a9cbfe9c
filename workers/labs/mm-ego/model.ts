// The video QA model: frozen frame tokens (2 × 2 per frame, and their mean) projected into
// the shared decoder beside the question's words. One decoder serves both MM-Ego passes:
// the global glimpse reads [mean token of every frame, question, pointer] and scores the
// frames from the last layer, s = softmax(E'_vis · P'ᵀ / √D); the fallback reads
// [the chosen frames' 2 × 2 tokens, question, <answer>] and writes the answer letter.
// The all-frames and blind baselines are the same network without a pointer in use.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng';
import { createDecoder, decoderForward, disposeDecoder, embedTokens, type Decoder } from '../../nn/decoder';
import { TOKENS_PER_FRAME } from '../../nn/frame-encoder';
import { EGO_OBJECTS, EGO_PLACES } from '../../data/ego/world';
import { COUNT_VALUES, LETTERS, questionWords, type QaItem } from '../../data/ego/qa-writer';
import { wordTokenizer } from '../../data/word-tokenizer';

const QUESTION_WORDS = 'what did i put in on the where leave how many times open hold before pick up ?'.split(' ');
export const WORDS = wordTokenizer(['<answer>'], [...QUESTION_WORDS, ...EGO_OBJECTS, ...EGO_PLACES, ...COUNT_VALUES, ...LETTERS.map((l) => l.toLowerCase())]);
export const ANSWER_TOKEN = WORDS.id('<answer>');
export const LETTER_TOKENS = LETTERS.map((l) => WORDS.id(l.toLowerCase()));

/** Visual token kinds: the four cells of the 2 × 2 grid, and the frame's mean. */
export const MEAN_KIND = TOKENS_PER_FRAME;

/**
 * How the answer is written: `letter` reads the four options after the question and writes
 * A–D (MM-Ego's format); `option` reads the question alone, writes the answer word, and the
 * option with the highest logit is chosen (multiple choice by likelihood).
 */
export type AnswerFormat = 'letter' | 'option';

export interface EgoModelShape { dModel: number; layers: number; heads: number; kvHeads: number; tokenDim: number; maxLen: number; answerFormat: AnswerFormat }

export interface EgoModel {
  decoder: Decoder;
  proj: tf.Variable;
  projBias: tf.Variable;
  /** [5, D]: added to a visual token by its kind (grid cell 0–3, or mean). */
  kindEmbed: tf.Variable;
  /** The learnable pointer P [1, D]. */
  pointer: tf.Variable;
  tokenDim: number;
  answerFormat: AnswerFormat;
}

export function createEgoModel(s: EgoModelShape, rng: Rng): EgoModel {
  const decoder = createDecoder({ vocab: WORDS.vocab.length, dModel: s.dModel, layers: s.layers, heads: s.heads, kvHeads: s.kvHeads, ffnHidden: 2 * s.dModel, maxLen: s.maxLen, qkNorm: true, window: null, ropeBase: 10000 }, rng);
  const v = (dims: number[], std: number) => tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(dims.reduce((a, b) => a * b, 1), std), dims), true));
  return {
    decoder, tokenDim: s.tokenDim, answerFormat: s.answerFormat,
    proj: v([s.tokenDim, s.dModel], 1 / Math.sqrt(s.tokenDim)), projBias: tf.tidy(() => tf.variable(tf.zeros([s.dModel]), true)),
    kindEmbed: v([MEAN_KIND + 1, s.dModel], 1 / Math.sqrt(s.dModel)), pointer: v([1, s.dModel], 1 / Math.sqrt(s.dModel)),
  };
}

export function egoModelTensors(m: EgoModel): Record<string, tf.Variable> {
  return { ...Object.fromEntries(Object.entries(m.decoder.weights).map(([k, v]) => [`decoder.${k}`, v])), proj: m.proj, projBias: m.projBias, kindEmbed: m.kindEmbed, pointer: m.pointer };
}

export function disposeEgoModel(m: EgoModel): void {
  disposeDecoder(m.decoder);
  for (const v of [m.proj, m.projBias, m.kindEmbed, m.pointer]) v.dispose();
}

/** One sequence: visual tokens (each tokenDim floats, with its kind), then words, then the pointer or <answer>. */
export interface SeqRow { vis: Float32Array; kinds: number[]; words: number[]; end: 'pointer' | 'answer' }

export interface BuiltInput { x: tf.Tensor3D; padStart: number[]; T: number }

/**
 * Left-padded input embeddings for a batch of rows. Every piece is gathered from one
 * table [projected visual tokens; word embeddings; P; zero], so gradients reach the
 * projection, the embeddings and the pointer through a single gather.
 */
export function buildInput(m: EgoModel, rows: readonly SeqRow[]): BuiltInput {
  const B = rows.length, D = m.decoder.config.dModel;
  const lengths = rows.map((r) => r.kinds.length + r.words.length + 1);
  const T = Math.max(...lengths);
  const visCount = rows.reduce((s, r) => s + r.kinds.length, 0), wordCount = rows.reduce((s, r) => s + r.words.length, 0);
  const vis = new Float32Array(visCount * m.tokenDim), kinds = new Int32Array(visCount), words = new Int32Array(wordCount + 1);
  words[wordCount] = ANSWER_TOKEN;
  const pointerRow = visCount + wordCount + 1, zeroRow = pointerRow + 1;
  const index = new Int32Array(B * T).fill(zeroRow);
  let vi = 0, wi = 0;
  const padStart = rows.map((r, b) => {
    const pad = T - lengths[b];
    let t = b * T + pad;
    vis.set(r.vis, vi * m.tokenDim);
    for (const k of r.kinds) { kinds[vi] = k; index[t++] = vi++; }
    for (const w of r.words) { words[wi] = w; index[t++] = visCount + wi++; }
    index[t] = r.end === 'pointer' ? pointerRow : visCount + wordCount;
    return pad;
  });
  const x = tf.tidy(() => {
    const visEmb = visCount ? tf.matMul(tf.tensor2d(vis, [visCount, m.tokenDim]), m.proj as tf.Tensor2D).add(m.projBias).add(tf.gather(m.kindEmbed, tf.tensor1d(kinds, 'int32'))) : tf.zeros([0, D]);
    const wordEmb = embedTokens(m.decoder, tf.tensor2d(words, [1, wordCount + 1], 'int32')).reshape([wordCount + 1, D]);
    const table = tf.concat([visEmb, wordEmb, m.pointer, tf.zeros([1, D])], 0);
    return tf.gather(table, tf.tensor1d(index, 'int32')).reshape([B, T, D]) as tf.Tensor3D;
  });
  return { x, padStart, T };
}

/** Glimpse: softmax scores over each row's N frames [B, N] (rows: N mean tokens, question, pointer; all rows the same N). */
export function glimpseScores(m: EgoModel, rows: readonly SeqRow[]): tf.Tensor2D {
  const N = rows[0].kinds.length;
  if (rows.some((r) => r.kinds.length !== N || r.end !== 'pointer')) throw new Error('a glimpse batch needs the same frame count in every row and the pointer last');
  const { x, padStart, T } = buildInput(m, rows);
  return tf.tidy(() => {
    const { hidden } = decoderForward(m.decoder, x, { padStart });
    const D = m.decoder.config.dModel, B = rows.length;
    const frameIdx = new Int32Array(B * N);
    for (let b = 0; b < B; b++) for (let i = 0; i < N; i++) frameIdx[b * N + i] = b * T + padStart[b] + i;
    const flat = hidden.reshape([B * T, D]);
    const frames = tf.gather(flat, tf.tensor1d(frameIdx, 'int32')).reshape([B, N, D]);
    const p = tf.gather(flat, tf.tensor1d(Int32Array.from({ length: B }, (_, b) => b * T + T - 1), 'int32')).reshape([B, D, 1]);
    x.dispose();
    return tf.softmax(tf.matMul(frames, p).reshape([B, N]).mul(1 / Math.sqrt(D))) as tf.Tensor2D;
  });
}

/** Answer pass: logits over the vocabulary at each row's <answer> [B, V]. */
export function answerLogits(m: EgoModel, rows: readonly SeqRow[]): tf.Tensor2D {
  const { x, padStart, T } = buildInput(m, rows);
  return tf.tidy(() => {
    const { logits } = decoderForward(m.decoder, x, { padStart });
    x.dispose();
    return logits.slice([0, T - 1, 0], [rows.length, 1, -1]).reshape([rows.length, -1]) as tf.Tensor2D;
  });
}

/** The words a model reads for a question: with its options in the letter format. */
export const questionTokens = (m: EgoModel, q: Pick<QaItem, 'question' | 'options'>) => WORDS.encode(m.answerFormat === 'letter' ? questionWords(q) : q.question.split(' '));

/** The token each option is answered with: its letter, or its (one-word) text. */
export const optionTokens = (m: EgoModel, q: Pick<QaItem, 'options'>) => (m.answerFormat === 'letter' ? LETTER_TOKENS : q.options.map((o) => WORDS.id(o)));

/** The chosen option (0–3) per row: the argmax of the logits over the row's four option tokens. */
export function pickOptions(logits: Float32Array, V: number, options: readonly (readonly number[])[]): number[] {
  return options.map((tokens, b) => {
    let best = 0;
    for (let j = 1; j < tokens.length; j++) if (logits[b * V + tokens[j]] > logits[b * V + tokens[best]]) best = j;
    return best;
  });
}
