// Greedy accuracy per prompt format, the sampling of chains for DPO pairs, and DPO as a
// verifier (best-of-N by the implicit reward β·log πdpo/πsft, and reward-weighted voting).
import type { Rng } from '../../runtime/rng';
import { parseAnswer, type Item } from './data';
import { promptBatch, type FeatureBank, type Split } from './features';
import type { ChainSampler } from './model';
import type { Pair } from './train';
import { decodeText, truncateWordTokens, untilEos, type Format } from './tokenizer';

export interface Accuracy { correct: number; parseFail: number; n: number; acc: number; se: number; parseFailRate: number; hits: boolean[] }

export function accuracyOf(answers: readonly (string | null)[], items: readonly Item[]): Accuracy {
  let correct = 0, parseFail = 0;
  const hits = answers.map((a, i) => a !== null && a === items[i].answer);
  answers.forEach((a, i) => { if (a === null) parseFail++; else if (hits[i]) correct++; });
  const n = items.length, acc = n ? correct / n : 0;
  return { correct, parseFail, n, acc, se: n ? Math.sqrt((acc * (1 - acc)) / n) : 0, parseFailRate: n ? parseFail / n : 0, hits };
}

/** Accuracy of single sampled chains: per question the fraction of its N chains that are right, and their mean. */
export interface SampledAccuracy { acc: number; se: number; n: number; perQuestion: Float64Array }

export function sampledAccuracyOf(answers: readonly (string | null)[], items: readonly Item[], N: number): SampledAccuracy {
  if (answers.length !== items.length * N) throw new RangeError(`${answers.length} answers for ${items.length} questions × ${N} chains`);
  const perQuestion = Float64Array.from(items, (item, q) => answers.slice(q * N, (q + 1) * N).filter((a) => a === item.answer).length / N);
  const n = items.length, acc = perQuestion.reduce((s, x) => s + x, 0) / (n || 1);
  const variance = n > 1 ? perQuestion.reduce((s, x) => s + (x - acc) ** 2, 0) / (n - 1) : 0;
  return { acc, se: Math.sqrt(variance / (n || 1)), n, perQuestion };
}

/** N chains per question sampled at temperature T, scored as single samples (what DPO's objective acts on directly). */
export async function sampledAccuracy(m: ChainSampler, bank: FeatureBank, items: readonly Item[], N: number, temperature: number, rng: Rng, onBatch?: (done: number, total: number) => void): Promise<SampledAccuracy> {
  const repeated = items.flatMap((q) => Array.from({ length: N }, () => q));
  const { texts } = await generateChains(m, bank, 'test', repeated, 'cot', temperature, rng, (d) => onBatch?.(d, repeated.length));
  return sampledAccuracyOf(texts.map(parseAnswer), items, N);
}

/** Chains and their log-probs under the generating model at temperature 1 (tokens up to, not including, <eos>; the log-prob includes <eos> when it was emitted). */
export interface Chains { texts: string[]; tokens: number[][]; logProbs: number[] }

/** Chains generated for items in one format (greedy when temperature is 0), in batches; tokens end before <eos>. */
export async function generateChains(m: ChainSampler, bank: FeatureBank, split: Split, items: readonly Item[], format: Format, temperature: number, rng: Rng, onBatch?: (done: number) => void, batch = 512): Promise<Chains> {
  const out: Chains = { texts: [], tokens: [], logProbs: [] };
  for (let s = 0; s < items.length; s += batch) {
    const its = items.slice(s, s + batch);
    const g = await m.sample(promptBatch(bank, split, its, format), temperature, rng);
    g.tokens.forEach((t, r) => {
      const chain = untilEos(t);
      out.tokens.push(chain); out.texts.push(decodeText(chain)); out.logProbs.push(g.logProbs[r].reduce((a, b) => a + b, 0));
    });
    onBatch?.(Math.min(items.length, s + batch));
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

export async function greedyAccuracy(m: ChainSampler, bank: FeatureBank, items: readonly Item[], format: Format, rng: Rng, onBatch?: (done: number) => void): Promise<{ accuracy: Accuracy; texts: string[] }> {
  const { texts } = await generateChains(m, bank, 'test', items, format, 0, rng, onBatch);
  return { accuracy: accuracyOf(texts.map(parseAnswer), items), texts };
}

export interface SampledQuestion { item: Item; chains: string[]; correct: boolean[]; accuracy: number; kept: boolean }

/** How incorrect chains are picked: at random (the paper), or the SFT model's most likely distinct mistakes first. */
export type RejectedSelection = 'random' | 'likely';

/** Where a pair's chains end: at the paper's word limit, or both just after their first differing token (step-level pairs). */
export type PairCut = 'words' | 'firstDifference';

export interface PairOptions { K: number; temperature: number; range: [number, number]; perQuestion: number; words: number; rejected?: RejectedSelection; cut?: PairCut }

/** The first index where two token sequences differ (the shorter length if one is a prefix of the other). */
export function firstDifference(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The paper's pair selection, given K sampled chains per question (tokens, before <eos>):
 * keep questions whose accuracy lies in [lo, hi]; pair correct with incorrect chains (at
 * most `perQuestion`, each chain used once, drawn at random), both cut to their first
 * `words` words. With `rejected: 'likely'` (needs `logProbs`, one per chain) the incorrect
 * chains are taken in order of their log-prob under the sampling model, one per distinct
 * text: the mistakes the model would make at low temperature rather than one-off slips.
 * With `cut: 'firstDifference'` (not the paper) both chains end just after the first token
 * where they differ, so DPO compares the two choices at the fork and nothing after it: the
 * tokens after a wrong number (its consistent "### Answer: 8") are not pushed down.
 */
export function selectPairs(
  questions: readonly Item[], chainTokens: readonly number[][], o: Omit<PairOptions, 'temperature'>, rng: Rng, logProbs?: readonly number[],
): { draft: Omit<Pair, 'refChosen' | 'refRejected'>[]; sampled: SampledQuestion[] } {
  if (o.rejected === 'likely' && logProbs?.length !== chainTokens.length) throw new RangeError(`likely rejected chains need one log-prob per chain (${logProbs?.length ?? 0} for ${chainTokens.length})`);
  const texts = chainTokens.map(decodeText);
  const sampled: SampledQuestion[] = questions.map((item, qi) => {
    const chains = texts.slice(qi * o.K, (qi + 1) * o.K);
    const correct = chains.map((c) => parseAnswer(c) === item.answer);
    const accuracy = correct.filter(Boolean).length / o.K;
    return { item, chains, correct, accuracy, kept: accuracy >= o.range[0] && accuracy <= o.range[1] };
  });
  const draft: Omit<Pair, 'refChosen' | 'refRejected'>[] = [];
  sampled.forEach((s, qi) => {
    if (!s.kept) return;
    const ids = Array.from({ length: o.K }, (_, j) => j);
    const good = rng.shuffle(ids.filter((j) => s.correct[j])) as number[];
    let bad = rng.shuffle(ids.filter((j) => !s.correct[j])) as number[];
    if (o.rejected === 'likely') {
      // Stable sort after the shuffle: equal log-probs keep a random order.
      const seen = new Set<string>();
      bad = [...bad].sort((a, b) => logProbs![qi * o.K + b] - logProbs![qi * o.K + a]).filter((j) => {
        if (seen.has(s.chains[j])) return false;
        seen.add(s.chains[j]);
        return true;
      });
    }
    const tokensOf = (j: number) => chainTokens[qi * o.K + j];
    for (let i = 0; i < Math.min(o.perQuestion, good.length, bad.length); i++) {
      const [w, l] = [tokensOf(good[i]), tokensOf(bad[i])];
      let chosen: number[], rejected: number[];
      if (o.cut === 'firstDifference') {
        const at = firstDifference(w, l);
        [chosen, rejected] = [w.slice(0, at + 1), l.slice(0, at + 1)];
      } else [chosen, rejected] = [truncateWordTokens(w, o.words), truncateWordTokens(l, o.words)];
      draft.push({ example: s.item, chosen, rejected, chosenOpen: chosen.length < w.length, rejectedOpen: rejected.length < l.length, chosenText: decodeText(chosen), rejectedText: decodeText(rejected) });
    }
  });
  return { draft, sampled };
}

/** Each chain's log-prob (then <eos>, unless open) under the sampler's model, in batches: chainLogProbs on the sampler's engine. */
export async function scoreChains(s: ChainSampler, bank: FeatureBank, split: Split, items: readonly Item[], chains: readonly number[][], open?: readonly boolean[], batch = 256): Promise<Float64Array> {
  const out = new Float64Array(items.length);
  for (let i = 0; i < items.length; i += batch) {
    out.set(await s.score(promptBatch(bank, split, items.slice(i, i + batch), 'cot'), chains.slice(i, i + batch), open?.slice(i, i + batch)), i);
  }
  return out;
}

/** K chains per training question at temperature T from the SFT model, selected into pairs, with their reference log-probs. */
export async function buildPairs(sampler: ChainSampler, bank: FeatureBank, questions: readonly Item[], o: PairOptions, rng: Rng, onBatch?: (done: number, total: number) => void): Promise<{ pairs: Pair[]; sampled: SampledQuestion[] }> {
  const repeated = questions.flatMap((q) => Array.from({ length: o.K }, () => q));
  const { tokens, logProbs } = await generateChains(sampler, bank, 'train', repeated, 'cot', o.temperature, rng, (d) => onBatch?.(d, repeated.length));
  const { draft, sampled } = selectPairs(questions, tokens, o, rng, logProbs);
  const items = draft.map((d) => d.example);
  const refChosen = await scoreChains(sampler, bank, 'train', items, draft.map((d) => d.chosen), draft.map((d) => d.chosenOpen));
  const refRejected = await scoreChains(sampler, bank, 'train', items, draft.map((d) => d.rejected), draft.map((d) => d.rejectedOpen));
  return { pairs: draft.map((d, i) => ({ ...d, refChosen: refChosen[i], refRejected: refRejected[i] })), sampled };
}

export interface Verified { rerank: Accuracy; vote: Accuracy; majority: Accuracy; oracle: Accuracy; sampled: SampledAccuracy; chains: string[][]; scores: number[][] }

/**
 * N chains per held-out question from the SFT model; score each by β·(log πdpo − log πsft).
 * Best-of-N answers with the top-scored chain; weighted voting sums softmax(score) per
 * answer; majority counts votes; the oracle is "any chain right" (the ceiling); `sampled`
 * scores the chains one by one (the SFT model's single-sample accuracy).
 */
export async function verify(sft: ChainSampler, dpo: ChainSampler, bank: FeatureBank, items: readonly Item[], N: number, beta: number, temperature: number, rng: Rng, onBatch?: (done: number, total: number) => void): Promise<Verified> {
  const repeated = items.flatMap((q) => Array.from({ length: N }, () => q));
  const { texts, tokens } = await generateChains(sft, bank, 'test', repeated, 'cot', temperature, rng, (d) => onBatch?.(d, repeated.length));
  const lpDpo = await scoreChains(dpo, bank, 'test', repeated, tokens), lpSft = await scoreChains(sft, bank, 'test', repeated, tokens);
  const best: (string | null)[] = [], voted: (string | null)[] = [], majority: (string | null)[] = [], oracle: (string | null)[] = [];
  const chains: string[][] = [], scores: number[][] = [];
  items.forEach((item, qi) => {
    const cs = texts.slice(qi * N, (qi + 1) * N);
    const sc = cs.map((_, j) => beta * (lpDpo[qi * N + j] - lpSft[qi * N + j]));
    chains.push(cs); scores.push(sc);
    const answers = cs.map(parseAnswer);
    let top = 0;
    sc.forEach((s, j) => { if (s > sc[top]) top = j; });
    best.push(answers[top]);
    const mx = Math.max(...sc);
    const weight = new Map<string, number>(), count = new Map<string, number>();
    answers.forEach((a, j) => { if (a === null) return; weight.set(a, (weight.get(a) ?? 0) + Math.exp(sc[j] - mx)); count.set(a, (count.get(a) ?? 0) + 1); });
    const argmax = (m: Map<string, number>) => { let b: string | null = null; for (const [k, v] of m) if (b === null || v > m.get(b)!) b = k; return b; };
    voted.push(argmax(weight)); majority.push(argmax(count));
    oracle.push(answers.includes(item.answer) ? item.answer : answers.find((a) => a !== null) ?? null);
  });
  return { rerank: accuracyOf(best, items), vote: accuracyOf(voted, items), majority: accuracyOf(majority, items), oracle: accuracyOf(oracle, items), sampled: sampledAccuracyOf(texts.map(parseAnswer), items, N), chains, scores };
}
