// A small multimodal LM for image-splitting data (MM1.5's analogue, the mm15-mixture lab):
// each 28 × 28 input (a tile or an overview; workers/data/mm15.ts `tiles`) goes through the
// frame encoder (bordered to 32 px, its input side) into a 2 × 2 grid of tokens, projected to
// the decoder's width and put before the prompt's word embeddings. Rows of a batch are
// left-padded to one length. The encoder trains with everything (pre-training) or is frozen
// and read once (`encodeInputs`), its tokens then passed instead of pixels (SFT).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng';
import { createDecoder, decoderForward, disposeDecoder, sampleTokens, tokenLogProbs, type Decoder, type DecoderConfig } from './decoder';
import { createFrameEncoder, disposeFrameEncoder, encodeFrames, frameEncoderVariables, TOKENS_PER_FRAME, type FrameEncoder } from './frame-encoder';

export const INPUT_SIDE = 28;
const ENCODER_SIDE = 32;

export interface TileLmShape { channels: number; tokenDim: number; decoder: DecoderConfig; eos: number }
export interface TileLm { shape: TileLmShape; encoder: FrameEncoder; proj: tf.Variable; projBias: tf.Variable; decoder: Decoder }

/**
 * One sequence: its 28 × 28 inputs, as pixels in [0, 1] ([n · 784]) or as the frozen encoder's
 * tokens ([n · 4 · tokenDim]); its prompt's token ids; for training, its answer's ids.
 */
export interface TileLmRow {
  pixels?: Float32Array; tokens?: Float32Array; inputs: number; prompt: readonly number[]; answer?: readonly number[];
  /** Where the inputs sit among the prompt's words (interleaved text): the prompt's ids in order, `null` for the next input's 4 tokens. Default: every input, then the prompt. */
  layout?: readonly (number | null)[];
}

export function createTileLm(shape: TileLmShape, rng: Rng): TileLm {
  const d = shape.decoder.dModel;
  const encoder = createFrameEncoder({ size: ENCODER_SIDE, channels: shape.channels, tokenDim: shape.tokenDim, heads: [] }, rng.fork('encoder'));
  const proj = tf.tidy(() => tf.variable(tf.tensor2d(rng.fork('proj').normalArray(shape.tokenDim * d, Math.sqrt(1 / shape.tokenDim)), [shape.tokenDim, d]), true));
  const projBias = tf.tidy(() => tf.variable(tf.zeros([d]), true));
  return { shape, encoder, proj, projBias, decoder: createDecoder(shape.decoder, rng.fork('decoder')) };
}

export function tileLmVariables(m: TileLm, part: 'all' | 'language' = 'all'): tf.Variable[] {
  const language = [m.proj, m.projBias, ...Object.values(m.decoder.weights)];
  return part === 'all' ? [...Object.values(frameEncoderVariables(m.encoder)), ...language] : language;
}

export function disposeTileLm(m: TileLm): void {
  disposeFrameEncoder(m.encoder);
  m.proj.dispose(); m.projBias.dispose();
  disposeDecoder(m.decoder);
}

/** n inputs of 28 × 28 → n of 32 × 32, a 2-pixel blank border around each. */
function bordered(pixels: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * ENCODER_SIDE * ENCODER_SIDE);
  for (let i = 0; i < n; i++) for (let r = 0; r < INPUT_SIDE; r++) {
    out.set(pixels.subarray(i * 784 + r * INPUT_SIDE, i * 784 + (r + 1) * INPUT_SIDE), i * ENCODER_SIDE * ENCODER_SIDE + (r + 2) * ENCODER_SIDE + 2);
  }
  return out;
}

/** The encoder's tokens of n inputs ([n · 784] pixels → [n · 4 · tokenDim]), read once for a frozen encoder. */
export function encodeInputs(m: TileLm, pixels: Float32Array, n: number): Float32Array {
  if (n === 0) return new Float32Array(0);
  const t = tf.tidy(() => encodeFrames(m.encoder, tf.tensor2d(bordered(pixels, n), [n, ENCODER_SIDE * ENCODER_SIDE])));
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}

const prefixLength = (r: TileLmRow) => r.inputs * TOKENS_PER_FRAME + r.prompt.length;

/**
 * Embeddings [B, L, d] of each row's image tokens, prompt and (with `withAnswer`) answer, left
 * padded: built by one gather from a table of every image token, the word embeddings and a
 * zero row, so gradients reach the encoder, the projection and the embeddings alike.
 */
function rowEmbeddings(m: TileLm, rows: readonly TileLmRow[], withAnswer: boolean): { x: tf.Tensor3D; padStart: number[]; L: number } {
  const lengths = rows.map((r) => prefixLength(r) + (withAnswer ? r.answer?.length ?? 0 : 0));
  const L = Math.max(1, ...lengths);
  const N = rows.reduce((a, r) => a + r.inputs, 0), V = m.shape.decoder.vocab, zeroRow = N * TOKENS_PER_FRAME + V;
  const idx = new Int32Array(rows.length * L).fill(zeroRow);
  const padStart = lengths.map((n) => L - n);
  let input = 0;
  rows.forEach((r, b) => {
    let at = b * L + padStart[b];
    const layout = r.layout ?? [...Array.from({ length: r.inputs }, () => null), ...r.prompt];
    if (layout.filter((e) => e === null).length !== r.inputs || layout.length !== r.inputs + r.prompt.length) throw new Error(`row ${b}: its layout must place ${r.inputs} inputs and its ${r.prompt.length} prompt words`);
    for (const e of layout) {
      if (e === null) { for (let k = 0; k < TOKENS_PER_FRAME; k++) idx[at++] = input * TOKENS_PER_FRAME + k; input++; }
      else idx[at++] = N * TOKENS_PER_FRAME + e;
    }
    for (const w of withAnswer ? r.answer ?? [] : []) idx[at++] = N * TOKENS_PER_FRAME + w;
  });
  const x = tf.tidy(() => {
    const d = m.shape.decoder.dModel;
    let image: tf.Tensor2D = tf.zeros([0, d]);
    if (N > 0) {
      const fromPixels = rows.some((r) => r.inputs > 0 && r.pixels);
      if (rows.some((r) => r.inputs > 0 && (fromPixels ? !r.pixels : !r.tokens))) throw new Error('a batch gives every row\'s inputs the same way: all as pixels or all as encoder tokens');
      const enc = fromPixels
        ? encodeFrames(m.encoder, tf.tensor2d(bordered(concat(rows.map((r) => r.pixels ?? new Float32Array(0))), N), [N, ENCODER_SIDE * ENCODER_SIDE]))
        : tf.tensor3d(concat(rows.map((r) => r.tokens ?? new Float32Array(0))), [N, TOKENS_PER_FRAME, m.shape.tokenDim]);
      image = tf.matMul(enc.reshape([N * TOKENS_PER_FRAME, m.shape.tokenDim]) as tf.Tensor2D, m.proj as tf.Tensor2D).add(m.projBias) as tf.Tensor2D;
    }
    const table = tf.concat([image, m.decoder.weights.embed as tf.Tensor2D, tf.zeros([1, d])], 0);
    return tf.gather(table, tf.tensor2d(idx, [rows.length, L], 'int32')) as tf.Tensor3D;
  });
  return { x, padStart, L };
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Mean −log p of each row's answer tokens and <eos> (teacher forcing), and per-row sums. */
export function answerLoss(m: TileLm, rows: readonly TileLmRow[]): { loss: tf.Scalar; perRow: tf.Tensor1D } {
  return tf.tidy(() => {
    const { x, padStart, L } = rowEmbeddings(m, rows, true);
    const targets = new Int32Array(rows.length * L), mask = new Float32Array(rows.length * L);
    rows.forEach((r, b) => {
      const a = r.answer ?? [];
      // The last prefix token predicts the answer's first token; the answer's last, <eos>.
      for (let k = 0; k <= a.length; k++) { const pos = b * L + L - a.length - 1 + k; targets[pos] = k < a.length ? a[k] : m.shape.eos; mask[pos] = 1; }
    });
    const { logits } = decoderForward(m.decoder, x, { padStart });
    const maskT = tf.tensor2d(mask, [rows.length, L]);
    const perRow = tokenLogProbs(logits, tf.tensor2d(targets, [rows.length, L], 'int32')).mul(maskT).sum(1).neg() as tf.Tensor1D;
    return { loss: perRow.sum().div(maskT.sum()) as tf.Scalar, perRow };
  });
}

/** Greedy answers (without <eos>), up to `maxNew` tokens; rows of one prefix length are decoded together (the KV cache takes no padding). */
export function greedyAnswers(m: TileLm, rows: readonly TileLmRow[], maxNew: number, rng: Rng): number[][] {
  const out: number[][] = new Array(rows.length);
  const groups = new Map<number, number[]>();
  rows.forEach((r, i) => { const k = prefixLength(r); groups.set(k, [...(groups.get(k) ?? []), i]); });
  for (const ids of groups.values()) {
    const group = ids.map((i) => rows[i]);
    const { x } = rowEmbeddings(m, group, false);
    try {
      const { tokens } = sampleTokens(m.decoder, x, { maxNewTokens: maxNew, temperature: 0, topK: 0, topP: 1, stopToken: m.shape.eos, rng });
      ids.forEach((i, j) => { const t = tokens[j]; out[i] = t[t.length - 1] === m.shape.eos ? t.slice(0, -1) : t; });
    } finally { x.dispose(); }
  }
  return out;
}
