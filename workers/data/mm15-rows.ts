// MM1.5 items and pre-training sequences as the tile LM's rows: pictures cut into its 28 × 28
// inputs (high resolution: tiles and an overview; low: the overview), words as token ids.
import type { TileLmRow } from '../nn/tile-lm';
import { wordTokenizer, type WordTokenizer } from './word-tokenizer';
import { MM15_WORDS, tiles, type Canvas, type Mm15Item, type PretrainItem } from './mm15';

export const mm15Tokenizer = (): WordTokenizer => wordTokenizer(['<eos>'], MM15_WORDS);
export type Resolution = 'high' | 'low';

const words = (tok: WordTokenizer, text: string) => tok.encode(text.split(' '));

/** The 28 × 28 inputs of some pictures, as one [n · 784] array. */
export function inputsOf(images: readonly Canvas[], resolution: Resolution): { pixels: Float32Array; inputs: number } {
  const all = images.flatMap((c) => tiles(c, resolution));
  const pixels = new Float32Array(all.length * 784);
  all.forEach((t, i) => pixels.set(t, i * 784));
  return { pixels, inputs: all.length };
}

/** A question as a row: its pictures' inputs, then the prompt; the answer to learn or to score against. */
export function itemRow(tok: WordTokenizer, item: Mm15Item, resolution: Resolution): TileLmRow {
  return { ...inputsOf(item.images, resolution), prompt: words(tok, item.prompt), answer: words(tok, item.answer) };
}

/**
 * A pre-training sequence as a row. A caption is learnt after its picture; an interleaved
 * sequence keeps its order (picture, caption, picture) and learns the last caption; a
 * statement gives its first word and learns the rest.
 */
export function pretrainRow(tok: WordTokenizer, item: PretrainItem, resolution: Resolution): TileLmRow {
  const seg = item.segments;
  const pictures = seg.filter((s): s is Canvas => typeof s !== 'string');
  const { pixels, inputs } = inputsOf(pictures, resolution);
  const last = seg[seg.length - 1] as string;
  if (!pictures.length) { const w = words(tok, last); return { inputs: 0, prompt: w.slice(0, 1), answer: w.slice(1) }; }
  const layout: (number | null)[] = [];
  for (const s of seg.slice(0, -1)) {
    if (typeof s === 'string') layout.push(...words(tok, s));
    else layout.push(...Array.from({ length: tiles(s, resolution).length }, () => null));
  }
  return { pixels, inputs, prompt: layout.filter((e): e is number => e !== null), answer: words(tok, last), layout };
}
