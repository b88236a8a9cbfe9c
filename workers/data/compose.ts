// Pictures made of dataset images: a horizontal strip of 28×28 digits or items.
import type { ImageSet } from '../runtime/datasets';

/** A 28 × (28·slots) grey strip: image k of `indices` in columns 28k..28k+27; slots beyond them blank. */
export function composeStrip(indices: readonly number[], set: ImageSet, slots = indices.length): Uint8Array {
  if (indices.length > slots) throw new RangeError(`${indices.length} images do not fit in ${slots} slots`);
  const out = new Uint8Array(28 * 28 * slots);
  indices.forEach((idx, slot) => {
    for (let r = 0; r < 28; r++) out.set(set.pixels.subarray(idx * 784 + r * 28, idx * 784 + r * 28 + 28), r * 28 * slots + slot * 28);
  });
  return out;
}
