// cot-dpo: the teacher's chains parse to the annotated answers, the tokenizer round-trips,
// the 90-word cut, the DPO loss equals hand-computed values, padding never changes a
// sequence's log-prob, pairs are built as the paper does (correct vs incorrect chains of
// kept questions). The smoke run end to end is in cot-dpo-run.test.ts.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cotDpoSpec } from '../common/labs/cot-dpo';
import { resolveParams } from '../common/lab';
import { composeImage, makeItems, parseAnswer, teach } from '../workers/labs/cot-dpo/data';
import { OPS, type Op } from '../common/labs/cot-dpo';
import { decodeText, encodeText, truncateWordTokens, untilEos, EOS } from '../workers/labs/cot-dpo/tokenizer';
import { chainLogProbs, trainDpo, type Pair } from '../workers/labs/cot-dpo/train';
import { dpoLoss } from '../workers/train/dpo';
import { addLora, mergeLora, PROJECTIONS } from '../workers/nn/decoder';
import { accuracyOf, firstDifference, sampledAccuracyOf, selectPairs } from '../workers/labs/cot-dpo/evaluate';
import { pairedDifferenceSe, pairedSe } from '../workers/runtime/stats';
import { promptBatch, type FeatureBank } from '../workers/labs/cot-dpo/features';
import { createVlm, disposeVlm, targetLogProbs } from '../workers/labs/cot-dpo/model';
import { questionSets } from '../workers/labs/cot-dpo/lab';
import { loadDataset } from '../workers/runtime/datasets';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { testContext } from './helpers/context';

describe('cot-dpo data, tokenizer and losses', () => {
  it('every teacher chain and direct answer parses to the annotated answer; chains read the digits first', () => {
    for (const op of OPS as readonly Op[]) {
      const n = op === 'sum3' ? 3 : 2;
      for (let code = 0; code < 10 ** n; code++) {
        const d = Array.from({ length: n }, (_, i) => Math.floor(code / 10 ** (n - 1 - i)) % 10);
        const { answer, rationale } = teach(op, d);
        expect(parseAnswer(rationale)).toBe(answer);
        expect(rationale.startsWith(n === 3 ? `A=${d[0]} B=${d[1]} C=${d[2]}.` : `L=${d[0]} R=${d[1]}.`)).toBe(true);
        expect(decodeText(encodeText(rationale))).toBe(rationale);
      }
    }
    expect(teach('prod', [7, 8])).toEqual({ answer: '6', rationale: 'L=7 R=8. 7*8=56. 56 mod 10=6. ### Answer: 6' });
    expect(teach('larger', [3, 5]).rationale).toBe('L=3 R=5. 3<5. ### Answer: R');
    expect(teach('diff', [3, 5]).rationale).toBe('L=3 R=5. 5-3=2. ### Answer: 2');
    expect(parseAnswer('L=3 R=5. 3+5=8.')).toBeNull();
    expect(parseAnswer('### Answer: ')).toBeNull();
    expect(() => encodeText('L=3 x')).toThrow(/"x" is not in the tokenizer's alphabet/);
  });

  it('items: held-out digits come from the test split; the image holds them in their slots', () => {
    const ds = loadDataset('mnist');
    const items = makeItems(300, ds.test, new Rng(4));
    expect(new Set(items.map((i) => i.op)).size).toBe(OPS.length);
    for (const it of items.slice(0, 20)) {
      it.imageIndex.forEach((idx, k) => expect(ds.test.labels[idx]).toBe(it.digits[k]));
      const img = composeImage(it, ds.test);
      expect(img[14 * 84 + 14]).toBe(ds.test.pixels[it.imageIndex[0] * 784 + 14 * 28 + 14]);
      if (it.digits.length === 2) expect(img.filter((_, i) => i % 84 >= 56).every((v) => v === 0)).toBe(true);
    }
  });

  it('cuts chains to their first n space-separated words; untilEos stops at <eos>', () => {
    const t = encodeText('L=3 R=5. 3+5=8. ### Answer: 8');
    expect(decodeText(truncateWordTokens(t, 3))).toBe('L=3 R=5. 3+5=8.');
    expect(truncateWordTokens(t, 90)).toEqual(t);
    expect(untilEos([...t, EOS, 5, 6])).toEqual(t);
  });

  it('pairs: questions kept by sampled accuracy in [0.25, 0.85]; at most 3 (correct, incorrect) pairs, each chain once', () => {
    const K = 8;
    const q = (a: number, b: number) => ({ op: 'sum' as Op, digits: [a, b], imageIndex: [0, 0], ...teach('sum', [a, b]) });
    const questions = [q(1, 2), q(3, 4), q(2, 2), q(5, 0)];
    const right = (it: ReturnType<typeof q>) => encodeText(it.rationale), wrong = (it: ReturnType<typeof q>, k: number) => encodeText(`L=${it.digits[0]} R=${it.digits[1]}. ${k}. ### Answer: ${Number(it.answer) + 1 + k}`);
    const spread = (it: ReturnType<typeof q>, nRight: number) => Array.from({ length: K }, (_, k) => (k < nRight ? right(it) : wrong(it, k)));
    // 4/8 kept (3 pairs); 8/8 dropped; 1/8 dropped; 2/8 = 0.25 kept at the edge (2 pairs: only 2 correct chains)
    const chains = [...spread(questions[0], 4), ...spread(questions[1], 8), ...spread(questions[2], 1), ...spread(questions[3], 2)];
    const { draft, sampled } = selectPairs(questions, chains, { K, range: [0.25, 0.85], perQuestion: 3, words: 90 }, new Rng(1));
    expect(sampled.map((s) => s.accuracy)).toEqual([0.5, 1, 0.125, 0.25]);
    expect(sampled.map((s) => s.kept)).toEqual([true, false, false, true]);
    expect(draft.map((d) => d.example.answer)).toEqual(['3', '3', '3', '5', '5']);
    for (const d of draft) { expect(parseAnswer(d.chosenText)).toBe(d.example.answer); expect(parseAnswer(d.rejectedText)).not.toBe(d.example.answer); }
    expect(new Set(draft.slice(0, 3).map((d) => d.rejectedText)).size).toBe(3); // each incorrect chain used once
    const cut = selectPairs(questions, chains, { K, range: [0.25, 0.85], perQuestion: 3, words: 2 }, new Rng(1)).draft;
    expect(cut[0].chosenText).toBe('L=1 R=2.');
    expect(cut[0]).toMatchObject({ chosenOpen: true, rejectedOpen: true });
    expect(draft[0]).toMatchObject({ chosenOpen: false, rejectedOpen: false });
  });

  it('step-level pairs end both chains just after their first differing token; a chain that ends at the fork keeps its <eos>', () => {
    const item = { op: 'sum' as Op, digits: [3, 4], imageIndex: [0, 0], ...teach('sum', [3, 4]) };
    const o = { K: 2, range: [0, 1] as [number, number], perQuestion: 1, words: 90, cut: 'firstDifference' as const };
    const [pair] = selectPairs([item], [encodeText(item.rationale), encodeText('L=3 R=4. 3+4=8. ### Answer: 8')], o, new Rng(1)).draft;
    expect(pair).toMatchObject({ chosenText: 'L=3 R=4. 3+4=7', rejectedText: 'L=3 R=4. 3+4=8', chosenOpen: true, rejectedOpen: true });
    expect(firstDifference(encodeText('12'), encodeText('13'))).toBe(1);
    // the incorrect chain stops where the correct one goes on: it ends (closed), the other is cut after one more token
    const stops = { ...item, rationale: 'L=3 R=4. 3+4=7. ### Answer: 7', answer: '7' };
    const [p2] = selectPairs([stops], [encodeText(stops.rationale), encodeText('L=3 R=4. 3+4=7. ### Answer:')], o, new Rng(1)).draft;
    expect(p2).toMatchObject({ chosenText: 'L=3 R=4. 3+4=7. ### Answer: ', rejectedText: 'L=3 R=4. 3+4=7. ### Answer:', chosenOpen: true, rejectedOpen: false });
  });


  it('likely rejected chains: the most probable distinct mistakes first, duplicates skipped', () => {
    const item = { op: 'sum' as Op, digits: [3, 4], imageIndex: [0, 0], ...teach('sum', [3, 4]) };
    const right = encodeText(item.rationale), wrong = (s: number) => encodeText(`L=3 R=4. 3+4=${s}. ### Answer: ${s}`);
    // three correct chains; mistakes 8 (log-prob −2, twice), 6 (−5), 9 (−1)
    const chains = [right, wrong(8), right, wrong(6), wrong(9), wrong(8), right];
    const logProbs = [-0.5, -2, -0.4, -5, -1, -2, -0.7];
    const o = { K: 7, range: [0, 1] as [number, number], perQuestion: 3, words: 90 };
    const likely = selectPairs([item], chains, { ...o, rejected: 'likely' }, new Rng(3), logProbs).draft;
    expect(likely.map((d) => parseAnswer(d.rejectedText))).toEqual(['9', '8', '6']);
    expect(likely.every((d) => d.chosenText === item.rationale)).toBe(true);
    expect(() => selectPairs([item], chains, { ...o, rejected: 'likely' }, new Rng(3))).toThrow(/one log-prob per chain/);
    // at random the two copies of 8 are distinct chains, so any three of the four mistakes may appear
    const random = selectPairs([item], chains, o, new Rng(3)).draft;
    expect(random).toHaveLength(3);
  });

  it('a prompt batch reads slot features from the bank, blank for unused slots, and refuses an image the bank did not compute', () => {
    const bank: FeatureBank = { dim: 2, train: Float32Array.from([1, 2, 3, 4, 0, 0]), test: new Float32Array(6), blank: Float32Array.from([9, 9]), has: { train: Uint8Array.from([1, 1, 0]), test: new Uint8Array(3) } };
    const item = (imageIndex: number[]) => ({ op: 'sum' as Op, digits: [0, 0], imageIndex, answer: '0', rationale: '' });
    expect(Array.from(promptBatch(bank, 'train', [item([1, 0])], 'cot').features)).toEqual([3, 4, 1, 2, 9, 9]);
    expect(() => promptBatch(bank, 'train', [item([0, 2])], 'cot')).toThrow(/train image 2 is not in the feature bank/);
  });

  it('the paired standard error of an accuracy difference, by hand', () => {
    const items = ['1', '2', '3', '4'].map((answer) => ({ op: 'max' as Op, digits: [0, 0], imageIndex: [0, 0], answer, rationale: '' }));
    const a = accuracyOf(['1', '2', 'x', null], items), b = accuracyOf(['1', 'x', '3', '4'], items);
    // differences 0, −1, +1, +1: mean 0.25, sample variance (0.0625 + 1.5625 + 2 · 0.5625) / 3
    expect(pairedDifferenceSe(a, b)).toBeCloseTo(Math.sqrt((0.0625 + 1.5625 + 1.125) / 3 / 4), 10);
    expect(pairedDifferenceSe(a, a)).toBe(0);
    // sampled chains: 2 per question, fractions right 1/2, 0, 1, 1/2 → mean 0.5, sample variance (0 + 0.25 + 0.25 + 0) / 3
    const s = sampledAccuracyOf(['1', 'x', null, '9', '3', '3', '4', null], items, 2);
    expect(Array.from(s.perQuestion)).toEqual([0.5, 0, 1, 0.5]);
    expect(s.acc).toBe(0.5);
    expect(s.se).toBeCloseTo(Math.sqrt(0.5 / 3 / 4), 12);
    // per-question differences 0.5, 0, −1, 0 → mean −0.125
    expect(pairedSe(s.perQuestion, [1, 0, 0, 0.5])).toBeCloseTo(Math.sqrt(((0.625 ** 2) + (0.125 ** 2) + (0.875 ** 2) + (0.125 ** 2)) / 3 / 4), 12);
    expect(() => sampledAccuracyOf(['1'], items, 2)).toThrow(/1 answers for 4 questions × 2 chains/);
    expect(a.parseFail).toBe(1);
  });

  it('DPO loss equals −log σ(β[(lw − refW) − (ll − refL)]) by hand', async () => {
    await initBackend('wasm');
    // margins: 0.1·(1 − (−1)) = 0.2, 0.1·(−1 − 2) = −0.3, 0.1·(−1 − 1) = −0.2
    const lw = [-3, -10, -2], ll = [-5, -4, -2], rw = [-4, -9, -1], rl = [-4, -6, -3], beta = 0.1;
    const hand = lw.map((_, i) => { const m = beta * ((lw[i] - rw[i]) - (ll[i] - rl[i])); return { m, loss: Math.log(1 + Math.exp(-m)) }; });
    const { loss, margin } = tf.tidy(() => { const r = dpoLoss(tf.tensor1d(lw), tf.tensor1d(ll), tf.tensor1d(rw), tf.tensor1d(rl), beta); return { loss: r.loss.dataSync()[0], margin: Array.from(r.margin.dataSync()) }; });
    hand.forEach((h, i) => expect(margin[i]).toBeCloseTo(h.m, 6));
    expect(loss).toBeCloseTo(hand.reduce((s, h) => s + h.loss, 0) / 3, 6);
    expect(loss).toBeCloseTo((Math.log(1 + Math.exp(-0.2)) + Math.log(1 + Math.exp(0.3)) + Math.log(1 + Math.exp(0.2))) / 3, 6);
  });

  it('a sequence log-prob does not depend on the padding its batch-mates need', async () => {
    await initBackend('wasm');
    const m = createVlm({ dModel: 32, layers: 2, heads: 4, kvHeads: 2 }, 8, new Rng(1));
    const features = Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => Math.sin(i));
    const short = encodeText('### Answer: 8'), long = encodeText('L=3 R=5. 3+5=8. ### Answer: 8');
    const both = tf.tidy(() => targetLogProbs(m, { features, prompts: Int32Array.of(4, 3, 4, 3), size: 2 }, [short, long]).perToken.sum(1).dataSync());
    const alone = tf.tidy(() => targetLogProbs(m, { features: features.slice(0, 24), prompts: Int32Array.of(4, 3), size: 1 }, [short]).perToken.sum(1).dataSync());
    expect(both[0]).toBeCloseTo(alone[0], 4);
    expect(both[1]).toBeLessThan(both[0]); // more tokens, lower log-prob
    // an open (cut) target scores its tokens but not the <eos> after them
    const prompt = { features: features.slice(0, 24), prompts: Int32Array.of(4, 3), size: 1 };
    const rows = tf.tidy(() => {
      const closed = targetLogProbs(m, prompt, [short]).perToken.dataSync(), open = targetLogProbs(m, prompt, [short], [true]).perToken.dataSync();
      return { closed: Array.from(closed), open: Array.from(open) };
    });
    expect(rows.open.slice(0, short.length)).toEqual(rows.closed.slice(0, short.length));
    expect(rows.closed[short.length]).toBeLessThan(0); // log p(<eos>)
    expect(Math.abs(rows.open[short.length])).toBe(0); // masked (−0 from 0·log p)
    disposeVlm(m);
  });
});

describe('cot-dpo LoRA-only DPO', () => {
  it('trains the adapters and nothing else; folded in, the policy prefers the chosen chain more than before', async () => {
    const { ctx } = await testContext(2);
    const m = createVlm({ dModel: 32, layers: 2, heads: 4, kvHeads: 2 }, 8, new Rng(1));
    const bank: FeatureBank = { dim: 8, train: Float32Array.from({ length: 4 * 8 }, (_, i) => Math.sin(i)), test: new Float32Array(0), blank: new Float32Array(8), has: { train: Uint8Array.of(1, 1, 1, 1), test: new Uint8Array(0) } };
    const item = { op: 'sum' as Op, digits: [3, 5], imageIndex: [0, 1], answer: '8', rationale: '' };
    const chosen = encodeText('L=3 R=5. 3+5=8. ### Answer: 8'), rejected = encodeText('L=3 R=5. 3+5=9. ### Answer: 9');
    const ref = chainLogProbs(m, bank, 'train', [item, item], [chosen, rejected]);
    const pair: Pair = { example: item, chosen, rejected, chosenOpen: false, rejectedOpen: false, chosenText: '', rejectedText: '', refChosen: ref[0], refRejected: ref[1] };
    const base = Object.fromEntries(Object.entries(m.decoder.weights).map(([k, v]) => [k, Array.from(v.dataSync())]));
    addLora(m.decoder, PROJECTIONS, 2, 4, new Rng(5));
    const p = resolveParams(cotDpoSpec, 'smoke', { dpoSteps: 5, dpoBatch: 1, dpoLearningRate: 1e-2 });
    const st = await trainDpo(m, [pair], bank, p, ctx, 'dpo', new Rng(3));
    expect(st.steps).toBe(5);
    for (const [k, v] of Object.entries(m.decoder.weights)) expect(Array.from(v.dataSync()), k).toEqual(base[k]);
    expect(Object.values(m.decoder.lora).some((a) => a.B.dataSync().some((x) => x !== 0))).toBe(true);
    mergeLora(m.decoder);
    const after = chainLogProbs(m, bank, 'train', [item, item], [chosen, rejected]);
    expect((after[0] - ref[0]) - (after[1] - ref[1])).toBeGreaterThan(0.05);
    expect(m.decoder.weights['l0.wq'].dataSync().some((x, i) => x !== base['l0.wq'][i])).toBe(true);
    disposeVlm(m);
  });
});

describe('cot-dpo pair questions per round', () => {
  it('fresh: each round its own questions, none of them an SFT question; sftQuestions: the same SFT questions every round', () => {
    const p = resolveParams(cotDpoSpec, 'smoke', { pairPool: 'fresh', dpoRounds: 3 });
    const sets = questionSets(p, 4);
    const key = (it: { op: string; imageIndex: number[] }) => `${it.op}:${it.imageIndex.join(',')}`;
    const rounds = [0, 1, 2].map((r) => sets.pairQuestions(r));
    expect(rounds.map((q) => q.length)).toEqual([p.pairQuestions, p.pairQuestions, p.pairQuestions]);
    expect(rounds.flat()).toEqual(sets.fresh);
    const sftKeys = new Set(sets.train.map(key));
    expect(rounds.flat().filter((q) => sftKeys.has(key(q)))).toEqual([]);
    // The other sets do not depend on the pool (fresh questions come from their own stream).
    const plain = questionSets({ ...p, pairPool: 'sftQuestions' }, 4);
    expect(plain.train.map(key)).toEqual(sets.train.map(key));
    expect(plain.heldOut.map(key)).toEqual(sets.heldOut.map(key));
    expect(plain.pairQuestions(2)).toEqual(plain.train.slice(0, p.pairQuestions));
    expect(plain.fresh).toEqual([]);
  });
});
