// The seeded question generator and the programmatic teacher. An item is an image of two
// or three MNIST digits side by side (28 x 84, unused slots blank), an operation, its short
// answer and the teacher's rationale ending in the paper's marker: `... ### Answer: 8`.
// Training items draw digits from the train split; held-out and harder items from the test
// split, so no held-out digit image was ever seen in training.
import type { ImageSet } from '../../runtime/datasets';
import type { Rng } from '../../runtime/rng';
import { composeStrip } from '../../data/compose';

import { OPS, THREE_DIGIT_OPS, TWO_DIGIT_OPS, type Op } from '../../../common/labs/cot-dpo';
export const SLOTS = 3;

export const OP_QUESTIONS: Record<Op, string> = {
  sum: 'What is the sum of the two digits?',
  diff: 'What is the difference between the larger and the smaller digit?',
  max: 'What is the larger of the two digits?',
  prod: 'What is the last digit of the product of the two digits?',
  larger: 'Which digit is larger, left (L) or right (R)? (= if equal)',
  sum3: 'What is the sum of the three digits?',
};

export interface Item {
  op: Op;
  digits: number[];
  /** Index of each digit's image in its split. */
  imageIndex: number[];
  answer: string;
  rationale: string;
}

export const ANSWER_MARKER = '### Answer:';

/** The teacher: the short answer and a rationale that reads the digits, then computes. */
export function teach(op: Op, d: number[]): { answer: string; rationale: string } {
  const [a, b, c] = d;
  const read = op === 'sum3' ? `A=${a} B=${b} C=${c}.` : `L=${a} R=${b}.`;
  const hi = Math.max(a, b), lo = Math.min(a, b);
  const cmp = a === b ? `${a}=${b}.` : a > b ? `${a}>${b}.` : `${a}<${b}.`;
  let steps: string, answer: string;
  switch (op) {
    case 'sum': answer = `${a + b}`; steps = `${a}+${b}=${a + b}.`; break;
    case 'diff': answer = `${hi - lo}`; steps = `${hi}-${lo}=${hi - lo}.`; break;
    case 'max': answer = `${hi}`; steps = cmp; break;
    case 'prod': answer = `${(a * b) % 10}`; steps = `${a}*${b}=${a * b}. ${a * b} mod 10=${(a * b) % 10}.`; break;
    case 'larger': answer = a === b ? '=' : a > b ? 'L' : 'R'; steps = cmp; break;
    case 'sum3': answer = `${a + b + c}`; steps = `${a}+${b}=${a + b}. ${a + b}+${c}=${a + b + c}.`; break;
  }
  return { answer, rationale: `${read} ${steps} ${ANSWER_MARKER} ${answer}` };
}

export const directTarget = (answer: string) => `${ANSWER_MARKER} ${answer}`;

/** Reads the answer after the marker; null when the marker is missing (a parse failure). */
export function parseAnswer(text: string): string | null {
  const at = text.lastIndexOf(ANSWER_MARKER);
  if (at < 0) return null;
  const answer = text.slice(at + ANSWER_MARKER.length).trim();
  return answer.length ? answer : null;
}

/** Indices of each digit class in a split, for drawing a digit of a given value. */
export function indexByDigit(set: ImageSet): number[][] {
  const by: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < set.count; i++) by[set.labels[i]].push(i);
  return by;
}

export function makeItem(op: Op, byDigit: number[][], rng: Rng): Item {
  const n = op === 'sum3' ? 3 : 2;
  const digits = Array.from({ length: n }, () => rng.int(10));
  const imageIndex = digits.map((d) => byDigit[d][rng.int(byDigit[d].length)]);
  return { op, digits, imageIndex, ...teach(op, digits) };
}

/** n items; `ops` drawn uniformly except that three-digit ops come at rate `threeDigitRate`. */
export function makeItems(n: number, set: ImageSet, rng: Rng, ops: readonly Op[] = OPS, threeDigitRate = 1 / 6): Item[] {
  const byDigit = indexByDigit(set);
  const two = ops.filter((o) => (TWO_DIGIT_OPS as readonly string[]).includes(o)), three = ops.filter((o) => (THREE_DIGIT_OPS as readonly string[]).includes(o));
  return Array.from({ length: n }, () => {
    const useThree = three.length > 0 && (two.length === 0 || rng.next() < threeDigitRate);
    const pool = useThree ? three : two;
    return makeItem(pool[rng.int(pool.length)], byDigit, rng);
  });
}

/** The item's picture: 28 x 84 grey bytes, digit k in columns 28k..28k+27, unused slots blank. */
export const composeImage = (item: Pick<Item, 'imageIndex'>, set: ImageSet): Uint8Array => composeStrip(item.imageIndex, set, SLOTS);
