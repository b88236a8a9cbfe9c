// MM1.5's data categories, built from `mnist` digits and `fashion-mnist` items (the mm15-mixture
// lab; papers.md §5 (d)). Every item is pictures, a prompt and an answer, written as
// space-separated words so a word tokenizer reads them; numbers are written digit by digit
// ("1 7"), so arithmetic is over digit tokens. Items of a split draw their pictures from that
// split only: held-out items never show a training image.
//   general      name the clothing item                       "what item is this ?"      → "ankle boot"
//   textRich     read a strip of 4–6 digits (the OCR analogue) "read the digits ."        → "4 0 9 1 7"
//   knowledge    arithmetic on the digits read                 "what is the sum of the digits ?" → "1 7"
//   grounding    which box holds digit d / which digit is in box b, boxes as text coordinates
//   multiImage   are these two the same class                  → "yes" / "no"
//   textOnly     arithmetic on digit tokens, no picture         "3 + 4 ="                   → "7"
// A picture is a grey canvas (0 = background) whose sides are multiples of 28; `tiles` cuts it
// the way MM1.5 splits a high-resolution image: 28 × 28 tiles, then a low-resolution overview.
import type { ImageSet } from '../runtime/datasets';
import { CLASS_NAMES } from '../runtime/datasets';
import type { Rng } from '../runtime/rng';

export const MM15_CATEGORIES = ['general', 'textRich', 'knowledge', 'grounding', 'multiImage', 'textOnly'] as const;
export type Mm15Category = (typeof MM15_CATEGORIES)[number];

export interface Canvas { width: number; height: number; pixels: Uint8Array }
export interface Mm15Item { category: Mm15Category; images: Canvas[]; prompt: string; answer: string }
/** One split's pictures: digits for the text categories, clothing items for the general one. */
export interface Mm15Sources { digits: ImageSet; items: ImageSet }

export const TILE = 28;
/** The grounding canvas: a 2 × 2 grid of 28-px boxes. */
export const GRID = 2;

/** A number as digit words: 17 → "1 7", −3 → "- 3". */
export const numberWords = (n: number) => `${n < 0 ? '- ' : ''}${[...String(Math.abs(n))].join(' ')}`;

const pick = (set: ImageSet, rng: Rng, label?: number): number => {
  for (;;) { const i = rng.int(set.count); if (label === undefined || set.labels[i] === label) return i; }
};

/** Images of `set` side by side on a (28·rows) × (28·cols) canvas; `at[k]` is image k's cell (row-major), default left to right. */
export function compose(set: ImageSet, indices: readonly number[], cols: number, rows = 1, at: readonly number[] = indices.map((_, k) => k)): Canvas {
  const width = TILE * cols, height = TILE * rows, pixels = new Uint8Array(width * height);
  indices.forEach((idx, k) => {
    const r0 = Math.floor(at[k] / cols) * TILE, c0 = (at[k] % cols) * TILE;
    for (let r = 0; r < TILE; r++) pixels.set(set.pixels.subarray(idx * 784 + r * TILE, idx * 784 + r * TILE + TILE), (r0 + r) * width + c0);
  });
  return { width, height, pixels };
}

/** Box b of the grounding grid as text coordinates "( x0 y0 x1 y1 )" in pixels, as MM1.5 writes boxes. */
export function boxText(b: number): string {
  const x0 = (b % GRID) * TILE, y0 = Math.floor(b / GRID) * TILE;
  return `( ${[x0, y0, x0 + TILE, y0 + TILE].map(numberWords).join(' , ')} )`;
}

const KNOWLEDGE_OPS = [
  { words: 'what is the sum of the digits ?', of: (d: number[]) => d.reduce((a, b) => a + b, 0) },
  { words: 'what is the largest digit ?', of: (d: number[]) => Math.max(...d) },
  { words: 'what is the smallest digit ?', of: (d: number[]) => Math.min(...d) },
  { words: 'what is the first digit plus the last ?', of: (d: number[]) => d[0] + d[d.length - 1] },
] as const;

/** One item of a category, its pictures from `src`. */
export function makeItem(category: Mm15Category, src: Mm15Sources, rng: Rng): Mm15Item {
  switch (category) {
    case 'general': {
      const i = pick(src.items, rng);
      return { category, images: [compose(src.items, [i], 1)], prompt: 'what item is this ?', answer: CLASS_NAMES[src.items.name][src.items.labels[i]] };
    }
    case 'textRich': {
      const ids = Array.from({ length: 4 + rng.int(3) }, () => pick(src.digits, rng));
      return { category, images: [compose(src.digits, ids, ids.length)], prompt: 'read the digits .', answer: ids.map((i) => src.digits.labels[i]).join(' ') };
    }
    case 'knowledge': {
      const ids = Array.from({ length: 4 }, () => pick(src.digits, rng));
      const op = KNOWLEDGE_OPS[rng.int(KNOWLEDGE_OPS.length)];
      return { category, images: [compose(src.digits, ids, ids.length)], prompt: op.words, answer: numberWords(op.of(ids.map((i) => src.digits.labels[i]))) };
    }
    case 'grounding': {
      // 2–4 distinct digits in distinct boxes; ask for a digit's box or a box's digit.
      const n = 2 + rng.int(GRID * GRID - 1);
      const labels = Array.from(rng.permutation(10).subarray(0, n));
      const boxes = Array.from(rng.permutation(GRID * GRID).subarray(0, n));
      const canvas = compose(src.digits, labels.map((l) => pick(src.digits, rng, l)), GRID, GRID, boxes);
      const k = rng.int(n);
      return rng.next() < 0.5
        ? { category, images: [canvas], prompt: `which box holds the digit ${labels[k]} ?`, answer: boxText(boxes[k]) }
        : { category, images: [canvas], prompt: `which digit is in box ${boxText(boxes[k])} ?`, answer: String(labels[k]) };
    }
    case 'multiImage': {
      const set = rng.next() < 0.5 ? src.digits : src.items;
      const a = pick(set, rng), same = rng.next() < 0.5;
      const other = same ? set.labels[a] : (set.labels[a] + 1 + rng.int(9)) % 10;
      return { category, images: [compose(set, [a], 1), compose(set, [pick(set, rng, other)], 1)], prompt: 'are these two the same kind ?', answer: same ? 'yes' : 'no' };
    }
    case 'textOnly': {
      const a = rng.int(10), b = rng.int(10), plus = rng.next() < 0.5;
      return { category, images: [], prompt: `${a} ${plus ? '+' : '-'} ${b} =`, answer: numberWords(plus ? a + b : a - b) };
    }
  }
}

export const makeItems = (category: Mm15Category, n: number, src: Mm15Sources, rng: Rng): Mm15Item[] => Array.from({ length: n }, () => makeItem(category, src, rng));

/** A canvas resized to w × h by area averaging (each output pixel the mean of the input area it covers). */
export function resize(c: Canvas, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  const sx = c.width / w, sy = c.height / h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0, area = 0;
      for (let yy = Math.floor(y * sy); yy < Math.min(c.height, Math.ceil((y + 1) * sy)); yy++) {
        const wy = Math.min(yy + 1, (y + 1) * sy) - Math.max(yy, y * sy);
        for (let xx = Math.floor(x * sx); xx < Math.min(c.width, Math.ceil((x + 1) * sx)); xx++) {
          const wgt = wy * (Math.min(xx + 1, (x + 1) * sx) - Math.max(xx, x * sx));
          sum += wgt * c.pixels[yy * c.width + xx]; area += wgt;
        }
      }
      out[y * w + x] = sum / area / 255;
    }
  }
  return out;
}

/**
 * The encoder's 28 × 28 inputs for a canvas, values in [0, 1]. `high`: its tiles row by row,
 * then the overview (the whole canvas squeezed into 28 × 28), as MM1.5's image splitting; a
 * single-tile canvas is its own overview. `low`: the overview alone (a strip's digits blur).
 */
export function tiles(c: Canvas, mode: 'high' | 'low'): Float32Array[] {
  const overview = resize(c, TILE, TILE);
  const cols = c.width / TILE, rows = c.height / TILE;
  if (mode === 'low' || cols * rows === 1) return [overview];
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const t = new Float32Array(TILE * TILE);
      for (let y = 0; y < TILE; y++) for (let x = 0; x < TILE; x++) t[y * TILE + x] = c.pixels[(r * TILE + y) * c.width + q * TILE + x] / 255;
      out.push(t);
    }
  }
  out.push(overview);
  return out;
}

/**
 * Sample counts of a mixture: `total` split in proportion to `weights` by largest remainder
 * (ties go to the part named first), so the counts sum to `total` exactly. Used for the
 * pre-training mix (caption : interleaved : text) and SFT's α ratios against the general set.
 */
export function mixtureCounts<K extends string>(weights: Record<K, number>, total: number): Record<K, number> {
  const keys = Object.keys(weights) as K[];
  for (const k of keys) if (!Number.isFinite(weights[k]) || weights[k] < 0) throw new RangeError(`mixture weight "${k}" must be a finite number ≥ 0, not ${weights[k]}`);
  const sum = keys.reduce((a, k) => a + weights[k], 0);
  if (!(sum > 0)) throw new RangeError(`a mixture needs a weight above 0 (got ${keys.map((k) => `${k} ${weights[k]}`).join(', ')})`);
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`a mixture's total must be a whole number ≥ 0, not ${total}`);
  const exact = keys.map((k) => (weights[k] / sum) * total);
  const counts = exact.map(Math.floor);
  const order = keys.map((_, i) => i).sort((a, b) => (exact[b] - counts[b]) - (exact[a] - counts[a]) || a - b);
  for (let left = total - counts.reduce((a, b) => a + b, 0), j = 0; left > 0; left--, j++) counts[order[j]]++;
  return Object.fromEntries(keys.map((k, i) => [k, counts[i]])) as Record<K, number>;
}

export const PRETRAIN_KINDS = ['caption', 'interleaved', 'text'] as const;
export type PretrainKind = (typeof PRETRAIN_KINDS)[number];
/** A pre-training sequence: pictures and text in reading order. */
export interface PretrainItem { kind: PretrainKind; segments: (Canvas | string)[] }

/** A picture and its caption: a clothing item ("a sneaker") or a strip of 1–3 digits ("the digits 4 0 9"). */
function captioned(src: Mm15Sources, rng: Rng): [Canvas, string] {
  if (rng.next() < 0.5) {
    const i = pick(src.items, rng);
    return [compose(src.items, [i], 1), `a ${CLASS_NAMES[src.items.name][src.items.labels[i]]}`];
  }
  const ids = Array.from({ length: 1 + rng.int(3) }, () => pick(src.digits, rng));
  return [compose(src.digits, ids, ids.length), `the digits ${ids.map((i) => src.digits.labels[i]).join(' ')}`];
}

/**
 * One pre-training sequence of a kind: a captioned picture, two of them in a row (interleaved),
 * or a true arithmetic statement in words ("the sum of 3 and 4 is 7"): the knowledge, not the
 * SFT question format ("3 + 4 =").
 */
export function makePretrainItem(kind: PretrainKind, src: Mm15Sources, rng: Rng): PretrainItem {
  if (kind === 'caption') return { kind, segments: captioned(src, rng) };
  if (kind === 'interleaved') return { kind, segments: [...captioned(src, rng), ...captioned(src, rng)] };
  const a = rng.int(10), b = rng.int(10), plus = rng.next() < 0.5;
  return { kind, segments: [plus ? `the sum of ${a} and ${b} is ${numberWords(a + b)}` : `${a} minus ${b} is ${numberWords(a - b)}`] };
}

/** Every word the categories, captions and statements use. */
export const MM15_WORDS = [
  ...'0123456789'.split(''), '+', '-', '=', '(', ')', ',', '?', '.',
  'what', 'item', 'is', 'this', 'read', 'the', 'digits', 'sum', 'of', 'largest', 'smallest', 'first', 'plus', 'last', 'digit',
  'which', 'box', 'holds', 'in', 'are', 'these', 'two', 'same', 'kind', 'yes', 'no', 'a', 'and', 'minus',
  ...new Set(CLASS_NAMES['fashion-mnist'].flatMap((n) => n.split(' '))),
] as const;
