// SFT (token-averaged cross-entropy on the target, prompt excluded) and DPO
// (−log σ(β[(log πθ(yw) − log πref(yw)) − (log πθ(yl) − log πref(yl))]), sequence log-probs
// summed over the chain and its <eos>), as in the paper.
import * as tf from '@tensorflow/tfjs';
import type { CotDpoParams, SftVariant } from '../../../common/labs/cot-dpo';
import type { RunContext } from '../../runtime/context';
import type { Rng } from '../../runtime/rng';
import { cosineDecay, setLearningRate } from '../../runtime/schedule';
import { directTarget, type Item } from './data';
import { promptBatch, type FeatureBank } from './features';
import { loraVariables } from '../../nn/decoder';
import { languageVariables, targetLogProbs, visualVariables, type Vlm } from './model';
import { encodeText, type Format } from './tokenizer';

export interface SftExample { item: Item; format: Format }

/** Each variant's examples: its training questions in its format(s), plus the format-alignment set in both. */
export function sftExamples(variant: SftVariant, train: readonly Item[], align: readonly Item[]): SftExample[] {
  const formats: Format[] = variant === 'directSft' ? ['direct'] : variant === 'cotSft' ? ['cot'] : ['direct', 'cot'];
  return [...train.flatMap((item) => formats.map((format) => ({ item, format }))), ...align.flatMap((item) => (['direct', 'cot'] as const).map((format) => ({ item, format })))];
}

export const targetText = (e: SftExample) => (e.format === 'cot' ? e.item.rationale : directTarget(e.item.answer));

export interface TrainStats { steps: number; ms: number }

export async function trainSft(m: Vlm, examples: readonly SftExample[], bank: FeatureBank, p: CotDpoParams, ctx: RunContext, variant: SftVariant, rng: Rng): Promise<TrainStats> {
  const steps = Math.max(1, Math.ceil((p.sftEpochs * examples.length) / p.batchSize));
  const vars = [...visualVariables(m), ...languageVariables(m)];
  const opt = tf.train.adam(p.learningRate);
  const order: number[] = [];
  let ms = 0;
  try {
    for (let step = 1; step <= steps; step++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const batch: SftExample[] = [];
      while (batch.length < p.batchSize) {
        if (!order.length) order.push(...(rng.shuffle(Array.from(examples, (_, i) => i)) as number[]));
        batch.push(examples[order.pop()!]);
      }
      setLearningRate(opt, p.learningRate * cosineDecay(step, steps));
      const pb = promptBatch(bank, 'train', batch.map((e) => e.item), batch.map((e) => e.format));
      const targets = batch.map((e) => encodeText(targetText(e)));
      const loss = opt.minimize(() => {
        const { perToken, mask } = targetLogProbs(m, pb, targets);
        return perToken.sum().div(mask.sum()).neg() as tf.Scalar;
      }, true, vars)!;
      const value = loss.dataSync()[0];
      loss.dispose();
      ms += performance.now() - t0;
      if (step % 10 === 0 || step === steps) {
        ctx.metric(step, `sft.${variant}.loss`, value);
        ctx.progress(`SFT ${variant}`, step, steps);
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    opt.dispose();
  }
  return { steps, ms };
}

export interface Pair {
  item: Item;
  /** Chain tokens (before <eos>, cut to the word limit or the first difference) and their text. */
  chosen: number[];
  rejected: number[];
  /** True when the chain was cut short (its <eos> is not scored). */
  chosenOpen: boolean;
  rejectedOpen: boolean;
  chosenText: string;
  rejectedText: string;
  /** log π_ref of each chain (fixed during DPO). */
  refChosen: number;
  refRejected: number;
}

/** Sequence log-probs (chain + <eos>, unless `open` marks it cut short) of chains for their items, in batches. */
export function chainLogProbs(m: Vlm, bank: FeatureBank, split: 'train' | 'test', items: readonly Item[], chains: readonly number[][], open?: readonly boolean[], batch = 256): Float64Array {
  const out = new Float64Array(items.length);
  for (let s = 0; s < items.length; s += batch) {
    const its = items.slice(s, s + batch);
    const pb = promptBatch(bank, split, its, 'cot');
    const sums = tf.tidy(() => targetLogProbs(m, pb, chains.slice(s, s + batch), open?.slice(s, s + batch)).perToken.sum(1));
    out.set(sums.dataSync(), s);
    sums.dispose();
  }
  return out;
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

export interface DpoStats extends TrainStats { finalMargin: number; finalRewardAcc: number }

export interface DpoRunOptions {
  /** `swap[i]` exchanges chosen and rejected of pair i: the random-label control. */
  swap?: readonly boolean[];
  /** Added to the step of every recorded metric, so that rounds continue one curve. */
  stepOffset?: number;
  /** Shown with the progress ("round 2/3"). */
  round?: string;
}

/** DPO on the policy's language weights, or its LoRA adapters if it has any (the visual projection stays frozen), `p.dpoSteps` steps. */
export async function trainDpo(policy: Vlm, pairs: readonly Pair[], bank: FeatureBank, p: CotDpoParams, ctx: RunContext, tag: 'dpo' | 'control', rng: Rng, o: DpoRunOptions = {}): Promise<DpoStats> {
  const { swap, stepOffset = 0 } = o;
  // With LoRA adapters on the decoder only they train (the base weights stay as they were).
  const vars = Object.keys(policy.decoder.lora).length ? loraVariables(policy.decoder) : languageVariables(policy);
  const opt = p.dpoOptimizer === 'sgd' ? tf.train.sgd(p.dpoLearningRate) : tf.train.adam(p.dpoLearningRate);
  let ms = 0, finalMargin = 0, finalRewardAcc = 0, done = 0;
  const order: number[] = [];
  const recent: { margin: number; acc: number }[] = [];
  try {
    for (let step = 1; step <= p.dpoSteps && pairs.length; step++, done++) {
      ctx.throwIfCancelled();
      const t0 = performance.now();
      const idx: number[] = [];
      while (idx.length < Math.min(p.dpoBatch, pairs.length)) {
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
      const items = idx.map((i) => pairs[i].item);
      const pb = promptBatch(bank, 'train', [...items, ...items], 'cot');
      const targets = sides.map((x) => x.tokens), open = sides.map((x) => x.open);
      let report = { loss: 0, chosen: 0, rejected: 0, margin: 0, acc: 0 };
      const loss = opt.minimize(() => {
        const { perToken, mask } = targetLogProbs(policy, pb, targets, open);
        const seq = perToken.sum(1);
        const lw = seq.slice(0, B) as tf.Tensor1D, ll = seq.slice(B, B) as tf.Tensor1D;
        const { loss: dpo, margin } = dpoLoss(lw, ll, tf.tensor1d(refW), tf.tensor1d(refL), p.dpoBeta);
        // Optional NLL on the chosen chain, per token (Pang et al. 2024, "Iterative Reasoning
        // Preference Optimization"): without it DPO lowers the chosen chains too. 0 = the paper.
        const value = (p.dpoNllWeight > 0 ? dpo.add(lw.div(mask.slice([0, 0], [B, -1]).sum(1)).mean().mul(-p.dpoNllWeight)) : dpo) as tf.Scalar;
        const mg = Array.from(margin.dataSync());
        report = { loss: 0, chosen: lw.mean().dataSync()[0], rejected: ll.mean().dataSync()[0], margin: mg.reduce((s, x) => s + x, 0) / B, acc: mg.filter((x) => x > 0).length / B };
        return value;
      }, true, vars)!;
      report.loss = loss.dataSync()[0];
      loss.dispose();
      ms += performance.now() - t0;
      recent.push({ margin: report.margin, acc: report.acc });
      if (recent.length > 20) recent.shift();
      if (step % 5 === 0 || step === p.dpoSteps) {
        const at = stepOffset + step;
        ctx.metric(at, `${tag}.loss`, report.loss);
        ctx.metric(at, `${tag}.chosenLogProb`, report.chosen);
        ctx.metric(at, `${tag}.rejectedLogProb`, report.rejected);
        ctx.metric(at, `${tag}.rewardMargin`, report.margin);
        ctx.metric(at, `${tag}.rewardAccuracy`, report.acc);
        ctx.progress(`${tag === 'dpo' ? 'DPO' : 'DPO control (random labels)'}${o.round ? `, round ${o.round}` : ''}`, step, p.dpoSteps);
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
