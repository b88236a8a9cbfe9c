// Character-level tokenizer. Prompts are special tokens only (operation, format), so every
// prompt has the same length and a batch samples without padding; targets are characters.
import { OPS, type Op } from './data';

export const FORMATS = ['direct', 'cot'] as const;
export type Format = (typeof FORMATS)[number];

const SPECIALS = ['<pad>', '<eos>', ...FORMATS.map((f) => `<${f}>`), ...OPS.map((o) => `<${o}>`)];
/** Every character the teacher writes (digits, L/R/A/B/C, operators, the marker's letters). */
const CHARS = [...' 0123456789LRABC=+-*<>.#:Answermod'].filter((c, i, a) => a.indexOf(c) === i);

export const VOCAB: readonly string[] = [...SPECIALS, ...CHARS];
export const PAD = 0, EOS = 1;
const INDEX = new Map(VOCAB.map((t, i) => [t, i]));

export const formatToken = (f: Format) => INDEX.get(`<${f}>`)!;
export const opToken = (o: Op) => INDEX.get(`<${o}>`)!;

export function encodeText(text: string): number[] {
  return [...text].map((ch) => {
    const id = INDEX.get(ch);
    if (id === undefined) throw new RangeError(`character ${JSON.stringify(ch)} is not in the tokenizer's alphabet`);
    return id;
  });
}

/** The tokens before the first <eos> (a sampled chain as the model wrote it). */
export function untilEos(tokens: readonly number[]): number[] {
  const at = tokens.indexOf(EOS);
  return at < 0 ? tokens.slice() : tokens.slice(0, at);
}

/** The first n space-separated words of a token sequence (the paper's 90-word cut). */
export function truncateWordTokens(tokens: readonly number[], n: number): number[] {
  const space = INDEX.get(' ')!;
  let words = 1;
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === space && ++words > n) return tokens.slice(0, i);
  return tokens.slice();
}

/** Tokens back to text; stops at <eos>; other special tokens print as their names. */
export function decodeText(tokens: readonly number[]): string {
  let s = '';
  for (const t of tokens) { if (t === EOS) break; s += VOCAB[t] ?? '?'; }
  return s;
}
