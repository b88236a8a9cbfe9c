// LongPiBench's generator, strictly: over many seeds, every level of both kinds and several
// context sizes, exactly n relevant pieces, their measured mean location or spacing within
// one unit of the formula's feasible target, and the answer key right; the positions of the
// paper's L = 160, n = 10, N = 16 by hand; the retrieval score by hand.
import { describe, expect, it } from 'vitest';
import { Rng } from '../workers/runtime/rng';
import {
  absoluteTarget, instanceProblem, instancesJsonl, scoreTimeline, meanLocation, meanSpacing, piecePositions, relativeTarget, scoreRetrieval, tableInstance, PLACEMENTS, type LevelKind,
} from '../workers/data/longpi/generator';
import { decodeAnswer, encodeTable, parseTextAnswer, parseTimelineAnswer, tableText, tableTokens, TOKEN } from '../workers/data/longpi/format';

const paper = { L: 160, n: 10, N: 16 };

describe('longpibench generator', () => {
  it('places the pieces where the formulas say, by hand at L = 160, n = 10, N = 16', () => {
    const rng = new Rng(1);
    expect(piecePositions('absolute', 1, paper, rng)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(piecePositions('absolute', 16, paper, rng)).toEqual([150, 151, 152, 153, 154, 155, 156, 157, 158, 159]);
    // (8 − 1)/15 · 160 = 74.67: start round(74.67 − 4.5) = 70, mean location 74.5.
    expect(piecePositions('absolute', 8, paper, rng)[0]).toBe(70);
    // Relative level 16: step 160/9 = 17.78 clamped to 159/9 = 17.67; offsets round half up; only start 0 fits.
    expect(piecePositions('relative', 16, paper, rng)).toEqual([0, 18, 35, 53, 71, 88, 106, 124, 141, 159]);
    // Level 2: step 160/9 · 1/15 = 1.185.
    const two = piecePositions('relative', 2, paper, rng);
    expect(two.map((p) => p - two[0])).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 11]);
    const one = piecePositions('relative', 1, paper, rng);
    expect(one.map((p) => p - one[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => piecePositions('relative', 17, paper, rng)).toThrow(/level 17 is not in 1\.\.16/);
  });

  it('every instance has exactly n relevant rows within one unit of its target, and the right answer key (many seeds, levels and sizes)', () => {
    for (const shape of [paper, { L: 97, n: 10, N: 16 }, { L: 480, n: 10, N: 16 }, { L: 40, n: 4, N: 8 }]) {
      for (let seed = 1; seed <= 12; seed++) {
        const rng = new Rng(seed);
        for (const kind of ['absolute', 'relative'] as LevelKind[]) for (let level = 1; level <= shape.N; level++) {
          const x = tableInstance(kind, level, PLACEMENTS[level % 3], shape, { keys: 32, values: 100 }, rng);
          expect(x.rows).toHaveLength(shape.L);
          const relevant = x.rows.flatMap((r, i) => (r.key === x.key ? [i] : []));
          expect(relevant).toEqual(x.positions);
          expect(relevant).toHaveLength(shape.n);
          expect(x.answer).toEqual(relevant.map((i) => x.rows[i].value));
          expect(new Set(x.answer).size).toBe(shape.n);
          expect(instanceProblem(x, shape)).toBeNull();
          if (kind === 'absolute') {
            expect(Math.abs(meanLocation(x.positions) - absoluteTarget(level, shape))).toBeLessThanOrEqual(1);
            expect(meanSpacing(x.positions)).toBe(1);
          } else {
            expect(Math.abs(meanSpacing(x.positions) - relativeTarget(level, shape))).toBeLessThanOrEqual(1);
            expect(x.positions[0]).toBeGreaterThanOrEqual(0);
            expect(x.positions[shape.n - 1]).toBeLessThan(shape.L);
          }
        }
      }
    }
  });

  it('instanceProblem (the run\'s generatorExact check) names each kind of broken instance; random positions are n distinct units', () => {
    const rng = new Rng(21), vocab = { keys: 16, values: 64 };
    const x = tableInstance('absolute', 8, 'both', paper, vocab, rng);
    const extra = structuredClone(x); extra.rows[x.positions[0] === 0 ? 159 : 0] = { key: x.key, value: 1 };
    expect(instanceProblem(extra, paper)).toMatch(/11 relevant rows/);
    const moved = structuredClone(x); moved.positions = x.positions.map((p) => p + 2);
    expect(instanceProblem(moved, paper)).toMatch(/recorded at/);
    const swapped = structuredClone(x); swapped.answer = [...x.answer].reverse();
    expect(instanceProblem(swapped, paper)).toMatch(/answer key/);
    const far = structuredClone(x); far.level = 10;
    expect(instanceProblem(far, paper)).toMatch(/mean location .* more than one unit/);
    const rel = tableInstance('relative', 16, 'head', paper, vocab, rng), wrongLevel = { ...rel, level: 3 };
    expect(instanceProblem(rel, paper)).toBeNull();
    expect(instanceProblem(wrongLevel, paper)).toMatch(/mean spacing/);
    for (let i = 0; i < 200; i++) {
      const r = tableInstance('random', 0, 'both', paper, vocab, rng);
      expect(new Set(r.positions).size).toBe(10);
      expect(instanceProblem(r, paper)).toBeNull();
    }
  });

  it('timeline reordering: the key is the relevant years ascending, scored by positions right, 0 when malformed; read from text', () => {
    const vocab = { keys: 16, values: 64 }, rng = new Rng(8);
    for (let i = 0; i < 50; i++) {
      const x = tableInstance('relative', 1 + (i % 16), 'tail', paper, vocab, rng, 'timeline');
      expect(instanceProblem(x, paper)).toBeNull();
      expect(x.answer).toEqual(x.positions.map((p) => x.rows[p].value).sort((a, b) => a - b));
      expect(instanceProblem({ ...x, answer: x.positions.map((p) => x.rows[p].value) }, paper) === null).toBe(x.positions.map((p) => x.rows[p].value).join() === x.answer.join());
    }
    const x = tableInstance('absolute', 3, 'both', paper, vocab, rng, 'timeline');
    expect(tableText(x)).toContain(`from the earliest to the latest`);
    expect(tableText(x).split('\n').filter((l) => /^event of K\d\d: 17\d\d$/.test(l))).toHaveLength(160);
    const years = x.answer.map((v) => String(1700 + v));
    expect(parseTimelineAnswer(years.join(', '), vocab)).toEqual(x.answer);
    expect(scoreTimeline(x.answer, x.answer).recall).toBe(1);
    const swapped = [x.answer[1], x.answer[0], ...x.answer.slice(2)];
    expect(scoreTimeline(swapped, x.answer).recall).toBeCloseTo(0.8);
    expect(scoreTimeline(x.answer.slice(1), x.answer)).toMatchObject({ recall: 0, malformed: true });
    expect(scoreTimeline(parseTimelineAnswer(`${years.slice(0, 9).join(', ')}, 1999`, vocab), x.answer)).toMatchObject({ recall: 0, malformed: true });
  });

  it('draws the relative start uniformly over every position where the pieces fit', () => {
    const rng = new Rng(5), starts = new Map<number, number>();
    for (let i = 0; i < 6000; i++) { const p = piecePositions('relative', 2, paper, rng); starts.set(p[0], (starts.get(p[0]) ?? 0) + 1); }
    // Span 11: starts 0..148, 149 of them, about 40 draws each.
    expect(Math.min(...starts.keys())).toBe(0);
    expect(Math.max(...starts.keys())).toBe(148);
    expect(starts.size).toBe(149);
    for (const n of starts.values()) expect(n).toBeGreaterThan(10);
  });

  it('scores recall, precision and F1 by hand; an answer longer than 1.5× the key is malformed', () => {
    const key = [4, 8, 15, 16, 23, 42, 7, 9, 11, 13];
    expect(scoreRetrieval(key, key)).toEqual({ recall: 1, precision: 1, f1: 1, malformed: false });
    const half = scoreRetrieval([4, 8, 15, 16, 23, 99, 98], key);
    expect(half.recall).toBeCloseTo(0.5);
    expect(half.precision).toBeCloseTo(5 / 7);
    expect(half.f1).toBeCloseTo((2 * 0.5 * (5 / 7)) / (0.5 + 5 / 7));
    expect(scoreRetrieval([4, 4, 4], key).recall).toBeCloseTo(0.1); // a repeat counts once
    expect(scoreRetrieval([...key, 1, 2, 3, 5, 6], key).malformed).toBe(false); // 15 = 1.5 × 10
    expect(scoreRetrieval([...key, 1, 2, 3, 5, 6, 10], key)).toEqual({ recall: 0, precision: 0, f1: 0, malformed: true });
    expect(scoreRetrieval([], key)).toEqual({ recall: 0, precision: 0, f1: 0, malformed: false });
  });

  it('exports instances as JSON Lines that read back whole', () => {
    const rng = new Rng(3);
    const xs = [tableInstance('absolute', 3, 'head', paper, { keys: 32, values: 100 }, rng), tableInstance('relative', 9, 'both', paper, { keys: 32, values: 100 }, rng)];
    const lines = instancesJsonl(xs).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l))).toEqual(xs);
  });

  it('reads an instance as tokens (one a row, the query where its placement says) and as text, and reads answers back', () => {
    const vocab = { keys: 32, values: 100 }, t = tableTokens(vocab), rng = new Rng(9);
    const lengths = PLACEMENTS.map((placement) => {
      const x = tableInstance('relative', 5, placement, paper, vocab, rng);
      const { prompt, answer } = encodeTable(x, t);
      const find = prompt.flatMap((tok, i) => (tok === TOKEN.find ? [i] : []));
      expect(find).toEqual({ head: [1], tail: [prompt.length - 3], both: [1, prompt.length - 3] }[placement]);
      expect(prompt[find[0] + 1]).toBe(t.keyToken(x.key));
      expect(prompt.at(-1)).toBe(TOKEN['=>']);
      expect(decodeAnswer(answer, t, x.key)).toEqual(x.answer);
      expect(prompt.filter((tok) => t.rowOf(tok)).map((tok) => t.rowOf(tok))).toEqual(x.rows);
      expect(Math.max(...prompt, ...answer)).toBeLessThan(t.vocab);
      const text = tableText(x);
      expect(text.split('\n').filter((l) => /^K\d\d: \d+$/.test(l))).toHaveLength(paper.L);
      expect(text.split('Question:').length - 1).toBe(placement === 'both' ? 2 : 1);
      expect(parseTextAnswer(x.answer.map((v) => `K${String(x.key).padStart(2, '0')}: ${100 + v}`).join('\n'), vocab, x.key)).toEqual(x.answer);
      return prompt.length;
    });
    expect(lengths).toEqual([1 + 2 + paper.L + 1, 1 + paper.L + 2 + 1, 1 + 2 + paper.L + 2 + 1]);
      // Each row is its own token, and it names its key and value.
    // A stray token, another key's row or a number out of range costs precision: it is kept, as NaN.
    expect(decodeAnswer([t.rowToken(3, 4), TOKEN.find, t.rowToken(5, 6), t.rowToken(3, 7), TOKEN['<eos>'], t.rowToken(3, 9)], t, 3)).toEqual([4, Number.NaN, Number.NaN, 7]);
    expect(parseTextAnswer('K03: 104\nK05: 106\nK3: 107\nK03: 1000', vocab, 3)).toEqual([4, Number.NaN, 7, Number.NaN]);
    expect(parseTextAnswer('104, 7, 1000 and 199', vocab, 3)).toEqual([4, Number.NaN, Number.NaN, 99]);
    expect(scoreRetrieval([4, Number.NaN, 7], [4, 7]).precision).toBeCloseTo(2 / 3);
  });
});
