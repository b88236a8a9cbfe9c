// One SFT variant (its training and its three greedy evaluations) as a task: in the run's own
// thread when the job has one core, else beside the other variants in worker threads. Each
// variant starts from the same init and draws from its own seeded streams, so the numbers are
// the same either way. A thread rebuilds the question sets and the judge's feature bank itself
// (a few seconds) and hands back the mixed model's weights, which DPO continues from.
import type { CotDpoParams, SftVariant } from '../../../common/labs/cot-dpo';
import type { JudgeKey } from '../../shared-parts';
import { sharedPart } from '../../shared-parts';
import type { Judge } from '../../shared-parts/judge';
import type { RunContext } from '../../runtime/context';
import { loadDataset } from '../../runtime/datasets';
import { Rng } from '../../runtime/rng';
import { obtainPart } from '../../runtime/shared-parts';
import type { TaskIo } from '../../runtime/task-threads';
import { makeItems } from './data';
import { buildFeatureBank, type FeatureBank } from './features';
import { greedyAccuracy, type Accuracy } from './evaluate';
import { createVlm, disposeVlm, vlmTensors, withSampler, type Vlm } from './model';
import { sftExamples, sftPhase, trainSft } from './train';

export const judgeKey = (p: CotDpoParams): JudgeKey => (p.judge === 'tiny' ? 'judge:mnist:tiny' : 'judge:mnist');
export const shapeOf = (p: CotDpoParams) => ({ dModel: p.dModel, layers: p.layers, heads: p.heads, kvHeads: p.kvHeads });

/** Every question set of a run, from the seed alone (a restarted app, or a task thread, rebuilds the same ones). */
export function questionSets(p: CotDpoParams, seed: number) {
  const ds = loadDataset('mnist');
  const rng = new Rng(seed).fork('data');
  const train = makeItems(p.trainQuestions, ds.train, rng);
  const align = makeItems(p.formatAlign, ds.train, rng);
  const heldOut = makeItems(p.heldOut, ds.test, rng);
  const hard = makeItems(p.hardQuestions, ds.test, rng, ['sum3']);
  // Fresh pair questions come from their own stream, so adding them changes no other set.
  const fresh = p.pairPool === 'fresh' ? makeItems(p.pairQuestions * p.dpoRounds, ds.train, new Rng(seed).fork('fresh')) : [];
  const sftPairQuestions = train.slice(0, Math.min(p.pairQuestions, train.length));
  /** Round r's questions: the same SFT questions every round, or round r's own fresh slice. */
  const pairQuestions = (r: number) => (p.pairPool === 'fresh' ? fresh.slice(r * p.pairQuestions, (r + 1) * p.pairQuestions) : sftPairQuestions);
  return { ds, train, align, heldOut, hard, fresh, pairQuestions };
}
export type QuestionSets = ReturnType<typeof questionSets>;

/** The judge's features of every question the run asks. */
export const runFeatureBank = (judge: Judge, s: QuestionSets) => buildFeatureBank(judge, s.ds.train, s.ds.test, { train: [...s.train, ...s.align, ...s.fresh], test: [...s.heldOut, ...s.hard] });

/** SFT steps of a variant: the same epochs over each variant's own examples. */
export const sftSteps = (p: CotDpoParams, variant: SftVariant, s: Pick<QuestionSets, 'train' | 'align'>) => Math.max(1, Math.ceil((p.sftEpochs * sftExamples(variant, s.train, s.align).length) / p.batchSize));

export interface SftVariantResult { variant: SftVariant; direct: Accuracy; cot: Accuracy; hard: Accuracy; steps: number; ms: number }

/**
 * Trains and evaluates one variant. `units` set: progress is reported as units done of the
 * variant's own (SFT steps, then held-out questions) for a combined phase; else under the
 * variant's named phases.
 */
export async function trainSftVariant(p: CotDpoParams, variant: SftVariant, s: QuestionSets, bank: FeatureBank, io: TaskIo, units: boolean): Promise<{ result: SftVariantResult; model: Vlm }> {
  const steps = sftSteps(p, variant, s);
  const trainIo: TaskIo = units ? { ...io, progress: (_phase, done) => io.progress(sftPhase(variant), done, steps + s.heldOut.length) } : io;
  const m = createVlm(shapeOf(p), bank.dim, new Rng(p.seed).fork('init'));
  const stats = await trainSft(m, sftExamples(variant, s.train, s.align), bank, p, trainIo, variant, new Rng(p.seed).fork(`sft-${variant}`));
  const evalRng = new Rng(p.seed).fork('eval');
  const onEval = (d: number) => (units ? io.progress(sftPhase(variant), steps + d, steps + s.heldOut.length) : io.progress(`evaluate ${variant}`, d, s.heldOut.length));
  // One core's worth of onnxruntime threads: the variants share the job's cores by turns.
  const { direct, cot, hard } = await withSampler(m, p.inference, 1, async (sampler) => ({
    direct: (await greedyAccuracy(sampler, bank, s.heldOut, 'direct', evalRng)).accuracy,
    cot: (await greedyAccuracy(sampler, bank, s.heldOut, 'cot', evalRng, onEval)).accuracy,
    hard: (await greedyAccuracy(sampler, bank, s.hard, 'cot', evalRng)).accuracy,
  }));
  return { result: { variant, direct, cot, hard, steps: stats.steps, ms: stats.ms }, model: m };
}

export interface SftTaskInput { params: CotDpoParams; variant: SftVariant; home?: string }
export type SftTaskOutput = SftVariantResult & { weights?: Record<string, Float32Array> };

/** The thread task: the mixed variant's weights come back (DPO starts from them), the others' are dropped. */
export async function sftVariantTask(input: SftTaskInput, io: TaskIo): Promise<SftTaskOutput> {
  const p = input.params;
  const judge = await obtainPart(sharedPart(judgeKey(p))!, io as RunContext, input.home) as Judge;
  const sets = questionSets(p, p.seed);
  const bank = runFeatureBank(judge, sets);
  judge.dispose();
  const { result, model } = await trainSftVariant(p, input.variant, sets, bank, io, true);
  try {
    if (input.variant !== 'mixSft') return result;
    return { ...result, weights: Object.fromEntries(Object.entries(vlmTensors(model)).map(([k, v]) => [k, v.dataSync() as Float32Array])) };
  } finally { disposeVlm(model); }
}
