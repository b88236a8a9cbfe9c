// LongPiBench's instance generator (Tian et al., 2410.14641), exact: a context of L units
// (rows `key: value`) padded with irrelevant units, n relevant pieces (the rows whose key
// is the queried one) placed by an absolute level (the pieces together, centred at
// (l−1)/(N−1)·L) or a relative level (start-to-start step L/(n−1)·(l−1)/(N−1), random
// start), and the query at the head, the tail or both. Instances are plain data: the
// built-in models read them as tokens, user models and endpoints as text, and they export
// as JSONL for other tools.
import type { Rng } from '../../runtime/rng';

export type LevelKind = 'absolute' | 'relative';
export type Placement = 'head' | 'tail' | 'both';
export const PLACEMENTS: readonly Placement[] = ['head', 'tail', 'both'];

export interface GeneratorShape {
  /** Units in the context. */
  L: number;
  /** Relevant pieces. */
  n: number;
  /** Levels of each kind. */
  N: number;
}

/** Round half up, as the generator's offsets. */
const roundHalfUp = (x: number) => Math.floor(x + 0.5);

/** Where the pieces' mean location is asked to be, clamped so n adjacent units fit: [(n−1)/2, L−1−(n−1)/2]. */
export function absoluteTarget(level: number, s: GeneratorShape): number {
  const half = (s.n - 1) / 2;
  return Math.min(s.L - 1 - half, Math.max(half, ((level - 1) / (s.N - 1)) * s.L));
}

/** The start-to-start step asked for, clamped to [1, (L−1)/(n−1)] so the pieces are distinct and fit. */
export function relativeTarget(level: number, s: GeneratorShape): number {
  return Math.min((s.L - 1) / (s.n - 1), Math.max(1, (s.L / (s.n - 1)) * ((level - 1) / (s.N - 1))));
}

/** Unit indices of the n pieces, ascending. */
export function piecePositions(kind: LevelKind, level: number, s: GeneratorShape, rng: Rng): number[] {
  if (!Number.isInteger(level) || level < 1 || level > s.N) throw new RangeError(`level ${level} is not in 1..${s.N}`);
  if (s.n < 2 || s.L < s.n) throw new RangeError(`${s.n} pieces do not fit ${s.L} units`);
  if (kind === 'absolute') {
    const start = roundHalfUp(absoluteTarget(level, s) - (s.n - 1) / 2);
    return Array.from({ length: s.n }, (_, i) => start + i);
  }
  const step = relativeTarget(level, s);
  const offsets = Array.from({ length: s.n }, (_, i) => roundHalfUp(i * step));
  const start = rng.int(s.L - offsets[s.n - 1]);
  return offsets.map((o) => start + o);
}

/** n distinct units drawn uniformly, ascending (adjacent pieces are rare: the control's training distribution). */
export function randomPositions(s: Pick<GeneratorShape, 'L' | 'n'>, rng: Rng): number[] {
  if (s.L < s.n) throw new RangeError(`${s.n} pieces do not fit ${s.L} units`);
  return Array.from(rng.permutation(s.L)).slice(0, s.n).sort((a, b) => a - b);
}

export const meanLocation = (positions: readonly number[]) => positions.reduce((a, b) => a + b, 0) / positions.length;
export const meanSpacing = (positions: readonly number[]) => (positions[positions.length - 1] - positions[0]) / (positions.length - 1);

export interface TableRow { key: number; value: number }

/** Table retrieval (list the key's rows; recall) or timeline reordering (the key's events earliest first; positions right). */
export type LongpiTask = 'table' | 'timeline';

export interface TableInstance {
  task: LongpiTask;
  /** How the pieces were placed: by a level of either kind, or at uniformly random units (level 0; the control's training data). */
  kind: LevelKind | 'random';
  level: number;
  placement: Placement;
  L: number;
  n: number;
  /** The queried key. */
  key: number;
  rows: TableRow[];
  /** Unit indices of the relevant rows, ascending. */
  positions: number[];
  /** The answer key: the relevant rows' values in context order (table), or ascending (timeline: a value is a year). */
  answer: number[];
}

export interface TableVocabulary {
  /** Distinct keys (the queried one and the distractors'). */
  keys: number;
  /** Distinct values. */
  values: number;
}

/**
 * One table-retrieval instance: irrelevant rows carry any key but the queried one; the n
 * relevant rows have n distinct values, so recall counts each one once.
 */
export function tableInstance(kind: LevelKind | 'random', level: number, placement: Placement, s: GeneratorShape, vocab: TableVocabulary, rng: Rng, task: LongpiTask = 'table'): TableInstance {
  if (vocab.keys < 2) throw new RangeError('a table needs at least 2 keys');
  if (vocab.values < s.n) throw new RangeError(`${s.n} distinct answer values need at least ${s.n} values`);
  const positions = kind === 'random' ? randomPositions(s, rng) : piecePositions(kind, level, s, rng);
  const key = rng.int(vocab.keys);
  const answerValues = Array.from(rng.permutation(vocab.values)).slice(0, s.n);
  const rows: TableRow[] = Array.from({ length: s.L }, () => {
    const other = rng.int(vocab.keys - 1);
    return { key: other >= key ? other + 1 : other, value: rng.int(vocab.values) };
  });
  positions.forEach((p, i) => { rows[p] = { key, value: answerValues[i] }; });
  const answer = task === 'timeline' ? [...answerValues].sort((a, b) => a - b) : answerValues;
  return { task, kind, level, placement, L: s.L, n: s.n, key, rows, positions, answer };
}

export interface RetrievalScore { recall: number; precision: number; f1: number; malformed: boolean }

/**
 * Recall of the key's values in an answer, precision of the answer, F1. An answer longer
 * than 1.5× the key is malformed and scores 0, so copying the context cannot score.
 */
export function scoreRetrieval(answer: readonly number[], key: readonly number[]): RetrievalScore {
  if (answer.length > 1.5 * key.length) return { recall: 0, precision: 0, f1: 0, malformed: true };
  const wanted = new Set(key), found = new Set<number>();
  let hits = 0;
  for (const a of answer) if (wanted.has(a) && !found.has(a)) { found.add(a); hits++; }
  const recall = key.length ? hits / key.length : 0, precision = answer.length ? hits / answer.length : 0;
  return { recall, precision, f1: recall + precision > 0 ? (2 * recall * precision) / (recall + precision) : 0, malformed: false };
}

/**
 * Timeline reordering's score: the share of the key's positions the answer gets right; 0
 * for a malformed answer (a length other than the key's, or anything that is not a year).
 */
export function scoreTimeline(answer: readonly number[], key: readonly number[]): RetrievalScore {
  if (answer.length !== key.length || answer.some((a) => Number.isNaN(a))) return { recall: 0, precision: 0, f1: 0, malformed: true };
  const right = key.filter((k, i) => answer[i] === k).length / key.length;
  return { recall: right, precision: right, f1: right, malformed: false };
}

/** The instances as JSON Lines, one object per line (what other tools read). */
export function instancesJsonl(instances: readonly TableInstance[]): string {
  return instances.map((x) => JSON.stringify(x)).join('\n') + (instances.length ? '\n' : '');
}

/**
 * What is wrong with an instance, or null: exactly n rows carry the queried key, at the
 * recorded positions; their mean location (absolute) or mean spacing (relative) within one
 * unit of the formula's feasible target; the answer key their values in context order.
 */
export function instanceProblem(x: TableInstance, s: GeneratorShape): string | null {
  const found = x.rows.flatMap((r, i) => (r.key === x.key ? [i] : []));
  if (x.rows.length !== s.L) return `${x.rows.length} units, not L = ${s.L}`;
  if (found.length !== s.n) return `${found.length} relevant rows, not n = ${s.n}`;
  if (found.join() !== x.positions.join()) return `relevant rows at ${found.join(',')}, recorded at ${x.positions.join(',')}`;
  const values = found.map((i) => x.rows[i].value);
  if (x.task === 'timeline' ? [...values].sort((a, b) => a - b).join() !== x.answer.join() : values.join() !== x.answer.join()) {
    return x.task === 'timeline' ? 'the answer key is not the relevant years in ascending order' : 'the answer key is not the relevant values in context order';
  }
  if (x.kind === 'absolute' && Math.abs(meanLocation(found) - absoluteTarget(x.level, s)) > 1) return `mean location ${meanLocation(found)} is more than one unit from ${absoluteTarget(x.level, s)}`;
  if (x.kind === 'relative' && Math.abs(meanSpacing(found) - relativeTarget(x.level, s)) > 1) return `mean spacing ${meanSpacing(found)} is more than one unit from ${relativeTarget(x.level, s)}`;
  return null;
}
