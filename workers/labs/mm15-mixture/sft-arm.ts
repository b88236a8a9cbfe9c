// One mm15-mixture SFT arm as a task: its base loaded, its questions' pictures read once by the
// frozen encoder, the projection and decoder fine-tuned on the arm's mixture, then held-out
// scoring. In the run's own thread on one core, else beside the other arms in worker threads:
// every arm rebuilds the run's question pools from the seed alone, so its numbers are the same
// either way.
import * as tf from '@tensorflow/tfjs';
import { MM15_ARMS, MM15_ARM_SETUP, MM15_CATEGORY_IDS, mm15SftShares, type Mm15Arm, type Mm15CategoryId, type Mm15MixtureParams } from '../../../common/labs/mm15-mixture';
import type { RunContext } from '../../runtime/context';
import { loadDataset, CLASS_NAMES } from '../../runtime/datasets';
import { Rng } from '../../runtime/rng';
import { obtainPart } from '../../runtime/shared-parts';
import type { TaskIo } from '../../runtime/task-threads';
import { sharedPart, type Mm15Key } from '../../shared-parts';
import type { Mm15Base } from '../../shared-parts/mm15-base';
import { makeItems, mixtureCounts, type Mm15Item, type Mm15Sources } from '../../data/mm15';
import { itemRow, mm15Tokenizer } from '../../data/mm15-rows';
import type { WordTokenizer } from '../../data/word-tokenizer';
import { encodeInputs, greedyAnswers, tileLmVariables, type TileLm, type TileLmRow } from '../../nn/tile-lm';
import { trainTileLm } from '../../train/tile-lm';

export type Cpt = 'high' | 'low' | 'none';
/** Distinct training questions per category; an arm that draws more sees them again (epochs). */
const POOL = 3000;
const MAX_ANSWER = 12;
/** Held-out predictions kept per category and arm for the panel. */
const SHOWN = 3;
/** Rows per batch of the frozen encoder and of greedy decoding. */
const CHUNK = 256;

/** The pre-training mix as the base's key names it: shares of 100 to 0.01 (only the ratio matters; 50 : 10 : 40 and 5 : 1 : 4 are one base). */
export function mixOf(p: Pick<Mm15MixtureParams, 'ptCaption' | 'ptInterleaved' | 'ptText'>): string {
  const w = [p.ptCaption, p.ptInterleaved, p.ptText], sum = w[0] + w[1] + w[2];
  return w.map((x) => String(Number(((100 * x) / sum).toFixed(2)))).join('-');
}
export const baseKey = (p: Mm15MixtureParams, cpt: Cpt) => `${cpt === 'none' ? 'mm15:base' : `mm15:cpt:${cpt}`}:${mixOf(p)}${p.models === 'tiny' ? ':tiny' : ''}` as Mm15Key;

/** An arm's SFT samples per category: its shares of sftSteps × batchSize, rounded by largest remainder. */
export const sftCounts = (p: Mm15MixtureParams, arm: Mm15Arm): Record<Mm15CategoryId, number> => mixtureCounts(mm15SftShares(p, arm), p.sftSteps * p.batchSize);

/** Distinct pool questions per category: the most any arm draws, up to POOL (the same pools for every arm of a run). */
const poolSizes = (p: Mm15MixtureParams) => Object.fromEntries(MM15_CATEGORY_IDS.map((c) => [c, Math.min(POOL, Math.max(...MM15_ARMS.map((a) => sftCounts(p, a)[c])))])) as Record<Mm15CategoryId, number>;

/** The pool questions an arm trains on, per category (it cycles through them when it draws more). */
const usedOf = (p: Mm15MixtureParams, arm: Mm15Arm, c: Mm15CategoryId) => Math.min(sftCounts(p, arm)[c], poolSizes(p)[c]);

/** Questions encoded or answered in about the time of one SFT step: the unit progress counts them in. */
const PER_UNIT = 128;
const encodeRows = (p: Mm15MixtureParams, arm: Mm15Arm) => MM15_CATEGORY_IDS.reduce((a, c) => a + usedOf(p, arm, c) + p.formatExamples + p.heldOut, 0);
const asUnits = (questions: number) => Math.ceil(questions / PER_UNIT);

/** An arm's units of progress (each about one SFT step's time): pictures encoded, SFT steps, held-out questions answered. */
export function armUnits(p: Mm15MixtureParams, arm: Mm15Arm): number {
  return asUnits(encodeRows(p, arm)) + p.sftSteps + asUnits(MM15_CATEGORY_IDS.length * p.heldOut);
}

/** Does an answer have its category's form (whatever its value)? */
const FORMS: Record<Mm15CategoryId, RegExp> = {
  general: new RegExp(`^(${CLASS_NAMES['fashion-mnist'].join('|')})$`),
  textRich: /^\d( \d){3,5}$/,
  knowledge: /^(- )?\d( \d)?$/,
  grounding: /^(\d|\( \d( \d)? , \d( \d)? , \d( \d)? , \d( \d)? \))$/,
  multiImage: /^(yes|no)$/,
  textOnly: /^(- )?\d( \d)?$/,
};

interface Question { item: Mm15Item; row: TileLmRow }
type ByCategory<T> = Record<Mm15CategoryId, T>;
const byCategory = <T,>(f: (c: Mm15CategoryId) => T) => Object.fromEntries(MM15_CATEGORY_IDS.map((c) => [c, f(c)])) as ByCategory<T>;

/** The run's questions: pools and format examples from the training split, held-out from the test split. */
function questions(p: Mm15MixtureParams, tok: WordTokenizer) {
  const train: Mm15Sources = { digits: loadDataset('mnist').train, items: loadDataset('fashion-mnist').train };
  const test: Mm15Sources = { digits: loadDataset('mnist').test, items: loadDataset('fashion-mnist').test };
  const sizes = poolSizes(p);
  const make = (c: Mm15CategoryId, n: number, src: Mm15Sources, label: string): Question[] => makeItems(c, n, src, new Rng(p.seed).fork(`${label}-${c}`)).map((item) => ({ item, row: itemRow(tok, item, 'high') }));
  return { pool: byCategory((c) => make(c, sizes[c], train, 'pool')), format: byCategory((c) => make(c, p.formatExamples, train, 'format')), heldOut: byCategory((c) => make(c, p.heldOut, test, 'held-out')) };
}

/** Rows with the frozen encoder's tokens in place of pixels, encoded in large batches. */
function withTokens(m: TileLm, rows: readonly TileLmRow[], io: TaskIo, onChunk: (done: number) => void): TileLmRow[] {
  const out: TileLmRow[] = [];
  for (let s = 0; s < rows.length; s += CHUNK) {
    io.throwIfCancelled();
    const chunk = rows.slice(s, s + CHUNK);
    const n = chunk.reduce((a, r) => a + r.inputs, 0);
    const pixels = new Float32Array(n * 784);
    let at = 0;
    for (const r of chunk) if (r.inputs) { pixels.set(r.pixels!, at); at += r.pixels!.length; }
    const tokens = encodeInputs(m, pixels, n), per = tokens.length / Math.max(1, n);
    let i = 0;
    for (const r of chunk) { out.push({ ...r, pixels: undefined, tokens: tokens.slice(i * per, (i + r.inputs) * per) }); i += r.inputs; }
    onChunk(s + chunk.length);
  }
  return out;
}

export interface ArmScores { acc: number; parseFail: number; n: number }
export interface ShownPrediction { category: string; images: { width: number; height: number; pixels: number[] }[]; prompt: string; answer: string; key: string }
export interface ArmResult {
  arm: Mm15Arm; scores: ByCategory<ArmScores>; counts: ByCategory<number>;
  /** SFT tokens per category (mean length of its pool questions × its samples). */
  tokens: ByCategory<number>;
  predictions: ShownPrediction[]; steps: number; ms: number;
}
export interface ArmTaskInput { params: Mm15MixtureParams; arm: Mm15Arm; home?: string }

/** Trains and scores one arm; progress is its own units done (armUnits). */
export async function sftArmTask(input: ArmTaskInput, io: TaskIo): Promise<ArmResult> {
  const { params: p, arm } = input;
  const units = armUnits(p, arm);
  const tok = mm15Tokenizer();
  const q = questions(p, tok);
  const counts = sftCounts(p, arm);
  const base = await obtainPart(sharedPart(baseKey(p, MM15_ARM_SETUP[arm].cpt))!, io as RunContext, input.home) as Mm15Base;
  const m = base.model;
  try {
    // The encoder is frozen in SFT: its tokens of every question this arm asks, once.
    const used = byCategory((c) => usedOf(p, arm, c));
    const asked = MM15_CATEGORY_IDS.flatMap((c) => [...q.pool[c].slice(0, used[c]), ...q.format[c], ...q.heldOut[c]]);
    const encoded0 = asUnits(asked.length);
    const rows = withTokens(m, asked.map((x) => x.row), io, (d) => io.progress('', Math.min(encoded0, Math.floor(d / PER_UNIT)), units));
    const encoded = new Map<Question, TileLmRow>(asked.map((x, i) => [x, rows[i]]));
    const data: TileLmRow[] = MM15_CATEGORY_IDS.flatMap((c) => [
      ...Array.from({ length: counts[c] }, (_, k) => encoded.get(q.pool[c][k % used[c]])!),
      ...q.format[c].map((x) => encoded.get(x)!),
    ]);
    const order = new Rng(p.seed).fork(`sft-${arm}`).permutation(data.length);
    const stats = await trainTileLm(m, {
      steps: p.sftSteps, learningRate: p.learningRate, warmup: Math.min(50, Math.ceil(p.sftSteps / 10)), variables: tileLmVariables(m, 'language'),
      batch: (step) => Array.from({ length: p.batchSize }, (_, k) => data[order[((step - 1) * p.batchSize + k) % data.length]]),
      async report(step, loss) { io.progress('', encoded0 + step, units); io.metric(step, `sft.${arm}.loss`, loss); await new Promise((r) => setImmediate(r)); },
    }, io);
    const { scores, predictions } = evaluate(m, tok, q.heldOut, encoded, io, (d) => io.progress('', encoded0 + p.sftSteps + Math.floor(d / PER_UNIT), units));
    io.progress('', units, units); // the last partial unit of answers
    const tokens = byCategory((c) => {
      const rows = q.pool[c].slice(0, used[c]).map((x) => encoded.get(x)!);
      const mean = rows.length ? rows.reduce((a, r) => a + r.inputs * 4 + r.prompt.length + (r.answer?.length ?? 0) + 1, 0) / rows.length : 0;
      return Math.round(mean * counts[c]);
    });
    return { arm, scores, counts, tokens, predictions, steps: p.sftSteps, ms: stats.ms };
  } finally { base.dispose(); }
}

function evaluate(m: TileLm, tok: WordTokenizer, heldOut: ByCategory<Question[]>, encoded: Map<Question, TileLmRow>, io: TaskIo, onDone: (done: number) => void) {
  const scores = {} as ByCategory<ArmScores>;
  const predictions: ShownPrediction[] = [];
  let done = 0;
  for (const c of MM15_CATEGORY_IDS) {
    const qs = heldOut[c];
    const answers: string[] = [];
    for (let s = 0; s < qs.length; s += CHUNK) {
      io.throwIfCancelled();
      const out = tf.tidy(() => greedyAnswers(m, qs.slice(s, s + CHUNK).map((x) => ({ ...encoded.get(x)!, answer: undefined })), MAX_ANSWER, new Rng(0)));
      answers.push(...out.map((t) => tok.decode(t).join(' ')));
      done += Math.min(CHUNK, qs.length - s);
      onDone(done);
    }
    const correct = answers.filter((a, i) => a === qs[i].item.answer).length;
    scores[c] = { acc: correct / qs.length, parseFail: answers.filter((a) => !FORMS[c].test(a)).length / qs.length, n: qs.length };
    qs.slice(0, SHOWN).forEach((x, i) => predictions.push({
      category: c, prompt: x.item.prompt, answer: answers[i], key: x.item.answer,
      images: x.item.images.map((im) => ({ width: im.width, height: im.height, pixels: Array.from(im.pixels) })),
    }));
  }
  return { scores, predictions };
}
