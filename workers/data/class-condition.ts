// Images as rectified-flow data (pixels mapped to [-1, 1]) and the label as condition
// tokens: [kind, class name] ("digit seven", "garment sneaker"); the null label is
// [null, null] (classifier-free guidance drops to it). For class-conditional generators.
import type { DatasetName, ImageSet } from '../runtime/datasets';
import { PIXELS } from '../runtime/datasets';

export const CONTEXT_LEN = 2;
export const NULL_TOKEN = 0;
const KIND_TOKEN: Record<DatasetName, number> = { mnist: 1, 'fashion-mnist': 1 };
/** null, kind, then the ten class names. */
export const CONTEXT_VOCAB = 12;
export const classToken = (label: number) => 2 + label;

/** Condition tokens [B, 2] for labels (null where `label` is -1). */
export function contextTokens(dataset: DatasetName, labels: ArrayLike<number>): Int32Array {
  const out = new Int32Array(labels.length * CONTEXT_LEN);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) continue; // stays [null, null]
    out[i * CONTEXT_LEN] = KIND_TOKEN[dataset];
    out[i * CONTEXT_LEN + 1] = classToken(labels[i]);
  }
  return out;
}

/** Images at `indices` as floats in [-1, 1] and their labels. */
export function flowBatch(set: ImageSet, indices: ArrayLike<number>): { x1: Float32Array; labels: Int32Array } {
  const x1 = new Float32Array(indices.length * PIXELS), labels = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    for (let p = 0; p < PIXELS; p++) x1[j * PIXELS + p] = set.pixels[i * PIXELS + p] / 127.5 - 1;
    labels[j] = set.labels[i];
  }
  return { x1, labels };
}
