// Teacher-forced training toward an unordered set of answer tokens: at each answer step
// the target is every token the answer still owes (the reference order only feeds the
// inputs), so the loss is −log of the probability mass on those tokens. An answer scored
// as a set (recall over the relevant items) then costs nothing for its order, and the
// model's first job is to find the items, not to learn the reference's order.
import * as tf from '@tensorflow/tfjs';
import { decoderForward, embedTokens, type Decoder } from '../nn/decoder';

export interface SetTargetRow {
  prompt: readonly number[];
  /** The answer's items in the order they are fed back, then the stop token (owed last, alone). */
  answer: readonly number[];
}

/** Tokens owed at each answer step: the items not yet given, then the stop token once all are. */
export function owedTokens(answer: readonly number[]): number[][] {
  const items = answer.slice(0, -1), stop = answer[answer.length - 1];
  return answer.map((_, j) => (j < items.length ? items.slice(j) : [stop]));
}

/**
 * Mean over answer steps of −log Σ_{owed} p(token). Rows are left-padded to one length;
 * only the answer positions' logits are read.
 */
export function setTargetLoss(d: Decoder, rows: readonly SetTargetRow[]): tf.Scalar {
  const seqs = rows.map((r) => [...r.prompt, ...r.answer]);
  const T = Math.max(...seqs.map((s) => s.length)) - 1;
  const A = Math.max(...rows.map((r) => r.answer.length));
  const padStart = seqs.map((s) => T + 1 - s.length);
  const input = seqs.map((s, b) => [...new Array<number>(padStart[b]).fill(0), ...s.slice(0, -1)]);
  const V = d.config.vocab, B = rows.length;
  // owed[b, a, v] = 1 when token v is owed at the a-th of the last A positions; steps before a short answer start are masked.
  const owed = new Float32Array(B * A * V), used = new Float32Array(B * A);
  rows.forEach((r, b) => {
    const offset = A - r.answer.length;
    owedTokens(r.answer).forEach((tokens, j) => {
      used[b * A + offset + j] = 1;
      for (const t of tokens) owed[(b * A + offset + j) * V + t] = 1;
    });
  });
  return tf.tidy(() => {
    const { logits } = decoderForward(d, embedTokens(d, tf.tensor2d(input, [B, T], 'int32')), { padStart });
    const logProbs = tf.logSoftmax(logits.slice([0, T - A, 0], [B, A, V]));
    // log Σ_owed p = logSumExp over owed tokens (others pushed to −1e9).
    const owedMass = tf.logSumExp(logProbs.add(tf.tensor3d(owed, [B, A, V]).sub(1).mul(1e9)), -1);
    const mask = tf.tensor2d(used, [B, A]);
    return owedMass.mul(mask).sum().div(mask.sum()).neg() as tf.Scalar;
  });
}
