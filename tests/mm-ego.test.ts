// mm-ego's mechanism: the simulated world keeps its rules; narrations round-trip through
// Ego4D's layout and parse back; the question writer's answers agree with the world's
// ground truth, its sets are balanced and its distractors valid; a malformed narration
// file is named; MDA, frame selection, recall and the glimpse BCE equal hand-computed
// values; a left-padded batch answers each question as it would alone.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../workers/runtime/backend';
import { Rng } from '../workers/runtime/rng';
import { simulateClip, EGO_CONTAINERS, EVENT_FRAMES, type EgoClip } from '../workers/data/ego/world';
import { narrate, parseEgo4dNarrations, parseNarration, toEgo4dJson, type Narration } from '../workers/data/ego/narrations';
import { addOptions, answerMarginals, balanceAnswers, draftQuestions, COUNT_VALUES, QA_KINDS } from '../workers/data/ego/qa-writer';
import { debiasedAccuracy } from '../workers/runtime/debiased';
import { keyFrameRecall, selectFrames, uniformFrames } from '../workers/labs/mm-ego/evaluate';
import { glimpseBce, blindRow, fallbackRow } from '../workers/labs/mm-ego/train';
import { answerLogits, createEgoModel, disposeEgoModel, WORDS } from '../workers/labs/mm-ego/model';
import type { EgoClipRecord } from '../workers/labs/mm-ego/data';

/** Where each object rests after the last frame, replayed from the events alone. */
function finalPlaces(clip: EgoClip): Map<string, string> {
  const at = new Map<string, string>();
  for (const e of clip.events) if (e.action === 'put') at.set(e.object!, e.place); else if (e.action === 'pick') at.delete(e.object!);
  return at;
}

describe('mm-ego world and narrations', () => {
  it('a clip has exactly N frames and obeys its rules: one object in hand, doors open before anything goes in or out', () => {
    const rng = new Rng(21);
    for (const N of [16, 32, 64, 100]) {
      for (let c = 0; c < 40; c++) {
        const clip = simulateClip(N, rng);
        expect(clip.frames).toHaveLength(N);
        for (const e of clip.events) {
          const before = clip.frames[e.start], after = clip.frames[e.start + EVENT_FRAMES - 1];
          expect(before.action).toBe(e.action);
          if (e.action === 'pick') { expect(before.held).toBeNull(); expect(after.held).toBe(e.object); expect(before.visible).toContain(e.object); }
          if (e.action === 'put') { expect(before.held).toBe(e.object); expect(after.held).toBeNull(); expect(after.visible[0]).toBe(e.object); }
          if ((e.action === 'pick' || e.action === 'put') && EGO_CONTAINERS.includes(e.place)) expect(before.open).toBe(true);
          if (e.action === 'open') { expect(before.open).toBe(false); expect(after.open).toBe(true); }
        }
      }
    }
  });

  it('narrations round-trip through Ego4D\'s JSON layout and parse back into the events', () => {
    const clip = simulateClip(64, new Rng(5));
    const ns = narrate(clip);
    const back = parseEgo4dNarrations(JSON.stringify(toEgo4dJson({ v1: ns })));
    expect(back).toHaveLength(1);
    expect(back[0].narrations.map((n) => [n.text, n.frame])).toEqual(ns.map((n) => [n.text, n.frame]));
    ns.forEach((n, i) => {
      const a = parseNarration(n.text)!;
      const e = clip.events[i];
      expect(a.verb).toBe(e.action);
      if (e.object) expect(a.object).toBe(e.object);
      expect(a.place).toBe(e.place);
    });
    expect(parseNarration('#C C places the mug onto the table')).toEqual({ verb: 'put', object: 'mug', place: 'table', prep: 'on' });
    expect(parseNarration('#c c takes a knife from the drawer.')).toEqual({ verb: 'pick', object: 'knife', place: 'drawer', prep: null });
    expect(parseNarration('#O man picks up the bag')).toBeNull();
    expect(parseNarration('#C C looks around')).toBeNull();
  });

  it('a malformed narration file gets a message naming what is wrong', () => {
    expect(() => parseEgo4dNarrations('{"a": 1,')).toThrow(/not JSON/);
    expect(() => parseEgo4dNarrations('[]')).toThrow(/not Ego4D's narration layout/);
    expect(() => parseEgo4dNarrations('{}')).toThrow(/holds no video/);
    expect(() => parseEgo4dNarrations('{"v": {"narration_pass_1": {}}}')).toThrow(/v\.narration_pass_1\.narrations: /);
    expect(() => parseEgo4dNarrations('{"v": {"narration_pass_1": {"narrations": [{"timestamp_sec": -1, "narration_text": "#C C x"}]}}}')).toThrow(/narrations\[0\]\.timestamp_sec/);
    expect(() => parseEgo4dNarrations('{"v": {"narration_pass_1": {"narrations": [{"timestamp_sec": 1}]}}}')).toThrow(/narrations\[0\]\.narration_text/);
    expect(() => parseEgo4dNarrations(' '.repeat(5 * 1024 * 1024))).toThrow(/at most 4 MB is read/);
    // Sentences out of order are sorted; a sentence covers the frames up to the next one (at most 2).
    const [v] = parseEgo4dNarrations('{"v": {"narration_pass_1": {"narrations": [{"timestamp_sec": 9, "narration_text": "b"}, {"timestamp_sec": 2.4, "narration_text": "a"}, {"timestamp_sec": 3, "narration_text": "c"}]}}}');
    expect(v.narrations.map((n) => [n.text, n.frame, n.frames])).toEqual([['a', 2, 1], ['c', 3, 2], ['b', 9, 2]]);
  });
});

describe('mm-ego question writer', () => {
  const ns = (texts: string[]): Narration[] => texts.map((text, i) => ({ text, timestampSec: i * 3, frame: i * 3, frames: 2 }));

  it('writes each kind from hand-made narrations, citing the sentences that answer it', () => {
    const drafts = draftQuestions(ns([
      '#C C walks to the drawer', '#C C opens the drawer', '#C C picks up the key from the drawer', '#C C walks to the desk',
      '#C C puts the key on the desk', '#C C picks up the cup from the desk', '#C C walks to the drawer', '#C C closes the drawer', '#C C opens the drawer',
      '#C C puts the cup in the drawer',
    ]), 40);
    const by = (kind: string, subject: string) => drafts.find((d) => d.kind === kind && d.subject === subject);
    expect(by('what-put', 'drawer')).toMatchObject({ question: 'what did i put in the drawer ?', answer: 'cup', cited: [9], keyFrames: [27, 28] });
    expect(by('what-put', 'desk')).toMatchObject({ answer: 'key', cited: [4] });
    expect(by('where-left', 'key')).toMatchObject({ answer: 'desk', cited: [4] });
    expect(by('where-left', 'cup')).toMatchObject({ answer: 'drawer' });
    expect(by('count-open', 'drawer')).toMatchObject({ question: 'how many times did i open the drawer ?', answer: '2', cited: [1, 8], keyFrames: [3, 4, 24, 25] });
    expect(by('held-before', 'cup')).toMatchObject({ answer: 'key', excluded: 'cup', cited: [2, 5] });
    expect(by('picked-from', 'cup')).toMatchObject({ answer: 'desk' });
    expect(by('held-before', 'key')).toBeUndefined(); // nothing was held before the key
  });

  it('on simulated clips every answer agrees with the world\'s ground truth', () => {
    const rng = new Rng(9);
    let checked = 0;
    for (let c = 0; c < 200; c++) {
      const clip = simulateClip(48, rng);
      const final = finalPlaces(clip);
      for (const d of draftQuestions(narrate(clip), 48)) {
        if (d.kind === 'where-left') { expect(final.get(d.subject)).toBe(d.answer); checked++; }
        if (d.kind === 'count-open') { expect(clip.events.filter((e) => e.action === 'open' && e.place === d.subject).length).toBe(Number(d.answer)); checked++; }
        if (d.kind === 'what-put') { expect(clip.events.filter((e) => e.action === 'put' && e.place === d.subject).map((e) => e.object)).toEqual([d.answer]); checked++; }
        for (const f of d.keyFrames) expect(f).toBeLessThan(48);
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('balances answers per kind and letters overall; distractors are of the answer\'s type, distinct, never the answer or the subject', () => {
    const rng = new Rng(13);
    const drafts = Array.from({ length: 400 }, () => simulateClip(64, rng)).flatMap((clip) => draftQuestions(narrate(clip), 64));
    const balanced = balanceAnswers(drafts, rng);
    for (const kind of QA_KINDS) {
      const counts = new Map<string, number>();
      for (const d of balanced) if (d.kind === kind) counts.set(d.answer, (counts.get(d.answer) ?? 0) + 1);
      if (kind === 'count-open') expect([...counts.keys()].sort()).toEqual(counts.size ? [...COUNT_VALUES] : []);
      expect(new Set(counts.values()).size).toBeLessThanOrEqual(1);
    }
    const items = addOptions(balanced, answerMarginals(balanced), rng);
    expect(items.length).toBe(balanced.length);
    const letters = [0, 0, 0, 0];
    const typeValues = answerMarginals(balanced);
    for (const q of items) {
      letters[q.answerIndex]++;
      expect(q.options[q.answerIndex]).toBe(q.answer);
      expect(new Set(q.options).size).toBe(4);
      if (q.excluded) expect(q.options).not.toContain(q.excluded);
      const type = q.kind === 'count-open' ? 'count' : q.kind === 'where-left' || q.kind === 'picked-from' ? 'place' : 'object';
      for (const o of q.options) expect(typeValues[type].has(o)).toBe(true);
    }
    expect(Math.max(...letters) - Math.min(...letters)).toBeLessThanOrEqual(1);
  });
});

describe('mm-ego evaluation arithmetic', () => {
  it('MDA equals the hand-computed mean over blind sets', () => {
    const correct = [true, true, false, true, false, true];
    const blindA = [true, false, false, false, false, false]; // leaves 5 questions, 3 right
    const blindB = [true, true, true, false, false, false]; // leaves 3, 2 right
    expect(debiasedAccuracy(correct, [blindA, blindB])).toBeCloseTo((3 / 5 + 2 / 3) / 2, 12);
    expect(debiasedAccuracy(correct, [blindA], [0, 1, 2])).toBeCloseTo(1 / 2, 12);
    expect(debiasedAccuracy(correct, [correct.map(() => true)])).toBe(0);
    expect(() => debiasedAccuracy(correct, [])).toThrow(/at least one blind model/);
  });

  it('uniform frames, top-k with the α prior, recall within one frame', () => {
    expect(uniformFrames(16, 4)).toEqual([0, 5, 10, 15]);
    expect(uniformFrames(64, 2)).toEqual([0, 63]);
    expect(uniformFrames(3, 8)).toEqual([0, 1, 2]);
    const s = [0.05, 0.3, 0.02, 0.02, 0.25, 0.02, 0.3, 0.04];
    expect(selectFrames(s, 2, 0)).toEqual([1, 6]);
    // k = 2 puts α at frames 0 and 7: 0.05 + 0.3 = 0.35 and 0.04 + 0.3 = 0.34 beat 0.3; with α = 0.1 only frame 0's 0.15 does not.
    expect(selectFrames(s, 2, 0.3)).toEqual([0, 7]);
    expect(selectFrames(s, 2, 0.1)).toEqual([1, 6]);
    expect(keyFrameRecall([1, 6], [2, 3, 7])).toBeCloseTo(2 / 3, 12);
    expect(keyFrameRecall([1, 6], [2, 3, 7], 0)).toBe(0);
  });

  it('the glimpse BCE equals its hand-computed value', async () => {
    await initBackend('wasm');
    const scores = tf.tensor2d([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]]);
    const want = -(Math.log(0.7) + Math.log(0.8) + Math.log(0.9) + Math.log(0.75) + Math.log(0.25) + Math.log(0.5)) / 6;
    const got = glimpseBce(scores, [[0], [1, 2]], 'mean');
    expect(got.dataSync()[0]).toBeCloseTo(want, 5);
    const balanced = glimpseBce(scores, [[0], [1, 2]], 'balanced');
    const wantBalanced = (-Math.log(0.7) - (Math.log(0.8) + Math.log(0.9)) / 2 - (Math.log(0.25) + Math.log(0.5)) / 2 - Math.log(0.75)) / 2;
    expect(balanced.dataSync()[0]).toBeCloseTo(wantBalanced, 5);
    got.dispose(); balanced.dispose(); scores.dispose();
  });

  it('a left-padded batch of fallback rows answers each question exactly as it would alone', async () => {
    await initBackend('wasm');
    const m = createEgoModel({ dModel: 32, layers: 2, heads: 4, kvHeads: 2, tokenDim: 8, maxLen: 64, answerFormat: 'letter' }, new Rng(3));
    const rng = new Rng(4);
    const clip: EgoClipRecord = { id: 0, bin: 'short', length: 6, seed: 0, narrations: [], grid: Float32Array.from(rng.normalArray(6 * 4 * 8)), mean: Float32Array.from(rng.normalArray(6 * 8)) };
    const words = (s: string) => WORDS.encode(s.split(' '));
    const rows = [
      fallbackRow(m, clip, [4, 1], words('where did i leave the bag ? a desk b sink c shelf d counter')),
      fallbackRow(m, clip, [0, 2, 5], words('what did i put on the desk ?')),
      blindRow(words('how many times did i open the fridge ?')),
    ];
    const batch = answerLogits(m, rows);
    const together = batch.arraySync();
    rows.forEach((r, i) => {
      const alone = answerLogits(m, [r]);
      const a = alone.arraySync()[0];
      for (let v = 0; v < a.length; v++) expect(together[i][v]).toBeCloseTo(a[v], 4);
      alone.dispose();
    });
    // The frames' order in the row is time order, whatever order they were chosen in.
    const swapped = answerLogits(m, [fallbackRow(m, clip, [1, 4], words('where did i leave the bag ? a desk b sink c shelf d counter'))]);
    expect(swapped.arraySync()[0][5]).toBeCloseTo(together[0][5], 5);
    swapped.dispose(); batch.dispose();
    disposeEgoModel(m);
  });
});
