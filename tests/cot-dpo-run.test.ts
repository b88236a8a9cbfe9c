// cot-dpo smoke run end to end, in a file of its own: a test in another file that overruns
// its timeout can never leave tensors alive in this one's count (vitest runs each file in its own process).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cotDpoSpec } from '../common/labs/cot-dpo';
import { resolveParams } from '../common/lab';
import { parseAnswer } from '../workers/labs/cot-dpo/data';
import { chainSampler, disposeVlm, type Vlm } from '../workers/labs/cot-dpo/model';
import { promptBatch, type FeatureBank } from '../workers/labs/cot-dpo/features';
import type { Item } from '../workers/labs/cot-dpo/data';
import { EOS } from '../workers/labs/cot-dpo/tokenizer';
import { Rng } from '../workers/runtime/rng';
import { cotDpoLab } from '../workers/labs/cot-dpo/lab';
import { initBackend } from '../workers/runtime/backend';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

describe('cot-dpo lab (smoke)', () => {
  it('runs end to end: every metric and check, any pairs correct vs incorrect, the inspector query, no tensor leaks', async () => {
    const { ctx, events, live } = await testContext(3);
    const p = resolveParams(cotDpoSpec, 'smoke', {});
    await initBackend('wasm');
    // The judge is a cached shared part; train it before counting tensors.
    (await ctx.require('judge:mnist:tiny')).dispose();
    const before = tf.memory().numTensors;
    const r = await cotDpoLab.run(p, ctx);
    for (const k of cotDpoSpec.metrics) expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    expect(Object.keys(r.checks).sort()).toEqual([...cotDpoSpec.checks].sort());
    expect(r.metrics.heldOut).toBe(p.heldOut);
    const pairs = events.filter((e) => e.type === 'sample' && e.kind === 'pairs').at(-1) as { data: { answer: string; chosen: string; rejected: string }[] } | undefined;
    expect(pairs).toBeDefined();
    for (const pr of pairs!.data) {
      expect(parseAnswer(pr.chosen)).toBe(pr.answer);
      expect(parseAnswer(pr.rejected)).not.toBe(pr.answer);
    }
    // Rounds: each model samples its own pairs every round (the control's first round reuses
    // the SFT model's, so it is the DPO's); `pairs` counts the DPO rounds' pairs.
    type Stats = { tag: string; round: number; rounds: number; questions: number; pairs: number; kept: number };
    const stats = events.filter((e) => e.type === 'sample' && e.kind === 'pair-stats').map((e) => (e as { data: Stats }).data);
    expect(stats.map((s) => `${s.tag}${s.round}`)).toEqual(['dpo1', 'dpo2', 'control1', 'control2']);
    expect(stats.every((s) => s.rounds === p.dpoRounds && s.questions === p.pairQuestions)).toBe(true);
    expect(stats[2]).toEqual({ ...stats[0], tag: 'control' });
    expect(stats.filter((s) => s.tag === 'dpo').reduce((t, s) => t + s.pairs, 0)).toBe(r.metrics.pairs);
    for (const s of stats) expect(s.pairs).toBeLessThanOrEqual(s.kept * p.pairsPerQuestion);
    expect(r.metrics.dpoRounds).toBe(2);
    // The DPO curves continue across rounds: steps 5, 10, … up to rounds × dpoSteps.
    const lossSteps = events.filter((e) => e.type === 'metric' && e.name === 'dpo.loss').map((e) => (e as { step: number }).step);
    const expected = stats.filter((s) => s.tag === 'dpo' && s.pairs > 0).flatMap((s) => Array.from({ length: p.dpoSteps }, (_, i) => i + 1).filter((k) => k % 5 === 0 || k === p.dpoSteps).map((k) => (s.round - 1) * p.dpoSteps + k));
    expect(lossSteps).toEqual(expected);
    // After round 1 the DPO model was evaluated on its own (the paper's single round).
    expect(r.metrics.dpoGainRound1).toBeCloseTo(r.metrics.cotAcc_dpoRound1 - r.metrics.cotAcc_mixSft, 12);
    // The inspector: K chains with their scores; bad arguments are named.
    const contract = contractChecker(cotDpoLab);
    const inspect = (args: unknown, model: unknown) => contract.query('inspect', args, model);
    const shown = (await inspect({ index: 2, k: 3, seed: 5 }, live())) as { chains: { logProbSft: number; logProbDpo: number; score: number }[]; answer: string };
    expect(shown.chains).toHaveLength(3);
    for (const c of shown.chains) expect(c.score).toBeCloseTo(p.dpoBeta * (c.logProbDpo - c.logProbSft), 6);
    const blank = new Array(784).fill(0);
    const drawn = (await inspect({ digits: [blank, blank], op: 'max' }, live())) as { digits: number[]; answer: string };
    expect(drawn.answer).toBe(String(Math.max(...drawn.digits)));
    await expect(inspect({ index: 2, k: 0 }, live())).rejects.toThrow(/bad arguments to query "inspect": k: must be an integer in 1..32/);
    await expect(inspect({ index: 9999 }, live())).rejects.toThrow(/index must be an integer in 0..63/);
    await expect(inspect({ digits: [blank, blank], op: 'sum3' }, live())).rejects.toThrow(/sum3 takes 3 digits/);
    await expect(inspect({ digits: [blank, blank] }, live())).rejects.toThrow(/inspect with "digits" wants "op"/);
    await expect(inspect({ digits: [blank.slice(1), blank], op: 'sum' }, live())).rejects.toThrow(/digits\.0: must hold 784 numbers/);
    await expect(inspect({ digits: [blank], op: 'sum' }, live())).rejects.toThrow(/digits: 2 or 3 images of 784 numbers/);
    await expect(inspect({ op: 'sum' }, live())).rejects.toThrow(/inspect wants "index" \(a held-out question\) or "digits"/);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    // The live models (SFT, DPO, judge) stay for queries; everything else is freed.
    const lm = live() as { sft: Vlm; dpo: Vlm; judge: { dispose(): void }; bank: FeatureBank; heldOut: Item[] };
    // The trained SFT model's chains on onnxruntime (the run's engine) and on TF.js: the same tokens, greedy and sampled.
    const onnx = await chainSampler(lm.sft, 'onnxruntime'), tfjs = await chainSampler(lm.sft, 'tfjs');
    const batch = promptBatch(lm.bank, 'test', lm.heldOut.flatMap((q) => [q, q, q, q]), 'cot');
    for (const temperature of [0, 1]) {
      const [a, b] = [await onnx.sample(batch, temperature, new Rng(8)), await tfjs.sample(batch, temperature, new Rng(8))];
      const same = a.tokens.filter((t, i) => JSON.stringify(t) === JSON.stringify(b.tokens[i])).length;
      expect(same / batch.size, `T = ${temperature}`).toBeGreaterThanOrEqual(0.99);
      expect(a.tokens.some((t) => t.length > 3)).toBe(true);
      // Scored on both engines (every other chain cut open, so its <eos> is not charged): the same log-probs.
      const chains = a.tokens.map((t) => t.filter((x) => x !== EOS)), open = chains.map((_, i) => i % 2 === 1);
      const [sa, sb] = [await onnx.score(batch, chains, open), await tfjs.score(batch, chains, open)];
      let worst = 0;
      sa.forEach((x, i) => { worst = Math.max(worst, Math.abs(x - sb[i])); });
      expect(worst).toBeLessThan(1e-3);
      expect(Math.min(...sa)).toBeLessThan(-1);
    }
    await onnx.release(); await tfjs.release();
    disposeVlm(lm.sft); disposeVlm(lm.dpo); lm.judge.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // On 2 cores the SFT variants train in task threads: the very same numbers (speeds aside), one combined phase.
    const two = await testContext(3, { home: ctx.partsHome, cores: 2 });
    const r2 = await cotDpoLab.run(p, two.ctx);
    const seeded = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !/PerSec$/.test(k)));
    expect(seeded(r2.metrics)).toEqual(seeded(r.metrics));
    expect(two.events.some((e) => e.type === 'progress' && e.phase === 'SFT 3 variants and evaluate, on 2 cores' && e.done === e.total)).toBe(true);
    contractChecker(cotDpoLab).expectPlanFollowed(two.events);
    const lm2 = two.live() as { sft: Vlm; dpo: Vlm; judge: { dispose(): void } };
    disposeVlm(lm2.sft); disposeVlm(lm2.dpo); lm2.judge.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Out-of-range parameters are refused with the field named.
    expect(() => resolveParams(cotDpoSpec, 'smoke', { accuracyRange: [0.9, 0.1] })).toThrow(/accuracyRange.*is empty/);
    expect(() => resolveParams(cotDpoSpec, 'smoke', { heads: 3 })).toThrow(/heads.*even size/);
  }, 240_000);
});
