// A word-level tokenizer over a fixed vocabulary: <pad> = 0, <unk> = 1, then the lab's
// special tokens and words. Questions written from templates have a few dozen words, so a
// word per token keeps sequences short; a word outside the vocabulary reads as <unk>.

export interface WordTokenizer {
  vocab: readonly string[];
  pad: number;
  unk: number;
  /** The id of a word or special token; <unk> for one outside the vocabulary. */
  id(word: string): number;
  encode(words: readonly string[]): number[];
  decode(tokens: readonly number[]): string[];
}

export function wordTokenizer(specials: readonly string[], words: readonly string[]): WordTokenizer {
  const vocab = [...new Set(['<pad>', '<unk>', ...specials, ...words])];
  const index = new Map(vocab.map((w, i) => [w, i]));
  const id = (w: string) => index.get(w) ?? 1;
  return { vocab, pad: 0, unk: 1, id, encode: (ws) => ws.map(id), decode: (ts) => ts.map((t) => vocab[t] ?? '<unk>') };
}
