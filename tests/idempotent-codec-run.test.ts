// idempotent-codec smoke run end to end, in a file of its own (its tensor count is its own):
// real bitstreams at two rates, the MSE and the perceptual decode of the same bits, every
// metric and check, the decode query as the panel asks it, and no tensor left behind.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveParams } from '../common/lab';
import { idempotentCodecSpec } from '../common/labs/idempotent-codec';
import { idempotentCodecLab } from '../workers/labs/idempotent-codec/lab';
import { codecVariables, type ImageCodec } from '../workers/nn/image-codec';
import { ditVariables } from '../workers/nn/dit';
import type { DdpmPrior } from '../workers/shared-parts/prior';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

const home = mkdtempSync(join(tmpdir(), 'bt-idem-'));
const params = resolveParams(idempotentCodecSpec, 'smoke', { seed: 4 });

describe('idempotent-codec lab run (smoke, seed 4)', () => {
  it('decodes the same bits two ways at every rate, scores them, answers the decode query, leaks nothing', async () => {
    const { ctx, events, live } = await testContext(4, { home });
    const before = tf.memory().numTensors;
    const r = await idempotentCodecLab.run(params, ctx);
    for (const m of idempotentCodecSpec.metrics) expect(typeof r.metrics[m], m).toBe('number');
    for (const c of idempotentCodecSpec.checks) expect(typeof r.checks[c], c).toBe('boolean');
    const rows = (events.filter((e) => e.type === 'sample' && e.kind === 'rates').at(-1) as { data: { lambda: number; bpp: number; images: number; psnrMse: number; mseRatio: number; reencodeSamePctMse: number }[] }).data;
    expect(rows.map((x) => x.lambda)).toEqual([0.001, 0.003]);
    // A larger λ spends more bits; the MSE decode is the better one in PSNR (it is the MMSE estimate the codec was trained for).
    expect(rows[1].bpp).toBeGreaterThan(rows[0].bpp);
    for (const row of rows) { expect(row.images).toBe(8); expect(row.mseRatio).toBeGreaterThan(0); }
    expect(r.metrics.bpp).toBe(rows[0].bpp);
    expect(r.metrics.psnr_mse).toBeGreaterThan(r.metrics.psnr_idem);
    expect(r.metrics.bdPsnr).toBeLessThan(0);
    // Only the live model's variables remain: the headline codec's and the prior's.
    const m = live() as { codec: ImageCodec; prior: DdpmPrior };
    const owned = [...Object.values(codecVariables(m.codec)), ...Object.values(ditVariables(m.prior.dit)), m.prior.dit.pos];
    expect(tf.memory().numTensors - before).toBe(owned.length);
    const contract = contractChecker(idempotentCodecLab);
    const digit = Array.from(batchFloats(loadDataset('mnist').test, [7]).x);
    const out = await contract.query('decode', { pixels: digit, samples: 2, seed: 3 }, m) as { bytes: number; bpp: number; perceptual: number[][]; sameBitsMse: boolean };
    expect(out.bpp).toBeCloseTo((out.bytes * 8) / 784, 10);
    expect(out.perceptual).toHaveLength(2);
    expect(out.perceptual[0]).not.toEqual(out.perceptual[1]); // different noise, same bits
    await expect(contract.query('decode', { pixels: digit.slice(3) }, m)).rejects.toThrow(/pixels: must hold 784 numbers/);
    // Re-compressing the MSE decode of a rate, as the panel's button does; an unknown rate is named.
    const re = await contract.query('recompress', { lambda: 0.003, original: digit, decoded: digit }, m) as { identical: boolean; symbolDistance: number };
    expect(re).toMatchObject({ identical: true, symbolDistance: 0 });
    await expect(contract.query('recompress', { lambda: 0.5, original: digit, decoded: digit }, m)).rejects.toThrow(/λ=0.5 is not one of this run's rates \(0.001, 0.003\)/);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    expect(tf.memory().numTensors - before).toBe(owned.length);
    for (const v of owned) v.dispose();
  }, 600_000);

  it('the ζ sweep adds one DPS row per ζ at the headline rate, beside the DSG rows', async () => {
    const { ctx, events, live } = await testContext(4, { home });
    const p = resolveParams(idempotentCodecSpec, 'smoke', { seed: 4, zetaSweep: [0.3, 1.2], dpsSteps: 4, sweepImages: 2, anchors: [] });
    await idempotentCodecLab.run(p, ctx);
    const rows = (events.filter((e) => e.type === 'sample' && e.kind === 'rates').at(-1) as { data: { lambda: number; zeta: number | null; sampler: string; images: number }[] }).data;
    expect(rows.map((r) => [r.lambda, r.sampler, r.zeta, r.images])).toEqual([[0.001, 'dsg', null, 8], [0.003, 'dsg', null, 8], [0.001, 'dps', 0.3, 2], [0.001, 'dps', 1.2, 2]]);
    expect(events.some((e) => e.type === 'sample' && e.kind === 'anchors')).toBe(false); // no anchors asked
    const m = live() as { codec: ImageCodec; prior: DdpmPrior };
    for (const v of [...Object.values(codecVariables(m.codec)), ...Object.values(ditVariables(m.prior.dit)), m.prior.dit.pos]) v.dispose();
  }, 300_000);
});
