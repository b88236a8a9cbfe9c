// The byz-momentum lab on its smoke preset: every headline metric and check, bytes of the
// stated wire format, γ chosen by validation accuracy, curves with one distance per worker,
// a grid that shows a refused aggregator instead of failing, named refusals of bad params,
// cancellation between rounds, and the paper's gap (momentum over Byz-EF21 under IPM and ALIE) at 1,500 rounds.
import { describe, expect, it } from 'vitest';
import { resolveParams, ParamsError } from '../common/lab';
import { byzMomentumSpec, selectionScore } from '../common/labs/byz-momentum';
import { byzMomentumLab, headlineChecks, headlineConfigs, simConfig, studyData } from '../workers/labs/byz-momentum/lab';
import { simulate } from '../workers/labs/byz-momentum/sim';
import { CancelledError } from '../workers/runtime/context';
import { testContext } from './helpers/context';
import { contractChecker } from './helpers/contract';

type Curve = { key: string; gamma: number; finalValAcc: number; finalAcc: number; n: number; byzantine: number; points: { round: number; bytes: number; valAcc: number }[]; distances: number[][] };
const samples = <T,>(events: { type: string }[], kind: string) => events.filter((e) => e.type === 'sample' && (e as unknown as { kind: string }).kind === kind).map((e) => (e as unknown as { data: T }).data);

describe('byz-momentum lab', () => {
  it('smoke run: headline metrics, bytes, γ by validation, curves and distances', async () => {
    const p = resolveParams(byzMomentumSpec, 'smoke', { gammas: [0.5, 0.05], evalEvery: 50 }); // six evaluations: γ is chosen on the last two
    const { ctx, events } = await testContext(p.seed);
    const r = await byzMomentumLab.run(p, ctx);
    for (const m of byzMomentumSpec.metrics) expect(Number.isFinite(r.metrics[m]), m).toBe(true);
    expect(Object.keys(r.checks).sort()).toEqual([...byzMomentumSpec.checks].sort());
    expect(r.metrics.bytesPerRound_dense).toBe(8 + 4 * 785);
    // k = round(1 % of 785) = 8: 8 header bytes, 8 gaps of one or two varint bytes, 8 float32.
    expect(r.metrics.bytesPerRound_topk).toBeGreaterThanOrEqual(8 + 8 + 32);
    expect(r.metrics.bytesPerRound_topk).toBeLessThanOrEqual(8 + 16 + 32);
    contractChecker(byzMomentumLab).expectSamplesValid(events);
    contractChecker(byzMomentumLab).expectPlanFollowed(events);
    const curves = samples<Curve>(events, 'curve');
    expect(curves).toHaveLength(6 * 2);
    for (const key of ['ef21sgdm_alie_cwtm', 'ef21_ipm_cwtm', 'sgdm_clean']) {
      const runs = curves.filter((c) => c.key === key);
      const score = (c: Curve) => selectionScore(p, { finalValAcc: c.finalValAcc, curve: c.points });
      const best = runs.reduce((a, b) => (score(b) > score(a) ? b : a));
      expect(r.metrics[`gamma_${key}`]).toBe(best.gamma);
      expect(r.metrics[`acc_${key}`]).toBe(best.finalAcc);
    }
    const alie = curves.find((c) => c.key === 'ef21sgdm_alie_cwtm')!;
    expect(alie.byzantine).toBe(3);
    expect(alie.points.map((x) => x.round)).toEqual([50, 100, 150, 200, 250, 300]);
    expect(alie.distances.every((row) => row.length === 10)).toBe(true);
    expect(alie.points[5].bytes).toBeGreaterThan(alie.points[4].bytes);
    expect(headlineChecks(p, r.metrics)).toEqual(r.checks);
  }, 120_000);

  it('the phenomenon in seconds: with f = 9 of 20 (trimmed mean + NNM, top-1 %, batch 1), momentum beats Byz-EF21 under IPM and ALIE', async () => {
    // 1,500 rounds at γ = 0.05. Seeds 4 / 9 / 21 gave IPM gaps of 20 / 23 / 15 points and ALIE gaps of 2.3 / 3.2 / 3.6.
    const p = resolveParams(byzMomentumSpec, 'default', { seed: 4, rounds: 1500, evalEvery: 1500, valRows: 100, testRows: 1000 });
    const data = studyData(p);
    const acc: Record<string, number> = {};
    for (const c of headlineConfigs(p).filter((x) => x.attack !== 'none')) acc[c.key] = (await simulate(simConfig(p, c, 0.05), data)).finalAcc;
    expect(acc.ef21sgdm_ipm_cwtm - acc.ef21_ipm_cwtm).toBeGreaterThan(0.08);
    expect(acc.ef21sgdm_alie_cwtm - acc.ef21_alie_cwtm).toBeGreaterThan(0.01);
  }, 120_000);

  it('a grid shows a refused aggregator as a refused cell, runs the rest', async () => {
    const p = resolveParams(byzMomentumSpec, 'smoke', { experiment: 'grid', n: 10, f: 4, aggregator: 'cm', gridMethods: ['ef21'], gridAttacks: ['signflip'], gridAggregators: ['krum', 'cm'], rounds: 20, evalEvery: 10, stateModeToo: false });
    const { ctx, events } = await testContext(p.seed);
    const r = await byzMomentumLab.run(p, ctx);
    const cells = samples<{ key: string; refused?: string; acc?: number }>(events, 'grid-cell');
    expect(cells.find((c) => c.key === 'ef21_signflip_krum')!.refused).toMatch(/Krum tolerates f only when n ≥ 2f \+ 3: n = 10, f = 4 needs n ≥ 11/);
    expect(Number.isFinite(r.metrics.acc_ef21_signflip_cm)).toBe(true);
    expect(r.metrics.acc_ef21_signflip_krum).toBeUndefined();
    contractChecker(byzMomentumLab).expectFulfilled(events); // curves and grid cells, refused ones included
    contractChecker(byzMomentumLab).expectPlanFollowed(events);
  }, 120_000);

  it('a single configuration streams its curve and metrics per evaluation, then reports it', async () => {
    const p = resolveParams(byzMomentumSpec, 'smoke', { experiment: 'single', attack: 'signflip', rounds: 60, evalEvery: 20, gammas: [0.05] });
    const { ctx, events } = await testContext(p.seed);
    const r = await byzMomentumLab.run(p, ctx);
    contractChecker(byzMomentumLab).expectSamplesValid(events); // partial curves too
    const curves = samples<Curve & { partial?: boolean }>(events, 'curve');
    expect(curves.map((c) => [c.partial ?? false, c.points.length])).toEqual([[true, 1], [true, 2], [true, 3], [false, 3]]);
    expect(curves[2].points).toEqual(curves[3].points);
    expect(events.filter((e) => e.type === 'metric' && (e as { name: string }).name === 'testAcc γ=0.05')).toHaveLength(3);
    expect(Object.keys(r.metrics).filter((k) => k.startsWith('acc_'))).toEqual(['acc_ef21sgdm_signflip_cwtm']);
  });

  it('γ is chosen by the final validation accuracy, or by the mean of the last quarter of evaluations', () => {
    const curve = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.2, 0.3].map((valAcc) => ({ valAcc })) as never;
    expect(selectionScore({ gammaSelection: 'final' }, { curve, finalValAcc: 0.3 })).toBe(0.3);
    expect(selectionScore({ gammaSelection: 'lastQuarter' }, { curve, finalValAcc: 0.3 })).toBeCloseTo(0.25, 12);
  });

  it('refuses what an aggregator cannot tolerate and other bad params, naming the field', () => {
    const refusal = (o: Record<string, unknown>) => { try { resolveParams(byzMomentumSpec, 'default', o); return undefined; } catch (e) { expect(e).toBeInstanceOf(ParamsError); return e as ParamsError; } };
    expect(refusal({ aggregator: 'krum' })?.message).toMatch(/invalid parameter "aggregator": Krum tolerates f only when n ≥ 2f \+ 3: n = 20, f = 9 needs n ≥ 21/);
    expect(refusal({ f: 10 })?.field).toBe('aggregator');
    expect(refusal({ f: 20 })?.field).toBe('f');
    expect(refusal({ gammas: [0.5, 0.5] })?.field).toBe('gammas');
    expect(refusal({ kFraction: 2 })?.field).toBe('kFraction');
    expect(refusal({ aggregator: 'krum', f: 8 })).toBeUndefined();
  });

  it('cancels between rounds', async () => {
    const p = resolveParams(byzMomentumSpec, 'smoke', { rounds: 100000, threads: 1 });
    const { ctx, controller } = await testContext(p.seed);
    setTimeout(() => controller.abort(), 300);
    const t0 = Date.now();
    await expect(byzMomentumLab.run(p, ctx)).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
