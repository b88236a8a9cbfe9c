// mm-ego's costs: questions answered per second by the pointer model (one glimpse over the
// clip's mean tokens, then the fallback over k frames × 4 tokens) against the all-frames
// model (every frame's mean token in one pass), per clip length, with the tokens each
// processes per answer. Weights are freshly initialised: the cost does not depend on them.
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { createEgoModel, disposeEgoModel, questionTokens } from '../workers/labs/mm-ego/model';
import { pointerAnswers } from '../workers/labs/mm-ego/evaluate';
import { allFramesRow } from '../workers/labs/mm-ego/train';
import { answerLogits } from '../workers/labs/mm-ego/model';
import type { EgoClipRecord, EgoQuestion, EgoSplit } from '../workers/labs/mm-ego/data';
import { TOKENS_PER_FRAME } from '../workers/nn/frame-encoder';

export async function egoBench() {
  const backend = await initBackend();
  const D = 32, k = 4, batch = 64, rng = new Rng(0);
  const rows = [];
  for (const N of [16, 32, 64, 128, 256]) {
    const m = createEgoModel({ dModel: 64, layers: 3, heads: 4, kvHeads: 2, tokenDim: D, maxLen: N + 24, answerFormat: 'option' }, rng);
    const clip: EgoClipRecord = { id: 0, bin: 'long', length: N, seed: 0, narrations: [], grid: rng.normalArray(N * TOKENS_PER_FRAME * D), mean: rng.normalArray(N * D) };
    const q: EgoQuestion = {
      kind: 'where-left', question: 'where did i leave the bag ?', subject: 'bag', answer: 'desk', excluded: null, cited: [0], keyFrames: [0, 1],
      options: ['desk', 'sink', 'shelf', 'counter'], answerIndex: 0, clip: 0, bin: 'long',
    };
    const split: EgoSplit = { clips: [clip], questions: Array.from({ length: batch }, () => q) };
    const Q = questionTokens(m, q).length;
    const time = (f: () => void) => { f(); const t0 = performance.now(); f(); return batch / ((performance.now() - t0) / 1000); };
    const pointerPerSec = time(() => pointerAnswers(m, split, split.questions, k, 0.1, batch));
    const allFramesPerSec = time(() => answerLogits(m, split.questions.map(() => allFramesRow(m, clip, questionTokens(m, q)))).dispose());
    rows.push({ frames: N, pointerQuestionsPerSec: pointerPerSec, allFramesQuestionsPerSec: allFramesPerSec, tokensPerAnswer: { pointerGlimpse: N + Q + 1, pointerFallback: k * TOKENS_PER_FRAME + Q + 1, allFrames: N + Q + 1 } });
    disposeEgoModel(m);
  }
  return { backend: backend.name, model: 'd64, 3 layers, 4 heads (2 KV), token dim 32, k = 4, batch 64', rows };
}
