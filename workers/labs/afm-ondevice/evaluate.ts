// What every variant is judged by: NLL per token and top-1 agreement with the grammar's
// most likely token on the validation rows, logits in onnxruntime against TensorFlow.js,
// and generation speed in both engines.
import * as tf from '@tensorflow/tfjs';
import { decoderForward, embedTokens, generateStream, type Decoder } from '../../nn/decoder';
import type { ScoredRows } from '../../data/story-tokens';
import type { OnnxDecoder } from '../../runtime/onnx-generate';
import { Rng } from '../../runtime/rng';

/** Validation rows; the truth arrays are present for the stories only. */
export type ValidationRows = Pick<ScoredRows, 'rows'> & Partial<Omit<ScoredRows, 'rows'>>;

export interface Scores { nll: number; /** Stories: agreement with the true top-1 at uncertain positions; a user's text: next-token accuracy. */ top1: number }

export function scoreModel(d: Decoder, val: ValidationRows, batch = 16): Scores {
  let nll = 0, n = 0, agree = 0, counted = 0;
  for (let b = 0; b < val.rows.length; b += batch) {
    const rows = val.rows.slice(b, b + batch);
    const L = rows[0].length - 1;
    const [lp, pred] = tf.tidy(() => {
      const x = tf.tensor2d(rows.map((r) => r.slice(0, L)), undefined, 'int32');
      const y = tf.tensor2d(rows.map((r) => r.slice(1)), undefined, 'int32');
      const logProbs = tf.logSoftmax(decoderForward(d, embedTokens(d, x)).logits);
      return [logProbs.mul(tf.oneHot(y, d.config.vocab)).sum(-1), logProbs.argMax(-1)];
    });
    const lpData = lp.dataSync(), predData = pred.dataSync();
    lp.dispose(); pred.dispose();
    rows.forEach((r, i) => {
      for (let t = 0; t < L; t++) {
        nll -= lpData[i * L + t]; n++;
        const truthTop1 = val.truthTop1?.[b + i], uncertain = val.uncertain?.[b + i];
        if (truthTop1 && uncertain) { if (uncertain[t]) { counted++; if (predData[i * L + t] === truthTop1[t]) agree++; } } else { counted++; if (predData[i * L + t] === r[t + 1]) agree++; }
      }
    });
  }
  return { nll: nll / n, top1: agree / Math.max(1, counted) };
}

export async function maxLogitDiff(d: Decoder, ort: OnnxDecoder, rows: readonly number[][]): Promise<number> {
  const ids = rows.map((r) => r.slice(0, -1));
  const a = await ort.logits(ids);
  const b = tf.tidy(() => decoderForward(d, embedTokens(d, tf.tensor2d(ids, undefined, 'int32'))).logits.dataSync());
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface Speed { ttftMsPerPromptToken: number; tokensPerSec: number }

/** TensorFlow.js: prefill (time to first token) and cached decoding, greedy; best of `repeats` after a warm-up. */
export async function tfjsSpeed(d: Decoder, prompt: readonly number[], newTokens: number, repeats = 2): Promise<Speed> {
  let ttft = Infinity, tps = 0;
  for (let r = 0; r <= repeats; r++) {
    const g = await generateStream(d, [...prompt], { maxNewTokens: newTokens, temperature: 0, topK: 0, topP: 1, rng: new Rng(0), stopToken: -1 });
    if (r === 0) continue;
    ttft = Math.min(ttft, g.ttftMs); tps = Math.max(tps, g.tokensPerSec);
  }
  return { ttftMsPerPromptToken: ttft / prompt.length, tokensPerSec: tps };
}

export async function ortSpeed(ort: OnnxDecoder, prompt: readonly number[], newTokens: number, repeats = 2): Promise<Speed> {
  let ttft = Infinity, tps = 0;
  for (let r = 0; r <= repeats; r++) {
    const g = await ort.generate(prompt, { maxNewTokens: newTokens, temperature: 0, topK: 0, topP: 1, rng: new Rng(0) });
    if (r === 0) continue;
    ttft = Math.min(ttft, g.ttftMs); tps = Math.max(tps, g.tokensPerSec);
  }
  return { ttftMsPerPromptToken: ttft / prompt.length, tokensPerSec: tps };
}

/** Mean KL(ref ‖ d) per token on the validation rows: how far a variant's predictions moved from the model it was made from. */
export function klFrom(ref: Decoder, d: Decoder, val: ValidationRows, batch = 16): number {
  let sum = 0, n = 0;
  for (let b = 0; b < val.rows.length; b += batch) {
    const rows = val.rows.slice(b, b + batch);
    const L = rows[0].length - 1;
    const kl = tf.tidy(() => {
      const x = tf.tensor2d(rows.map((r) => r.slice(0, L)), undefined, 'int32');
      const lpRef = tf.logSoftmax(decoderForward(ref, embedTokens(ref, x)).logits);
      const lp = tf.logSoftmax(decoderForward(d, embedTokens(d, x)).logits);
      return tf.exp(lpRef).mul(lpRef.sub(lp)).sum(-1).sum();
    });
    sum += kl.dataSync()[0]; n += rows.length * L;
    kl.dispose();
  }
  return sum / n;
}
