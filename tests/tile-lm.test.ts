// The tile LM (workers/nn/tile-lm.ts): it learns to read a picture, a row's outputs do not
// depend on the rows padded beside it, frozen encoder tokens give what pixels give, and the
// loss is the mean −log p of the answer and <eos> by hand.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { answerLoss, createTileLm, disposeTileLm, encodeInputs, greedyAnswers, tileLmVariables, type TileLmRow } from '../workers/nn/tile-lm';
import { decoderForward, tokenLogProbs } from '../workers/nn/decoder';

// Vocabulary: 0 pad, 1 eos, 2 "which side ?", 3 "left", 4 "right", 5 "both", 6 "none".
const shape = { channels: 8, tokenDim: 16, eos: 1, decoder: { vocab: 8, dModel: 32, layers: 1, heads: 2, kvHeads: 2, ffnHidden: 64, maxLen: 64, qkNorm: false, window: null, ropeBase: 10000 } };
/** A picture with ink on its left or right half (noisy), and the side as the answer. */
function sideRow(rng: Rng): TileLmRow {
  const right = rng.next() < 0.5, pixels = new Float32Array(784);
  for (let r = 4; r < 24; r++) for (let c = 0; c < 14; c++) pixels[r * 28 + c + (right ? 14 : 0)] = 0.6 + 0.4 * rng.next();
  return { pixels, inputs: 1, prompt: [2], answer: [right ? 4 : 3] };
}

describe('tile LM', () => {
  it('learns to say which half of a picture holds the ink, and answers a text-only row', async () => {
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    const m = createTileLm(shape, new Rng(3));
    const rng = new Rng(4), opt = tf.train.adam(0.01);
    for (let step = 0; step < 120; step++) {
      const rows = [...Array.from({ length: 15 }, () => sideRow(rng)), { inputs: 0, prompt: [5], answer: [6, 6] }];
      opt.minimize(() => answerLoss(m, rows).loss, false, tileLmVariables(m));
    }
    opt.dispose();
    const test = Array.from({ length: 40 }, () => sideRow(new Rng(99).fork(String(rng.next()))));
    const answers = greedyAnswers(m, [...test, { inputs: 0, prompt: [5] }], 4, new Rng(1));
    expect(answers.slice(0, 40).filter((a, i) => a.length === 1 && a[0] === test[i].answer![0]).length).toBeGreaterThanOrEqual(38);
    expect(answers[40]).toEqual([6, 6]);
    disposeTileLm(m);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('gives a row the same loss alone and padded beside longer rows; frozen tokens equal pixels; the loss is −log p by hand', async () => {
    await initBackend('wasm');
    const m = createTileLm(shape, new Rng(7));
    const rng = new Rng(8);
    const a = sideRow(rng);
    const long: TileLmRow = { pixels: new Float32Array(3 * 784).map(() => rng.next()), inputs: 3, prompt: [2, 2], answer: [5, 6, 3] };
    const alone = answerLoss(m, [a]).perRow.dataSync()[0];
    const padded = answerLoss(m, [a, long, { inputs: 0, prompt: [5], answer: [6] }]).perRow.dataSync();
    expect(padded[0]).toBeCloseTo(alone, 4);
    const asTokens = [a, long].map((r) => ({ ...r, pixels: undefined, tokens: encodeInputs(m, r.pixels!, r.inputs) }));
    const fromTokens = answerLoss(m, asTokens).perRow.dataSync();
    expect(fromTokens[0]).toBeCloseTo(padded[0], 4);
    expect(fromTokens[1]).toBeCloseTo(padded[1], 4);
    expect(() => answerLoss(m, [a, asTokens[1]])).toThrow(/all as pixels or all as encoder tokens/);
    // By hand for a text-only row: prompt [5], answer [6] → −log p(6 | 5) − log p(eos | 5 6), mean over 2 tokens.
    const row = { inputs: 0, prompt: [5], answer: [6] };
    const byHand = tf.tidy(() => {
      const x = tf.gather(m.decoder.weights.embed, tf.tensor2d([[5, 6]], [1, 2], 'int32')) as tf.Tensor3D;
      const lp = tokenLogProbs(decoderForward(m.decoder, x).logits, tf.tensor2d([[6, 1]], [1, 2], 'int32')).dataSync();
      return -(lp[0] + lp[1]) / 2;
    });
    expect(answerLoss(m, [row]).loss.dataSync()[0]).toBeCloseTo(byHand, 5);
    disposeTileLm(m);
  });
});
