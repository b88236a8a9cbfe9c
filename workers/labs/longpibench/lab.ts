// longpibench: the exact generator's instances (16 absolute and 16 relative levels, the
// query at both ends; and each query placement) answered by the built-in decoders, scored
// by recall / precision / F1 with bootstrap intervals.
import { longpibenchQueries, longpibenchSamples, longpibenchSpec, LONGPI_MODELS, type LongpibenchParams, type LongpiModelName } from '../../../common/labs/longpibench';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../../runtime/paths';
import { sampleEmitter } from '../../../common/lab-contract';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import { Rng } from '../../runtime/rng';
import { mean } from '../../runtime/stats';
import type { RetrievalLmKey } from '../../shared-parts';
import type { RetrievalLm } from '../../shared-parts/retrieval-lm';
import { instanceProblem, tableInstance, PLACEMENTS, type GeneratorShape, type LevelKind, type Placement, type TableInstance } from '../../data/longpi/generator';
import { tableTokens } from '../../data/longpi/format';
import { answerAll, curvePoint, spacingDrop, type Answered } from './evaluate';

const MODELS_FILE = 'longpibench-models.json';
const KINDS: readonly LevelKind[] = ['absolute', 'relative'];
const partKey = (m: LongpiModelName, tiny: boolean) => `lm:longpi:${m.replace('/', ':')}${tiny ? ':tiny' : ''}` as RetrievalLmKey;
const evalPhase = (m: LongpiModelName) => `evaluate ${m}`;

interface Sweep { levels: Record<LevelKind, TableInstance[][]>; placements: Record<Placement, TableInstance[]> }
interface LiveModel { params: LongpibenchParams; models: Partial<Record<LongpiModelName, RetrievalLm>> }

/** The evaluation instances: perLevel at each level of each kind (query at both ends), perPlacement at each placement (random kind and level). */
function buildSweep(p: LongpibenchParams, shape: GeneratorShape, vocab: { keys: number; values: number }): Sweep {
  const rng = new Rng(p.seed).fork('instances');
  const levels = Object.fromEntries(KINDS.map((kind) => [kind, Array.from({ length: shape.N }, (_, l) => Array.from({ length: p.perLevel }, () => tableInstance(kind, l + 1, 'both', shape, vocab, rng)))])) as Sweep['levels'];
  const placements = Object.fromEntries(PLACEMENTS.map((pl) => [pl, Array.from({ length: p.perPlacement }, () => tableInstance(KINDS[rng.int(2)], 1 + rng.int(shape.N), pl, shape, vocab, rng))])) as Sweep['placements'];
  return { levels, placements };
}

const flatten = (s: Sweep) => [...KINDS.flatMap((k) => s.levels[k].flat()), ...PLACEMENTS.flatMap((pl) => s.placements[pl])];

async function evaluateModel(lm: RetrievalLm, sweep: Sweep, p: LongpibenchParams, phase: string, ctx: RunContext) {
  const all = flatten(sweep);
  const t0 = performance.now();
  const answered = await answerAll(lm.model, all, tableTokens(lm.recipe), p.batch, async (done) => {
    ctx.progress(phase, done, all.length);
    ctx.throwIfCancelled();
    await new Promise((r) => setImmediate(r));
  });
  const seconds = (performance.now() - t0) / 1000;
  const at = new Map(all.map((x, i) => [x, answered[i]]));
  const scoresOf = (xs: readonly TableInstance[]) => xs.map((x) => (at.get(x) as Answered).score);
  return { at, scoresOf, instancesPerSec: all.length / seconds };
}

export const longpibenchLab: LabDefinition<typeof longpibenchSpec.params> = {
  spec: longpibenchSpec,
  async run(p, ctx) {
    const sample = sampleEmitter(longpibenchSamples, ctx.emit);
    ctx.plan(p.models.map(evalPhase));
    writeFileAtomic(join(ctx.runDir, MODELS_FILE), JSON.stringify({ params: p, parts: p.models.map((m) => partKey(m, p.tinyModels)) }));
    const live: LiveModel = { params: p, models: {} };
    const metrics: Record<string, number> = {};
    let generatorExact = true, spacingHurts = false;
    let example: TableInstance | null = null;
    const exampleAnswers: z.input<typeof longpibenchSamples.instance>['answers'] = [];
    for (const name of p.models) {
      const lm = await ctx.require(partKey(name, p.tinyModels));
      live.models[name] = lm;
      const r = lm.recipe, shape = { L: r.L, n: r.n, N: r.N };
      // Every model of a run sees the same instances (the recipes share the generator's shape and vocabulary).
      const sweep = buildSweep(p, shape, r);
      for (const x of flatten(sweep)) {
        const problem = instanceProblem(x, shape);
        if (problem) { generatorExact = false; ctx.log(`generator: ${x.kind} level ${x.level}: ${problem}`, 'error'); }
      }
      const ev = await evaluateModel(lm, sweep, p, evalPhase(name), ctx);
      const rng = new Rng(p.seed).fork(`bootstrap/${name}`);
      const curve = (kind: LevelKind) => sweep.levels[kind].map((xs) => curvePoint(ev.scoresOf(xs), p.bootstrap, rng));
      const absolute = curve('absolute'), relative = curve('relative');
      const placement = Object.fromEntries(PLACEMENTS.map((pl) => [pl, curvePoint(ev.scoresOf(sweep.placements[pl]), p.bootstrap, rng)])) as Record<Placement, ReturnType<typeof curvePoint>>;
      sample('curves', { model: name, absolute, relative, placement, instancesPerSec: ev.instancesPerSec, trainSeconds: lm.trainSeconds });
      const relRecall = sweep.levels.relative.map((xs) => ev.scoresOf(xs).map((s) => s.recall));
      const drop = spacingDrop(relRecall, p.bootstrap, rng);
      ctx.log(`${name}: recall rel 1 ${relative[0].recall.toFixed(3)}, rel 2–16 ${mean(relative.slice(1).map((c) => c.recall)).toFixed(3)} (drop ${drop.drop.toFixed(3)}, 95 % [${drop.lo.toFixed(3)}, ${drop.hi.toFixed(3)}])`);
      if (name === 'full/levels') {
        metrics.recallAbsMin = Math.min(...absolute.map((c) => c.recall));
        metrics.recallAbsMax = Math.max(...absolute.map((c) => c.recall));
        metrics.recallRel1 = relative[0].recall;
        metrics.recallRelMean2to16 = mean(relative.slice(1).map((c) => c.recall));
        metrics.precisionRelMean = mean(relative.map((c) => c.precision));
        metrics.recallHeadTailDelta = placement.head.recall - placement.tail.recall;
        metrics.spacingDropLo = drop.lo;
        metrics.instancesPerSec = ev.instancesPerSec;
        spacingHurts = drop.drop >= 0.05 && drop.lo > 0;
      }
      const [attention, training] = name.split('/');
      if (training === 'levels') metrics[`recall${attention === 'full' ? 'Full' : 'Sliding'}_rel16`] = relative[relative.length - 1].recall;
      if (name === 'full/random') {
        metrics.recallRel1_control = relative[0].recall;
        metrics.recallRelMean2to16_control = mean(relative.slice(1).map((c) => c.recall));
      }
      // The panel's example: one relative level-2 instance, every model's answer.
      example ??= sweep.levels.relative[1][0];
      const a = ev.at.get(sweep.levels.relative[1][0]) as Answered;
      exampleAnswers.push({ model: name, values: a.values.map((v) => (Number.isNaN(v) ? null : v)), recall: a.score.recall, precision: a.score.precision, malformed: a.score.malformed });
      ctx.setLiveModel(live);
    }
    if (example) sample('instance', { ...instanceView(example), answers: exampleAnswers });
    for (const [k, v] of Object.entries(metrics)) ctx.metric(0, k, v);
    return { metrics, checks: { generatorExact, spacingHurts } };
  },
  queries: queryHandlers(longpibenchQueries, {
    instance: async ({ kind, level, placement, seed }, model) => {
      const m = model as LiveModel;
      const first = Object.values(m.models)[0];
      if (!first) throw new Error('no built-in model is loaded yet');
      const r = first.recipe;
      const x = tableInstance(kind, level, placement, { L: r.L, n: r.n, N: r.N }, r, new Rng(seed).fork('query'));
      const answers = [];
      for (const name of LONGPI_MODELS) {
        const lm = m.models[name];
        if (!lm) continue;
        const [a] = await answerAll(lm.model, [x], tableTokens(lm.recipe), 1, async () => {});
        answers.push({ model: name, values: a.values.map((v) => (Number.isNaN(v) ? null : v)), recall: a.score.recall, precision: a.score.precision, malformed: a.score.malformed });
      }
      return { ...instanceView(x), answers };
    },
  }),
  /** The models are shared parts: the run folder names which, the cache holds them. */
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
