import type { JudgeKey } from '../../shared-parts';
import { existsSync } from 'node:fs';
import { DIT_MODELS, ecDitQueries, ecDitSamples, ecDitSpec, type DitModelName, type EcDitParams } from '../../../common/labs/ec-dit';
import { sampleEmitter } from '../../../common/lab-contract';
import type { z } from 'zod';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import type { RunSummary } from '../../../common/lab';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../../runtime/checkpoint';
import { loadDataset, PIXELS, batchFloats } from '../../runtime/datasets';
import { frechetDistance } from '../../runtime/frechet';
import { Rng } from '../../runtime/rng';
import type { Judge } from '../../shared-parts/judge';
import { ditVariables, parameterCount, tokensPerImage, type Dit } from '../../nn/dit';
import { ecCapacity, ffnMacsPerToken } from '../../nn/moe';
import { trainPhase, validationLoss } from '../../train/flow-matching';
import { runTasks, taskThreadCount } from '../../runtime/task-threads';
import { buildDit, denseAtMoeHidden } from './model';
import { trainDitTask, type DitTrainInput, type DitTrainOutput } from './train-task';
import { sampleImages, tfjsVelocity, type SampleResult, type VelocityField } from '../../train/flow-sampling';
import { onnxVelocity } from '../../nn/dit-onnx';
import { inkExpertSpearman } from './ink';

interface LiveModel { models: Partial<Record<DitModelName, Dit>>; params: EcDitParams }

const judgeKey = (p: EcDitParams): JudgeKey => (p.judge === 'tiny' ? `judge:${p.dataset}:tiny` as const : `judge:${p.dataset}` as const);

const modelsOf = (p: EcDitParams) => DIT_MODELS.filter((x) => p.models.includes(x));
const parallelPhase = (p: EcDitParams, cores: number) => `train ${modelsOf(p).join(', ')} on ${cores} cores`;
const trainingPhases = (p: EcDitParams, cores: number) => {
  const threads = taskThreadCount(cores, modelsOf(p).length);
  return threads > 1 ? [parallelPhase(p, threads)] : modelsOf(p).map(trainPhase);
};

/** Every model's training: one after another here, or side by side in worker threads when the job has the cores. */
function trainModels(p: EcDitParams, ctx: RunContext): Promise<DitTrainOutput[]> {
  const models = modelsOf(p);
  const tasks = models.map((model) => ({ kind: 'ec-dit:train', input: { params: p, model } satisfies DitTrainInput }));
  return runTasks(ctx, tasks, trainDitTask, { phase: parallelPhase(p, taskThreadCount(ctx.cores, models.length)), units: models.length * p.trainSteps });
}

/** Labels of n samples, classes interleaved so every sampling batch mixes classes. */
const sampleLabels = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 10);

/** The sampling engine the params name, and how to let it go. */
async function velocityOf(m: Dit, p: EcDitParams, threads: number): Promise<{ field: VelocityField; release: () => Promise<void> }> {
  if (p.inference !== 'tfjs') return onnxVelocity(m, threads); // runs saved before the option sample on onnxruntime too
  return { field: tfjsVelocity(m), release: async () => {} };
}

export const ecDitLab: LabDefinition<typeof ecDitSpec.params> = {
  spec: ecDitSpec,
  async run(p, ctx) {
    ctx.plan(['judge', ...trainingPhases(p, ctx.cores), ...modelsOf(p).map((model) => `sample ${model}`)]);
    ctx.progress('judge', 0, 1);
    const judge = await ctx.require(judgeKey(p));
    ctx.progress('judge', 1, 1);
    try {
      return await runWithJudge(p, ctx, judge);
    } finally {
      judge.dispose(); // the queries never need it
    }
  },
  async loadModel(runDir) {
    // Every model the run trained must load: a missing or damaged checkpoint is an error
    // naming it, never a quiet answer for fewer models.
    const path = (model: DitModelName) => `${runDir}/checkpoints/${model}.ckpt`;
    const found = DIT_MODELS.filter((model) => existsSync(path(model)));
    if (!found.length) throw new Error(`no DiT checkpoint in ${runDir}/checkpoints (expected ${DIT_MODELS.map((m) => `${m}.ckpt`).join(', ')})`);
    const params = readCheckpoint(path(found[0])).meta.params as EcDitParams;
    const missing = params.models.filter((model) => !found.includes(model));
    if (missing.length) throw new Error(`checkpoint missing for the ${missing.join(', ')} model${missing.length > 1 ? 's' : ''} this run trained: ${missing.map(path).join(', ')}`);
    const models: LiveModel['models'] = {};
    for (const model of params.models) {
      const m = buildDit(params, model, new Rng(0));
      assignCheckpoint(readCheckpoint(path(model)), ditVariables(m));
      models[model] = m;
    }
    return { models, params } satisfies LiveModel;
  },
  queries: queryHandlers(ecDitQueries, {
    generate: (args, model) => generateQuery(model as LiveModel, args),
  }),
};

function activatedMacs(p: EcDitParams, model: DitModelName): number {
  const moeLayers = Math.floor(p.layers / 2), denseLayers = p.layers - moeLayers;
  const perToken = denseLayers * ffnMacsPerToken('dense', p.dModel, 4 * p.dModel, p.experts, p.capacityFactor)
    + moeLayers * (model === 'dense' ? ffnMacsPerToken('dense', p.dModel, denseAtMoeHidden(p), p.experts, p.capacityFactor) : ffnMacsPerToken(model, p.dModel, p.expertHidden, p.experts, model === 'ec' ? p.capacityFactor : 2));
  return perToken * 49;
}

/** What the panel draws for one sampling batch: frames (images per step) and experts per patch per MoE block and step. */
function routingSample(model: DitModelName, labels: ArrayLike<number>, r: SampleResult, p: EcDitParams) {
  return {
    model, labels: Array.from(labels), steps: p.sampleSteps, experts: p.experts,
    frames: r.frames.map((f) => ({
      t: f.t,
      images: Array.from(f.images, (v) => Math.round(v * 255)),
      routing: f.routing.map((rt) => ({ layer: rt.layer, expertsPerToken: Array.from(rt.expertsPerToken), expertMask: Array.from(rt.expertMask), probs: Array.from(rt.probs, (v) => Math.round(v * 1000) / 1000) })),
    })),
  };
}

async function runWithJudge(p: EcDitParams, ctx: RunContext, judge: Judge): Promise<RunSummary> {
  const ds = loadDataset(p.dataset);
  const refCount = Math.min(p.fdReference, ds.test.count);
  const refFeatures = judge.predict(batchFloats(ds.test, Array.from({ length: refCount }, (_, i) => i)).x, refCount).features;
  const live: LiveModel = { models: {}, params: p };
  ctx.setLiveModel(live);
  const sample = sampleEmitter(ecDitSamples, ctx.emit);
  const metrics: Record<string, number> = {};
  let capacityExact = true, trainSteps = 0, trainMs = 0, sampleMs = 0, sampled = 0;
  const trained = await trainModels(p, ctx);
  for (const [k, model] of modelsOf(p).entries()) {
    const { weights, stats } = trained[k];
    const m = buildDit(p, model, new Rng(p.seed).fork('init'));
    ctx.log(`${model}: ${parameterCount(m)} parameters, ${activatedMacs(p, model).toLocaleString()} activated FFN multiply-adds per image`);
    for (const [name, v] of Object.entries(ditVariables(m))) ctx.tf.tidy(() => v.assign(ctx.tf.tensor(weights[name], v.shape)));
    trainSteps += stats.steps; trainMs += stats.ms;
    saveCheckpoint(ctx.checkpointPath(model), ditVariables(m), { params: p, model });
    live.models[model] = m;
    metrics[`valLoss_${model}`] = validationLoss(m, ds.test, p, new Rng(p.seed));
    if (model === 'tc') metrics.tcDroppedTokenPct = stats.droppedPct;

    // 100 samples per class in fixed batches (the same labels and noise for every model).
    const labels = sampleLabels(10 * p.samplesPerClass);
    const images = new Float32Array(labels.length * PIXELS);
    const noise = new Rng(p.seed).fork('sampling');
    let rhoSum: number[][] | null = null, rhoBatches = 0, layers: number[] = [];
    const t0 = performance.now();
    const engine = await velocityOf(m, p, ctx.cores);
    try {
      for (let s = 0; s < labels.length; s += p.sampleBatch) {
        ctx.throwIfCancelled();
        const batch = labels.subarray(s, Math.min(labels.length, s + p.sampleBatch));
        const r: SampleResult = await sampleImages(engine.field, p.dataset, batch, p.sampleSteps, p.cfgScale, noise.fork(`batch-${s}`), { trace: model !== 'dense' });
        images.set(r.images, s * PIXELS);
        if (model === 'ec') for (const f of r.frames) for (const rt of f.routing) {
          const C = ecCapacity(batch.length * tokensPerImage(m.config), p.experts, p.capacityFactor);
          if (rt.expertsPerToken.reduce((a, b) => a + b, 0) !== p.experts * C) capacityExact = false;
        }
        if (model !== 'dense' && batch.length === p.sampleBatch) {
          const sp = inkExpertSpearman(m, r, batch.length);
          layers = sp.layers;
          rhoSum = rhoSum ? rhoSum.map((row, i) => row.map((v, j) => v + (Number.isFinite(sp.rho[i][j]) ? sp.rho[i][j] : 0))) : sp.rho.map((row) => row.map((v) => (Number.isFinite(v) ? v : 0)));
          rhoBatches++;
        }
        if (s === 0 && model !== 'dense') sample('routing', routingSample(model, batch, r, p));
        ctx.progress(`sample ${model}`, Math.min(labels.length, s + p.sampleBatch), labels.length);
        await new Promise((res) => setImmediate(res));
      }
    } finally {
      await engine.release();
    }
    sampleMs += performance.now() - t0; sampled += labels.length;
    const judged = judge.predict(images, labels.length);
    metrics[`classAcc_${model}`] = judged.labels.reduce((acc, l, i) => acc + (l === labels[i] ? 1 : 0), 0) / labels.length;
    metrics[`fd_${model}`] = frechetDistance(judged.features, labels.length, refFeatures, refCount, judge.featureDim);
    if (rhoSum && rhoBatches) {
      const rho = rhoSum.map((row) => row.map((v) => v / rhoBatches));
      metrics[`inkExpertSpearman_${model}_lastLayer`] = rho[rho.length - 1][rho[0].length - 1];
      sample('spearman', { model, layers, steps: p.sampleSteps, rho });
    }
    // A grid: the first 4 samples of every class.
    const grid: number[][] = [];
    for (let c = 0; c < 10; c++) for (let k = 0; k < Math.min(4, p.samplesPerClass); k++) grid.push(Array.from(images.subarray((k * 10 + c) * PIXELS, (k * 10 + c + 1) * PIXELS), (v) => Math.round(v * 255)));
    sample('grid', { model, images: grid, perClass: Math.min(4, p.samplesPerClass), classAcc: metrics[`classAcc_${model}`], fd: metrics[`fd_${model}`], valLoss: metrics[`valLoss_${model}`] });
  }
  if (metrics.inkExpertSpearman_ec_lastLayer !== undefined) metrics.inkExpertSpearman_lastLayer = metrics.inkExpertSpearman_ec_lastLayer;
  metrics.stepsPerSec = trainSteps / (trainMs / 1000);
  metrics.samplesPerSec = sampled / (sampleMs / 1000);
  for (const [k, v] of Object.entries(metrics)) ctx.metric(trainSteps, k, v);
  return {
    metrics,
    checks: {
      expertCapacityExact: capacityExact,
      classAccEcAbove0p8: (metrics.classAcc_ec ?? 0) > 0.8,
    },
  };
  }


/**
 * The panel's generator: 16 images (a fixed batch, so routing groups are comparable) of the
 * requested classes, cycled, from one seed, by every trained model; frames and routing per step.
 */
async function generateQuery(m: LiveModel, { classes, seed }: z.output<typeof ecDitQueries.generate.args>) {
  const B = m.params.sampleBatch;
  const labels = Int32Array.from({ length: B }, (_, i) => classes[i % classes.length]);
  const out: z.input<typeof ecDitQueries.generate.result>['models'] = {};
  for (const [name, dit] of Object.entries(m.models)) {
    if (!dit) continue;
    const engine = await velocityOf(dit, m.params, 1);
    const r = await sampleImages(engine.field, m.params.dataset, labels, m.params.sampleSteps, m.params.cfgScale, new Rng(seed).fork('generate'), { trace: name !== 'dense' }).finally(engine.release);
    out[name] = name === 'dense' ? { model: name, labels: Array.from(labels), images: Array.from(r.images, (v) => Math.round(v * 255)) } : routingSample(name as DitModelName, labels, r, m.params);
  }
  return { labels: Array.from(labels), tokensPerImage: 49, models: out }; // 7 x 7 patches of 4 x 4
}

