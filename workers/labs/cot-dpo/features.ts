// The frozen half of the visual encoder: the judge's conv features of every digit image,
// computed once per run. A blank slot gets the features of an empty image.
import type { Judge } from '../../shared-parts/judge';
import type { ImageSet } from '../../runtime/datasets';
import { SLOTS, type Item } from './data';
import { formatToken, opToken, type Format } from './tokenizer';
import type { PromptBatch } from './model';

export interface FeatureBank { dim: number; train: Float32Array; test: Float32Array; blank: Float32Array }

function featuresOf(judge: Judge, set: ImageSet): Float32Array {
  const out = new Float32Array(set.count * judge.featureDim);
  const chunk = 512;
  for (let start = 0; start < set.count; start += chunk) {
    const n = Math.min(chunk, set.count - start);
    const x = new Float32Array(n * 784);
    for (let i = 0; i < x.length; i++) x[i] = set.pixels[start * 784 + i] / 255;
    out.set(judge.predict(x, n).features, start * judge.featureDim);
  }
  return out;
}

export function buildFeatureBank(judge: Judge, train: ImageSet, test: ImageSet): FeatureBank {
  return { dim: judge.featureDim, train: featuresOf(judge, train), test: featuresOf(judge, test), blank: judge.predict(new Float32Array(784), 1).features };
}

/** Slot features of single images given as raw pixels (the panel's drawn digits); null = blank slot. */
export function featuresOfPixels(judge: Judge, slots: (Float32Array | null)[]): Float32Array {
  const out = new Float32Array(SLOTS * judge.featureDim);
  const blank = judge.predict(new Float32Array(784), 1).features;
  for (let s = 0; s < SLOTS; s++) out.set(slots[s] ? judge.predict(slots[s]!, 1).features : blank, s * judge.featureDim);
  return out;
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
