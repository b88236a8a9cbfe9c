// cond-perceptual smoke run end to end (in a file of its own: its tensor count is its own):
// one rate's G1 with and without Y, four G2 decoders trained against their critics, every
// metric and check, the mechanism's exact properties (no ε: no diversity; the rate counted
// from one arithmetic-coded stream), the decode query with a different Y, the same numbers
// from the arms trained in worker threads, the decodes on onnxruntime equal TF.js's, and no
// tensor left behind.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveParams } from '../common/lab';
import { COND_DECODERS, COND_REFERENCE_LADDER, condPerceptualSpec } from '../common/labs/cond-perceptual';
import { condPerceptualLab } from '../workers/labs/cond-perceptual/lab';
import { heldOut, openRateDecoders } from '../workers/labs/cond-perceptual/evaluate';
import { codecVariables, disposeCodec, encodeStream, type ImageCodec, type Synthesis } from '../workers/nn/image-codec';
import { sideInfo } from '../workers/data/side-info';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

const home = mkdtempSync(join(tmpdir(), 'bt-cond-'));
const params = resolveParams(condPerceptualSpec, 'smoke', { seed: 6 });
const lambda0 = params.lambdas[0];
type Live = { rates: { lambda: number; g1: ImageCodec; g1NoY: ImageCodec; g2: Record<string, Synthesis> }[]; judge: { dispose(): void } };

describe('cond-perceptual lab run (smoke, seed 6)', () => {
  it('decodes one rate\'s bits five ways, scores them, answers the decode query with another Y, leaks nothing', async () => {
    const { ctx, events, live } = await testContext(6, { home });
    const before = tf.memory().numTensors;
    const r = await condPerceptualLab.run(params, ctx);
    for (const m of condPerceptualSpec.metrics) expect(typeof r.metrics[m], m).toBe('number');
    for (const c of condPerceptualSpec.checks) expect(typeof r.checks[c], c).toBe('boolean');
    // Without ε a decoder is a function of the bits: its draws are identical. With ε they differ.
    expect(r.metrics.diversity_noEps).toBe(0);
    expect(r.metrics.diversity_eps).toBeGreaterThan(0);
    expect(r.metrics.condFdEpsGap_lo).toBeLessThanOrEqual(r.metrics.condFdEpsGap_hi);
    const m = live() as Live;
    // The rate: one stream over every decoded image, its bits divided by their number.
    const held = heldOut(loadDataset('mnist'), params.perClass, params.referencePerClass);
    const side = sideInfo('class', held.decoded.labels, held.decoded.x, held.decoded.n).map;
    expect(r.metrics.bitsPerImage_lowRate).toBe((encodeStream(m.rates[0].g1, held.decoded.x, held.decoded.n, undefined, side).length * 8) / held.decoded.n);
    // The reference without Y at the same rate: of the ladder's λs at or below G1's, its bits are closer to G1-with-Y's than its neighbours'.
    const refLambda = r.metrics.referenceLambda_lowRate, target = r.metrics.bitsPerImage_lowRate;
    const bitsNoY = (c: ImageCodec) => (encodeStream(c, held.decoded.x, held.decoded.n).length * 8) / held.decoded.n;
    expect(r.metrics.bitsPerImageNoY_lowRate).toBe(bitsNoY(m.rates[0].g1NoY));
    const ladder = COND_REFERENCE_LADDER.filter((l) => l <= lambda0), at = ladder.indexOf(refLambda as (typeof ladder)[number]);
    expect(at).toBeGreaterThanOrEqual(0);
    for (const l of [ladder[at - 1], ladder[at + 1]].filter((x) => x !== undefined)) {
      const other = await ctx.require(`codec:mnist:${l}:tiny` as 'codec:mnist:0.001:tiny');
      expect(Math.abs(r.metrics.bitsPerImageNoY_lowRate - target)).toBeLessThanOrEqual(Math.abs(bitsNoY(other) - target));
      disposeCodec(other);
    }
    const grid = (events.filter((e) => e.type === 'sample' && e.kind === 'grid').at(-1) as { data: { original: number[][]; decodes: { decoder: string; images: number[][] }[] } }).data;
    expect(grid.original).toHaveLength(10);
    expect(Object.fromEntries(grid.decodes.map((d) => [d.decoder, d.images.length]))).toEqual({ mse: 10, cond: 20, uncondCritic: 20, noEps: 20, uncondAll: 20 });

    const contract = contractChecker(condPerceptualLab);
    const digit = Array.from(batchFloats(loadDataset('mnist').test, [0]).x); // a 7
    const lambda = params.lambdas[0];
    type Out = { bits: number; decodes: { decoder: string; images: number[][]; judged: number[] }[] };
    const same = await contract.query('decode', { pixels: digit, lambda, encodeSide: 7, decodeSide: 7, draws: 2, seed: 1 }, m) as Out;
    const other = await contract.query('decode', { pixels: digit, lambda, encodeSide: 7, decodeSide: 2, draws: 2, seed: 1 }, m) as Out;
    expect(other.bits).toBe(same.bits); // the decoder's Y does not change the bits
    const mse = (o: Out) => o.decodes.find((d) => d.decoder === 'mse')!.images[0];
    expect(mse(other)).not.toEqual(mse(same));
    const noY = (o: Out) => o.decodes.find((d) => d.decoder === 'uncondAll')!.images;
    expect(noY(other)).toEqual(noY(same)); // the reference without Y ignores it
    expect(same.decodes.find((d) => d.decoder === 'cond')!.images).toHaveLength(2);
    await expect(contract.query('decode', { pixels: digit, lambda: 0.5, encodeSide: 7, decodeSide: 7 }, m)).rejects.toThrow(/λ=0.5 is not one of this run's rates/);
    await expect(contract.query('decode', { pixels: digit, lambda, encodeSide: 7, decodeSide: new Array(49).fill(0) }, m)).rejects.toThrow(/decodeSide: this run's Y is the class/);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    // The evaluation's decodes on onnxruntime (the default engine) equal TF.js's: every decoder, ε from the same seeds.
    const tfjs = await openRateDecoders({ ...params, inference: 'tfjs' }, m.rates[0], 1), ort = await openRateDecoders(params, m.rates[0], 1);
    for (const d of COND_DECODERS) {
      const a = await tfjs.decode(d, held.decoded, 5), b = await ort.decode(d, held.decoded, 5);
      let close = 0;
      for (let i = 0; i < held.decoded.n; i++) if (a.subarray(i * 784, (i + 1) * 784).every((v, q) => Math.abs(v - b[i * 784 + q]) < 1e-4)) close++;
      expect(close / held.decoded.n, d).toBeGreaterThanOrEqual(0.99); // an image whose ŷ rounds the other way at a half may differ
    }
    await ort.release();
    // Only the live model remains: the judge (for the query's labels), the G1s and the G2s.
    m.judge.dispose();
    const owned = m.rates.flatMap((x) => [...Object.values(codecVariables(x.g1)), ...Object.values(codecVariables(x.g1NoY)), ...Object.values(x.g2).flatMap((g) => Object.values(g.weights))]);
    expect(tf.memory().numTensors - before).toBe(owned.length);
    for (const v of owned) v.dispose();

    // The arms trained in worker threads on 2 cores give the very same numbers.
    const two = await testContext(6, { home, cores: 2 });
    const r2 = await condPerceptualLab.run(params, two.ctx);
    expect(r2.metrics).toEqual(r.metrics);
    const m2 = two.live() as Live;
    m2.judge.dispose();
    for (const x of m2.rates) for (const v of owns(x)) v.dispose();
  }, 900_000);

  it('with a painted mask as Y: the mask G1, IoU scores, the query takes 49 cells and refuses a class', async () => {
    const { ctx, live } = await testContext(6, { home });
    const p = resolveParams(condPerceptualSpec, 'smoke', { seed: 6, side: 'mask' });
    const r = await condPerceptualLab.run(p, ctx);
    for (const k of ['maskIou_cond', 'maskIou_uncondAll', 'maskIou_mse']) { expect(r.metrics[k], k).toBeGreaterThanOrEqual(0); expect(r.metrics[k], k).toBeLessThanOrEqual(1); }
    expect(r.metrics.diversity_noEps).toBe(0);
    const m = live() as Live;
    const contract = contractChecker(condPerceptualLab);
    const digit = Array.from(batchFloats(loadDataset('mnist').test, [0]).x);
    const full = new Array(49).fill(1), empty = new Array(49).fill(0);
    type Out = { bits: number; encodeMask: number[]; decodes: { decoder: string; images: number[][] }[] };
    const a = await contract.query('decode', { pixels: digit, lambda: p.lambdas[0], encodeSide: empty, decodeSide: full, draws: 1 }, m) as Out;
    const b = await contract.query('decode', { pixels: digit, lambda: p.lambdas[0], encodeSide: empty, decodeSide: empty, draws: 1 }, m) as Out;
    expect(a.bits).toBe(b.bits);
    expect(a.encodeMask).toEqual(empty);
    expect(a.decodes.find((d) => d.decoder === 'mse')!.images[0]).not.toEqual(b.decodes.find((d) => d.decoder === 'mse')!.images[0]);
    await expect(contract.query('decode', { pixels: digit, lambda: p.lambdas[0], encodeSide: 7, decodeSide: full }, m)).rejects.toThrow(/encodeSide: this run's Y is a 7 × 7 mask/);
    m.judge.dispose();
    for (const x of m.rates) for (const v of owns(x)) v.dispose();
  }, 900_000);
});

/** Every variable a rate of the live model holds (its G1s and G2s). */
function owns(x: Live['rates'][number]) {
  return [...Object.values(codecVariables(x.g1)), ...Object.values(codecVariables(x.g1NoY)), ...Object.values(x.g2).flatMap((g) => Object.values(g.weights))];
}
