// activation-codec smoke run end to end, in a file of its own: a test in another file that
// overruns its timeout can never leave tensors alive in this one's count (one process per file).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveParams } from '../common/lab';
import { activationCodecSpec } from '../common/labs/activation-codec';
import { activationCodecLab } from '../workers/labs/activation-codec/lab';
import { codecVariables, type ImageCodec } from '../workers/nn/image-codec';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';
import { batchFloats, loadDataset } from '../workers/runtime/datasets';

const home = mkdtempSync(join(tmpdir(), 'bt-act-'));
const params = resolveParams(activationCodecSpec, 'smoke', { seed: 3 });

describe('activation-codec lab run (smoke, seed 3)', () => {
  it('runs end to end: every metric and check of the issue, bit-exact, no tensor leak', async () => {
    const { ctx, events, live } = await testContext(3, { home });
    const before = tf.memory().numTensors;
    const r = await activationCodecLab.run(params, ctx);
    for (const m of activationCodecSpec.metrics) expect(typeof r.metrics[m], m).toBe('number');
    for (const c of activationCodecSpec.checks) expect(typeof r.checks[c], c).toBe('boolean');
    expect(r.checks.decodesBitExact).toBe(true);
    expect(r.metrics.estimateErrorPct).toBeLessThan(1.5);
    // Raw is 8 bits plus the per-tensor min/max, exactly.
    const lb = (events.find((e) => e.type === 'sample' && e.kind === 'layer-bits') as { data: { activations: number; tensors: number; raw: number }[] }).data;
    for (const l of lb) expect(l.raw).toBeCloseTo(8 + (64 * l.tensors) / l.activations, 10);
    expect(r.metrics.bandwidthReduction).toBeCloseTo(8 / r.metrics.bitsPerActivation_gaussian, 10);
    // Only the live model's variables remain: the codec's and the encoders'.
    const m = live() as { codec: ImageCodec; encoders: Record<string, { T: tf.Variable; tb: tf.Variable; Tinv: tf.Variable; tinvb: tf.Variable }> };
    const owned = [...Object.values(codecVariables(m.codec)), ...Object.values(m.encoders).flatMap((e) => [e.T, e.tb, e.Tinv, e.tinvb])];
    expect(tf.memory().numTensors - before).toBe(owned.length);
    // The compress query on a real test digit and on an all-black image (PSNR may be +∞), as the panel asks it.
    const contract = contractChecker(activationCodecLab);
    const digit = Array.from(batchFloats(loadDataset('mnist').test, [0]).x);
    const out = await contract.query('compress', { pixels: digit }, m) as { bytes: number; bpp: number; psnrWith: number };
    expect(out.bpp).toBeCloseTo((out.bytes * 8) / 784, 10);
    expect(out.psnrWith).toBeGreaterThan(10);
    await contract.query('compress', { pixels: new Array(784).fill(0) }, m);
    await expect(contract.query('compress', { pixels: digit.slice(1) }, m)).rejects.toThrow(/bad arguments to query "compress": pixels: must hold 784 numbers/);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    expect(tf.memory().numTensors - before).toBe(owned.length); // the queries leave nothing behind
    for (const v of owned) v.dispose();

    // The control and the coded fine-tune side by side in worker threads: the very same numbers (timings aside).
    const two = await testContext(3, { home, cores: 2 });
    const r2 = await activationCodecLab.run(params, two.ctx);
    const seeded = (x: Record<string, number>) => Object.fromEntries(Object.entries(x).filter(([k]) => !/MBps|stepsPerSec/.test(k)));
    expect(seeded(r2.metrics)).toEqual(seeded(r.metrics));
    expect(two.events.some((e) => e.type === 'progress' && e.phase === 'fine-tunes: control and coded activations (2 threads)')).toBe(true);
    contract.expectPlanFollowed(two.events);
    const m2 = two.live() as typeof m;
    for (const v of [...Object.values(codecVariables(m2.codec)), ...Object.values(m2.encoders).flatMap((e) => [e.T, e.tb, e.Tinv, e.tinvb])]) v.dispose();
  }, 300_000);
});
