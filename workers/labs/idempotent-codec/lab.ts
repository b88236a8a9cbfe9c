// Idempotent perceptual decoding (Xu et al., ICLR 2024): the MSE codec's own bits, decoded
// once as x̄ = g_s(ŷ) and once by sampling the unconditional DDPM prior under the
// constraint that re-encoding gives the same bits; scored at several rates on the same test
// images (PSNR, Fréchet distance of judge features, MSE ratio, idempotence, BD metrics).
import { sampleEmitter } from '../../../common/lab-contract';
import { idempotentCodecQueries, idempotentCodecSamples, idempotentCodecSpec, type IdempotentCodecParams } from '../../../common/labs/idempotent-codec';
import type { CodecKey, JudgeKey, PriorKey } from '../../shared-parts';
import { queryHandlers, type LabDefinition, type RunContext } from '../../runtime/context';
import { loadDataset, PIXELS } from '../../runtime/datasets';
import { frechetReference } from '../../runtime/frechet';
import { bdMetric, type BdInterpolation } from '../../runtime/bd-metrics';
import { writeFileAtomic } from '../../runtime/paths';
import { Rng } from '../../runtime/rng';
import { disposeCodec, type ImageCodec } from '../../nn/image-codec';
import type { Guidance } from '../../train/ddpm-sampling';
import type { DdpmPrior } from '../../shared-parts/prior';
import { encodeImages, mseDecode, perceptualDecode, reencode } from './decode';
import { imageMse, psnrOf, scoreRate } from './score';
import { readFileSync } from 'node:fs';
import { ANCHOR_QUALITIES, anchorPoint, type AnchorFormat, type AnchorPoint } from '../../coding/anchors';

type Row = import('zod').infer<typeof idempotentCodecSamples.rates>[number];
interface LiveModel { prior: DdpmPrior; codec: ImageCodec; params: IdempotentCodecParams; require: RunContext['require'] }

const keys = (p: IdempotentCodecParams) => ({
  codec: (lambda: number): CodecKey => (p.models === 'tiny' ? `codec:${p.dataset}:${lambda}:tiny` : `codec:${p.dataset}:${lambda}`),
  prior: (p.models === 'tiny' ? `prior:${p.dataset}:tiny` : `prior:${p.dataset}`) as PriorKey,
  judge: (p.models === 'tiny' ? `judge:${p.dataset}:tiny` : `judge:${p.dataset}`) as JudgeKey,
});

/** The rates decoded: the given λs plus the headline λ, ascending λ (descending rate). */
export const ratesOf = (p: IdempotentCodecParams) => [...new Set([...p.lambdas, p.headlineLambda])].sort((a, b) => a - b);

const dsg = (p: IdempotentCodecParams): { guidance: Guidance; steps: number } => ({ guidance: { kind: 'dsg', rate: p.dsgRate }, steps: p.dsgSteps });
const dps = (p: IdempotentCodecParams, zeta: number): { guidance: Guidance; steps: number } => ({ guidance: { kind: 'dps', zeta }, steps: p.dpsSteps });
const toBytes = (x: Float32Array, i: number) => Array.from(x.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
const clip01 = (x: Float32Array) => x.map((v) => Math.min(1, Math.max(0, v)));
const phaseOf = (lambda: number) => `decode λ=${lambda}`;

async function run(p: IdempotentCodecParams, ctx: RunContext) {
  const rates = ratesOf(p);
  const sweep = p.zetaSweep;
  ctx.plan(['load models', ...(p.anchors.length ? ['anchors'] : []), ...rates.map(phaseOf), ...sweep.map((z) => `ζ sweep ${z}`), 'BD metrics']);
  const emit = sampleEmitter(idempotentCodecSamples, ctx.emit);
  const k = keys(p);
  ctx.progress('load models', 0, 3);
  const judge = await ctx.require(k.judge);
  ctx.progress('load models', 1, 3);
  const prior = await ctx.require(k.prior);
  ctx.progress('load models', 2, 3);
  const test = loadDataset(p.dataset).test;
  const decodedCount = Math.max(p.images, p.headlineImages, sweep.length ? p.sweepImages : 0);
  if (decodedCount + p.fdReference > test.count) throw new Error(`images (${decodedCount}) + fdReference (${p.fdReference}) exceed the ${test.count} test images`);
  const originalsAll = Float32Array.from(test.pixels.subarray(0, decodedCount * PIXELS), (v) => v / 255);
  // The reference set: the last test images, never decoded.
  const refStart = test.count - p.fdReference;
  const refPixels = Float32Array.from(test.pixels.subarray(refStart * PIXELS, test.count * PIXELS), (v) => v / 255);
  const reference = frechetReference(judge.predict(refPixels, p.fdReference).features, p.fdReference, judge.featureDim);
  const floorN = p.headlineImages;
  const floor = reference.distanceTo(judge.predict(originalsAll.subarray(0, floorN * PIXELS), floorN).features, floorN);
  emit('floor', { fd: floor, images: floorN, reference: p.fdReference });

  // The anchors, on the images every rate decodes: each format over its quality settings.
  const anchorCurves: { format: AnchorFormat; points: AnchorPoint[] }[] = [];
  if (p.anchors.length) {
    const total = p.anchors.reduce((s, f) => s + ANCHOR_QUALITIES[f].length, 0);
    let done = 0;
    const originals = originalsAll.subarray(0, p.images * PIXELS);
    for (const format of p.anchors) {
      const points: AnchorPoint[] = [];
      for (const q of ANCHOR_QUALITIES[format]) { points.push(await anchorPoint(format, originals, p.images, q)); ctx.progress('anchors', ++done, total); ctx.throwIfCancelled(); }
      anchorCurves.push({ format, points });
    }
    emit('anchors', anchorCurves.map((c) => ({
      format: c.format, images: p.images,
      points: c.points.map((pt) => ({
        quality: pt.quality, bpp: pt.bpp, encodeMs: pt.encodeMs,
        psnr: psnrOf(imageMse(pt.decoded, originals, p.images).reduce((a, b) => a + b, 0) / p.images),
        fd: reference.distanceTo(judge.predict(pt.decoded, p.images).features, p.images),
      })),
    })));
  }

  const rows: Row[] = [];
  const grid: import('zod').infer<typeof idempotentCodecSamples.grid> = [];
  let live: LiveModel | undefined;
  const decodeRate = async (lambda: number, n: number, how: { guidance: Guidance; steps: number }, phase: string, zeta: number | null) => {
    ctx.progress(phase, 0, 1);
    const codec = await ctx.require(k.codec(lambda));
    const originals = originalsAll.subarray(0, n * PIXELS);
    const bits = encodeImages(codec, originals, n);
    const bpp = (bits.bytes.reduce((s, b) => s + b.length, 0) * 8) / (n * PIXELS);
    const mse = clip01(mseDecode(codec, bits.latents));
    const streams = Array.from({ length: n }, (_, i) => ctx.rng.fork(`decode/${lambda}/${zeta ?? 'dsg'}/${i}/0`));
    const t0 = performance.now();
    const idem = perceptualDecode(prior, codec, bits.latents, streams, { ...how, batch: p.batch }, (done, total) => { ctx.throwIfCancelled(); ctx.progress(phase, done, total); });
    const decodeSecPerImage = (performance.now() - t0) / 1000 / n;
    const score = scoreRate({ originals, mse, idem: idem.images, n, latents: bits.latents, codec, judge, reference, rng: ctx.rng.fork(`bootstrap/${lambda}/${zeta}`), resamples: p.bootstrap });
    rows.push({ lambda, bpp, images: n, sampler: how.guidance.kind === 'dps' ? 'dps' : 'dsg', zeta, ...score, decodeSecPerImage });
    emit('rates', rows);
    ctx.log(`λ=${lambda}: ${bpp.toFixed(3)} bpp; FD ${score.fdMse.toFixed(2)} → ${score.fdIdem.toFixed(2)} (${n} images), MSE ×${score.mseRatio.toFixed(2)}, same bits ${score.reencodeSamePct.toFixed(0)} %`);
    if (zeta === null) {
      // The side-by-side: the first images, with more perceptual samples of the same bits.
      const shown = Math.min(4, n);
      const extra = Array.from({ length: p.samplesShown - 1 }, (_, s) => perceptualDecode(prior, codec, bits.latents.slice(0, shown),
        Array.from({ length: shown }, (_, i) => ctx.rng.fork(`decode/${lambda}/${zeta ?? 'dsg'}/${i}/${s + 1}`)), { ...how, batch: p.batch }).images);
      const samples = [idem.images.subarray(0, shown * PIXELS), ...extra];
      const psnr = (x: Float32Array, i: number) => psnrOf(imageMse(x.subarray(i * PIXELS, (i + 1) * PIXELS), originals.subarray(i * PIXELS, (i + 1) * PIXELS), 1)[0]);
      grid.push({
        lambda, bpp: bits.bytes.slice(0, shown).map((b) => (b.length * 8) / PIXELS),
        original: Array.from({ length: shown }, (_, i) => toBytes(originals, i)), mse: Array.from({ length: shown }, (_, i) => toBytes(mse, i)),
        perceptual: samples.map((x) => Array.from({ length: shown }, (_, i) => toBytes(x, i))),
        psnrMse: Array.from({ length: shown }, (_, i) => psnr(mse, i)), psnrIdem: samples.map((x) => Array.from({ length: shown }, (_, i) => psnr(x, i))),
        anchors: anchorCurves.map((c) => {
          const pt = c.points.reduce((best, q) => (Math.abs(q.bpp - bpp) < Math.abs(best.bpp - bpp) ? q : best));
          return { format: c.format, quality: pt.quality, bpp: pt.bpp, images: Array.from({ length: shown }, (_, i) => toBytes(pt.decoded, i)), psnr: Array.from({ length: shown }, (_, i) => psnr(pt.decoded, i)) };
        }),
      });
      emit('grid', grid);
    }
    ctx.progress(phase, 1, 1);
    if (lambda === p.headlineLambda && zeta === null && !live) { live = { prior, codec, params: p, require: ctx.require }; ctx.setLiveModel(live); } else disposeCodec(codec);
  };

  for (const lambda of rates) {
    const headline = lambda === p.headlineLambda;
    await decodeRate(lambda, headline ? p.headlineImages : p.images, headline && p.sampler === 'dps' ? dps(p, p.zeta) : dsg(p), phaseOf(lambda), null);
  }
  for (const zeta of sweep) await decodeRate(p.headlineLambda, p.sweepImages, dps(p, zeta), `ζ sweep ${zeta}`, zeta);

  ctx.progress('BD metrics', 0, 1);
  const main = rows.filter((r) => r.zeta === null).sort((a, b) => a.bpp - b.bpp);
  const how: BdInterpolation = main.length >= 4 ? 'cubic' : 'pchip';
  const bd = (metric: (r: Row) => number, test: (r: Row) => number) => {
    if (main.length < 2) return null;
    try { return bdMetric(main.map((r) => ({ rate: r.bpp, metric: metric(r) })), main.map((r) => ({ rate: r.bpp, metric: test(r) })), how); } catch { return null; }
  };
  const bdFd = bd((r) => r.fdMse, (r) => r.fdIdem), bdPsnr = bd((r) => r.psnrMse, (r) => r.psnrIdem);
  emit('bd', { bdFd, bdPsnr, interpolation: how, rates: main.length });
  ctx.progress('BD metrics', 1, 1);
  writeFileAtomic(`${ctx.runDir}/checkpoints/model.json`, JSON.stringify({ params: p }));

  const h = rows.find((r) => r.lambda === p.headlineLambda && r.zeta === null)!;
  const metrics = {
    bpp: h.bpp, psnr_mse: h.psnrMse, psnr_idem: h.psnrIdem, fd_mse: h.fdMse, fd_idem: h.fdIdem, fd_realFloor: floor, mseRatio: h.mseRatio,
    psnr_reencode: h.psnrReencode, reencodeSameSymbolsPct: h.reencodeSamePct, reencodeSameSymbolsPct_mse: h.reencodeSamePctMse,
    bdFd: bdFd ?? NaN, bdPsnr: bdPsnr ?? NaN, decodeSecPerImage: h.decodeSecPerImage,
  };
  const checks = {
    fdImproves: main.every((r) => r.fdIdem < r.fdMse && r.fdDiffCi[0] > 0),
    mseWithin2p5x: h.mseRatio <= 2.5,
    idempotent: h.reencodeSamePct >= 90 || (h.reencodeSamePctMse < 90 && h.reencodeSamePct >= h.reencodeSamePctMse - 5),
  };
  judge.dispose();
  return { metrics, checks };
}

/** The user's image through the headline codec, decoded both ways, each decode re-encoded. */
function decodeQuery(m: LiveModel, pixels: number[], samples: number, seed: number) {
  const p = m.params;
  const x = Float32Array.from(pixels);
  const bits = encodeImages(m.codec, x, 1);
  const mse = clip01(mseDecode(m.codec, bits.latents));
  const t0 = performance.now();
  const rng = new Rng(seed);
  const streams = Array.from({ length: samples }, (_, s) => rng.fork(`query/${s}`));
  const latents = new Array(samples).fill(bits.latents[0]);
  const how = p.sampler === 'dps' && p.dpsSteps <= 100 ? dps(p, p.zeta) : dsg(p); // a query stays interactive: DSG unless DPS is short
  const idem = perceptualDecode(m.prior, m.codec, latents, streams, { ...how, batch: samples }).images;
  const decodeSeconds = (performance.now() - t0) / 1000;
  const same = reencode(m.codec, idem, latents).same;
  const sameMse = reencode(m.codec, mse, bits.latents).same[0];
  const psnr = (y: Float32Array, i: number) => psnrOf(imageMse(y.subarray(i * PIXELS, (i + 1) * PIXELS), x, 1)[0]);
  return {
    bytes: bits.bytes[0].length, bpp: (bits.bytes[0].length * 8) / PIXELS, lambda: p.headlineLambda,
    mse: Array.from(mse), perceptual: Array.from({ length: samples }, (_, i) => Array.from(idem.subarray(i * PIXELS, (i + 1) * PIXELS))),
    psnrMse: psnr(mse, 0), psnrIdem: Array.from({ length: samples }, (_, i) => psnr(idem, i)),
    sameBitsMse: sameMse, sameBitsIdem: same, decodeSeconds,
  };
}

/** A decode's bits against its original's, with the codec of the decode's rate (one of the run's). */
async function recompressQuery(m: LiveModel, lambda: number, original: number[], decoded: number[]) {
  if (!ratesOf(m.params).includes(lambda)) throw new Error(`λ=${lambda} is not one of this run's rates (${ratesOf(m.params).join(', ')})`);
  const codec = lambda === m.params.headlineLambda ? m.codec : await m.require(keys(m.params).codec(lambda));
  try {
    const a = encodeImages(codec, Float32Array.from(original), 1), b = encodeImages(codec, Float32Array.from(decoded), 1);
    let diff = 0;
    for (let i = 0; i < a.latents[0].length; i++) diff += Math.abs(a.latents[0][i] - b.latents[0][i]);
    const identical = a.bytes[0].length === b.bytes[0].length && a.bytes[0].every((v, i) => v === b.bytes[0][i]);
    return { originalBytes: a.bytes[0].length, decodedBytes: b.bytes[0].length, identical, symbolDistance: diff / a.latents[0].length };
  } finally {
    if (codec !== m.codec) disposeCodec(codec);
  }
}

export const idempotentCodecLab: LabDefinition<typeof idempotentCodecSpec.params> = {
  spec: idempotentCodecSpec,
  run,
  async loadModel(runDir, ctx) {
    const { params } = JSON.parse(readFileSync(`${runDir}/checkpoints/model.json`, 'utf8')) as { params: IdempotentCodecParams };
    const k = keys(params);
    return { prior: await ctx.require(k.prior), codec: await ctx.require(k.codec(params.headlineLambda)), params, require: ctx.require } satisfies LiveModel;
  },
  queries: queryHandlers(idempotentCodecQueries, {
    decode: (args, model) => decodeQuery(model as LiveModel, args.pixels, args.samples, args.seed),
    recompress: (args, model) => recompressQuery(model as LiveModel, args.lambda, args.original, args.decoded),
  }),
};
