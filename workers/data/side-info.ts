// Side information Y about an image, known to a codec's encoder and decoder and not counted
// in its rate: the class label, or a coarse 7 × 7 mask of where the digit's ink is. Each
// kind has a map form (Y at the codec's latent grid, [7, 7, K] per image, upsampled by the
// codec to each layer's scale) and a vector form (what a critic reads beside the image).

export const SIDE_KINDS = ['class', 'mask'] as const;
export type SideKind = (typeof SIDE_KINDS)[number];

/** A 4 × 4 block is ink when its mean intensity reaches this (MNIST strokes are ~1, the background 0). */
export const MASK_INK = 0.3;
const CLASSES = 10;

/** Channels of Y's map: a one-hot class over 10, or the mask's one. */
export const sideChannels = (kind: SideKind) => (kind === 'class' ? CLASSES : 1);
/** Length of Y's vector form. */
export const sideVectorSize = (kind: SideKind) => (kind === 'class' ? CLASSES : 49);

/** The coarse mask of one image (784 values in [0, 1], row-major 28 × 28): 49 values in {0, 1}, row-major 7 × 7. */
export function coarseMask(pixels: ArrayLike<number>, offset = 0): Float32Array {
  const out = new Float32Array(49);
  for (let r = 0; r < 7; r++) for (let c = 0; c < 7; c++) {
    let s = 0;
    for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) s += pixels[offset + (4 * r + dy) * 28 + 4 * c + dx];
    out[r * 7 + c] = s / 16 >= MASK_INK ? 1 : 0;
  }
  return out;
}

/** Intersection over union of two masks (1 when both are empty). */
export function maskIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0, union = 0;
  for (let i = 0; i < a.length; i++) { const x = a[i] > 0.5, y = b[i] > 0.5; if (x && y) inter++; if (x || y) union++; }
  return union ? inter / union : 1;
}

export interface SideInfo { kind: SideKind; count: number; map: Float32Array; vector: Float32Array }

/** Y of `count` images from their labels (class) or pixels (mask). */
export function sideInfo(kind: SideKind, labels: ArrayLike<number>, pixels: ArrayLike<number>, count: number): SideInfo {
  const K = sideChannels(kind), V = sideVectorSize(kind);
  const map = new Float32Array(count * 49 * K), vector = new Float32Array(count * V);
  for (let i = 0; i < count; i++) {
    if (kind === 'class') {
      const y = labels[i];
      if (!(Number.isInteger(y) && y >= 0 && y < CLASSES)) throw new RangeError(`class ${y} of image ${i} is not one of 0–9`);
      vector[i * V + y] = 1;
      for (let p = 0; p < 49; p++) map[(i * 49 + p) * K + y] = 1;
    } else {
      const m = coarseMask(pixels, i * 784);
      vector.set(m, i * V);
      map.set(m, i * 49);
    }
  }
  return { kind, count, map, vector };
}

/** Y given directly: a class per image, or 49 mask values per image (what a user picks or paints). */
export function sideFromValues(kind: SideKind, values: readonly number[] | readonly (readonly number[])[]): SideInfo {
  if (kind === 'class') {
    const labels = values as readonly number[];
    return sideInfo('class', labels, new Float32Array(0), labels.length);
  }
  const masks = values as readonly (readonly number[])[];
  const map = new Float32Array(masks.length * 49);
  masks.forEach((m, i) => {
    if (m.length !== 49) throw new RangeError(`mask ${i} has ${m.length} cells, not 7 × 7 = 49`);
    m.forEach((v, j) => { map[i * 49 + j] = v > 0.5 ? 1 : 0; });
  });
  return { kind, count: masks.length, map, vector: map.slice() };
}
