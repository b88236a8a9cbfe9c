// Conditional perceptual quality codec (Xu et al., arXiv 2308.08154): at each rate one G1
// (the MSE codec with side information Y at every scale, a cached shared part) makes the
// bits; its MSE decode x̄ and four G2 decoders of the same bits (conditional or
// unconditional critic, with or without decoder-side shared noise ε, and G1 and G2 without
// Y as the fully unconditional reference) are scored by conditional Fréchet distance,
// semantic agreement, mask IoU and diversity.
import * as tf from '@tensorflow/tfjs';
import { sampleEmitter } from '../../../common/lab-contract';
import { COND_ARMS, COND_REFERENCE_LADDER, condPerceptualQueries, condPerceptualSamples, condPerceptualSpec, type CondArm, type CondDecoder, type CondPerceptualParams } from '../../../common/labs/cond-perceptual';
import { coarseMask, sideChannels, sideFromValues } from '../../data/side-info';
import { disposeCodec, encodeStream, synthesis, type ImageCodec, type Synthesis } from '../../nn/image-codec';
import { assignCheckpoint, readCheckpoint, saveCheckpoint } from '../../runtime/checkpoint';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import { loadDataset, PIXELS } from '../../runtime/datasets';
import { writeFileAtomic } from '../../runtime/paths';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { Rng } from '../../runtime/rng';
import { runTasks, taskThreadCount, type TaskIo } from '../../runtime/task-threads';
import type { Judge } from '../../shared-parts/judge';
import { ARM_SPEC, buildG2, g1Key, g1Pass, g2Decode, judgeKey } from './decoders';
import { bitsPerImage, conditionalFd, conditionalFdGap, diversity, heldOut, openRateDecoders, references, scoreDecodes, type DecoderScore, type ImageRows } from './evaluate';
import { armPhase, g2FromWeights, trainArm, type ArmTrainInput, type ArmTrainOutput } from './train-arm';

/** A rate: G1 with Y at `lambda`, the reference's G1 without Y at `referenceLambda`, and the G2s. */
interface RateModels { lambda: number; referenceLambda: number; g1: ImageCodec; g1NoY: ImageCodec; g2: Partial<Record<CondArm, Synthesis>> }
interface LiveModel { params: CondPerceptualParams; rates: RateModels[]; judge: Judge }

/** Rates lowest first (the largest λ is the highest rate; the smallest, the low rate the headline reads). */
export const ratesOf = (p: CondPerceptualParams) => [...new Set(p.lambdas)].sort((a, b) => a - b);
const trainPhase = (p: CondPerceptualParams, cores: number) => `train ${ratesOf(p).length * COND_ARMS.length} decoders on ${cores} cores`;
const evalPhase = (lambda: number) => `evaluate λ=${lambda}`;
/** Images of each class whose ε draws measure diversity (the first of each fills the grid). */
const DIVERSITY_PER_CLASS = 5;
const toBytes = (x: Float32Array, i: number) => Array.from(x.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

function plan(p: CondPerceptualParams, cores: number) {
  const tasks = ratesOf(p).length * COND_ARMS.length;
  const training = taskThreadCount(cores, tasks) > 1 ? [trainPhase(p, taskThreadCount(cores, tasks))] : ratesOf(p).flatMap((l) => COND_ARMS.map((a) => armPhase(a, l)));
  return ['load models', ...training, ...ratesOf(p).map(evalPhase), 'bootstrap'];
}

/**
 * The reference's G1 without Y at a rate: G1's own λ (sameLambda), or the λ of the ladder, at
 * or below G1's, whose codec's bits are closest to G1-with-Y's: bisection finds the highest λ
 * that spends no more, then it or the next λ up, whichever is closer. A
 * codec's bits fall as λ falls, in cliffs (a ladder step can jump from 0 to ~60 bits), so the
 * match can be loose: both bit counts are reported. Each probe is a cached shared part.
 */
async function referenceCodec(p: CondPerceptualParams, ctx: RunContext, lambda: number, bits: number, images: ImageRows) {
  if (p.reference === 'sameLambda') return { lambda, g1NoY: await ctx.require(g1Key(p, lambda, false)) };
  const ladder = COND_REFERENCE_LADDER.filter((l) => l <= lambda);
  if (!ladder.length) throw new RangeError(`λ=${lambda} is below the reference ladder (${COND_REFERENCE_LADDER.join(', ')})`);
  const loaded = new Map<number, { codec: ImageCodec; bits: number }>();
  const probe = async (l: number) => {
    if (!loaded.has(l)) { const codec = await ctx.require(g1Key(p, l, false)); loaded.set(l, { codec, bits: bitsPerImage(p, codec, images) }); }
    return loaded.get(l)!.bits;
  };
  // The first index (highest λ) that fits, or the ladder's end.
  let lo = 0, hi = ladder.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await probe(ladder[mid])) <= bits) hi = mid; else lo = mid + 1;
  }
  const candidates = hi > 0 ? [ladder[hi], ladder[hi - 1]] : [ladder[hi]];
  for (const l of candidates) await probe(l);
  const chosen = candidates.reduce((a, b) => (Math.abs(loaded.get(b)!.bits - bits) < Math.abs(loaded.get(a)!.bits - bits) ? b : a));
  for (const [l, c] of loaded) if (l !== chosen) disposeCodec(c.codec);
  ctx.log(`the reference at λ=${lambda} (${bits.toFixed(1)} bits an image with Y): G1 without Y at λ=${chosen}, ${loaded.get(chosen)!.bits.toFixed(1)} bits`);
  return { lambda: chosen, g1NoY: loaded.get(chosen)!.codec };
}

async function trainDecoders(p: CondPerceptualParams, ctx: RunContext, rates: readonly RateModels[]): Promise<ArmTrainOutput[]> {
  const inputs: ArmTrainInput[] = rates.flatMap((r) => COND_ARMS.map((arm) => ({ params: p, arm, lambda: r.lambda, g1Lambda: ARM_SPEC[arm].g1Side ? r.lambda : r.referenceLambda, home: ctx.partsHome })));
  const tasks = inputs.map((input) => ({ kind: 'cond-perceptual:train-arm', input }));
  // On one core the arms train here, on the G1s this run already loaded (threads load their own).
  const handler = async (input: ArmTrainInput, io: TaskIo) => {
    const r = rates.find((x) => x.lambda === input.lambda)!;
    return trainArm(ARM_SPEC[input.arm].g1Side ? r.g1 : r.g1NoY, p, input.arm, input.lambda, io);
  };
  return runTasks(ctx, tasks, handler, { phase: trainPhase(p, taskThreadCount(ctx.cores, tasks.length)), units: tasks.length * p.generatorSteps });
}

async function run(p: CondPerceptualParams, ctx: RunContext) {
  ctx.plan(plan(p, ctx.cores));
  const emit = sampleEmitter(condPerceptualSamples, ctx.emit);
  const rates = ratesOf(p);
  const held = heldOut(loadDataset(p.dataset), p.perClass, p.referencePerClass);
  ctx.progress('load models', 0, 1 + 2 * rates.length);
  const judge = await ctx.require(judgeKey(p));
  ctx.progress('load models', 1, 1 + 2 * rates.length);
  const live: LiveModel = { params: p, rates: [], judge };
  for (const [i, lambda] of rates.entries()) {
    const g1 = await ctx.require(g1Key(p, lambda, true));
    ctx.progress('load models', 2 + 2 * i, 1 + 2 * rates.length);
    const ref = await referenceCodec(p, ctx, lambda, bitsPerImage(p, g1, held.decoded), held.decoded);
    ctx.progress('load models', 3 + 2 * i, 1 + 2 * rates.length);
    live.rates.push({ lambda, referenceLambda: ref.lambda, g1, g1NoY: ref.g1NoY, g2: {} });
  }
  const trained = await trainDecoders(p, ctx, live.rates);
  for (const t of trained) {
    const r = live.rates.find((x) => x.lambda === t.lambda)!;
    const g1 = ARM_SPEC[t.arm].g1Side ? r.g1 : r.g1NoY;
    r.g2[t.arm] = g2FromWeights(g1, p, t.arm, t.weights);
    saveCheckpoint(armCheckpoint(ctx.runDir, t.arm, t.lambda), r.g2[t.arm]!.weights, { params: p, arm: t.arm, lambda: t.lambda });
    ctx.log(`${t.arm} at λ=${t.lambda}: ${p.generatorSteps} G2 steps in ${t.seconds.toFixed(0)} s; last critic estimate ${t.curve.at(-1)?.wasserstein.toFixed(3)}`);
  }
  ctx.setLiveModel(live);
  writeFileAtomic(`${ctx.runDir}/checkpoints/model.json`, JSON.stringify({ params: p, referenceLambdas: live.rates.map((r) => r.referenceLambda) }));

  const refs = references(judge, held.reference);
  const floorFeats = judge.predict(held.floor.x, held.floor.n).features;
  const floorCondFd = conditionalFd(refs, floorFeats, held.floor.labels);
  emit('floor', { condFd: floorCondFd, fd: refs.all.distanceTo(floorFeats, held.floor.n), perClass: p.perClass });

  const metrics: Record<string, number> = { condFd_realFloor: floorCondFd };
  const rows: { lambda: number; scores: DecoderScore[] }[] = [];
  const rateRows: z.input<typeof condPerceptualSamples.rates> = [];
  let lowFeatures: Partial<Record<CondDecoder, Float32Array>> = {};
  for (const r of live.rates) {
    const phase = evalPhase(r.lambda), decoders: CondDecoder[] = ['mse', ...COND_ARMS];
    const bits = bitsPerImage(p, r.g1, held.decoded), bitsNoY = bitsPerImage(p, r.g1NoY, held.decoded);
    const scores: DecoderScore[] = [], features: Partial<Record<CondDecoder, Float32Array>> = {};
    const few = subset(held.decoded, p.perClass, Math.min(DIVERSITY_PER_CLASS, p.perClass)), shown = gridIndices(few.labels, Math.min(DIVERSITY_PER_CLASS, p.perClass));
    const gridDecodes: { decoder: CondDecoder; images: number[][] }[] = [];
    const engine = await openRateDecoders(p, r, ctx.cores);
    try {
      for (const [i, decoder] of decoders.entries()) {
        ctx.throwIfCancelled();
        const seed = new Rng(p.seed).fork(`eps ${r.lambda}`).nextU32();
        const decodes = await engine.decode(decoder, held.decoded, seed);
        // ε draws of the same bits for a few images of every class (x̄ has one decode).
        const draws: Float32Array[] = [];
        for (let d = 0; d < (decoder === 'mse' ? 1 : p.draws); d++) draws.push(await engine.decode(decoder, few, seed + 7919 * (d + 1)));
        const scored = scoreDecodes(judge, refs, decoder, decodes, held.decoded, decoder === 'mse' ? 0 : diversity(draws, few.n));
        scores.push(scored.score);
        features[decoder] = scored.features;
        if (r.lambda === rates[0]) {
          gridDecodes.push({ decoder, images: draws.flatMap((d) => shown.map((i2) => toBytes(d, i2))) });
        }
        ctx.progress(phase, i + 1, decoders.length);
        await new Promise((res) => setImmediate(res));
      }
    } finally {
      await engine.release();
    }
    rows.push({ lambda: r.lambda, scores });
    rateRows.push({ lambda: r.lambda, bitsPerImage: bits, bitsPerImageNoY: bitsNoY, referenceLambda: r.referenceLambda, bpp: bits / PIXELS, images: held.decoded.n, decoders: scores });
    emit('rates', [...rateRows]); // every rate so far: the panel shows the last sample's
    if (r.lambda === rates[0]) {
      lowFeatures = features;
      metrics.bitsPerImage_lowRate = bits; metrics.bitsPerImageNoY_lowRate = bitsNoY; metrics.referenceLambda_lowRate = r.referenceLambda;
      emit('grid', {
        lambda: r.lambda, side: p.side, labels: shown.map((i) => few.labels[i]),
        masks: shown.map((i) => Array.from(coarseMask(few.x, i * PIXELS))),
        original: shown.map((i) => toBytes(few.x, i)), decodes: gridDecodes,
      });
    }
  }
  const low = rows[0].scores, of = (d: CondDecoder) => low.find((s) => s.decoder === d)!;
  for (const d of ['cond', 'uncondCritic', 'uncondAll', 'mse'] as const) metrics[`condFd_${d}`] = of(d).condFd;
  metrics.condFd_noEps_lowRate = of('noEps').condFd; metrics.condFd_eps_lowRate = of('cond').condFd;
  metrics.semanticAgree_cond_lowRate = of('cond').semanticAgree; metrics.semanticAgree_uncondAll_lowRate = of('uncondAll').semanticAgree;
  metrics.semanticAgree_cond_minOverRates = Math.min(...rows.map((r) => r.scores.find((s) => s.decoder === 'cond')!.semanticAgree));
  metrics.diversity_eps = of('cond').diversity; metrics.diversity_noEps = of('noEps').diversity;
  metrics.psnr_cond = of('cond').psnr; metrics.psnr_mse = of('mse').psnr;
  metrics.maskIou_cond = of('cond').maskIou; metrics.maskIou_uncondAll = of('uncondAll').maskIou; metrics.maskIou_mse = of('mse').maskIou;

  ctx.progress('bootstrap', 0, 1);
  const gap = conditionalFdGap(refs, lowFeatures.noEps!, lowFeatures.cond!, held.decoded.labels, p.bootstrap, new Rng(p.seed).fork('bootstrap'));
  emit('epsEffect', { difference: metrics.condFd_noEps_lowRate - metrics.condFd_eps_lowRate, lo: gap.lo, hi: gap.hi, resamples: p.bootstrap });
  metrics.condFdEpsGap_lo = gap.lo; metrics.condFdEpsGap_hi = gap.hi;
  ctx.progress('bootstrap', 1, 1);
  for (const [k, v] of Object.entries(metrics)) ctx.metric(p.generatorSteps, k, v);
  return {
    metrics,
    checks: {
      condFdLowest: metrics.condFd_cond < Math.min(metrics.condFd_uncondCritic, metrics.condFd_uncondAll, metrics.condFd_mse),
      semanticAtLeast95pct: metrics.semanticAgree_cond_minOverRates >= 0.95,
      epsLowersCondFd: gap.lo > 0,
    },
  };
}

/** The first `count` of each class's `perClass` rows (rows are grouped by class). */
function subset(rows: ImageRows, perClass: number, count: number): ImageRows {
  const ids = Array.from({ length: rows.n / perClass }, (_, c) => Array.from({ length: count }, (_, k) => c * perClass + k)).flat();
  const x = new Float32Array(ids.length * PIXELS);
  ids.forEach((id, j) => x.set(rows.x.subarray(id * PIXELS, (id + 1) * PIXELS), j * PIXELS));
  return { x, labels: Int32Array.from(ids, (id) => rows.labels[id]), n: ids.length };
}

/** The first image of each class (the grid's columns). */
function gridIndices(labels: Int32Array, perClass: number): number[] {
  return Array.from({ length: 10 }, (_, c) => c * perClass).filter((i) => i < labels.length);
}

/** The user's image: its bits from G1 with its own Y, decoded with the Y the user picked by x̄ and each decoder. */
function decodeQuery(m: LiveModel, args: { pixels: number[]; lambda: number; encodeSide: number | number[]; decodeSide: number | number[]; draws: number; seed: number }) {
  const p = m.params, r = m.rates.find((x) => x.lambda === args.lambda);
  if (!r) throw new RangeError(`λ=${args.lambda} is not one of this run's rates (${m.rates.map((x) => x.lambda).join(', ')})`);
  const x = Float32Array.from(args.pixels);
  const asSide = (v: number | number[], name: string) => {
    if (p.side === 'class' && typeof v !== 'number') throw new RangeError(`${name}: this run's Y is the class, a number 0–9`);
    if (p.side === 'mask' && !Array.isArray(v)) throw new RangeError(`${name}: this run's Y is a 7 × 7 mask, a list of 49 values`);
    return p.side === 'class' ? sideFromValues('class', [v as number]) : sideFromValues('mask', [v as number[]]);
  };
  const enc = asSide(args.encodeSide, 'encodeSide'), dec = asSide(args.decodeSide, 'decodeSide'), K = sideChannels(p.side);
  const bytes = encodeStream(r.g1, x, 1, undefined, enc.map);
  const decodes = tf.tidy(() => {
    const xs = tf.tensor2d(x, [1, PIXELS]);
    const encMap = tf.tensor4d(enc.map, [1, 7, 7, K]), decMap = tf.tensor4d(dec.map, [1, 7, 7, K]);
    const { yHat } = g1Pass(r.g1, xs, encMap);
    const noY = g1Pass(r.g1NoY, xs, undefined);
    const out: { decoder: CondDecoder; images: Float32Array[] }[] = [{ decoder: 'mse', images: [tf.clipByValue(synthesis(r.g1, yHat, undefined, decMap), 0, 1).dataSync() as Float32Array] }];
    for (const arm of COND_ARMS) {
      const g2 = r.g2[arm];
      if (!g2) continue;
      const bits = ARM_SPEC[arm].g1Side ? yHat : noY.yHat;
      const n = ARM_SPEC[arm].eps ? args.draws : 1;
      out.push({ decoder: arm, images: Array.from({ length: n }, (_, d) => tf.clipByValue(g2Decode(g2, arm, bits, decMap, args.seed * 101 + d), 0, 1).dataSync() as Float32Array) });
    }
    return out;
  });
  return {
    bits: bytes.length * 8, lambda: r.lambda, encodeMask: Array.from(p.side === 'mask' ? enc.map : coarseMask(x)),
    decodes: decodes.map((d) => ({ decoder: d.decoder, images: d.images.map((im) => Array.from(im)), judged: Array.from(m.judge.predict(concat(d.images), d.images.length).labels) })),
  };
}

const armCheckpoint = (runDir: string, arm: CondArm, lambda: number) => `${runDir}/checkpoints/g2-${arm}-${lambda}.ckpt`;
const concat = (xs: Float32Array[]) => { const out = new Float32Array(xs.length * PIXELS); xs.forEach((x, i) => out.set(x, i * PIXELS)); return out; };

export const condPerceptualLab: LabDefinition<typeof condPerceptualSpec.params> = {
  spec: condPerceptualSpec,
  run,
  async loadModel(runDir, ctx) {
    // Runs from before the rate-matched reference have no referenceLambdas: theirs was at G1's own λ.
    const saved = JSON.parse(readFileSync(`${runDir}/checkpoints/model.json`, 'utf8')) as { params: CondPerceptualParams; referenceLambdas?: number[] };
    const p = saved.params;
    const live: LiveModel = { params: p, rates: [], judge: await ctx.require(judgeKey(p)) };
    for (const [i, lambda] of ratesOf(p).entries()) {
      const referenceLambda = saved.referenceLambdas?.[i] ?? lambda;
      const r: RateModels = { lambda, referenceLambda, g1: await ctx.require(g1Key(p, lambda, true)), g1NoY: await ctx.require(g1Key(p, referenceLambda, false)), g2: {} };
      for (const arm of COND_ARMS) {
        const g2 = buildG2(ARM_SPEC[arm].g1Side ? r.g1 : r.g1NoY, p, arm, new Rng(0));
        assignCheckpoint(readCheckpoint(armCheckpoint(runDir, arm, lambda)), g2.weights);
        r.g2[arm] = g2;
      }
      live.rates.push(r);
    }
    return live;
  },
  queries: queryHandlers(condPerceptualQueries, { decode: (args, model) => decodeQuery(model as LiveModel, args) }),
};
