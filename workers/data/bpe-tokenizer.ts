// A byte-level BPE tokenizer (the GPT-2 scheme): text is split into pre-tokens by GPT-2's
// pattern, each pre-token's UTF-8 bytes become printable symbols, and learned merges are
// applied lowest rank first. Trained here on a corpus and written as a Hugging Face
// `tokenizer.json`, so the Hugging Face libraries read the same ids from our files.
import { UserInputError } from '../runtime/failure';

/** GPT-2's pre-tokenizer pattern (the one Hugging Face's ByteLevel pre-tokenizer uses). */
const PRE_TOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte → symbol table: printable bytes stand for themselves, the rest move to 256+. */
function byteSymbols(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + extra++));
  return out;
}
const BYTE_SYMBOL = byteSymbols();
const SYMBOL_BYTE = new Map(BYTE_SYMBOL.map((s, b) => [s, b]));

export function preTokens(text: string): string[] {
  return text.match(PRE_TOKEN) ?? [];
}
/** A pre-token's bytes as symbols ("Ġthe" for " the"). */
export function symbolsOf(chunk: string): string[] {
  return Array.from(new TextEncoder().encode(chunk), (b) => BYTE_SYMBOL[b]);
}

/** A bad tokenizer file or text file: the user's input, named in the message. */
export class TokenizerInputError extends UserInputError {
  constructor(message: string) { super(message); this.name = 'TokenizerInputError'; }
}

export interface BpeTokenizer {
  /** Token strings by id: the 256 byte symbols, then one per merge. */
  vocab: readonly string[];
  merges: readonly (readonly [string, string])[];
  encode(text: string): number[];
  /** The ids of one pre-token (cached: the stories repeat a few hundred words). */
  encodeChunk(chunk: string): readonly number[];
  decode(ids: readonly number[]): string;
  /** The token that ends a story ("\n"), used as end of sequence. */
  eos: number;
}

export function bpeTokenizer(merges: readonly (readonly [string, string])[]): BpeTokenizer {
  const vocab = [...BYTE_SYMBOL, ...merges.map(([a, b]) => a + b)];
  const id = new Map(vocab.map((t, i) => [t, i]));
  if (id.size !== vocab.length) throw new TokenizerInputError('merges produce a token twice');
  const rank = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const cache = new Map<string, readonly number[]>();
  const encodeChunk = (chunk: string): readonly number[] => {
    const hit = cache.get(chunk);
    if (hit) return hit;
    let parts = symbolsOf(chunk);
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rank.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) break;
      // Merge every occurrence of that pair, left to right.
      const [a, b] = merges[bestRank];
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) { next.push(a + b); i++; } else next.push(parts[i]);
      }
      parts = next;
    }
    const ids = parts.map((p) => id.get(p)!);
    if (cache.size < 100_000) cache.set(chunk, ids);
    return ids;
  };
  return {
    vocab, merges, encodeChunk,
    encode: (text) => preTokens(text).flatMap((c) => encodeChunk(c)),
    decode(ids) {
      const bytes: number[] = [];
      for (const t of ids) {
        const s = vocab[t];
        if (s === undefined) throw new TokenizerInputError(`token id ${t} is outside the vocabulary of ${vocab.length}`);
        for (const ch of s) bytes.push(SYMBOL_BYTE.get(ch)!);
      }
      return new TextDecoder().decode(Uint8Array.from(bytes));
    },
    eos: id.get(BYTE_SYMBOL[10])!,
  };
}

/** Learns `mergeCount` merges from a corpus: the most frequent adjacent pair each round (ties: the pair first seen). */
export function trainBpe(text: string, mergeCount: number, onProgress?: (done: number) => void): BpeTokenizer {
  const counts = new Map<string, number>();
  for (const c of preTokens(text)) counts.set(c, (counts.get(c) ?? 0) + 1);
  const words = [...counts].map(([c, n]) => ({ parts: symbolsOf(c), n }));
  const merges: [string, string][] = [];
  for (let m = 0; m < mergeCount; m++) {
    const pairs = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.parts.length; i++) { const k = `${w.parts[i]} ${w.parts[i + 1]}`; pairs.set(k, (pairs.get(k) ?? 0) + w.n); }
    let best = '', bestN = 1;
    for (const [k, n] of pairs) if (n > bestN) { best = k; bestN = n; }
    if (!best) break; // every pair is unique: nothing left worth merging
    const [a, b] = best.split(' ');
    merges.push([a, b]);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.parts.length; i++) {
        if (i + 1 < w.parts.length && w.parts[i] === a && w.parts[i + 1] === b) { next.push(a + b); i++; } else next.push(w.parts[i]);
      }
      w.parts = next;
    }
    if (onProgress && m % 50 === 0) onProgress(m);
  }
  return bpeTokenizer(merges);
}

/** The Hugging Face tokenizers layout of a byte-level BPE (tokenizer.json). */
export function toHuggingFaceJson(t: BpeTokenizer): Record<string, unknown> {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: byteLevel, post_processor: { ...byteLevel, trim_offsets: false }, decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: Object.fromEntries(t.vocab.map((s, i) => [s, i])),
      merges: t.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** Reads merges back from our tokenizer.json (for a saved model). */
export function fromHuggingFaceJson(json: unknown): BpeTokenizer {
  const model = (json as { model?: { type?: string; merges?: unknown } })?.model;
  if (model?.type !== 'BPE' || !Array.isArray(model.merges)) throw new TokenizerInputError('tokenizer.json is not a byte-level BPE tokenizer (no model.merges)');
  const merges = model.merges.map((m: unknown) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((x) => typeof x !== 'string')) throw new TokenizerInputError(`tokenizer.json has a malformed merge: ${JSON.stringify(m)}`);
    return pair as [string, string];
  });
  return bpeTokenizer(merges);
}

/** A user's text file as a string: UTF-8 (BOM allowed), not empty, no NUL bytes. */
export function readUtf8Text(bytes: Uint8Array, label: string): string {
  if (bytes.byteLength === 0) throw new TokenizerInputError(`${label} is empty`);
  let text: string;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch {
    throw new TokenizerInputError(`${label} is not UTF-8 text (a byte sequence is invalid; save it as UTF-8)`);
  }
  if (text.includes('\u0000')) throw new TokenizerInputError(`${label} looks binary (it holds NUL bytes), not text`);
  if (!text.trim()) throw new TokenizerInputError(`${label} holds only whitespace`);
  return text.replace(/^\uFEFF/, '');
}
