// byz-momentum: server rounds/s of the default attacked configuration (n = 20, f = 9, ALIE,
// trimmed mean + NNM, top-1 %) with the workers in the run's thread and spread over 1 or 2
// worker threads, for each model size; and the cost of one aggregation against n and d.
import { Rng } from '../workers/runtime/rng';
import { resolveParams } from '../common/lab';
import { byzMomentumSpec } from '../common/labs/byz-momentum';
import { headlineConfigs, simConfig, studyData } from '../workers/labs/byz-momentum/lab';
import { aggregate, simulate, type AggregatorName, type SimConfig } from '../workers/labs/byz-momentum/sim';

export async function byzBench() {
  const roundsPerSec: Record<string, Record<string, number>> = {};
  for (const model of ['logistic', 'softmax', 'mlp'] as const) {
    const p = resolveParams(byzMomentumSpec, 'default', { model, rounds: model === 'logistic' ? 1000 : 150, evalEvery: 100000 });
    const data = studyData(p);
    const c = simConfig(p, headlineConfigs(p)[0], 0.05);
    roundsPerSec[model] = {};
    for (const threads of [1, 2]) {
      const r = await simulate(c, data, { threads });
      roundsPerSec[model][threads === 1 ? 'inProcess' : `${r.threads}Threads`] = r.rounds / (r.ms / 1000);
    }
    const r = await simulate(c, data, { threads: 20 });
    roundsPerSec[model][`${r.threads}Threads`] = r.rounds / (r.ms / 1000);
  }
  const aggregatorMs: { aggregator: string; nnm: boolean; n: number; d: number; ms: number }[] = [];
  for (const d of [785, 7850, 25450]) for (const n of [10, 20, 40]) {
    const rng = new Rng(n * d);
    const xs = Array.from({ length: n }, () => Float64Array.from(rng.normalArray(d)));
    for (const [aggregator, nnm] of [['mean', false], ['cm', true], ['cwtm', true], ['rfa', true], ['krum', false], ['cc', true]] as [AggregatorName, boolean][]) {
      const f = Math.floor((n - 3) / 2);
      const c = { declaredF: f, aggregator, nnm, rfa: 'tolerance', krumPower: 2, ccTau: 1, ccIterations: 1 } as SimConfig;
      const prev = new Float64Array(d);
      aggregate(c, xs, prev);
      const reps = Math.max(2, Math.round(2e6 / (n * n * d)));
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) aggregate(c, xs, prev);
      aggregatorMs.push({ aggregator, nnm, n, d, ms: (performance.now() - t0) / reps });
    }
  }
  return { roundsPerSec, aggregatorMs, note: 'n = 20, f = 9, ALIE, trimmed mean + NNM, top-1 %, batch 1; f = ⌊(n − 3)/2⌋ for the aggregator costs (Krum\'s limit), NNM where marked' };
}
