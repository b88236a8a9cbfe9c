// The data engine's question writer, as MM-Ego's: it reads a clip's narrations (not the
// simulator's state, so a user's own Ego4D narrations work too), writes questions whose
// answers the sentences give, and cites those sentences; their frames are the key frames.
// A question set then gets four options per question with the distractors drawn from the
// same answer type at that type's answer frequencies, answers balanced per kind and
// answer letters balanced, so a model that sees only the question sits at chance.
import type { Rng } from '../../runtime/rng';
import { parseNarration, type NarratedAction, type Narration } from './narrations';

export const QA_KINDS = ['what-put', 'where-left', 'count-open', 'held-before', 'picked-from'] as const;
export type QaKind = (typeof QA_KINDS)[number];
export type AnswerType = 'object' | 'place' | 'count';
export const ANSWER_TYPE: Record<QaKind, AnswerType> = { 'what-put': 'object', 'where-left': 'place', 'count-open': 'count', 'held-before': 'object', 'picked-from': 'place' };
/** Counts asked about: every count question shows all four as its options. */
export const COUNT_VALUES = ['1', '2', '3', '4'] as const;
export const LETTERS = ['A', 'B', 'C', 'D'] as const;

/** A question before its options: what it asks, its answer, the sentences (0-based) that give it. */
export interface QaDraft {
  kind: QaKind;
  question: string;
  /** What the question names (a place or an object). */
  subject: string;
  answer: string;
  /** A value that cannot be the answer and must not be a distractor either (the object asked about). */
  excluded: string | null;
  cited: number[];
  keyFrames: number[];
}

export interface QaItem extends QaDraft {
  options: string[];
  answerIndex: number;
}

interface Step extends NarratedAction { index: number }

/** The question of a kind about a subject (a place for what-put and count-open, an object otherwise). */
export function questionText(kind: QaKind, subject: string, prep = 'on'): string {
  switch (kind) {
    case 'what-put': return `what did i put ${prep} the ${subject} ?`;
    case 'where-left': return `where did i leave the ${subject} ?`;
    case 'count-open': return `how many times did i open the ${subject} ?`;
    case 'held-before': return `what did i hold before the ${subject} ?`;
    case 'picked-from': return `where did i pick up the ${subject} ?`;
  }
}

const keyFramesOf = (ns: readonly Narration[], cited: number[], clipLength: number) =>
  [...new Set(cited.flatMap((i) => Array.from({ length: ns[i].frames }, (_, k) => ns[i].frame + k)))].filter((f) => f < clipLength).sort((a, b) => a - b);

/** Every question the narrations of one clip answer unambiguously. */
export function draftQuestions(ns: readonly Narration[], clipLength: number): QaDraft[] {
  const steps: Step[] = [];
  ns.forEach((n, index) => { const a = parseNarration(n.text); if (a) steps.push({ ...a, index }); });
  const drafts: Omit<QaDraft, 'keyFrames'>[] = [];
  const puts = steps.filter((s) => s.verb === 'put' && s.object && s.place);
  const picks = steps.filter((s) => s.verb === 'pick' && s.object);
  const placesPut = [...new Set(puts.map((s) => s.place!))];
  for (const place of placesPut) {
    const here = puts.filter((s) => s.place === place);
    // Only when one thing was put there: "what did I put in the drawer" then has one answer.
    if (new Set(here.map((s) => s.object)).size === 1 && here.length === 1) {
      drafts.push({ kind: 'what-put', question: questionText('what-put', place, here[0].prep ?? 'on'), subject: place, answer: here[0].object!, excluded: null, cited: [here[0].index] });
    }
  }
  for (const object of new Set(steps.filter((s) => s.object).map((s) => s.object!))) {
    const about = steps.filter((s) => s.object === object);
    const last = about[about.length - 1];
    if (last.verb === 'put' && last.place) drafts.push({ kind: 'where-left', question: questionText('where-left', object), subject: object, answer: last.place, excluded: null, cited: [last.index] });
    const pickedHere = picks.filter((s) => s.object === object);
    if (pickedHere.length === 1 && pickedHere[0].place) drafts.push({ kind: 'picked-from', question: questionText('picked-from', object), subject: object, answer: pickedHere[0].place, excluded: null, cited: [pickedHere[0].index] });
    if (pickedHere.length === 1) {
      const before = picks.filter((s) => s.index < pickedHere[0].index);
      const prev = before[before.length - 1];
      if (prev && prev.object !== object) drafts.push({ kind: 'held-before', question: questionText('held-before', object), subject: object, answer: prev.object!, excluded: object, cited: [prev.index, pickedHere[0].index] });
    }
  }
  for (const place of new Set(steps.filter((s) => s.verb === 'open' && s.place).map((s) => s.place!))) {
    const opens = steps.filter((s) => s.verb === 'open' && s.place === place);
    if (opens.length <= COUNT_VALUES.length) drafts.push({ kind: 'count-open', question: questionText('count-open', place), subject: place, answer: String(opens.length), excluded: null, cited: opens.map((s) => s.index) });
  }
  return drafts.map((d) => ({ ...d, keyFrames: keyFramesOf(ns, d.cited, clipLength) })).filter((d) => d.keyFrames.length > 0);
}

/** Frequencies of each answer type's values over a set of drafts. */
export function answerMarginals(drafts: readonly QaDraft[]): Record<AnswerType, Map<string, number>> {
  const m: Record<AnswerType, Map<string, number>> = { object: new Map(), place: new Map(), count: new Map() };
  for (const d of drafts) { const t = m[ANSWER_TYPE[d.kind]]; t.set(d.answer, (t.get(d.answer) ?? 0) + 1); }
  return m;
}

/**
 * Keeps, per kind, the same number of questions for every answer value that occurs (the
 * rarest value's count), chosen at random: the answer carries no prior a blind model could learn.
 * Input order (and so each clip's questions) is otherwise kept.
 */
export function balanceAnswers<T extends QaDraft>(drafts: readonly T[], rng: Rng): T[] {
  const keep = new Set<T>();
  for (const kind of QA_KINDS) {
    const byAnswer = new Map<string, T[]>();
    for (const d of drafts) if (d.kind === kind) byAnswer.set(d.answer, [...(byAnswer.get(d.answer) ?? []), d]);
    if (!byAnswer.size) continue;
    const values = kind === 'count-open' ? COUNT_VALUES.map((v) => byAnswer.get(v) ?? []) : [...byAnswer.values()];
    const n = Math.min(...values.map((v) => v.length));
    for (const group of values) {
      const order = rng.permutation(group.length);
      for (let i = 0; i < n; i++) keep.add(group[order[i]]);
    }
  }
  return drafts.filter((d) => keep.has(d));
}

/** Draws k distinct values from `weights`, proportionally, skipping those in `not`. */
function drawWeighted(weights: Map<string, number>, k: number, not: Set<string>, rng: Rng): string[] {
  const pool = [...weights.entries()].filter(([v]) => !not.has(v));
  const out: string[] = [];
  while (out.length < k && pool.length) {
    let u = rng.next() * pool.reduce((s, [, w]) => s + w, 0), i = 0;
    for (; i < pool.length - 1; i++) { u -= pool[i][1]; if (u < 0) break; }
    out.push(pool[i][0]);
    pool.splice(i, 1);
  }
  return out;
}

/**
 * Four options per question. Count questions show 1–4; the others three distractors of the
 * answer's type drawn at the set's answer frequencies (`marginals`, from the whole set).
 * The correct letter cycles through A–D in a shuffled order, so each letter is right equally
 * often. A draft whose type has fewer than four values is dropped.
 */
export function addOptions<T extends QaDraft>(drafts: readonly T[], marginals: Record<AnswerType, Map<string, number>>, rng: Rng): (T & QaItem)[] {
  const out: (T & QaItem)[] = [];
  const letterOrder = rng.permutation(drafts.length);
  drafts.forEach((d, i) => {
    const type = ANSWER_TYPE[d.kind];
    let options: string[];
    if (type === 'count') options = [...COUNT_VALUES];
    else {
      const distractors = drawWeighted(marginals[type], 3, new Set([d.answer, ...(d.excluded ? [d.excluded] : [])]), rng);
      if (distractors.length < 3) return;
      options = [d.answer, ...distractors];
    }
    const answerIndex = letterOrder[i] % LETTERS.length;
    const others = options.filter((o) => o !== d.answer);
    const shuffled = rng.permutation(others.length);
    const placed: string[] = [];
    for (let slot = 0, j = 0; slot < LETTERS.length; slot++) placed.push(slot === answerIndex ? d.answer : others[shuffled[j++]]);
    out.push({ ...d, options: placed, answerIndex });
  });
  return out;
}

/** The question as the models read it: the question, then "a <opt> b <opt> …". */
export const questionWords = (q: Pick<QaItem, 'question' | 'options'>) =>
  [...q.question.split(' '), ...q.options.flatMap((o, i) => [LETTERS[i].toLowerCase(), ...o.split(' ')])];
