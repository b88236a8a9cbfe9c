// byz-momentum's learning problems and server loop on a small slice of mnist: gradients
// match finite differences for all three models; with identity compression and no attack
// EF21-SGDM steps as SGDM does; refusals name the aggregator's limit; an omniscient IPM
// attack hurts plain averaging; messages are real bytes of the stated size; workers spread
// over threads send the same bytes as workers in process; Dirichlet shards are skewed.
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import { dirichletShards, gradient, iidShards, initParams, loss, paramCount, taskData, type ModelSpec } from '../workers/labs/byz-momentum/task';
import { checkTolerance, simulate, type SimConfig, type SimData } from '../workers/labs/byz-momentum/sim';

const ds = loadDataset('mnist');
const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const logistic: ModelSpec = { kind: 'logistic', features: 785, hidden: 0 };
const train = taskData(ds.train, rows(0, 600), 'logistic');
const val = taskData(ds.train, rows(600, 200), 'logistic');
const test = taskData(ds.test, rows(0, 300), 'logistic');
const base: SimConfig = {
  n: 6, f: 0, declaredF: 0, method: 'ef21sgdm', aggregator: 'mean', nnm: false, attack: 'none', attackMode: 'increment', compressor: 'topk', kFraction: 1,
  eta: 0.1, gamma: 0.5, batch: 1, rounds: 60, ipmEpsilon: 0.1, krumPower: 2, rfa: 'tolerance', ccTau: 1, ccIterations: 1, evalEvery: 20, seed: 3,
};
const data: SimData = { model: logistic, train, val, test, shards: iidShards(train.count, 6, new Rng(1)) };

describe('byz-momentum tasks', () => {
  for (const model of [logistic, { kind: 'softmax', features: 785, hidden: 0 }, { kind: 'mlp', features: 785, hidden: 6 }] as ModelSpec[]) {
    it(`the ${model.kind} gradient matches a finite difference of its loss (plain and label-flipped)`, () => {
      const t = taskData(ds.train, [3, 4], model.kind);
      const w = initParams(model, new Rng(2));
      for (let i = 0; i < w.length; i++) w[i] += 0.01 * new Rng(i).normal();
      const flipped = { ...t, y: t.y.map((y) => (model.kind === 'logistic' ? 1 - y : 9 - y)) };
      for (const flip of [false, true]) {
        const g = gradient(model, w, t, [0, 1], flip, new Float64Array(paramCount(model)));
        const ref = flip ? flipped : t;
        // Coordinates of a lit pixel (300) and the bias (784) of the first unit; for the MLP also one output weight.
        const coords = model.kind === 'mlp' ? [300, 784, model.hidden * 785 + 2] : [300, 784, model.kind === 'softmax' ? 785 * 7 + 300 : 10];
        for (const j of coords) {
          const e = 1e-5, up = Float64Array.from(w), dn = Float64Array.from(w);
          up[j] += e; dn[j] -= e;
          expect(g[j]).toBeCloseTo((loss(model, up, ref) - loss(model, dn, ref)) / (2 * e), 6);
        }
      }
    });
  }

  it('Dirichlet(0.1) shards are label-skewed, Dirichlet(100) near uniform; every row dealt once', () => {
    const t = taskData(ds.train, rows(0, 2000), 'softmax');
    const skew = (alpha: number) => {
      const shards = dirichletShards(t.y, 10, alpha, new Rng(5));
      expect(shards.reduce((a, s) => a + s.length, 0)).toBe(2000);
      expect(new Set(shards.flatMap((s) => Array.from(s))).size).toBe(2000);
      // Mean share of a worker's rows held by its most common label.
      return shards.reduce((a, s) => { const c = new Array(10).fill(0); s.forEach((r) => c[t.y[r]]++); return a + Math.max(...c) / s.length; }, 0) / shards.length;
    };
    expect(skew(0.1)).toBeGreaterThan(0.45); // uniform shards sit near 0.13
    expect(skew(100)).toBeLessThan(0.2);
  });
});

describe('byz-momentum simulation', () => {
  it('with identity compression and no attack, EF21-SGDM steps as SGDM does', async () => {
    const a = await simulate(base, data), b = await simulate({ ...base, method: 'sgdm' }, data);
    let worst = 0;
    a.x.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b.x[i])); });
    expect(worst).toBeLessThan(1e-4);
    expect(a.curve.map((r) => r.round)).toEqual([20, 40, 60]);
    expect(a.curve[2].epoch).toBeCloseTo((60 * 6) / 600, 12);
  });

  it('messages are bytes: top-1 % of d = 785 is 8 values in ~50 bytes; SGDM sends 8 + 4d', async () => {
    const r = await simulate({ ...base, kFraction: 0.01, rounds: 20 }, data);
    expect(r.bytesPerWorkerRound).toBeGreaterThanOrEqual(8 + 8 + 32);
    expect(r.bytesPerWorkerRound).toBeLessThanOrEqual(8 + 16 + 32);
    expect(r.curve.at(-1)!.bytesPerWorker).toBeCloseTo(20 * r.bytesPerWorkerRound, 9);
    expect((await simulate({ ...base, method: 'sgdm', rounds: 20 }, data)).bytesPerWorkerRound).toBe(8 + 4 * 785);
  });

  it('an aggregator asked to tolerate more than it can is refused, naming the limit', async () => {
    expect(() => checkTolerance({ n: 20, f: 9, declaredF: 9, aggregator: 'krum' })).toThrow(/Krum tolerates f only when n ≥ 2f \+ 3: n = 20, f = 9 needs n ≥ 21/);
    expect(() => checkTolerance({ n: 20, f: 10, declaredF: 10, aggregator: 'cwtm' })).toThrow(/needs n > 2f: n = 20, f = 10/);
    expect(() => checkTolerance({ n: 21, f: 9, declaredF: 9, aggregator: 'krum' })).not.toThrow();
    expect(() => checkTolerance({ n: 19, f: 9, declaredF: 9, aggregator: 'cwtm' })).not.toThrow();
    await expect(simulate({ ...base, f: 3, declaredF: 3, aggregator: 'cwtm' }, data)).rejects.toThrow(/n > 2f: n = 6, f = 3/);
  });

  it('IPM by 2 of 6 workers hurts the mean more than the trimmed mean with NNM', async () => {
    const attacked = { ...base, f: 2, declaredF: 2, attack: 'ipm' as const, ipmEpsilon: 10, kFraction: 0.05, rounds: 120, evalEvery: 120 };
    const plain = (await simulate({ ...attacked, aggregator: 'mean' }, data)).finalAcc;
    const robust = (await simulate({ ...attacked, aggregator: 'cwtm', nnm: true }, data)).finalAcc;
    expect(robust).toBeGreaterThan(plain + 0.1);
  });

  it('workers spread over 2 threads send the same bytes as workers in this thread (rand-k, label flip)', async () => {
    const c = { ...base, f: 1, declaredF: 1, attack: 'labelflip' as const, aggregator: 'cwtm' as const, compressor: 'randk' as const, kFraction: 0.02, rounds: 30, evalEvery: 10 };
    const one = await simulate(c, data, { threads: 1 });
    const two = await simulate(c, data, { threads: 2 });
    expect(two.threads).toBe(2);
    expect(Array.from(two.x)).toEqual(Array.from(one.x));
    expect(two.curve).toEqual(one.curve);
  });

  it('a worker that cannot start fails the run with its reason, in a thread as in process, and the next run works', async () => {
    const broken = { ...data, shards: data.shards.map((s, i) => (i === 3 ? new Int32Array(0) : s)) };
    const c = { ...base, rounds: 5, evalEvery: 5 };
    await expect(simulate(c, broken, { threads: 1 })).rejects.toThrow(/worker 3 has no training rows to sample/);
    await expect(simulate(c, broken, { threads: 2 })).rejects.toThrow(/byz-momentum worker thread: worker 3 has no training rows to sample/);
    expect((await simulate(c, data, { threads: 2 })).rounds).toBe(5);
  });
});
