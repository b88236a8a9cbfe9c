// The frozen half of the visual encoder: the judge's conv features of every digit image,
// computed once per run. A blank slot gets the features of an empty image.
import type { Judge } from '../../shared-parts/judge';
import { batchFloats, type ImageSet } from '../../runtime/datasets';
import { SLOTS, type Item } from './data';
import { formatToken, opToken, type Format } from './tokenizer';
import type { PromptBatch } from './model';

export interface FeatureBank { dim: number; train: Float32Array; test: Float32Array; blank: Float32Array }

function featuresOf(judge: Judge, set: ImageSet): Float32Array {
  const out = new Float32Array(set.count * judge.featureDim);
  const chunk = 512;
  for (let start = 0; start < set.count; start += chunk) {
    const n = Math.min(chunk, set.count - start);
    const { x } = batchFloats(set, Array.from({ length: n }, (_, i) => start + i));
    out.set(judge.predict(x, n).features, start * judge.featureDim);
  }
  return out;
}

export function buildFeatureBank(judge: Judge, train: ImageSet, test: ImageSet): FeatureBank {
  return { dim: judge.featureDim, train: featuresOf(judge, train), test: featuresOf(judge, test), blank: judge.predict(new Float32Array(784), 1).features };
}

/**
 * Slot features of drawn digits (the panel's pads: 784 values in [0, 1] each, 2 or 3 of
 * them), unused slots blank, and the judge's reading of each digit.
 */
export function featuresOfPixels(judge: Judge, bank: FeatureBank, digits: readonly Float32Array[]): { features: Float32Array; read: number[] } {
  const x = new Float32Array(digits.length * 784);
  digits.forEach((d, i) => x.set(d, i * 784));
  const { labels, features: f } = judge.predict(x, digits.length);
  const features = new Float32Array(SLOTS * bank.dim);
  for (let s = 0; s < SLOTS; s++) features.set(s < digits.length ? f.subarray(s * bank.dim, (s + 1) * bank.dim) : bank.blank, s * bank.dim);
  return { features, read: Array.from(labels) };
}

export type Split = 'train' | 'test';

/** The prompt batch for items in one format: features [B, SLOTS, F] and (op, format) tokens. */
export function promptBatch(bank: FeatureBank, split: Split, items: readonly Item[], formats: Format | readonly Format[]): PromptBatch {
  const F = bank.dim, src = bank[split];
  const features = new Float32Array(items.length * SLOTS * F);
  const prompts = new Int32Array(items.length * 2);
  items.forEach((it, r) => {
    for (let s = 0; s < SLOTS; s++) {
      const from = s < it.imageIndex.length ? src.subarray(it.imageIndex[s] * F, (it.imageIndex[s] + 1) * F) : bank.blank;
      features.set(from, (r * SLOTS + s) * F);
    }
    prompts[2 * r] = opToken(it.op);
    prompts[2 * r + 1] = formatToken(typeof formats === 'string' ? formats : formats[r]);
  });
  return { features, prompts, size: items.length };
}
