// The stories as BPE tokens, with the grammar's exact next-token distribution at every
// token: the floor any model's NLL sits above, and the true most likely token a model's
// top-1 prediction is judged against. Pre-tokens never span two words, so the words already
// finished are known from the tokens; only the current word is open, and the distribution
// sums over the words still consistent with its tokens so far (a word that may have ended
// hands over to the first token of the word after it).
import { chunkOf, nextWordDistribution, storyText, type Story } from './stories';
import type { BpeTokenizer } from './bpe-tokenizer';

export interface TokenTruth {
  /** The story's tokens, ending with the end-of-story token. */
  tokens: number[];
  /** ln P(token_t | the story's tokens before t) under the grammar. */
  logProb: Float64Array;
  /** The grammar's most likely token at t (ties: the lower id). */
  top1: Int32Array;
  /** Whether more than one token was possible at t. */
  uncertain: Uint8Array;
}

function add(d: Map<number, number>, t: number, p: number) { d.set(t, (d.get(t) ?? 0) + p); }

/** The first-token distribution of the word after `prefix` (the end-of-story token after the last word). */
function firstTokens(prefix: readonly string[], tok: BpeTokenizer, scale: number, into: Map<number, number>) {
  const next = nextWordDistribution(prefix);
  if (!next.size) { add(into, tok.eos, scale); return; }
  for (const [w, p] of next) add(into, tok.encodeChunk(chunkOf(w, prefix.length === 0))[0], scale * p);
}

/** The exact distribution of the token after `done` tokens of word i (the story's words before i are given). */
export function nextTokenDistribution(words: readonly string[], i: number, doneIds: readonly number[], tok: BpeTokenizer): Map<number, number> {
  const prefix = words.slice(0, i);
  const out = new Map<number, number>();
  if (doneIds.length === 0) { firstTokens(prefix, tok, 1, out); return out; }
  let total = 0;
  for (const [w, p] of nextWordDistribution(prefix)) {
    const ids = tok.encodeChunk(chunkOf(w, i === 0));
    if (ids.length < doneIds.length || doneIds.some((t, k) => ids[k] !== t)) continue;
    total += p;
    if (ids.length > doneIds.length) add(out, ids[doneIds.length], p);
    else firstTokens([...prefix, w], tok, p, out);
  }
  for (const [t, p] of out) out.set(t, p / total);
  return out;
}

export function storyTokenTruth(story: Story, tok: BpeTokenizer): TokenTruth {
  const tokens: number[] = [];
  const logProb: number[] = [], top1: number[] = [], uncertain: number[] = [];
  const record = (d: Map<number, number>, actual: number) => {
    let best = -1, bestP = -1;
    for (const [t, p] of d) if (p > bestP || (p === bestP && t < best)) { best = t; bestP = p; }
    const p = d.get(actual);
    if (p === undefined) throw new Error(`token ${actual} has probability 0 under the grammar: tokenizer and grammar disagree`);
    tokens.push(actual); logProb.push(Math.log(p)); top1.push(best); uncertain.push(bestP < 1 - 1e-9 ? 1 : 0);
  };
  story.words.forEach((w, i) => {
    const ids = tok.encodeChunk(chunkOf(w, i === 0));
    ids.forEach((t, j) => record(nextTokenDistribution(story.words, i, ids.slice(0, j), tok), t));
  });
  record(nextTokenDistribution(story.words, story.words.length, [], tok), tok.eos);
  return { tokens, logProb: Float64Array.from(logProb), top1: Int32Array.from(top1), uncertain: Uint8Array.from(uncertain) };
}

/** An endless source of training rows: L+1 tokens each, starting at a story's start (stories packed, the last one cut). */
export function storyRowSource(tok: BpeTokenizer, sample: () => Story, L: number): (rows: number) => number[][] {
  return (n) => Array.from({ length: n }, () => {
    const row: number[] = [];
    while (row.length < L + 1) row.push(...tok.encode(`${storyText(sample().words)}\n`));
    return row.slice(0, L + 1);
  });
}

export interface ScoredRows {
  rows: number[][];
  /** Per row, per target position (tokens 1..L): the grammar's ln P, top-1 token and whether it was uncertain. */
  truthLogProb: Float64Array[];
  truthTop1: Int32Array[];
  uncertain: Uint8Array[];
}

/** Validation rows of L+1 tokens from consecutive stories, each target with its exact truth. */
export function scoredStoryRows(stories: readonly Story[], tok: BpeTokenizer, L: number): ScoredRows {
  const out: ScoredRows = { rows: [], truthLogProb: [], truthTop1: [], uncertain: [] };
  let i = 0;
  while (i < stories.length) {
    const tokens: number[] = [], lp: number[] = [], top: number[] = [], unc: number[] = [];
    while (tokens.length < L + 1 && i < stories.length) {
      const t = storyTokenTruth(stories[i++], tok);
      tokens.push(...t.tokens); lp.push(...t.logProb); top.push(...t.top1); unc.push(...t.uncertain);
    }
    if (tokens.length < L + 1) break; // the tail too short for a row
    out.rows.push(tokens.slice(0, L + 1));
    out.truthLogProb.push(Float64Array.from(lp.slice(1, L + 1)));
    out.truthTop1.push(Int32Array.from(top.slice(1, L + 1)));
    out.uncertain.push(Uint8Array.from(unc.slice(1, L + 1)));
  }
  return out;
}

/** The floor: the grammar's own NLL per target token over the rows. */
export function entropyFloor(s: ScoredRows): number {
  let sum = 0, n = 0;
  for (const lp of s.truthLogProb) for (const x of lp) { sum -= x; n++; }
  return sum / n;
}
