// longpibench: the exact generator's instances (16 absolute and 16 relative levels, the
// query at both ends; and each query placement) answered by the built-in decoders, the
// user's own ONNX folder and an OpenAI-compatible endpoint; scored by recall / precision /
// F1 with bootstrap intervals.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { longpibenchQueries, longpibenchSamples, longpibenchSpec, LONGPI_MODELS, type LongpibenchParams, type LongpiModelName } from '../../../common/labs/longpibench';
import { sampleEmitter } from '../../../common/lab-contract';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import { writeFileAtomic } from '../../runtime/paths';
import { Rng } from '../../runtime/rng';
import { mean } from '../../runtime/stats';
import { openEndpoint, openOnnxFolder, type TextLm } from '../../runtime/text-lm';
import { openDecoderOnnx, readDecoderWeights } from '../../nn/decoder-onnx';
import type { RetrievalLmKey } from '../../shared-parts';
import { buildRetrievalPartTask, retrievalLmRecipe, TINY_RETRIEVAL_LM, type RetrievalAttention, type RetrievalLm, type RetrievalPartTask, type RetrievalTraining } from '../../shared-parts/retrieval-lm';
import { runTasks, taskThreadCount } from '../../runtime/task-threads';
import { instanceProblem, instancesJsonl, tableInstance, PLACEMENTS, type GeneratorShape, type LevelKind, type Placement, type TableInstance, type TableVocabulary, type LongpiTask } from '../../data/longpi/generator';
import { tableTokens } from '../../data/longpi/format';
import { answerAll, answerAllText, curvePoint, spacingDrop, type Answered } from './evaluate';

const MODELS_FILE = 'longpibench-models.json';
const KINDS: readonly LevelKind[] = ['absolute', 'relative'];
const partKey = (m: LongpiModelName, tiny: boolean) => `lm:longpi:${m.replace('/', ':')}${tiny ? ':tiny' : ''}` as RetrievalLmKey;
const evalPhase = (m: string) => `evaluate ${m}`;
/** The generator's shape and vocabulary every model is asked in (the built-in models' recipe). */
const TASK = retrievalLmRecipe('full', 'levels');

type Samples = typeof longpibenchSamples;
type AnswerView = z.input<Samples['instance']>['answers'][number];
interface Sweep { levels: Record<LevelKind, TableInstance[][]>; placements: Record<Placement, TableInstance[]> }
interface LiveModel { params: LongpibenchParams; models: Partial<Record<LongpiModelName, RetrievalLm>> }
/** One model's answers: scored, or the message of an instance that could not be asked. */
type Outcome = Answered | { error: string };

/** The evaluation instances: perLevel at each level of each kind (query at both ends), perPlacement at each placement (random kind and level). */
function buildSweep(seed: number, perLevel: number, perPlacement: number, shape: GeneratorShape, vocab: TableVocabulary, task: LongpiTask = 'table'): Sweep {
  const rng = new Rng(seed).fork(`instances/${task}/${shape.L}`);
  const one = (kind: LevelKind, level: number, pl: Placement) => tableInstance(kind, level, pl, shape, vocab, rng, task);
  const levels = Object.fromEntries(KINDS.map((kind) => [kind, Array.from({ length: shape.N }, (_, l) => Array.from({ length: perLevel }, () => one(kind, l + 1, 'both')))])) as Sweep['levels'];
  const placements = Object.fromEntries(PLACEMENTS.map((pl) => [pl, Array.from({ length: perPlacement }, () => one(KINDS[rng.int(2)], 1 + rng.int(shape.N), pl))])) as Sweep['placements'];
  return { levels, placements };
}

const flatten = (s: Sweep) => [...KINDS.flatMap((k) => s.levels[k].flat()), ...PLACEMENTS.flatMap((pl) => s.placements[pl])];
const answerView = (model: string, o: Outcome): AnswerView => ('error' in o
  ? { model, values: [], recall: 0, precision: 0, malformed: false, error: o.error }
  : { model, values: o.values.map((v) => (Number.isNaN(v) ? null : v)), recall: o.score.recall, precision: o.score.precision, malformed: o.score.malformed });

/** Curves, placement points and the spacing statistic of one model's outcomes. */
function summarise(name: string, sweep: Sweep, outcomes: Map<TableInstance, Outcome>, p: LongpibenchParams) {
  const rng = new Rng(p.seed).fork(`bootstrap/${name}`);
  const scored = (xs: readonly TableInstance[]) => xs.flatMap((x) => { const o = outcomes.get(x)!; return 'error' in o ? [] : [o.score]; });
  const curve = (kind: LevelKind) => sweep.levels[kind].map((xs) => curvePoint(scored(xs), p.bootstrap, rng));
  const absolute = curve('absolute'), relative = curve('relative');
  const placement = Object.fromEntries(PLACEMENTS.map((pl) => [pl, curvePoint(scored(sweep.placements[pl]), p.bootstrap, rng)])) as Record<Placement, ReturnType<typeof curvePoint>>;
  const relRecall = sweep.levels.relative.map((xs) => scored(xs).map((s) => s.recall));
  const drop = relRecall.every((g) => g.length) ? spacingDrop(relRecall, p.bootstrap, rng) : null;
  const errors = [...outcomes.values()].flatMap((o) => ('error' in o ? [o.error] : []));
  return { absolute, relative, placement, drop, failed: errors.length, firstError: errors[0] ?? null };
}

const recallMean = (pts: readonly { recall: number | null }[]) => mean(pts.map((c) => c.recall ?? Number.NaN));

async function evaluateBuiltIn(name: LongpiModelName, lm: RetrievalLm, sweep: Sweep, p: LongpibenchParams, ctx: RunContext) {
  const all = flatten(sweep);
  const t0 = performance.now();
  const onnx = p.inference === 'onnxruntime' ? await openDecoderOnnx(readDecoderWeights(lm.model), ctx.cores) : undefined;
  const answered = await answerAll(lm.model, all, tableTokens(lm.recipe), { ...p, onnx }, async (done) => {
    ctx.progress(evalPhase(name), done, all.length);
    ctx.throwIfCancelled();
    await new Promise((r) => setImmediate(r));
  }).finally(() => onnx?.release());
  return { outcomes: new Map<TableInstance, Outcome>(all.map((x, i) => [x, answered[i]])), instancesPerSec: all.length / ((performance.now() - t0) / 1000) };
}

const textPhase = (lm: TextLm, task: LongpiTask) => `${lm.name} · ${task}`;

async function evaluateText(lm: TextLm, task: LongpiTask, sweep: Sweep, p: LongpibenchParams, ctx: RunContext) {
  const all = flatten(sweep);
  const t0 = performance.now();
  let logged = 0;
  const answered = await answerAllText(lm, all, TASK, p.userMaxTokens, ctx.signal, async (done) => {
    ctx.progress(evalPhase(textPhase(lm, task)), done, all.length);
    await new Promise((r) => setImmediate(r));
  });
  answered.forEach((a, i) => { if ('error' in a && logged++ < 5) ctx.log(`${lm.name}: ${all[i].kind} level ${all[i].level}, query at ${all[i].placement}: ${a.error}`, 'warn'); });
  return { outcomes: new Map<TableInstance, Outcome>(all.map((x, i) => [x, answered[i]])), instancesPerSec: all.length / ((performance.now() - t0) / 1000) };
}

/** The user's models the params name, opened; one that cannot be opened is logged and skipped (the rest of the run goes on). */
async function openUserModels(p: LongpibenchParams, ctx: RunContext): Promise<{ lms: TextLm[]; problems: string[] }> {
  const lms: TextLm[] = [], problems: string[] = [];
  const tryOpen = async (what: string, open: () => Promise<TextLm> | TextLm) => {
    try { lms.push(await open()); } catch (e) { problems.push(`${what}: ${(e as Error).message}`); ctx.log(`${what} skipped: ${(e as Error).message}`, 'error'); }
  };
  if (p.onnxFolder.trim()) await tryOpen('ONNX folder', () => openOnnxFolder(p.onnxFolder.trim()));
  if (p.endpointUrl.trim()) await tryOpen('endpoint', () => openEndpoint({ url: p.endpointUrl.trim(), model: p.endpointModel.trim(), api: p.endpointApi }));
  return { lms, problems };
}

export const longpibenchLab: LabDefinition<typeof longpibenchSpec.params> = {
  spec: longpibenchSpec,
  async run(p, ctx) {
    const sample = sampleEmitter(longpibenchSamples, ctx.emit);
    const { lms, problems } = await openUserModels(p, ctx);
    writeFileAtomic(join(ctx.runDir, MODELS_FILE), JSON.stringify({ params: p, parts: p.models.map((m) => partKey(m, p.tinyModels)) }));
    const live: LiveModel = { params: p, models: {} };
    const metrics: Record<string, number> = {};
    let spacingHurts = false;
    const shape = { L: TASK.L, n: TASK.n, N: TASK.N };
    const sweep = buildSweep(p.seed, p.perLevel, p.perPlacement, shape, TASK);
    const userShape = { ...shape, L: p.userL };
    const userSweeps = lms.length ? p.userTasks.map((task) => ({ task, sweep: buildSweep(p.seed, p.userPerLevel, p.userPerLevel, userShape, TASK, task) })) : [];
    const evalPhases = [...p.models, ...lms.flatMap((lm) => userSweeps.map((u) => textPhase(lm, u.task)))].map(evalPhase);
    ctx.plan(evalPhases);
    // Built-in models not yet in the cache: trained first, side by side when the job has the cores.
    const missing = p.models.filter((m) => !ctx.isCached(partKey(m, p.tinyModels)));
    const trainPhase = `train ${missing.length} built-in models on ${taskThreadCount(ctx.cores, missing.length)} cores`;
    if (missing.length > 1 && ctx.cores > 1) ctx.plan([trainPhase, ...evalPhases]);
    if (missing.length) {
      const tasks = missing.map((m) => {
        const [attention, training] = m.split('/') as [RetrievalAttention, RetrievalTraining];
        return { kind: 'longpi:build-part', input: { attention, training, tiny: p.tinyModels, home: ctx.partsHome } satisfies RetrievalPartTask };
      });
      await runTasks(ctx, tasks, buildRetrievalPartTask, { phase: trainPhase, units: missing.length * retrievalLmRecipe('full', 'levels', p.tinyModels ? TINY_RETRIEVAL_LM : {}).steps });
    }
    // Every instance the run makes is checked against the formulas.
    let generatorExact = true;
    for (const [s, sh] of [[sweep, shape], ...userSweeps.map((u) => [u.sweep, userShape])] as [Sweep, GeneratorShape][]) {
      for (const x of flatten(s)) {
        const problem = instanceProblem(x, sh);
        if (problem) { generatorExact = false; ctx.log(`generator: ${x.kind} level ${x.level}: ${problem}`, 'error'); }
      }
    }
    // The instances, for other tools (one JSON object a line).
    ctx.artifacts.write('instances.jsonl', 'application/jsonl', instancesJsonl([...flatten(sweep), ...userSweeps.flatMap((u) => flatten(u.sweep))]));
    // The panel's example: one relative level-2 instance, every built-in model's answer.
    const example = sweep.levels.relative[1][0];
    const exampleAnswers: AnswerView[] = [];
    for (const name of p.models) {
      const lm = await ctx.require(partKey(name, p.tinyModels));
      live.models[name] = lm;
      ctx.setLiveModel(live);
      const ev = await evaluateBuiltIn(name, lm, sweep, p, ctx);
      const s = summarise(name, sweep, ev.outcomes, p);
      const { absolute, relative, placement, failed, firstError } = s;
      sample('curves', { model: name, task: 'table', L: shape.L, absolute, relative, placement, failed, firstError, instancesPerSec: ev.instancesPerSec, trainSeconds: lm.trainSeconds });
      const rel1 = s.relative[0].recall ?? Number.NaN, rel2to16 = recallMean(s.relative.slice(1));
      if (s.drop) ctx.log(`${name}: recall rel 1 ${rel1.toFixed(3)}, rel 2–16 ${rel2to16.toFixed(3)} (drop ${s.drop.drop.toFixed(3)}, 95 % [${s.drop.lo.toFixed(3)}, ${s.drop.hi.toFixed(3)}])`);
      const [attention, training] = name.split('/');
      if (name === 'full/levels') {
        const abs = s.absolute.map((c) => c.recall ?? Number.NaN);
        Object.assign(metrics, {
          recallAbsMin: Math.min(...abs), recallAbsMax: Math.max(...abs), recallRel1: rel1, recallRelMean2to16: rel2to16,
          precisionRelMean: mean(s.relative.map((c) => c.precision ?? Number.NaN)), recallHeadTailDelta: (s.placement.head.recall ?? Number.NaN) - (s.placement.tail.recall ?? Number.NaN),
          spacingDrop: s.drop?.drop ?? Number.NaN, spacingDropLo: s.drop?.lo ?? Number.NaN, instancesPerSec: ev.instancesPerSec,
        });
        spacingHurts = !!s.drop && s.drop.drop >= 0.05 && s.drop.lo > 0;
      }
      if (training === 'levels') metrics[`recall${attention === 'full' ? 'Full' : 'Sliding'}_rel16`] = s.relative[s.relative.length - 1].recall ?? Number.NaN;
      if (name === 'full/random') Object.assign(metrics, { recallRel1_control: rel1, recallRelMean2to16_control: rel2to16 });
      exampleAnswers.push(answerView(name, ev.outcomes.get(example)!));
    }
    for (const lm of lms) {
      try {
        for (const { task, sweep: us } of userSweeps) {
          const ev = await evaluateText(lm, task, us, p, ctx);
          const s = summarise(`${lm.name}/${task}`, us, ev.outcomes, p);
          const { absolute, relative, placement, failed, firstError } = s;
          sample('curves', { model: lm.name, task, L: userShape.L, absolute, relative, placement, failed, firstError, instancesPerSec: ev.instancesPerSec, trainSeconds: 0 });
          const asked = flatten(us).length;
          ctx.log(`${lm.name}, ${task}: ${s.failed} of ${asked} instances failed${s.firstError ? ` (first: ${s.firstError})` : ''}; score at relative level 1 ${s.relative[0].recall ?? '—'}`, s.failed ? 'warn' : 'info');
        }
      } finally {
        await lm.close();
      }
    }
    for (const problem of problems) ctx.log(problem, 'error');
    sample('instance', { ...instanceView(example), answers: exampleAnswers });
    for (const [k, v] of Object.entries(metrics)) ctx.metric(0, k, v);
    return { metrics, checks: { generatorExact, spacingHurts } };
  },
  queries: queryHandlers(longpibenchQueries, {
    instance: async ({ kind, level, placement, seed }, model) => {
      const m = model as LiveModel;
      if (!Object.keys(m.models).length) throw new Error('no built-in model is loaded yet');
      const x = tableInstance(kind, level, placement, { L: TASK.L, n: TASK.n, N: TASK.N }, TASK, new Rng(seed).fork('query'));
      const answers: AnswerView[] = [];
      for (const name of LONGPI_MODELS) {
        const lm = m.models[name];
        if (!lm) continue;
        const [a] = await answerAll(lm.model, [x], tableTokens(lm.recipe), { batch: 1, noRepeat: m.params.noRepeat }, async () => {});
        answers.push(answerView(name, a));
      }
      return { ...instanceView(x), answers };
    },
  }),
  /** The built-in models are shared parts: the run folder names which, the cache holds them. */
  async loadModel(runDir, ctx) {
    const params = JSON.parse(readFileSync(join(runDir, MODELS_FILE), 'utf8')).params as LongpibenchParams;
    const models: LiveModel['models'] = {};
    for (const name of params.models) models[name] = await ctx.require(partKey(name, params.tinyModels));
    return { params, models } satisfies LiveModel;
  },
};

function instanceView(x: TableInstance) {
  return { kind: x.kind, level: x.level, placement: x.placement, key: x.key, rows: x.rows, positions: x.positions, answer: x.answer };
}
