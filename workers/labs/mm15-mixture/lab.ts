// mm15-mixture: SFT arms that differ only in their data mixture or their base. The bases are
// cached shared parts (workers/shared-parts/mm15-base.ts): pre-trained on the caption :
// interleaved : text mix, and continually pre-trained on digit strips at high or low
// resolution. Every arm fine-tunes its base's projection and decoder with the encoder frozen
// (its tokens read once per base), on high-resolution inputs, for the same number of steps,
// from the same question pools and the same format examples; the arms differ in how many
// questions of each category their mixture draws. Scores: exact answers on held-out questions
// (test-split pictures), per category, with answers that do not have the category's form
// counted as parse failures.
import * as tf from '@tensorflow/tfjs';
import { MM15_ARMS, MM15_ARM_SETUP, MM15_CATEGORY_IDS, mm15MixtureSamples, mm15MixtureSpec, mm15SftShares, type Mm15Arm, type Mm15CategoryId, type Mm15MixtureParams } from '../../../common/labs/mm15-mixture';
import { sampleEmitter } from '../../../common/lab-contract';
import type { LabDefinition, RunContext } from '../../runtime/context';
import { loadDataset, CLASS_NAMES } from '../../runtime/datasets';
import { Rng } from '../../runtime/rng';
import type { Mm15Key } from '../../shared-parts';
import { makeItems, mixtureCounts, type Mm15Item, type Mm15Sources } from '../../data/mm15';
import { itemRow, mm15Tokenizer } from '../../data/mm15-rows';
import type { WordTokenizer } from '../../data/word-tokenizer';
import { encodeInputs, greedyAnswers, tileLmVariables, type TileLm, type TileLmRow } from '../../nn/tile-lm';
import { trainTileLm } from '../../train/tile-lm';

type Cpt = 'high' | 'low' | 'none';
/** Distinct training questions per category; an arm that draws more sees them again (epochs). */
const POOL = 3000;
const MAX_ANSWER = 12;
/** Held-out predictions kept per category and arm for the panel. */
const SHOWN = 3;

/** The pre-training mix as the base's key names it: shares of 100 to 0.01 (only the ratio matters; 50 : 10 : 40 and 5 : 1 : 4 are one base). */
export function mixOf(p: Pick<Mm15MixtureParams, 'ptCaption' | 'ptInterleaved' | 'ptText'>): string {
  const w = [p.ptCaption, p.ptInterleaved, p.ptText], sum = w[0] + w[1] + w[2];
  return w.map((x) => String(Number(((100 * x) / sum).toFixed(2)))).join('-');
}
const baseKey = (p: Mm15MixtureParams, cpt: Cpt) => `${cpt === 'none' ? 'mm15:base' : `mm15:cpt:${cpt}`}:${mixOf(p)}${p.models === 'tiny' ? ':tiny' : ''}` as Mm15Key;

/** An arm's SFT samples per category: its shares of sftSteps × batchSize, rounded by largest remainder. */
export const sftCounts = (p: Mm15MixtureParams, arm: Mm15Arm): Record<Mm15CategoryId, number> => mixtureCounts(mm15SftShares(p, arm), p.sftSteps * p.batchSize);

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

/** The run's questions: pools and format examples from the training split, held-out from the test split. */
function questions(p: Mm15MixtureParams, tok: WordTokenizer, seed: number) {
  const train: Mm15Sources = { digits: loadDataset('mnist').train, items: loadDataset('fashion-mnist').train };
  const test: Mm15Sources = { digits: loadDataset('mnist').test, items: loadDataset('fashion-mnist').test };
  const most = Object.fromEntries(MM15_CATEGORY_IDS.map((c) => [c, Math.min(POOL, Math.max(...MM15_ARMS.map((a) => sftCounts(p, a)[c])))]));
  const make = (c: Mm15CategoryId, n: number, src: Mm15Sources, label: string): Question[] => makeItems(c, n, src, new Rng(seed).fork(`${label}-${c}`)).map((item) => ({ item, row: itemRow(tok, item, 'high') }));
  const by = <T,>(f: (c: Mm15CategoryId) => T) => Object.fromEntries(MM15_CATEGORY_IDS.map((c) => [c, f(c)])) as Record<Mm15CategoryId, T>;
  return { pool: by((c) => make(c, most[c], train, 'pool')), format: by((c) => make(c, p.formatExamples, train, 'format')), heldOut: by((c) => make(c, p.heldOut, test, 'held-out')) };
}

/** Rows with the frozen encoder's tokens in place of pixels, encoded in large batches. */
function withTokens(m: TileLm, rows: readonly TileLmRow[]): TileLmRow[] {
  const out: TileLmRow[] = [];
  for (let s = 0; s < rows.length; s += 256) {
    const chunk = rows.slice(s, s + 256);
    const n = chunk.reduce((a, r) => a + r.inputs, 0);
    const pixels = new Float32Array(n * 784);
    let at = 0;
    for (const r of chunk) if (r.inputs) { pixels.set(r.pixels!, at); at += r.pixels!.length; }
    const tokens = encodeInputs(m, pixels, n), per = tokens.length / Math.max(1, n);
    let i = 0;
    for (const r of chunk) { out.push({ ...r, pixels: undefined, tokens: tokens.slice(i * per, (i + r.inputs) * per) }); i += r.inputs; }
  }
  return out;
}

const armPhase = (arm: Mm15Arm) => `SFT ${arm}`;
const evalPhase = (arm: Mm15Arm) => `evaluate ${arm}`;
const encodePhase = (cpt: Cpt) => `encode pictures (${cpt === 'none' ? 'base' : `CPT ${cpt}`})`;
const CPT_ORDER: Cpt[] = ['high', 'low', 'none'];
const armsOf = (cpt: Cpt) => MM15_ARMS.filter((a) => MM15_ARM_SETUP[a].cpt === cpt);

type Scores = Record<Mm15CategoryId, { acc: number; parseFail: number; n: number }>;

async function run(p: Mm15MixtureParams, ctx: RunContext) {
  const emit = sampleEmitter(mm15MixtureSamples, ctx.emit);
  ctx.plan(['load bases', ...CPT_ORDER.flatMap((c) => [encodePhase(c), ...armsOf(c).flatMap((a) => [armPhase(a), evalPhase(a)])])]);
  ctx.progress('load bases', 0, 3);
  // Loaded (and trained, the first time) up front; each one's frozen encoder then reads every question once.
  const bases = [];
  for (const [i, cpt] of CPT_ORDER.entries()) { bases.push(await ctx.require(baseKey(p, cpt))); ctx.progress('load bases', i + 1, 3); }
  emit('bases', bases.map((b) => ({ key: b.key, steps: b.steps, trainSeconds: b.trainSeconds, finalLoss: b.finalLoss })));
  const tok = mm15Tokenizer();
  const q = questions(p, tok, p.seed);
  const scores = {} as Record<Mm15Arm, Scores>;
  let sftSteps = 0, sftMs = 0;
  for (const [b, cpt] of CPT_ORDER.entries()) {
    // The encoder is frozen in SFT: its tokens of every question, once for this base.
    const probe = bases[b];
    const all = MM15_CATEGORY_IDS.flatMap((c) => [...q.pool[c], ...q.format[c], ...q.heldOut[c]]);
    ctx.progress(encodePhase(cpt), 0, all.length);
    const encoded = new Map<Question, TileLmRow>();
    const rows = withTokens(probe.model, all.map((x) => x.row));
    all.forEach((x, i) => encoded.set(x, rows[i]));
    ctx.progress(encodePhase(cpt), all.length, all.length);
    probe.dispose();
    for (const arm of armsOf(cpt)) {
      const counts = sftCounts(p, arm);
      const rng = new Rng(p.seed).fork(`sft-${arm}`);
      const data: TileLmRow[] = MM15_CATEGORY_IDS.flatMap((c) => [
        ...Array.from({ length: counts[c] }, (_, k) => encoded.get(q.pool[c][k % q.pool[c].length])!),
        ...q.format[c].map((x) => encoded.get(x)!),
      ]);
      const order = rng.permutation(data.length);
      const base = await ctx.require(baseKey(p, cpt));
      const m = base.model;
      try {
        const stats = await trainTileLm(m, {
          steps: p.sftSteps, learningRate: p.learningRate, warmup: Math.min(50, Math.ceil(p.sftSteps / 10)), variables: tileLmVariables(m, 'language'),
          batch: (step) => Array.from({ length: p.batchSize }, (_, k) => data[order[((step - 1) * p.batchSize + k) % data.length]]),
          async report(step, loss) { ctx.progress(armPhase(arm), step, p.sftSteps); ctx.metric(step, `sft.${arm}.loss`, loss); await new Promise((r) => setImmediate(r)); },
        }, ctx);
        sftSteps += p.sftSteps; sftMs += stats.ms;
        scores[arm] = evaluate(m, tok, q.heldOut, encoded, arm, ctx, emit);
      } finally { base.dispose(); }
      const tokens = Object.fromEntries(MM15_CATEGORY_IDS.map((c) => {
        const rowsOf = q.pool[c].slice(0, Math.min(counts[c], q.pool[c].length)).map((x) => encoded.get(x)!);
        const mean = rowsOf.length ? rowsOf.reduce((a, r) => a + r.inputs * 4 + r.prompt.length + (r.answer?.length ?? 0) + 1, 0) / rowsOf.length : 0;
        return [c, Math.round(mean * counts[c])];
      }));
      emit('arm', { arm, scores: scores[arm], counts, tokens });
    }
  }
  const others = (arm: Mm15Arm) => MM15_CATEGORY_IDS.filter((c) => c !== 'grounding').reduce((a, c) => a + scores[arm][c].acc, 0) / (MM15_CATEGORY_IDS.length - 1);
  const metrics = {
    rgAcc_alpha0: scores.rg0.grounding.acc, rgAcc_alpha2: scores.base.grounding.acc, othersAvg_alpha0: others('rg0'), othersAvg_alpha2: others('base'),
    textRichAcc_cptHigh: scores.base.textRich.acc, textRichAcc_cptLow: scores.cptLow.textRich.acc, textRichAcc_cptNone: scores.cptNone.textRich.acc,
    textOnlyAcc_withText: scores.base.textOnly.acc, textOnlyAcc_withoutText: scores.noText.textOnly.acc,
    stepsPerSec: sftSteps / (sftMs / 1000),
    ...Object.fromEntries(MM15_ARMS.flatMap((a) => MM15_CATEGORY_IDS.flatMap((c) => [[`acc_${a}_${c}`, scores[a][c].acc], [`parseFail_${a}_${c}`, scores[a][c].parseFail]]))),
  };
  for (const [k, v] of Object.entries(metrics)) ctx.metric(sftSteps, k, v);
  return {
    metrics,
    checks: {
      rgGainAtLeast10pts: metrics.rgAcc_alpha2 - metrics.rgAcc_alpha0 >= 0.1,
      othersDropAtMost2pts: metrics.othersAvg_alpha0 - metrics.othersAvg_alpha2 <= 0.02,
      cptHighBeatsNone: metrics.textRichAcc_cptHigh > metrics.textRichAcc_cptNone,
    },
  };
}

function evaluate(m: TileLm, tok: WordTokenizer, heldOut: Record<Mm15CategoryId, Question[]>, encoded: Map<Question, TileLmRow>, arm: Mm15Arm, ctx: RunContext, emit: ReturnType<typeof sampleEmitter<typeof mm15MixtureSamples>>): Scores {
  const total = MM15_CATEGORY_IDS.reduce((a, c) => a + heldOut[c].length, 0);
  const scores = {} as Scores;
  const shown: { category: string; images: { width: number; height: number; pixels: number[] }[]; prompt: string; answer: string; key: string }[] = [];
  let done = 0;
  for (const c of MM15_CATEGORY_IDS) {
    const qs = heldOut[c];
    const answers: string[] = [];
    for (let s = 0; s < qs.length; s += 256) {
      const out = tf.tidy(() => greedyAnswers(m, qs.slice(s, s + 256).map((x) => ({ ...encoded.get(x)!, answer: undefined })), MAX_ANSWER, new Rng(0)));
      answers.push(...out.map((t) => tok.decode(t).join(' ')));
      done += Math.min(256, qs.length - s);
      ctx.progress(evalPhase(arm), done, total);
    }
    const correct = answers.filter((a, i) => a === qs[i].item.answer).length;
    scores[c] = { acc: correct / qs.length, parseFail: answers.filter((a) => !FORMS[c].test(a)).length / qs.length, n: qs.length };
    qs.slice(0, SHOWN).forEach((x, i) => shown.push({
      category: c, prompt: x.item.prompt, answer: answers[i], key: x.item.answer,
      images: x.item.images.map((im) => ({ width: im.width, height: im.height, pixels: Array.from(im.pixels) })),
    }));
  }
  emit('predictions', { arm, items: shown });
  return scores;
}

export const mm15MixtureLab: LabDefinition<typeof mm15MixtureSpec.params> = {
  spec: mm15MixtureSpec,
  run,
};
