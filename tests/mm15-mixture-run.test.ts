// mm15-mixture smoke run end to end (tiny bases built on first use), and the mixture arithmetic:
// each arm draws its categories in the shares its mixture gives, and only what it changes.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { MM15_ARMS, MM15_CATEGORY_IDS, mm15MixtureSpec, mm15SftShares } from '../common/labs/mm15-mixture';
import { resolveParams } from '../common/lab';
import { mixOf, mm15MixtureLab, sftCounts } from '../workers/labs/mm15-mixture/lab';
import { sharedPart } from '../workers/shared-parts';
import { initBackend } from '../workers/runtime/backend';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

describe('mm15-mixture', () => {
  it('splits SFT samples by the mixture: α against the general set, then multi-image and text-only', () => {
    const p = resolveParams(mm15MixtureSpec, 'default', {});
    const s = mm15SftShares(p);
    // Single-image 0.8 split 1 : 1 : 0.5 : 2 (general, text-rich, knowledge, grounding); multi-image and text-only 0.1 each.
    expect(s.general).toBeCloseTo(0.8 / 4.5, 12);
    expect(s.grounding).toBeCloseTo((0.8 * 2) / 4.5, 12);
    expect(s.knowledge).toBeCloseTo((0.8 * 0.5) / 4.5, 12);
    expect(s.multiImage).toBeCloseTo(0.1, 12);
    expect(s.textOnly).toBeCloseTo(0.1, 12);
    const total = p.sftSteps * p.batchSize;
    for (const arm of MM15_ARMS) expect(Object.values(sftCounts(p, arm)).reduce((a, b) => a + b, 0)).toBe(total);
    const base = sftCounts(p, 'base'), rg0 = sftCounts(p, 'rg0'), noText = sftCounts(p, 'noText');
    expect(rg0.grounding).toBe(0);
    expect(rg0.general).toBeCloseTo(total * (0.8 / 2.5) / 1.0, -1);
    expect(noText.textOnly).toBe(0);
    // The CPT arms change the base, not the mixture.
    expect(sftCounts(p, 'cptLow')).toEqual(base);
    expect(sftCounts(p, 'cptNone')).toEqual(base);
    expect(() => resolveParams(mm15MixtureSpec, 'default', { singleImageWeight: 0, multiImageWeight: 0, textOnlyWeight: 0 })).toThrow(/singleImageWeight.*needs a weight above 0/);
    expect(() => resolveParams(mm15MixtureSpec, 'default', { alphaGrounding: -1 })).toThrow(/alphaGrounding/);
    // The base's key names the mix as shares of 100: one base per ratio, and a key the part registry reads for any weights.
    expect(mixOf(p)).toBe('50-10-40');
    expect(mixOf({ ptCaption: 5, ptInterleaved: 1, ptText: 4 })).toBe('50-10-40');
    expect(mixOf({ ptCaption: 1e-7, ptInterleaved: 1, ptText: 2 })).toBe('0-33.33-66.67');
    expect(sharedPart(`mm15:cpt:high:${mixOf({ ptCaption: 1e-7, ptInterleaved: 1, ptText: 2 })}`)).toBeDefined();
  });

  it('runs the five arms on the tiny bases (in threads, then in the run thread): every metric, the samples the panel reads, its plan, no tensor left', async () => {
    const { ctx, events } = await testContext(2, { cores: 2 });
    await initBackend('wasm');
    const p = resolveParams(mm15MixtureSpec, 'smoke', {});
    // Build the bases first (cached shared parts), then count tensors.
    for (const k of ['mm15:base:50-10-40:tiny', 'mm15:cpt:high:50-10-40:tiny', 'mm15:cpt:low:50-10-40:tiny'] as const) (await ctx.require(k)).dispose();
    const before = tf.memory().numTensors;
    const r = await mm15MixtureLab.run(p, ctx);
    expect(tf.memory().numTensors).toBe(before);
    for (const k of mm15MixtureSpec.metrics) expect(Number.isFinite(r.metrics[k]), k).toBe(true);
    expect(Object.keys(r.checks).sort()).toEqual([...mm15MixtureSpec.checks].sort());
    expect(r.metrics.rgAcc_alpha2).toBe(r.metrics.acc_base_grounding);
    expect(r.metrics.othersAvg_alpha0).toBeCloseTo(MM15_CATEGORY_IDS.filter((c) => c !== 'grounding').reduce((a, c) => a + r.metrics[`acc_rg0_${c}`], 0) / 5, 12);
    const arms = events.filter((e) => e.type === 'sample' && e.kind === 'arm').map((e) => (e as { data: { arm: string; counts: Record<string, number>; scores: Record<string, { n: number }> } }).data);
    expect(arms.map((a) => a.arm).sort()).toEqual([...MM15_ARMS].sort());
    for (const a of arms) for (const c of MM15_CATEGORY_IDS) expect(a.scores[c].n).toBe(p.heldOut);
    const preds = events.filter((e) => e.type === 'sample' && e.kind === 'predictions').map((e) => (e as { data: { items: { category: string; images: unknown[] }[] } }).data);
    expect(preds).toHaveLength(5);
    expect(preds[0].items.filter((i) => i.category === 'multiImage').every((i) => i.images.length === 2)).toBe(true);
    expect(preds[0].items.filter((i) => i.category === 'textOnly').every((i) => i.images.length === 0)).toBe(true);
    const contract = contractChecker(mm15MixtureLab);
    contract.expectFulfilled(events);
    contract.expectPlanFollowed(events);
    // Same seed, same numbers, whether the arms trained side by side in threads or one after another here.
    const again = await testContext(2, { home: ctx.partsHome, cores: 1 });
    const r2 = await mm15MixtureLab.run(p, again.ctx);
    const seeded = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'stepsPerSec'));
    expect(seeded(r2.metrics)).toEqual(seeded(r.metrics));
    const phases = (evs: typeof events) => [...new Set(evs.filter((e) => e.type === 'progress').map((e) => (e as { phase: string }).phase))];
    expect(phases(events)).toContain('SFT arms (encode, train, score; 2 threads)');
    expect(phases(again.events)).toContain('SFT arms (encode, train, score)');
    contractChecker(mm15MixtureLab).expectPlanFollowed(again.events);

    // One mixture alone (a sweep point): the base arm's numbers, no ablation metrics or checks.
    const one = await testContext(2, { home: ctx.partsHome, cores: 2 });
    const r3 = await mm15MixtureLab.run({ ...p, arms: 'mixture' }, one.ctx);
    expect(r3.checks).toEqual({});
    expect(r3.metrics.rgAcc_alpha0).toBeUndefined();
    expect(r3.metrics.rgAcc_alpha2).toBe(r.metrics.rgAcc_alpha2);
    for (const c of MM15_CATEGORY_IDS) expect(r3.metrics[`acc_base_${c}`]).toBe(r.metrics[`acc_base_${c}`]);
    expect(r3.metrics.meanAcc_base).toBeCloseTo(MM15_CATEGORY_IDS.reduce((a, c) => a + r.metrics[`acc_base_${c}`], 0) / 6, 12);
    expect(one.events.filter((e) => e.type === 'sample' && e.kind === 'arm')).toHaveLength(1);
  }, 300_000);
});
