// longpibench end to end on the smoke preset (tiny built-in decoders): every metric and
// check the issue names, the generator exact on every instance the run made, the curves'
// instance counts, the panel's instance query (and its bad arguments), reload from the run
// folder; no tensor leaks. And the parts the lab stands on: the set-target loss against a
// hand computation, the bootstrap interval, the spacing statistic.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { longpibenchLab } from '../workers/labs/longpibench/lab';
import { longpibenchSpec } from '../common/labs/longpibench';
import { resolveParams } from '../common/lab';
import { createDecoder, decoderForward, embedTokens, disposeDecoder } from '../workers/nn/decoder';
import { owedTokens, setTargetLoss } from '../workers/train/set-target';
import { bootstrapInterval } from '../workers/runtime/stats';
import { spacingDrop } from '../workers/labs/longpibench/evaluate';
import { Rng } from '../workers/runtime/rng';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceProblem } from '../workers/data/longpi/generator';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

describe('set-target loss', () => {
  it('is −log of the mass on the tokens still owed, by hand, padded rows included', async () => {
    await testContext(1);
    expect(owedTokens([7, 8, 9, 2])).toEqual([[7, 8, 9], [8, 9], [9], [2]]);
    const d = createDecoder({ vocab: 12, dModel: 8, layers: 1, heads: 2, kvHeads: 2, ffnHidden: 16, maxLen: 16, qkNorm: true, window: null, ropeBase: 10000 }, new Rng(3));
    const rows = [{ prompt: [1, 4, 5, 3], answer: [6, 7, 2] }, { prompt: [1, 3], answer: [9, 2] }];
    const got = setTargetLoss(d, rows);
    // By hand: each row alone (RoPE is relative, so left padding does not change its logits).
    let total = 0, steps = 0;
    for (const r of rows) {
      const seq = [...r.prompt, ...r.answer];
      const logits = tf.tidy(() => tf.logSoftmax(decoderForward(d, embedTokens(d, tf.tensor2d([seq.slice(0, -1)], undefined, 'int32'))).logits).arraySync() as number[][][])[0];
      owedTokens(r.answer).forEach((owed, j) => {
        const lp = logits[r.prompt.length - 1 + j];
        total -= Math.log(owed.reduce((s, t) => s + Math.exp(lp[t]), 0));
        steps++;
      });
    }
    expect(got.dataSync()[0]).toBeCloseTo(total / steps, 4);
    got.dispose(); disposeDecoder(d);
  });
});

describe('bootstrap and the spacing statistic', () => {
  it('bootstraps a mean and a level difference: intervals hold the estimate, shrink with items, and a real gap excludes 0', () => {
    const rng = new Rng(4);
    const coin = (p: number, n: number) => Array.from({ length: n }, () => (rng.next() < p ? 1 : 0));
    const small = bootstrapInterval([coin(0.5, 40)], (m) => m[0], 2000, rng), big = bootstrapInterval([coin(0.5, 4000)], (m) => m[0], 2000, rng);
    expect(small.hi - small.lo).toBeGreaterThan(3 * (big.hi - big.lo));
    expect(big.lo).toBeLessThan(0.5); expect(big.hi).toBeGreaterThan(0.5);
    const constant = bootstrapInterval([[0.3, 0.3, 0.3]], (m) => m[0], 100, rng);
    expect(constant.lo).toBeCloseTo(0.3); expect(constant.hi).toBeCloseTo(0.3);
    expect(() => bootstrapInterval([[]], (m) => m[0], 10, rng)).toThrow(/at least one item/);
    // Level 1 at 0.9, levels 2–16 at 0.6: drop 0.3, interval away from 0; no gap: interval around 0.
    const gap = spacingDrop([coin(0.9, 200), ...Array.from({ length: 15 }, () => coin(0.6, 200))], 1000, rng);
    expect(gap.drop).toBeGreaterThan(0.2); expect(gap.lo).toBeGreaterThan(0.1);
    const flat = spacingDrop(Array.from({ length: 16 }, () => coin(0.6, 200)), 1000, rng);
    expect(flat.lo).toBeLessThan(0); expect(flat.hi).toBeGreaterThan(0);
  });
});

describe('longpibench lab (smoke)', () => {
  it('runs end to end: metrics, checks, curves, the instance query, reload; no tensor leaks', async () => {
    const { ctx, events, live } = await testContext(1);
    const p = resolveParams(longpibenchSpec, 'smoke', {});
    const before = tf.memory().numTensors;
    const summary = await longpibenchLab.run(p, ctx);
    for (const m of longpibenchSpec.metrics.filter((m) => !m.endsWith('_control'))) expect(Number.isFinite(summary.metrics[m]), m).toBe(true);
    expect(summary.checks.generatorExact).toBe(true);
    expect(typeof summary.checks.spacingHurts).toBe('boolean');
    expect(summary.metrics.recallAbsMin).toBeLessThanOrEqual(summary.metrics.recallAbsMax);
    // The instances exported for other tools: one per line, each as the generator made it.
    const artifact = events.find((e) => e.type === 'artifact' && e.name === 'instances.jsonl') as { path: string } | undefined;
    const lines = readFileSync(artifact!.path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(32 * p.perLevel + 3 * p.perPlacement);
    expect(lines.every((x) => instanceProblem(x, { L: 160, n: 10, N: 16 }) === null)).toBe(true);
    const contract = contractChecker(longpibenchLab);
    contract.expectSamplesValid(events);
    type Curve = { model: string; absolute: { instances: number }[]; relative: { instances: number }[]; placement: Record<string, { instances: number }> };
    const curves = events.flatMap((e) => (e.type === 'sample' && e.kind === 'curves' ? [e.data as Curve] : []));
    expect(curves.map((c) => c.model)).toEqual(p.models);
    for (const c of curves) {
      expect(c.absolute.map((x) => x.instances)).toEqual(new Array(16).fill(p.perLevel));
      expect(c.relative).toHaveLength(16);
      expect(Object.values(c.placement).map((x) => x.instances)).toEqual([p.perPlacement, p.perPlacement, p.perPlacement]);
    }
    // The instance query: every model answers; an answer's recall is its hits over the key.
    type Shown = { positions: number[]; answer: number[]; answers: { values: (number | null)[]; recall: number; malformed: boolean }[] };
    const x = (await contract.query('instance', { kind: 'absolute', level: 16, placement: 'tail', seed: 3 }, live())) as Shown;
    expect(x.positions[9]).toBe(159);
    expect(x.answers).toHaveLength(2);
    for (const a of x.answers) {
      expect(a.malformed).toBe(a.values.length > 15);
      expect(a.recall).toBeCloseTo(a.malformed ? 0 : new Set(a.values.filter((v) => v !== null && x.answer.includes(v))).size / 10);
      expect(new Set(a.values.filter((v) => v !== null)).size).toBe(a.values.filter((v) => v !== null).length); // noRepeat: no row twice
    }
    await expect(contract.query('instance', { level: 17 }, live())).rejects.toThrow(/level in 1\.\.16/);
    await expect(contract.query('instance', { placement: 'middle' }, live())).rejects.toThrow(/head, tail or both/);
    // Reload after a restart: the same models (shared parts) answer the same way.
    const loaded = await longpibenchLab.loadModel!(ctx.runDir, ctx);
    const again = (await contract.query('instance', { kind: 'absolute', level: 16, placement: 'tail', seed: 3 }, loaded)) as typeof x;
    expect(again.answers).toEqual(x.answers);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    for (const m of [live(), loaded] as { models: Record<string, { dispose(): void }> }[]) for (const lm of Object.values(m.models)) lm.dispose();
    // The same instances answered by the TF.js models the decoders were trained as: the same scores.
    const viaTfjs = await testContext(1, { home: ctx.partsHome });
    const tfjsSummary = await longpibenchLab.run({ ...p, inference: 'tfjs' }, viaTfjs.ctx);
    const seeded = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !/PerSec/.test(k)));
    expect(seeded(tfjsSummary.metrics)).toEqual(seeded(summary.metrics));
    for (const lm of Object.values((viaTfjs.live() as { models: Record<string, { dispose(): void }> }).models)) lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 300_000);

  it('trains missing built-in models side by side on a 2-core job, into the cache, as one core would', async () => {
    const p = resolveParams(longpibenchSpec, 'smoke', {});
    const run = async (cores: number) => {
      const t = await testContext(1, { home: mkdtempSync(join(tmpdir(), 'bt-longpi-')), cores });
      const summary = await longpibenchLab.run(p, t.ctx);
      for (const m of p.models) expect(t.ctx.isCached(`lm:longpi:${m.replace('/', ':')}:tiny` as never)).toBe(true);
      return { summary, events: t.events, live: t.live() as { models: Record<string, { dispose(): void }> } };
    };
    const threaded = await run(2), inline = await run(1);
    const phases = threaded.events.flatMap((e) => (e.type === 'progress' ? [e.phase] : []));
    expect(phases[0]).toBe('train 2 built-in models on 2 cores');
    const last = threaded.events.filter((e) => e.type === 'progress' && e.phase === phases[0]).at(-1) as { done: number; total: number };
    expect(last.done).toBe(last.total);
    expect(threaded.summary.metrics).toEqual({ ...inline.summary.metrics, instancesPerSec: threaded.summary.metrics.instancesPerSec });
    for (const r of [threaded, inline]) for (const lm of Object.values(r.live.models)) lm.dispose();
  }, 300_000);
});
