import * as tf from '@tensorflow/tfjs';
import { cotDpoQueries, cotDpoSamples, cotDpoSpec, OPS, SFT_VARIANTS, type CotDpoParams, type Op, type SftVariant } from '../../../common/labs/cot-dpo';
import { sampleEmitter } from '../../../common/lab-contract';
import type { z } from 'zod';
import { queryHandlers, type LabDefinition } from '../../runtime/context';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../../runtime/checkpoint';
import { Rng } from '../../runtime/rng';
import type { Judge } from '../../shared-parts/judge';
import { addLora, mergeLora, PROJECTIONS } from '../../nn/decoder';
import { composeImage, OP_QUESTIONS, parseAnswer, teach, type Item } from './data';
import { buildFeatureBank, featuresOfPixels, promptBatch, type FeatureBank } from './features';
import { cloneVlm, createVlm, disposeVlm, generate, targetLogProbs, vlmTensors, withSampler, type ChainSampler, type PromptBatch, type Vlm } from './model';
import { dpoPhase, sftPhase, trainDpo, type Pair } from './train';
import { judgeKey, questionSets, runFeatureBank, sftSteps, sftVariantTask, shapeOf, trainSftVariant, type SftTaskInput, type SftTaskOutput, type SftVariantResult } from './sft-task';
import { runTasks, taskThreadCount } from '../../runtime/task-threads';
import type { RunContext } from '../../runtime/context';
import type { DpoStats } from '../../train/dpo';
import { buildPairs, greedyAccuracy, sampledAccuracy, verify, type Accuracy, type SampledAccuracy } from './evaluate';
import { pairedDifferenceSe, pairedSe } from '../../runtime/stats';
import { decodeText, formatToken, opToken, untilEos, type Format } from './tokenizer';

interface LiveModel { sft: Vlm; dpo: Vlm; judge: Judge; bank: FeatureBank; heldOut: Item[]; params: CotDpoParams }

/** Round 0 keeps the single-round stream names, so a one-round run draws what it always drew. */
const roundFork = (base: string, r: number) => (r === 0 ? base : `${base}-${r}`);


function saveVlm(path: string, m: Vlm, p: CotDpoParams) { saveCheckpoint(path, vlmTensors(m), { params: p }); }
function loadVlm(path: string, p: CotDpoParams, featureDim: number): Vlm {
  const m = createVlm(shapeOf(p), featureDim, new Rng(0));
  assignCheckpoint(readCheckpoint(path), vlmTensors(m));
  return m;
}

const pairsPhase = (who: string, r: number, R: number) => `sample chains for pairs${R > 1 ? ` (${who}, round ${r + 1}/${R})` : ''}`;
const roundOneEvalPhase = (tag: 'dpo' | 'control') => `evaluate ${tag === 'dpo' ? 'DPO' : 'control'} after round 1`;

export { questionSets };

/** With more than one core the SFT variants train side by side under one phase. */
const sftThreads = (cores: number) => taskThreadCount(cores, SFT_VARIANTS.length);
const parallelSftPhase = (cores: number) => `SFT ${SFT_VARIANTS.length} variants and evaluate, on ${sftThreads(cores)} cores`;

/** The run's phases in order, as ctx.progress names them (the UI's "phase k of n"). */
function runPlan(p: CotDpoParams, cores: number): string[] {
  const R = p.dpoRounds;
  const rounds = (tag: 'dpo' | 'control') => Array.from({ length: R }, (_, r) => [
    ...(r > 0 ? [pairsPhase(tag === 'dpo' ? 'DPO' : 'control', r, R)] : []),
    dpoPhase(tag, R > 1 ? `${r + 1}/${R}` : undefined),
    ...(r === 0 && R > 1 ? [roundOneEvalPhase(tag)] : []),
  ]).flat();
  const sft = sftThreads(cores) > 1 ? [parallelSftPhase(cores)] : SFT_VARIANTS.flatMap((v) => [sftPhase(v), `evaluate ${v}`]);
  return ['judge features', ...sft, pairsPhase('SFT', 0, R), ...rounds('dpo'), ...rounds('control'),
    'evaluate DPO', 'evaluate control', 'sampled chains, DPO', 'sampled chains, control', 'best-of-N chains'];
}

/**
 * The three SFT variants, same init, equal epochs: in the run's thread on one core, else in
 * task threads (the mixed model's weights come back for DPO). Results in SFT_VARIANTS order.
 */
async function trainVariants(p: CotDpoParams, ctx: RunContext, sets: ReturnType<typeof questionSets>, bank: FeatureBank): Promise<{ results: SftVariantResult[]; mix: Vlm }> {
  if (sftThreads(ctx.cores) <= 1) {
    const results: SftVariantResult[] = [];
    let mix: Vlm | undefined;
    for (const variant of SFT_VARIANTS) {
      const { result, model } = await trainSftVariant(p, variant, sets, bank, ctx, false);
      results.push(result);
      if (variant === 'mixSft') mix = model; else disposeVlm(model);
    }
    return { results, mix: mix! };
  }
  const units = SFT_VARIANTS.reduce((t, v) => t + sftSteps(p, v, sets) + sets.heldOut.length, 0);
  const tasks = SFT_VARIANTS.map((variant) => ({ kind: 'cot-dpo:sft', input: { params: p, variant, home: ctx.partsHome } satisfies SftTaskInput }));
  const outs = await runTasks<SftTaskOutput>(ctx, tasks, sftVariantTask as never, { phase: parallelSftPhase(ctx.cores), units });
  const mixOut = outs.find((o) => o.variant === 'mixSft')!;
  const mix = createVlm(shapeOf(p), bank.dim, new Rng(0));
  tf.tidy(() => { for (const [k, v] of Object.entries(vlmTensors(mix))) v.assign(tf.tensor(mixOut.weights![k], v.shape)); });
  return { results: outs.map(({ weights: _w, ...r }) => r), mix };
}

const row = (a: Accuracy) => ({ acc: a.acc, se: a.se, parseFail: a.parseFailRate, n: a.n });
const sampledRow = (a: SampledAccuracy) => ({ acc: a.acc, se: a.se, n: a.n });

export const cotDpoLab: LabDefinition<typeof cotDpoSpec.params> = {
  spec: cotDpoSpec,
  async run(p, ctx) {
    const sample = sampleEmitter(cotDpoSamples, ctx.emit);
    ctx.plan(runPlan(p, ctx.cores));
    ctx.progress('judge features', 0, 1);
    const judge = await ctx.require(judgeKey(p));
    const sets = questionSets(p, p.seed);
    const { ds, heldOut, hard, pairQuestions } = sets;
    const bank = runFeatureBank(judge, sets);
    ctx.progress('judge features', 1, 1);
    sample('questions', {
      ops: OPS.map((op) => ({ op, question: OP_QUESTIONS[op] })),
      heldOut: heldOut.slice(0, 48).map((it, i) => ({ index: i, op: it.op, digits: it.digits, answer: it.answer, rationale: it.rationale, image: Array.from(composeImage(it, ds.test)) })),
    });

    // 1. The three SFT variants, same init, equal epochs.
    const trained = await trainVariants(p, ctx, sets, bank);
    const variants = {} as Record<SftVariant, SftVariantResult>;
    let sftSteps = 0, sftMs = 0;
    for (const v of trained.results) {
      variants[v.variant] = v;
      sftSteps += v.steps; sftMs += v.ms;
      sample('variant', { name: v.variant, direct: row(v.direct), cot: row(v.cot), hard: row(v.hard) });
    }
    const mix = trained.mix;
    const sft = mix;
    saveVlm(ctx.checkpointPath('sft'), sft, p);

    // 2–3. Pairs from the direct + CoT model's own chains, DPO on them, and the random-label
    // control from the same SFT weights on the same first-round pairs. With several rounds each
    // model samples its next pairs itself (the control from the control), and the model at the
    // start of a round is that round's reference.
    const R = p.dpoRounds;
    const pairOptions = { K: p.samplesPerQuestion, temperature: p.sampleTemperature, range: p.accuracyRange, perQuestion: p.pairsPerQuestion, words: p.truncateWords, rejected: p.rejectedChains, cut: p.pairCut };
    const sampling = <T>(m: Vlm, use: (s: ChainSampler) => Promise<T>) => withSampler(m, p.inference, ctx.cores, use);
    const samplePairs = (m: Vlm, r: number, who: string) => sampling(m, (s) => buildPairs(s, bank, pairQuestions(r), pairOptions, new Rng(p.seed).fork(roundFork('pairs', r)), (d, t) => ctx.progress(pairsPhase(who, r, R), d, t)));
    const firstPairs = await samplePairs(sft, 0, 'SFT');
    const roundEvalRng = () => new Rng(p.seed).fork('eval'); // the stream every greedy evaluation starts from
    const trainRounds = async (policy: Vlm, tag: 'dpo' | 'control') => {
      let stats: DpoStats | null = null, last: Pair[] = [], total = 0, kept = 0, round1: Accuracy | null = null;
      for (let r = 0; r < R; r++) {
        const { pairs, sampled } = r === 0 ? firstPairs : await samplePairs(policy, r, tag === 'dpo' ? 'DPO' : 'control');
        const keptNow = sampled.filter((x) => x.kept).length;
        // Questions by how many of their K sampled chains were correct (0 … K).
        const accuracyHistogram = Array.from({ length: p.samplesPerQuestion + 1 }, (_, k) => sampled.filter((x) => Math.round(x.accuracy * p.samplesPerQuestion) === k).length);
        sample('pair-stats', { tag, round: r + 1, rounds: R, questions: sampled.length, kept: keptNow, pairs: pairs.length, accuracyHistogram });
        const coin = new Rng(p.seed).fork(roundFork('control-labels', r));
        const swap = tag === 'control' ? pairs.map(() => coin.next() < 0.5) : undefined;
        if (p.dpoLoraRank > 0) addLora(policy.decoder, PROJECTIONS, p.dpoLoraRank, 2 * p.dpoLoraRank, new Rng(p.seed).fork(roundFork('lora', r)));
        stats = await trainDpo(policy, pairs, bank, p, ctx, tag, new Rng(p.seed).fork(roundFork('dpo-order', r)), { swap, stepOffset: r * p.dpoSteps, round: R > 1 ? `${r + 1}/${R}` : undefined });
        mergeLora(policy.decoder); // the next round samples, and the checkpoint saves, plain weights
        if (r === 0 && R > 1) {
          round1 = (await sampling(policy, (s) => greedyAccuracy(s, bank, heldOut, 'cot', roundEvalRng(), (d) => ctx.progress(roundOneEvalPhase(tag), d, heldOut.length)))).accuracy;
          sample('variant', { name: tag === 'dpo' ? 'dpoRound1' : 'dpoControlRound1', cot: row(round1) });
        }
        last = pairs; total += pairs.length; kept += keptNow;
      }
      return { stats: stats!, lastPairs: last, pairs: total, kept, round1 };
    };
    const dpo = cloneVlm(sft, new Rng(0));
    ctx.setLiveModel({ sft, dpo, judge, bank, heldOut, params: p } satisfies LiveModel);
    const dpoRun = await trainRounds(dpo, 'dpo');
    const dpoStats = dpoRun.stats;
    const control = cloneVlm(sft, new Rng(0));
    const controlRun = await trainRounds(control, 'control');
    const controlStats = controlRun.stats;
    saveVlm(ctx.checkpointPath('dpo'), dpo, p);
    const evalRng = new Rng(p.seed).fork('eval');
    // The DPO model's sampler serves its evaluations and, beside the SFT model's, best-of-N.
    const { dpoCot, dpoHard, dpoDirect, controlCot, dpoSampled, controlSampled, v } = await sampling(dpo, async (dpoSampler) => {
      const evaluated = await sampling(control, async (controlSampler) => {
        const dpoCot = (await greedyAccuracy(dpoSampler, bank, heldOut, 'cot', evalRng, (d) => ctx.progress('evaluate DPO', d, heldOut.length))).accuracy;
        const dpoHard = (await greedyAccuracy(dpoSampler, bank, hard, 'cot', evalRng)).accuracy;
        const dpoDirect = (await greedyAccuracy(dpoSampler, bank, heldOut, 'direct', evalRng)).accuracy;
        const controlCot = (await greedyAccuracy(controlSampler, bank, heldOut, 'cot', evalRng, (d) => ctx.progress('evaluate control', d, heldOut.length))).accuracy;
        // DPO's objective acts on sampled chains: their accuracy shows whether it moved the distribution when greedy answers do not.
        const sampledEval = (s: ChainSampler, name: string) => sampledAccuracy(s, bank, heldOut, p.rerankN, p.sampleTemperature, new Rng(p.seed).fork('sampled-eval'), (d, t) => ctx.progress(`sampled chains, ${name}`, d, t));
        const dpoSampled = await sampledEval(dpoSampler, 'DPO'), controlSampled = await sampledEval(controlSampler, 'control');
        sample('variant', { name: 'dpo', direct: row(dpoDirect), cot: row(dpoCot), hard: row(dpoHard), sampled: sampledRow(dpoSampled) });
        sample('variant', { name: 'dpoControl', cot: row(controlCot), sampled: sampledRow(controlSampled) });
        return { dpoCot, dpoHard, dpoDirect, controlCot, dpoSampled, controlSampled };
      });
      disposeVlm(control);

      // The pairs with their final margins under the DPO model (the inspector's pair list).
      const shown = dpoRun.lastPairs.slice(0, 40);
      const margins = shown.length ? pairMargins(dpo, bank, shown, p.dpoBeta) : [];
      sample('pairs', shown.map((pr, i) => ({ op: pr.example.op, digits: pr.example.digits, answer: pr.example.answer, chosen: pr.chosenText, rejected: pr.rejectedText, margin: margins[i] })));

      // 4. DPO as a verifier over N chains of the SFT model.
      const verified = await sampling(sft, (s) => verify(s, dpoSampler, bank, heldOut, p.rerankN, p.dpoBeta, p.sampleTemperature, new Rng(p.seed).fork('rerank'), (n, t) => ctx.progress('best-of-N chains', n, t)));
      return { ...evaluated, v: verified };
    });
    sample('variant', { name: 'mixSft', direct: row(variants.mixSft.direct), cot: row(variants.mixSft.cot), hard: row(variants.mixSft.hard), sampled: sampledRow(v.sampled) });
    sample('variant', { name: 'rerank', cot: row(v.rerank) });
    sample('variant', { name: 'vote', cot: row(v.vote) });
    sample('variant', { name: 'majority', cot: row(v.majority) });

    const gain = dpoCot.acc - variants.mixSft.cot.acc, controlGain = controlCot.acc - variants.mixSft.cot.acc;
    // The DPO gain is resolved only if it exceeds twice its paired standard error (same questions).
    const gainSe = pairedDifferenceSe(variants.mixSft.cot, dpoCot);
    const metrics: Record<string, number> = {
      directAcc_directSft: variants.directSft.direct.acc, cotAcc_directSft: variants.directSft.cot.acc,
      directAcc_cotSft: variants.cotSft.direct.acc, cotAcc_cotSft: variants.cotSft.cot.acc,
      directAcc_mixSft: variants.mixSft.direct.acc, cotAcc_mixSft: variants.mixSft.cot.acc,
      cotAcc_dpo: dpoCot.acc, cotAcc_dpoControl: controlCot.acc, cotAcc_rerank: v.rerank.acc, cotAcc_vote: v.vote.acc,
      parseFail_directSft: variants.directSft.cot.parseFailRate,
      parseFail_cotSft: variants.cotSft.cot.parseFailRate, parseFail_mixSft: variants.mixSft.cot.parseFailRate,
      pairs: dpoRun.pairs, heldOut: heldOut.length, dpoRounds: R,
      dpoRewardMargin: dpoStats.finalMargin, dpoRewardAccuracy: dpoStats.finalRewardAcc, controlRewardMargin: controlStats.finalMargin,
      stepsPerSec: sftSteps / (sftMs / 1000),
      dpoStepsPerSec: dpoStats.ms ? dpoStats.steps / (dpoStats.ms / 1000) : 0,
      dpoGain: gain, dpoGainSe: gainSe, dpoControlGain: controlGain, dpoControlGainSe: pairedDifferenceSe(variants.mixSft.cot, controlCot),
      cotAccSe: variants.mixSft.cot.se,
      cotAccSampled_mixSft: v.sampled.acc, cotAccSampled_dpo: dpoSampled.acc, cotAccSampled_dpoControl: controlSampled.acc,
      dpoSampledGain: dpoSampled.acc - v.sampled.acc, dpoSampledGainSe: pairedSe(v.sampled.perQuestion, dpoSampled.perQuestion),
      dpoControlSampledGain: controlSampled.acc - v.sampled.acc, dpoControlSampledGainSe: pairedSe(v.sampled.perQuestion, controlSampled.perQuestion),
      cotAcc_majority: v.majority.acc, cotAcc_oracleN: v.oracle.acc,
      directAcc_dpo: dpoDirect.acc,
      hardCotAcc_mixSft: variants.mixSft.hard.acc, hardCotAcc_dpo: dpoHard.acc, hardCotAcc_cotSft: variants.cotSft.hard.acc, hardCotAcc_directSft: variants.directSft.hard.acc,
      pairQuestionsKept: dpoRun.kept,
      // After the first round: the paper's single offline round (equal to the final model's when R = 1).
      cotAcc_dpoRound1: (dpoRun.round1 ?? dpoCot).acc, cotAcc_dpoControlRound1: (controlRun.round1 ?? controlCot).acc,
      dpoGainRound1: (dpoRun.round1 ?? dpoCot).acc - variants.mixSft.cot.acc, dpoGainRound1Se: pairedDifferenceSe(variants.mixSft.cot, dpoRun.round1 ?? dpoCot),
    };
    const final = sftSteps + 2 * p.dpoSteps * R;
    for (const [k, val] of Object.entries(metrics)) ctx.metric(final, k, val);
    return {
      metrics,
      checks: {
        cotSftBeatsDirectSftOnCot: variants.cotSft.cot.acc - variants.directSft.cot.acc >= 0.05,
        dpoGainPositive: gain > 2 * gainSe && gain > 0,
        controlGainBelowDpoGain: controlGain < gain,
      },
    };
  },
  async loadModel(runDir, ctx) {
    const sftCkpt = readCheckpoint(`${runDir}/checkpoints/sft.ckpt`);
    const p = sftCkpt.meta.params as CotDpoParams;
    const judge = await ctx.require(judgeKey(p));
    const { ds, heldOut } = questionSets(p, p.seed);
    const bank = buildFeatureBank(judge, ds.train, ds.test, { train: [], test: heldOut });
    const sft = loadVlm(`${runDir}/checkpoints/sft.ckpt`, p, bank.dim);
    const dpo = loadVlm(`${runDir}/checkpoints/dpo.ckpt`, p, bank.dim);
    return { sft, dpo, judge, bank, heldOut, params: p } satisfies LiveModel;
  },
  queries: queryHandlers(cotDpoQueries, {
    inspect: (args, model) => inspect(model as LiveModel, args),
  }),
};

function pairMargins(dpo: Vlm, bank: FeatureBank, pairs: readonly Pair[], beta: number): number[] {
  const pb = promptBatch(bank, 'train', [...pairs.map((x) => x.example), ...pairs.map((x) => x.example)], 'cot');
  const lp = tf.tidy(() => targetLogProbs(dpo, pb, [...pairs.map((x) => x.chosen), ...pairs.map((x) => x.rejected)], [...pairs.map((x) => x.chosenOpen), ...pairs.map((x) => x.rejectedOpen)]).perToken.sum(1).dataSync());
  return pairs.map((x, i) => beta * ((lp[i] - x.refChosen) - (lp[pairs.length + i] - x.refRejected)));
}


/**
 * The chain inspector: a held-out question (by index) or drawn digits (2 or 3 images of
 * 784 values in [0, 1], already centred as MNIST digits) with an operation; K chains from
 * the SFT model, each with its parsed answer, log-probs under SFT and DPO and the DPO score.
 */
function inspect(m: LiveModel, a: z.output<typeof cotDpoQueries.inspect.args>) {
  const K = a.k, seed = a.seed;
  let features: Float32Array, item: { op: Op; digits: number[] | null; answer: string | null; rationale: string | null };
  if (a.index !== undefined) {
    if (a.index >= m.heldOut.length) throw new RangeError(`index must be an integer in 0..${m.heldOut.length - 1}`);
    const it = m.heldOut[a.index];
    features = promptBatch(m.bank, 'test', [it], 'cot').features;
    item = { op: it.op, digits: it.digits, answer: it.answer, rationale: it.rationale };
  } else {
    const digits = a.digits!; // the schema requires index or digits
    const op: Op | undefined = a.op;
    if (!op) throw new Error(`inspect with "digits" wants "op": one of ${OPS.join(', ')}`);
    if ((op === 'sum3') !== (digits.length === 3)) throw new Error(`${op} takes ${op === 'sum3' ? 3 : 2} digits`);
    const drawn = featuresOfPixels(m.judge, m.bank, digits.map((d) => Float32Array.from(d)));
    features = drawn.features;
    item = { op, digits: drawn.read, answer: teach(op, drawn.read).answer, rationale: null };
  }
  // K copies of the one question's slot features and (op, format) prompt.
  const batch = (format: Format, n: number): PromptBatch => {
    const f = new Float32Array(n * features.length), pr = new Int32Array(n * 2);
    for (let i = 0; i < n; i++) { f.set(features, i * features.length); pr[2 * i] = opToken(item.op); pr[2 * i + 1] = formatToken(format); }
    return { features: f, prompts: pr, size: n };
  };
  const rng = new Rng(seed).fork('inspect');
  const greedy = (mm: Vlm, format: Format) => decodeText(generate(mm, batch(format, 1), 0, rng).tokens[0]);
  const chainTokens = generate(m.sft, batch('cot', K), m.params.sampleTemperature, rng).tokens.map(untilEos);
  const chains = chainTokens.map(decodeText);
  const lp = (mm: Vlm) => tf.tidy(() => targetLogProbs(mm, batch('cot', K), chainTokens).perToken.sum(1).dataSync());
  const lpSft = lp(m.sft), lpDpo = lp(m.dpo);
  return {
    op: item.op, question: OP_QUESTIONS[item.op], digits: item.digits, answer: item.answer, teacher: item.rationale,
    answerNote: a.index === undefined ? 'the expected answer uses the judge\'s reading of your digits' : 'the annotated answer',
    greedy: { sftDirect: greedy(m.sft, 'direct'), sftCot: greedy(m.sft, 'cot'), dpoCot: greedy(m.dpo, 'cot') },
    chains: chains.map((text, i) => {
      const parsed = parseAnswer(text);
      return { text, parsed, correct: item.answer !== null && parsed === item.answer, logProbSft: lpSft[i], logProbDpo: lpDpo[i], score: m.params.dpoBeta * (lpDpo[i] - lpSft[i]) };
    }),
  };
}
