// A character-level tokenizer: special tokens (<pad> = 0, <eos> = 1, then the lab's own),
// then one token per character of an alphabet. Small vocabularies keep the tiny decoders
// of the language labs cheap; an unknown character is refused by name.

export interface CharTokenizer {
  vocab: readonly string[];
  pad: number;
  eos: number;
  /** The id of a special token or character; throws for one not in the vocabulary. */
  id(token: string): number;
  encode(text: string): number[];
  /** Tokens back to text; stops at <eos>; other special tokens print as their names. */
  decode(tokens: readonly number[]): string;
  /** The tokens before the first <eos> (a sampled sequence as the model wrote it). */
  untilEos(tokens: readonly number[]): number[];
  /** The first n space-separated words of a token sequence. */
  truncateWords(tokens: readonly number[], n: number): number[];
}

/** `specials` after <pad> and <eos>; `alphabet`'s characters in order of first appearance. */
export function charTokenizer(specials: readonly string[], alphabet: string): CharTokenizer {
  const chars = [...alphabet].filter((c, i, a) => a.indexOf(c) === i);
  const vocab = ['<pad>', '<eos>', ...specials, ...chars];
  const index = new Map(vocab.map((t, i) => [t, i]));
  if (index.size !== vocab.length) throw new Error('a special token repeats or spells a single character');
  const pad = 0, eos = 1;
  const id = (token: string) => {
    const i = index.get(token);
    if (i === undefined) throw new RangeError(`${token.length === 1 ? 'character' : 'token'} ${JSON.stringify(token)} is not in the tokenizer's alphabet`);
    return i;
  };
  return {
    vocab, pad, eos, id,
    encode: (text) => [...text].map(id),
    decode(tokens) {
      let s = '';
      for (const t of tokens) { if (t === eos) break; s += vocab[t] ?? '?'; }
      return s;
    },
    untilEos(tokens) {
      const at = tokens.indexOf(eos);
      return at < 0 ? tokens.slice() : tokens.slice(0, at);
    },
    truncateWords(tokens, n) {
      const space = index.get(' ');
      if (space === undefined) return tokens.slice();
      let words = 1;
      for (let i = 0; i < tokens.length; i++) if (tokens[i] === space && ++words > n) return tokens.slice(0, i);
      return tokens.slice();
    },
  };
}
