// Batches that walk a shuffled order of the set and reshuffle when it runs out (epochs
// without replacement), from the trainer's own seeded stream.
import type { Rng } from '../runtime/rng';

export function shuffledBatches(rng: Rng, count: number): (size: number) => Int32Array {
  let order: Int32Array = new Int32Array(0), at = 0;
  return (size) => {
    const idx = new Int32Array(size);
    for (let j = 0; j < size; j++) { if (at >= order.length) { order = rng.permutation(count); at = 0; } idx[j] = order[at++]; }
    return idx;
  };
}
