// MM1.5's data categories (workers/data/mm15.ts): every answer is what its pictures show, read
// back from the canvas; tiles and the overview are the canvas cut and averaged exactly.
import { describe, expect, it } from 'vitest';
import { MM15_CATEGORIES, MM15_WORDS, boxText, compose, makeItems, makePretrainItem, mixtureCounts, numberWords, resize, tiles, type Canvas, type Mm15Item } from '../workers/data/mm15';
import { CLASS_NAMES, loadDataset, type ImageSet } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';

/** A set whose image i is flat grey (label + 1) · 20: a canvas cell tells which label it shows. */
function flatSet(name: 'mnist' | 'fashion-mnist', count = 200): ImageSet {
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10);
  const pixels = new Uint8Array(count * 784);
  labels.forEach((l, i) => pixels.fill((l + 1) * 20, i * 784, (i + 1) * 784));
  return { name, pixels, labels, count };
}
const src = { digits: flatSet('mnist'), items: flatSet('fashion-mnist') };
/** The label shown in cell (row, col) of a canvas, or −1 for a blank cell. */
const cell = (c: Canvas, row: number, col: number) => c.pixels[(row * 28 + 14) * c.width + col * 28 + 14] / 20 - 1;

describe('mm15 data categories', () => {
  it('writes numbers digit by digit and boxes as text coordinates', () => {
    expect(numberWords(17)).toBe('1 7');
    expect(numberWords(-3)).toBe('- 3');
    expect(numberWords(0)).toBe('0');
    expect(boxText(0)).toBe('( 0 , 0 , 2 8 , 2 8 )');
    expect(boxText(3)).toBe('( 2 8 , 2 8 , 5 6 , 5 6 )');
  });

  it('answers what the pictures show, in every category', () => {
    const rng = new Rng(11);
    const read = (it: Mm15Item) => Array.from({ length: it.images[0].width / 28 }, (_, k) => cell(it.images[0], 0, k));
    for (const it of makeItems('general', 50, src, rng)) expect(it.answer).toBe(CLASS_NAMES['fashion-mnist'][cell(it.images[0], 0, 0)]);
    for (const it of makeItems('textRich', 50, src, rng)) {
      expect(it.images[0].width / 28).toBeGreaterThanOrEqual(4);
      expect(it.images[0].width / 28).toBeLessThanOrEqual(6);
      expect(it.answer).toBe(read(it).join(' '));
    }
    for (const it of makeItems('knowledge', 80, src, rng)) {
      const d = read(it);
      const want = /sum/.test(it.prompt) ? d.reduce((a, b) => a + b, 0) : /largest/.test(it.prompt) ? Math.max(...d) : /smallest/.test(it.prompt) ? Math.min(...d) : d[0] + d[3];
      expect(it.answer, it.prompt).toBe(numberWords(want));
    }
    const asked = { box: 0, digit: 0 };
    for (const it of makeItems('grounding', 80, src, rng)) {
      const c = it.images[0];
      expect([c.width, c.height]).toEqual([56, 56]);
      const shown = [0, 1, 2, 3].map((b) => cell(c, Math.floor(b / 2), b % 2));
      expect(shown.filter((l) => l >= 0).length).toBeGreaterThanOrEqual(2);
      const digit = /which box holds the digit (\d)/.exec(it.prompt);
      if (digit) { asked.box++; expect(it.answer).toBe(boxText(shown.indexOf(Number(digit[1])))); }
      else { asked.digit++; const b = [0, 1, 2, 3].find((k) => it.prompt.includes(boxText(k)))!; expect(it.answer).toBe(String(shown[b])); }
    }
    expect(Math.min(asked.box, asked.digit)).toBeGreaterThan(20);
    for (const it of makeItems('multiImage', 80, src, rng)) expect(it.answer).toBe(cell(it.images[0], 0, 0) === cell(it.images[1], 0, 0) ? 'yes' : 'no');
    for (const it of makeItems('textOnly', 80, src, rng)) {
      expect(it.images).toHaveLength(0);
      const [a, op, b] = it.prompt.split(' ');
      expect(it.answer).toBe(numberWords(op === '+' ? Number(a) + Number(b) : Number(a) - Number(b)));
    }
  });

  it('uses only words of the vocabulary', () => {
    const vocab = new Set<string>(MM15_WORDS);
    const rng = new Rng(2);
    const words = [...MM15_CATEGORIES.flatMap((c) => makeItems(c, 60, src, rng).flatMap((i) => [...i.prompt.split(' '), ...i.answer.split(' ')])),
      ...(['caption', 'interleaved', 'text'] as const).flatMap((k) => Array.from({ length: 30 }, () => makePretrainItem(k, src, rng).segments.filter((x): x is string => typeof x === 'string').flatMap((x) => x.split(' '))).flat())];
    expect(words.filter((w) => !vocab.has(w))).toEqual([]);
  });

  it('is the same for the same seed, and other for another', () => {
    const a = makeItems('grounding', 20, src, new Rng(3)), b = makeItems('grounding', 20, src, new Rng(3)), c = makeItems('grounding', 20, src, new Rng(4));
    expect(b).toEqual(a);
    expect(c.map((x) => x.prompt)).not.toEqual(a.map((x) => x.prompt));
  });

  it('cuts a canvas into 28 × 28 tiles and an overview that keeps its mean', () => {
    const strip = compose(src.digits, [0, 1, 2, 3, 4], 5);
    const high = tiles(strip, 'high'), low = tiles(strip, 'low');
    expect(high).toHaveLength(6);
    expect(low).toHaveLength(1);
    for (let k = 0; k < 5; k++) expect(high[k][400]).toBeCloseTo(((src.digits.labels[k] + 1) * 20) / 255, 6);
    expect(high[5]).toEqual(low[0]);
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(low[0])).toBeCloseTo(mean(strip.pixels) / 255, 6);
    // A 28-px item is its own overview; a 2 × 2 canvas gives 4 tiles and the overview.
    expect(tiles(compose(src.items, [7], 1), 'high')).toHaveLength(1);
    expect(tiles(compose(src.digits, [1, 2], 2, 2, [0, 3]), 'high')).toHaveLength(5);
    // Area averaging by hand: a 56 × 28 canvas, left half white, squeezed to 28 × 28.
    const half: Canvas = { width: 56, height: 28, pixels: new Uint8Array(56 * 28) };
    for (let r = 0; r < 28; r++) half.pixels.fill(255, r * 56, r * 56 + 28);
    const r = resize(half, 28, 28);
    expect([r[0], r[13], r[14], r[27]]).toEqual([1, 1, 0, 0]);
    // A non-integer ratio (3 → 2): each output pixel weighs the input pixels by the share it covers.
    const odd = resize({ width: 3, height: 1, pixels: Uint8Array.from([0, 255, 0]) }, 2, 1);
    expect(odd[0]).toBeCloseTo(1 / 3, 6);
    expect(odd[1]).toBeCloseTo(1 / 3, 6);
  });

  it('builds 1,000 held-out items a category from the real test split, answers varied, multi-image balanced', () => {
    const mnist = loadDataset('mnist'), fashion = loadDataset('fashion-mnist');
    const test = { digits: mnist.test, items: fashion.test };
    for (const category of MM15_CATEGORIES) {
      const items = makeItems(category, 1000, test, new Rng(1).fork(category));
      expect(items).toHaveLength(1000);
      expect(new Set(items.map((i) => i.answer)).size, category).toBeGreaterThan(1);
      if (category === 'multiImage') {
        const yes = items.filter((i) => i.answer === 'yes').length / 1000;
        expect(yes).toBeGreaterThan(0.44);
        expect(yes).toBeLessThan(0.56);
      }
    }
  });
});

describe('mm15 mixtures and pre-training sequences', () => {
  it('splits a total by largest remainder, exactly, and names a bad weight', () => {
    expect(mixtureCounts({ caption: 50, interleaved: 10, text: 40 }, 7)).toEqual({ caption: 3, interleaved: 1, text: 3 });
    expect(mixtureCounts({ caption: 50, interleaved: 10, text: 40 }, 1000)).toEqual({ caption: 500, interleaved: 100, text: 400 });
    expect(mixtureCounts({ general: 1, grounding: 2 }, 3000)).toEqual({ general: 1000, grounding: 2000 });
    expect(mixtureCounts({ a: 1, b: 1, c: 1 }, 4)).toEqual({ a: 2, b: 1, c: 1 });
    expect(mixtureCounts({ general: 1, grounding: 0 }, 9)).toEqual({ general: 9, grounding: 0 });
    expect(() => mixtureCounts({ a: -1, b: 2 }, 5)).toThrow(/weight "a" must be a finite number ≥ 0/);
    expect(() => mixtureCounts({ a: 0, b: 0 }, 5)).toThrow(/needs a weight above 0/);
    expect(() => mixtureCounts({ a: 1 }, 2.5)).toThrow(/whole number/);
  });

  it('captions say what the picture shows; interleaved sequences alternate pictures and captions; text is true arithmetic in words', () => {
    const rng = new Rng(5);
    for (let n = 0; n < 60; n++) {
      for (const kind of ['caption', 'interleaved'] as const) {
        const it = makePretrainItem(kind, src, rng);
        expect(it.segments).toHaveLength(kind === 'caption' ? 2 : 4);
        for (let s = 0; s < it.segments.length; s += 2) {
          const c = it.segments[s] as Canvas, text = it.segments[s + 1] as string;
          const shown = Array.from({ length: c.width / 28 }, (_, k) => cell(c, 0, k));
          expect(text).toBe(text.startsWith('a ') ? `a ${CLASS_NAMES['fashion-mnist'][shown[0]]}` : `the digits ${shown.join(' ')}`);
        }
      }
      const t = makePretrainItem('text', src, rng).segments[0] as string;
      const sum = /^the sum of (\d) and (\d) is (.+)$/.exec(t), minus = /^(\d) minus (\d) is (.+)$/.exec(t);
      expect(sum ?? minus, t).toBeTruthy();
      if (sum) expect(sum[3]).toBe(numberWords(Number(sum[1]) + Number(sum[2])));
      else expect(minus![3]).toBe(numberWords(Number(minus![1]) - Number(minus![2])));
    }
  });
});
