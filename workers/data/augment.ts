// Data augmentation for 28×28 image batches, shared by the trainers.
import { IMAGE_SIZE } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';

/** Shifts each 28x28 image by a random (dx, dy) in [-max, max], filling with background. */
export function randomShift(x: Float32Array, n: number, max: number, rng: Rng): Float32Array {
  if (max === 0) return x;
  const S = IMAGE_SIZE, out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    const dx = rng.int(2 * max + 1) - max, dy = rng.int(2 * max + 1) - max;
    const base = i * S * S;
    for (let y = 0; y < S; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= S) continue;
      for (let xx = 0; xx < S; xx++) {
        const sx = xx - dx;
        if (sx >= 0 && sx < S) out[base + y * S + xx] = x[base + sy * S + sx];
      }
    }
  }
  return out;
}
