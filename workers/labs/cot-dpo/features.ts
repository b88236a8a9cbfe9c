// The frozen half of the visual encoder: the judge's conv features of the digit images a run
// uses (its questions name them), computed once per run. A blank slot gets the features of
// an empty image.
import type { Judge } from '../../shared-parts/judge';
import { batchFloats, type ImageSet } from '../../runtime/datasets';
import { SLOTS, type Item } from './data';
import { formatToken, opToken, type Format } from './tokenizer';
import type { PromptBatch } from './model';

/** Features by image index of each split; `has` marks the rows computed (the others are never read). */
export interface FeatureBank { dim: number; train: Float32Array; test: Float32Array; blank: Float32Array; has: { train: Uint8Array; test: Uint8Array } }

function featuresOf(judge: Judge, set: ImageSet, indices: readonly number[]): { features: Float32Array; has: Uint8Array } {
  const features = new Float32Array(set.count * judge.featureDim), has = new Uint8Array(set.count);
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const chunk = 512;
  for (let start = 0; start < wanted.length; start += chunk) {
    const rows = wanted.slice(start, start + chunk);
    const f = judge.predict(batchFloats(set, rows).x, rows.length).features;
    rows.forEach((row, i) => { features.set(f.subarray(i * judge.featureDim, (i + 1) * judge.featureDim), row * judge.featureDim); has[row] = 1; });
  }
  return { features, has };
}

/** The bank for the images of these questions (a fraction of the 70,000 in a smoke or default run). */
export function buildFeatureBank(judge: Judge, train: ImageSet, test: ImageSet, uses: { train: readonly Item[]; test: readonly Item[] }): FeatureBank {
  const tr = featuresOf(judge, train, uses.train.flatMap((it) => it.imageIndex)), te = featuresOf(judge, test, uses.test.flatMap((it) => it.imageIndex));
  return { dim: judge.featureDim, train: tr.features, test: te.features, blank: judge.predict(new Float32Array(784), 1).features, has: { train: tr.has, test: te.has } };
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
      if (s < it.imageIndex.length && !bank.has[split][it.imageIndex[s]]) throw new RangeError(`${split} image ${it.imageIndex[s]} is not in the feature bank (build it with every question the run asks)`);
      const from = s < it.imageIndex.length ? src.subarray(it.imageIndex[s] * F, (it.imageIndex[s] + 1) * F) : bank.blank;
      features.set(from, (r * SLOTS + s) * F);
    }
    prompts[2 * r] = opToken(it.op);
    prompts[2 * r + 1] = formatToken(typeof formats === 'string' ? formats : formats[r]);
  });
  return { features, prompts, size: items.length };
}
