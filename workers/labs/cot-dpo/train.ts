// cot-dpo's training on the shared trainers (workers/train/sft.ts, dpo.ts): SFT on its
// formats' targets, DPO on sampled chains, both through the VLM's target log-probs (the
// question's slot features and (op, format) tokens as the prompt).
import * as tf from '@tensorflow/tfjs';
import type { CotDpoParams, SftVariant } from '../../../common/labs/cot-dpo';
import type { RunContext } from '../../runtime/context';
import type { Rng } from '../../runtime/rng';
import { trainSft as trainSequences, type TargetLogProbs, type TrainStats } from '../../train/sft';
import { trainDpo as trainPreferences, type DpoStats, type PreferencePair } from '../../train/dpo';
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

export async function trainSft(m: Vlm, examples: readonly SftExample[], bank: FeatureBank, p: CotDpoParams, ctx: Pick<RunContext, 'throwIfCancelled' | 'metric' | 'progress'>, variant: SftVariant, rng: Rng): Promise<TrainStats> {
  const logProbs: TargetLogProbs<SftExample> = (batch, targets) => targetLogProbs(m, promptBatch(bank, 'train', batch.map((e) => e.item), batch.map((e) => e.format)), targets);
  return trainSequences(examples, logProbs, {
    steps: Math.max(1, Math.ceil((p.sftEpochs * examples.length) / p.batchSize)), batchSize: p.batchSize, learningRate: p.learningRate,
    variables: [...visualVariables(m), ...languageVariables(m)], target: (e) => encodeText(targetText(e)),
    metricName: `sft.${variant}.loss`, phase: sftPhase(variant),
  }, ctx, rng);
}

/** A DPO pair of chains for a question: tokens (before <eos>, cut to the word limit or the first difference), their text, their reference log-probs. */
export type Pair = PreferencePair<Item> & { chosenText: string; rejectedText: string };

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

/** The progress phases of SFT of a variant and of a DPO round. */
export const sftPhase = (variant: SftVariant) => `SFT ${variant}`;
export const dpoPhase = (tag: 'dpo' | 'control', round?: string) => `${tag === 'dpo' ? 'DPO' : 'DPO control (random labels)'}${round ? `, round ${round}` : ''}`;

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
  const logProbs: TargetLogProbs<Item> = (items, targets, open) => targetLogProbs(policy, promptBatch(bank, 'train', items, 'cot'), targets, open);
  return trainPreferences(pairs, logProbs, {
    steps: p.dpoSteps, batch: p.dpoBatch, beta: p.dpoBeta, learningRate: p.dpoLearningRate, optimizer: p.dpoOptimizer, nllWeight: p.dpoNllWeight,
    // With LoRA adapters on the decoder only they train (the base weights stay as they were).
    variables: Object.keys(policy.decoder.lora).length ? loraVariables(policy.decoder) : languageVariables(policy),
    metricPrefix: tag, phase: dpoPhase(tag, o.round),
    swap: o.swap, stepOffset: o.stepOffset,
  }, ctx, rng);
}
