// byz-momentum's server loop on a small slice of the binary task: with identity
// compression and no attack EF21-SGDM is SGDM (g_i tracks v_i exactly up to float32
// messages); refusals name the aggregator's limit; an omniscient IPM attack hurts plain
// averaging; messages are real bytes of the stated size.
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../workers/runtime/datasets';
import { Rng } from '../workers/runtime/rng';
import { binaryTask, iidShards, logisticGradient } from '../workers/labs/byz-momentum/task';
import { checkTolerance, simulate, type SimConfig } from '../workers/labs/byz-momentum/sim';

const ds = loadDataset('mnist');
const train = binaryTask(ds.train, Array.from({ length: 600 }, (_, i) => i));
const test = binaryTask(ds.test, Array.from({ length: 300 }, (_, i) => i));
const base: SimConfig = { n: 6, f: 0, declaredF: 0, method: 'ef21sgdm', aggregator: 'mean', nnm: false, attack: 'none', attackMode: 'increment', compressor: 'topk', kFraction: 1, eta: 0.1, gamma: 0.5, batch: 1, rounds: 60, ipmEpsilon: 0.1, krumPower: 2, rfa: 'tolerance', ccTau: 1, ccIterations: 1, evalEvery: 20 };
const data = { train, test, shards: iidShards(train.count, 6, new Rng(1)) };

describe('byz-momentum simulation', () => {
  it('the logistic gradient matches a finite difference', () => {
    const w = new Rng(2).normalArray(train.d, 0.01), wd = Float64Array.from(w), g = new Float64Array(train.d);
    logisticGradient(train, wd, [3], false, g);
    const loss = (u: Float64Array) => { let z = 0; for (let i = 0; i < train.d; i++) z += u[i] * train.x[3 * train.d + i]; const y = train.y[3]; return Math.log1p(Math.exp(y ? -z : z)); };
    const j = 300, e = 1e-5, up = Float64Array.from(wd), dn = Float64Array.from(wd);
    up[j] += e; dn[j] -= e;
    expect(g[j]).toBeCloseTo((loss(up) - loss(dn)) / (2 * e), 6);
  });

  it('with identity compression and no attack, EF21-SGDM steps as SGDM does', () => {
    const a = simulate(base, data, new Rng(3)), b = simulate({ ...base, method: 'sgdm' }, data, new Rng(3));
    let worst = 0;
    a.x.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b.x[i])); });
    expect(worst).toBeLessThan(1e-4);
    expect(a.curve.map((r) => r.round)).toEqual([20, 40, 60]);
  });

  it('messages are bytes: top-1 % of d = 785 is 8 values in ~50 bytes; SGDM sends 8 + 4d', () => {
    const r = simulate({ ...base, kFraction: 0.01, rounds: 20 }, data, new Rng(4));
    expect(r.bytesPerWorkerRound).toBeGreaterThanOrEqual(8 + 8 + 32);
    expect(r.bytesPerWorkerRound).toBeLessThanOrEqual(8 + 16 + 32);
    expect(simulate({ ...base, method: 'sgdm', rounds: 20 }, data, new Rng(4)).bytesPerWorkerRound).toBe(8 + 4 * 785);
  });

  it('an aggregator asked to tolerate more than it can is refused, naming the limit', () => {
    expect(() => checkTolerance({ n: 20, f: 9, declaredF: 9, aggregator: 'krum', nnm: true })).toThrow(/Krum tolerates f only when n ≥ 2f \+ 3: n = 20, f = 9 needs n ≥ 21/);
    expect(() => checkTolerance({ n: 20, f: 10, declaredF: 10, aggregator: 'cwtm', nnm: true })).toThrow(/needs n > 2f: n = 20, f = 10/);
    expect(() => checkTolerance({ n: 21, f: 9, declaredF: 9, aggregator: 'krum', nnm: true })).not.toThrow();
    expect(() => checkTolerance({ n: 19, f: 9, declaredF: 9, aggregator: 'cwtm', nnm: true })).not.toThrow();
  });

  it('IPM by 2 of 6 workers hurts the mean more than the trimmed mean with NNM', () => {
    const attacked = { ...base, f: 2, declaredF: 2, attack: 'ipm' as const, ipmEpsilon: 10, kFraction: 0.05, rounds: 120, evalEvery: 120 };
    const plain = simulate({ ...attacked, aggregator: 'mean' }, data, new Rng(5)).finalAcc;
    const robust = simulate({ ...attacked, aggregator: 'cwtm', nnm: true }, data, new Rng(5)).finalAcc;
    expect(robust).toBeGreaterThan(plain + 0.1);
  });
});
