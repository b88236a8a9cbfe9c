// The shared SFT and DPO trainers on a plain text decoder (no vision prefix): what the
// language labs after cot-dpo reuse. A prompt is one token (a digit d); its target is the
// next two digits, d+1 and d+2 (mod 10), then <eos>.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createDecoder, decoderForward, disposeDecoder, embedTokens, tokenLogProbs, type DecoderConfig } from '../workers/nn/decoder';
import { Rng } from '../workers/runtime/rng';
import { trainSft, type TargetLogProbs } from '../workers/train/sft';
import { trainDpo, type PreferencePair } from '../workers/train/dpo';
import { testContext } from './helpers/context';

const EOS = 10, PAD = 11;
const config: DecoderConfig = { vocab: 12, dModel: 16, layers: 1, heads: 2, kvHeads: 1, ffnHidden: 32, maxLen: 8, qkNorm: true, window: null, ropeBase: 10000 };
const answer = (d: number) => [(d + 1) % 10, (d + 2) % 10];

/** log p(target, then <eos>) per token after a one-token prompt, right-padded, masked. */
function plainLogProbs(d: ReturnType<typeof createDecoder>): TargetLogProbs<number> {
  return (prompts, targets, open) => tf.tidy(() => {
    const L = Math.max(...targets.map((t) => t.length));
    const inputs = prompts.map((p, r) => [p, ...Array.from({ length: L }, (_, i) => targets[r][i] ?? PAD)]);
    const outputs = targets.map((t) => Array.from({ length: L + 1 }, (_, i) => (i < t.length ? t[i] : i === t.length ? EOS : PAD)));
    const mask = tf.tensor2d(targets.map((t, r) => Array.from({ length: L + 1 }, (_, i) => (i < t.length || (i === t.length && !open?.[r]) ? 1 : 0))));
    const { logits } = decoderForward(d, embedTokens(d, tf.tensor2d(inputs, undefined, 'int32')));
    return { perToken: tokenLogProbs(logits, tf.tensor2d(outputs, undefined, 'int32')).mul(mask) as tf.Tensor2D, mask };
  });
}

const seqLogProb = (lp: TargetLogProbs<number>, prompts: number[], targets: number[][]) => tf.tidy(() => Array.from(lp(prompts, targets).perToken.sum(1).dataSync()));

describe('shared trainers on a plain decoder', () => {
  it('SFT learns the targets: sequence log-prob of the right answers rises past −1 nat', async () => {
    const { ctx, events } = await testContext(4);
    const d = createDecoder(config, new Rng(4));
    const lp = plainLogProbs(d);
    const digits = Array.from({ length: 10 }, (_, i) => i);
    const before = seqLogProb(lp, digits, digits.map(answer));
    const stats = await trainSft(digits, lp, { steps: 120, batchSize: 10, learningRate: 0.02, variables: Object.values(d.weights), target: answer, metricName: 'sft.loss', phase: 'SFT' }, ctx, new Rng(5));
    const after = seqLogProb(lp, digits, digits.map(answer));
    expect(stats.steps).toBe(120);
    expect(Math.min(...before)).toBeLessThan(-5); // three tokens from 12 at chance: ≈ −7.5
    expect(Math.min(...after)).toBeGreaterThan(-1);
    expect(events.filter((e) => e.type === 'metric' && e.name === 'sft.loss')).toHaveLength(12);
    disposeDecoder(d);
  });

  it('DPO raises the chosen answer over the rejected one relative to the reference; swapped labels lower it', async () => {
    const { ctx } = await testContext(6);
    const margins: number[] = [];
    for (const swapped of [false, true]) {
      const d = createDecoder(config, new Rng(6));
      const lp = plainLogProbs(d);
      const digits = [1, 3, 5, 7];
      const chosen = digits.map(answer), rejected = digits.map((x) => [(x + 5) % 10, (x + 7) % 10]);
      const refW = seqLogProb(lp, digits, chosen), refL = seqLogProb(lp, digits, rejected);
      const pairs: PreferencePair<number>[] = digits.map((x, i) => ({ example: x, chosen: chosen[i], rejected: rejected[i], chosenOpen: false, rejectedOpen: false, refChosen: refW[i], refRejected: refL[i] }));
      const stats = await trainDpo(pairs, lp, {
        steps: 30, batch: 4, beta: 0.5, learningRate: 0.01, optimizer: 'adam', nllWeight: 0, variables: Object.values(d.weights),
        metricPrefix: 'dpo', phase: 'DPO', swap: pairs.map(() => swapped),
      }, ctx, new Rng(7));
      const w = seqLogProb(lp, digits, chosen), l = seqLogProb(lp, digits, rejected);
      margins.push(digits.reduce((s, _, i) => s + (w[i] - refW[i]) - (l[i] - refL[i]), 0) / digits.length);
      expect(stats.steps).toBe(30);
      disposeDecoder(d);
    }
    expect(margins[0]).toBeGreaterThan(1);
    expect(margins[1]).toBeLessThan(-1);
  });
});
