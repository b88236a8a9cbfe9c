// The shared character tokenizer and digit strips (workers/data), as the language and
// vision-language labs use them.
import { describe, expect, it } from 'vitest';
import { charTokenizer } from '../workers/data/char-tokenizer';
import { composeStrip } from '../workers/data/compose';
import type { ImageSet } from '../workers/runtime/datasets';

describe('character tokenizer', () => {
  const t = charTokenizer(['<q>'], 'ab a');
  it('puts <pad>, <eos>, the specials, then each character once', () => {
    expect(t.vocab).toEqual(['<pad>', '<eos>', '<q>', 'a', 'b', ' ']);
    expect([t.pad, t.eos, t.id('<q>')]).toEqual([0, 1, 2]);
  });
  it('round-trips text, stops at <eos>, prints specials by name, refuses an unknown character by name', () => {
    expect(t.encode('ab ba')).toEqual([3, 4, 5, 4, 3]);
    expect(t.decode([2, 3, 4, 1, 3])).toBe('<q>ab');
    expect(t.untilEos([3, 4, 1, 5])).toEqual([3, 4]);
    expect(t.untilEos([3, 4])).toEqual([3, 4]);
    expect(() => t.encode('abc')).toThrow('character "c" is not in the tokenizer\'s alphabet');
  });
  it('cuts after n space-separated words', () => {
    expect(t.decode(t.truncateWords(t.encode('a b ab ba'), 2))).toBe('a b');
    expect(t.decode(t.truncateWords(t.encode('a b'), 5))).toBe('a b');
  });
});

describe('digit strips', () => {
  it('places image k in columns 28k..28k+27 and leaves unused slots blank', () => {
    const pixels = new Uint8Array(3 * 784).map((_, i) => 1 + Math.floor(i / 784)); // image i is all (i + 1)
    const set = { pixels, count: 3 } as unknown as ImageSet;
    const strip = composeStrip([2, 0], set, 3);
    expect(strip.length).toBe(28 * 84);
    for (const r of [0, 27]) {
      expect(strip[r * 84 + 0]).toBe(3);
      expect(strip[r * 84 + 28]).toBe(1);
      expect(strip[r * 84 + 56]).toBe(0);
    }
    expect(() => composeStrip([0, 1, 2], set, 2)).toThrow(/3 images do not fit in 2 slots/);
  });
});
