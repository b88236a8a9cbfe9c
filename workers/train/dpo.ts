// Direct preference optimization (Rafailov et al. 2023): for pairs of a chosen and a
// rejected target of one example, −log σ(β[(log πθ(yw) − log πref(yw)) − (log πθ(yl) −
// log πref(yl))]), sequence log-probs summed over the target and its <eos> (unless a target
// was cut short). The reference log-probs are computed once, before training. As SFT, the
// model is reached only through `targetLogProbs`.
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../runtime/context';
import type { Rng } from '../runtime/rng';
import type { TargetLogProbs, TrainStats } from './sft';

export interface PreferencePair<E> {
  example: E;
  /** Target tokens (before <eos>). */
  chosen: number[];
  rejected: number[];
  /** True when the target was cut short: its <eos> is not scored. */
  chosenOpen: boolean;
  rejectedOpen: boolean;
  /** log π_ref of each target (fixed during DPO). */
  refChosen: number;
  refRejected: number;
}

/**
 * The DPO loss over a batch of pairs, from sequence log-probs of the policy (lw, ll) and
 * the frozen reference (refW, refL): mean of −log σ(β[(lw − refW) − (ll − refL)]).
 * Returns the per-pair reward margin β[(lw − refW) − (ll − refL)] too.
 */
export function dpoLoss(lw: tf.Tensor1D, ll: tf.Tensor1D, refW: tf.Tensor1D, refL: tf.Tensor1D, beta: number): { loss: tf.Scalar; margin: tf.Tensor1D } {
  const margin = lw.sub(refW).sub(ll.sub(refL)).mul(beta) as tf.Tensor1D;
  // −log σ(m) = softplus(−m); tfjs's logSigmoid loses its saved input under minimize() on wasm.
  return { loss: tf.softplus(margin.neg()).mean() as tf.Scalar, margin };
}

export interface DpoOptions {
  steps: number;
  /** Pairs per step (fewer when there are fewer pairs). */
  batch: number;
  beta: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  /** Weight of an NLL term on the chosen target, per token (0: plain DPO). */
  nllWeight: number;
  /** The variables trained (all of the policy's, or its LoRA adapters). */
  variables: tf.Variable[];
  /** Metrics are recorded as `${metricPrefix}.loss`, `.chosenLogProb`, `.rejectedLogProb`, `.rewardMargin`, `.rewardAccuracy` every 5 steps. */
  metricPrefix: string;
  phase: string;
  /** `swap[i]` exchanges chosen and rejected of pair i: a random-label control. */
  swap?: readonly boolean[];
  /** Added to the step of every recorded metric, so that rounds continue one curve. */
  stepOffset?: number;
}

export interface DpoStats extends TrainStats { finalMargin: number; finalRewardAcc: number }

export async function trainDpo<E>(pairs: readonly PreferencePair<E>[], logProbs: TargetLogProbs<E>, o: DpoOptions, ctx: RunContext, rng: Rng): Promise<DpoStats> {
  const { swap, stepOffset = 0 } = o;
  const opt = o.optimizer === 'sgd' ? tf.train.sgd(o.learningRate) : tf.train.adam(o.learningRate);
  let ms = 0, finalMargin = 0, finalRewardAcc = 0, done = 0;
  const order: number[] = [];
  const recent: { margin: number; acc: number }[] = [];
  try {
    for (let step = 1; step <= o.steps && pairs.length; step++, done++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const idx: number[] = [];
      while (idx.length < Math.min(o.batch, pairs.length)) {
        if (!order.length) order.push(...(rng.shuffle(Array.from(pairs, (_, i) => i)) as number[]));
        idx.push(order.pop()!);
      }
      const B = idx.length;
      // Each pair as trained: (winner, loser) = (chosen, rejected), or swapped for the control.
      const side = (i: number, winner: boolean) => {
        const x = pairs[i], chosenSide = winner !== (swap?.[i] ?? false);
        return chosenSide ? { tokens: x.chosen, ref: x.refChosen, open: x.chosenOpen } : { tokens: x.rejected, ref: x.refRejected, open: x.rejectedOpen };
      };
      const sides = [...idx.map((i) => side(i, true)), ...idx.map((i) => side(i, false))];
      const refW = sides.slice(0, B).map((x) => x.ref), refL = sides.slice(B).map((x) => x.ref);
      const examples = idx.map((i) => pairs[i].example);
      const targets = sides.map((x) => x.tokens), open = sides.map((x) => x.open);
      let report = { loss: 0, chosen: 0, rejected: 0, margin: 0, acc: 0 };
      const loss = opt.minimize(() => {
        const { perToken, mask } = logProbs([...examples, ...examples], targets, open);
        const seq = perToken.sum(1);
        const lw = seq.slice(0, B) as tf.Tensor1D, ll = seq.slice(B, B) as tf.Tensor1D;
        const { loss: dpo, margin } = dpoLoss(lw, ll, tf.tensor1d(refW), tf.tensor1d(refL), o.beta);
        // Optional NLL on the chosen target, per token (Pang et al. 2024, "Iterative Reasoning
        // Preference Optimization"): without it DPO lowers the chosen targets too.
        const value = (o.nllWeight > 0 ? dpo.add(lw.div(mask.slice([0, 0], [B, -1]).sum(1)).mean().mul(-o.nllWeight)) : dpo) as tf.Scalar;
        const mg = Array.from(margin.dataSync());
        report = { loss: 0, chosen: lw.mean().dataSync()[0], rejected: ll.mean().dataSync()[0], margin: mg.reduce((s, x) => s + x, 0) / B, acc: mg.filter((x) => x > 0).length / B };
        return value;
      }, true, o.variables)!;
      report.loss = loss.dataSync()[0];
      loss.dispose();
      ms += performance.now() - t0;
      recent.push({ margin: report.margin, acc: report.acc });
      if (recent.length > 20) recent.shift();
      if (step % 5 === 0 || step === o.steps) {
        const at = stepOffset + step;
        ctx.metric(at, `${o.metricPrefix}.loss`, report.loss);
        ctx.metric(at, `${o.metricPrefix}.chosenLogProb`, report.chosen);
        ctx.metric(at, `${o.metricPrefix}.rejectedLogProb`, report.rejected);
        ctx.metric(at, `${o.metricPrefix}.rewardMargin`, report.margin);
        ctx.metric(at, `${o.metricPrefix}.rewardAccuracy`, report.acc);
        ctx.progress(o.phase, step, o.steps);
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    opt.dispose();
  }
  if (recent.length) {
    finalMargin = recent.reduce((s, r) => s + r.margin, 0) / recent.length;
    finalRewardAcc = recent.reduce((s, r) => s + r.acc, 0) / recent.length;
  }
  return { steps: done, ms, finalMargin, finalRewardAcc };
}
