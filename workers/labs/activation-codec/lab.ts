import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_CODERS, activationCodecQueries, activationCodecSamples, activationCodecSpec, CODEC_LAMBDAS, type ActivationCodecParams, type ActivationCoder } from '../../../common/labs/activation-codec';
import { sampleEmitter } from '../../../common/lab-contract';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../../runtime/checkpoint';
import { codecVariables, decodeImage, disposeCodec, encodeImage, type HiddenLayer, type ImageCodec } from '../../nn/image-codec';
import { evaluateCodec, loadCodec, saveCodec } from '../../shared-parts/mse-codec';
import { applyEncoder, type ActEncoder } from './act-encoder';
import { CONTROL_FINE_TUNE_PHASE, FINE_TUNE_PHASE } from './train';
import { codecKey, encoderTensors, evalCountOf, fineTuneTask, makeEncoders, runFineTune, type FineTuneTaskInput, type FineTuneTaskOutput } from './fine-tune-task';
import { runTasks, taskThreadCount } from '../../runtime/task-threads';
import { evaluateActivations } from './evaluate';

interface LiveModel { codec: ImageCodec; encoders: Record<HiddenLayer, ActEncoder>; params: ActivationCodecParams }

/** The control and the coded fine-tune side by side (2 threads), when both run and the job has the cores. */
const parallelTunes = (p: ActivationCodecParams, cores: number) => p.trainCodec && p.fineTuneSteps > 0 && taskThreadCount(cores, 2) > 1;
const PARALLEL_TUNES_PHASE = 'fine-tunes: control and coded activations (2 threads)';

function runPlan(p: ActivationCodecParams, cores: number) {
  const tunes = p.fineTuneSteps > 0;
  const tuning = parallelTunes(p, cores) ? [PARALLEL_TUNES_PHASE] : [...(p.trainCodec && tunes ? [CONTROL_FINE_TUNE_PHASE] : []), ...(tunes ? [FINE_TUNE_PHASE] : [])];
  return ['load codec', ...tuning, 'code activations', 'rate-distortion curve'];
}

/**
 * The control (same fine-tune, float activations: what "without activation compression" means
 * here) and the fine-tune with coded activations, which trains `codec` and `encoders` in place.
 */
async function fineTunes(p: ActivationCodecParams, ctx: RunContext, codec: ImageCodec, encoders: Record<HiddenLayer, ActEncoder>, before: { psnrDb: number; bpp: number }) {
  if (parallelTunes(p, ctx.cores)) {
    const tasks = [false, true].map((coded) => ({ kind: 'activation-codec:fine-tune', input: { params: p, coded, home: ctx.partsHome } satisfies FineTuneTaskInput }));
    const [ctrl, tuned] = await runTasks<FineTuneTaskOutput>(ctx, tasks, fineTuneTask as never, { phase: PARALLEL_TUNES_PHASE, units: 2 * p.fineTuneSteps });
    tf.tidy(() => {
      for (const [k, v] of Object.entries(codecVariables(codec))) v.assign(tf.tensor(tuned.codecWeights![k], v.shape));
      for (const [k, v] of Object.entries(encoderTensors(encoders))) v.assign(tf.tensor(tuned.encoderWeights![k], v.shape));
    });
    return { control: ctrl.control!, tuned: { steps: tuned.steps, ms: tuned.ms } };
  }
  let control = before;
  if (p.trainCodec && p.fineTuneSteps > 0) {
    const twin = await ctx.require(codecKey(p, p.lambda)); // a second copy of the cached weights
    control = (await runFineTune(p, twin, null, ctx)).control!;
    disposeCodec(twin);
  }
  const tuned = await runFineTune(p, codec, encoders, ctx);
  return { control, tuned: { steps: tuned.steps, ms: tuned.ms } };
}

async function rdCurve(p: ActivationCodecParams, ctx: RunContext) {
  const points: { lambda: number; bpp: number; psnrDb: number }[] = [];
  const all = [...new Set([...CODEC_LAMBDAS, p.lambda])].sort((a, b) => a - b);
  const lambdas = p.rdCurve === 'all' ? all : p.rdCurve === 'cached' ? all.filter((l) => l === p.lambda || ctx.isCached(codecKey(p, l))) : [p.lambda];
  for (const lambda of lambdas) {
    const codec = await ctx.require(codecKey(p, lambda));
    const ev = evaluateCodec(codec, p.dataset, 200);
    points.push({ lambda, bpp: ev.bpp, psnrDb: ev.psnrDb });
    disposeCodec(codec);
  }
  return points;
}

/** Runs an image through the codec with and without coded activations (a panel query). */
function compressImage(m: LiveModel, pixels: number[]) {
  const x = Float32Array.from(pixels);
  const hook = (layer: HiddenLayer, a: tf.Tensor4D) => applyEncoder(m.encoders[layer], a, m.params.bitDepth).out;
  const plainBytes = encodeImage(m.codec, x);
  const actBytes = encodeImage(m.codec, x, hook);
  const without = decodeImage(m.codec, plainBytes);
  const withAct = decodeImage(m.codec, actBytes, hook);
  const psnr = (r: Float32Array) => 10 * Math.log10(784 / r.reduce((s, v, i) => s + (v - x[i]) ** 2, 0));
  return { without: Array.from(without), with: Array.from(withAct), bytes: actBytes.length, bpp: (actBytes.length * 8) / 784, psnrWithout: psnr(without), psnrWith: psnr(withAct) };
}

export const activationCodecLab: LabDefinition<typeof activationCodecSpec.params> = {
  spec: activationCodecSpec,
  async run(p, ctx) {
    ctx.plan(runPlan(p, ctx.cores));
    ctx.progress('load codec', 0, 1);
    const codec = await ctx.require(codecKey(p, p.lambda));
    const encoders = makeEncoders(codec, p.transform);
    ctx.setLiveModel({ codec, encoders, params: p } satisfies LiveModel);

    // The reference: the codec as cached; then the two fine-tunes.
    const before = evaluateCodec(codec, p.dataset, evalCountOf(p));
    const { control, tuned } = await fineTunes(p, ctx, codec, encoders, before);
    saveCodec(ctx.checkpointPath('codec'), codec, { lambda: p.lambda });
    saveCheckpoint(ctx.checkpointPath('encoders'), encoderTensors(encoders), { params: p });

    const ev = evaluateActivations(p, codec, encoders, (done, total) => ctx.progress('code activations', done, total));
    const total = (k: 'raw' | 'eg4' | 'seg' | 'gaussian') => ev.layers.reduce((s, l) => s + l.bits[k], 0);
    const activations = ev.layers.reduce((s, l) => s + l.activations, 0);
    const estimate = ev.layers.reduce((s, l) => s + l.gaussianEstimate, 0);
    const bpa = { raw: total('raw') / activations, eg4: total('eg4') / activations, seg: total('seg') / activations, gaussian: total('gaussian') / activations };
    const bandwidthReduction = (8 * activations) / total('gaussian');
    const psnrDropDb = control.psnrDb - ev.psnrWith;

    const sample = sampleEmitter(activationCodecSamples, ctx.emit);
    const perActivation = (l: (typeof ev.layers)[number]) => Object.fromEntries(ACTIVATION_CODERS.map((c) => [c, l.bits[c] / l.activations])) as Record<ActivationCoder, number>;
    sample('layer-bits', ev.layers.map((l) => ({ layer: l.layer, tensors: l.tensors, activations: l.activations, ...perActivation(l), gaussianEstimate: l.gaussianEstimate / l.activations })));
    sample('histograms', ev.histograms);
    sample('images', ev.images);
    ctx.progress('rate-distortion curve', 0, 1);
    const rd = await rdCurve(p, ctx);
    ctx.progress('rate-distortion curve', 1, 1);
    sample('rd', { points: rd, withActivations: { lambda: p.lambda, bpp: ev.codecBpp, psnrDb: ev.psnrWith } });
    // DRAM traffic energy at 20 pJ/bit: Horowitz, "Computing's energy problem", ISSCC 2014
    // (a 32-bit DRAM access costs ~640 pJ at 45 nm).
    const images = ev.layers[0].tensors * p.batchSize;
    sample('energy', { pjPerBit: 20, source: 'Horowitz, ISSCC 2014: ~640 pJ per 32-bit DRAM access (45 nm)', rawNjPerImage: (total('raw') * 20e-3) / images, gaussianNjPerImage: (total('gaussian') * 20e-3) / images });

    const metrics = {
      bandwidthReduction,
      psnrDb: ev.psnrWith,
      psnrDropDb,
      bitsPerActivation_raw: bpa.raw,
      bitsPerActivation_eg4: bpa.eg4,
      bitsPerActivation_seg: bpa.seg,
      bitsPerActivation_gaussian: bpa.gaussian,
      estimateErrorPct: (100 * Math.abs(total('gaussian') - estimate)) / estimate,
      codecBpp: ev.codecBpp,
      encodeMBps: ev.symbols / 1e6 / (ev.encodeMs / 1000),
      decodeMBps: ev.symbols / 1e6 / (ev.decodeMs / 1000),
      stepsPerSec: tuned.steps ? tuned.steps / (tuned.ms / 1000) : 0,
      psnrWithoutActivationCodingDb: control.psnrDb,
      codecBppWithoutActivationCoding: control.bpp,
      psnrCachedCodecDb: before.psnrDb,
      bandwidthReductionVsFloat32: (32 * activations) / total('gaussian'),
    };
    for (const [k, v] of Object.entries(metrics)) ctx.metric(tuned.steps, k, v);
    return {
      metrics,
      checks: {
        decodesBitExact: ev.decodesBitExact,
        reductionAtLeast3x: bandwidthReduction >= 3,
        psnrDropUnder0p3dB: psnrDropDb < 0.3,
        coderOrdering: bpa.gaussian <= bpa.seg && bpa.seg < bpa.raw,
      },
    };
  },
  async loadModel(runDir) {
    const codec = loadCodec(`${runDir}/checkpoints/codec.ckpt`);
    const ckpt = readCheckpoint(`${runDir}/checkpoints/encoders.ckpt`);
    const encoders = makeEncoders(codec, (ckpt.meta.params as ActivationCodecParams).transform);
    assignCheckpoint(ckpt, encoderTensors(encoders));
    return { codec, encoders, params: ckpt.meta.params as ActivationCodecParams } satisfies LiveModel;
  },
  queries: queryHandlers(activationCodecQueries, {
    compress: (args, model) => compressImage(model as LiveModel, args.pixels),
  }),
};
