// The server loop of one Byzantine-robust training run: n workers (the first f Byzantine),
// real byte messages. Methods (the paper's algorithm and its baselines):
// - ef21sgdm: v_i ← (1−η)v_i + η∇f_i(x; ξ_i); c_i = C(v_i − g_i); g_i ← g_i + c_i; send c_i.
//   The server keeps every g_i (adding each decoded c_i) and steps x ← x − γ·Agg(NNM(g_1..g_n)).
// - ef21: the same with η = 1 (no momentum).
// - brcsgd: send C(∇f_i) with unbiased rand-k; the server aggregates the messages.
// - sgdm: send the momentum v_i uncompressed (float32); the server aggregates them.
// v_i and g_i start at 0, so the first round aggregates g_i = c_i (as the paper's code).
// Attacks: signflip and labelflip workers run the protocol on an altered gradient (in the
// worker host); ipm and alie are omniscient: the server loop crafts them from the honest
// workers' messages of the round. In `increment` mode (the paper's code) the attack is
// computed on the honest increments c_i and sent compressed, the server adding it to the
// Byzantine worker's state; in `state` mode the Byzantine worker's server-side g_i is set
// to the attack computed on the honest g_i.
import { aggregatorLimit } from '../../../common/labs/byz-momentum';
import { Rng } from '../../runtime/rng';
import { centeredClipping, coordinateMedian, geometricMedian, krum, mean, nearestNeighbourMixing, sqDist, trimmedMean, WEISZFELD_DEFAULT, WEISZFELD_OFFICIAL, type Vec } from './aggregators';
import { alie, alieZ, ipm } from './attacks';
import { decodeMessage, encodeDense, encodeSparse, randK, topK } from './compressors';
import { METHODS, type Method, type ProtocolConfig } from './protocol-worker';
import { accuracy, initParams, loss, paramCount, type ModelSpec, type TaskData } from './task';
import { createWorkerHost, type HostedWorker } from './worker-host';

export { METHODS, type Method };
export const ATTACKS = ['none', 'signflip', 'labelflip', 'ipm', 'alie'] as const;
export type Attack = (typeof ATTACKS)[number];
export const AGGREGATORS = ['mean', 'cm', 'cwtm', 'rfa', 'krum', 'cc'] as const;
export type AggregatorName = (typeof AGGREGATORS)[number];

export interface SimConfig {
  n: number;
  /** Byzantine workers (the first f). */
  f: number;
  /** The f the aggregator and NNM are told to tolerate. */
  declaredF: number;
  method: Method;
  aggregator: AggregatorName;
  nnm: boolean;
  attack: Attack;
  attackMode: 'increment' | 'state';
  compressor: 'topk' | 'randk';
  /** k as a fraction of d (at least one coordinate). */
  kFraction: number;
  eta: number;
  gamma: number;
  batch: number;
  rounds: number;
  ipmEpsilon: number;
  krumPower: 2 | 4;
  rfa: 'tolerance' | 'official';
  ccTau: number;
  ccIterations: number;
  evalEvery: number;
  seed: number;
}

/** Refuses a configuration an aggregator cannot tolerate, naming it (the limits are the spec's, so UI, CLI and loop agree). */
export function toleranceProblem(c: Pick<SimConfig, 'n' | 'f' | 'declaredF' | 'aggregator'>): string | undefined {
  if (c.f > c.n || c.f < 0) return `f = ${c.f} Byzantine workers of n = ${c.n}`;
  if (c.declaredF < 0 || c.declaredF >= c.n) return `declared f = ${c.declaredF} must be in 0..${c.n - 1}`;
  return aggregatorLimit(c.aggregator, c.n, c.declaredF);
}

export function checkTolerance(c: Pick<SimConfig, 'n' | 'f' | 'declaredF' | 'aggregator'>): void {
  const problem = toleranceProblem(c);
  if (problem) throw new RangeError(problem);
}

export interface RoundRecord {
  round: number;
  /** Passes over the training rows: rounds · n · batch / rows. */
  epoch: number;
  valAcc: number;
  testAcc: number;
  trainLoss: number;
  /** Uplink bytes one honest worker has sent so far. */
  bytesPerWorker: number;
  /** Each worker's server-side vector's distance to the round's aggregate. */
  distances: number[];
}
export interface SimResult {
  curve: RoundRecord[];
  finalAcc: number;
  finalValAcc: number;
  /** Mean uplink bytes per honest worker per round. */
  bytesPerWorkerRound: number;
  rounds: number;
  ms: number;
  threads: number;
  x: Vec;
}

export function aggregate(c: SimConfig, vectors: Vec[], previous: Vec): Vec {
  const xs = c.nnm && c.declaredF > 0 ? nearestNeighbourMixing(vectors, c.declaredF) : vectors;
  switch (c.aggregator) {
    case 'mean': return mean(xs);
    case 'cm': return coordinateMedian(xs);
    case 'cwtm': return trimmedMean(xs, c.declaredF);
    case 'rfa': return geometricMedian(xs, c.rfa === 'official' ? WEISZFELD_OFFICIAL : WEISZFELD_DEFAULT).value;
    case 'krum': return krum(xs, c.declaredF, c.krumPower).value;
    case 'cc': return centeredClipping(xs, c.ccTau, c.ccIterations, previous);
  }
}

export interface SimData {
  model: ModelSpec;
  train: TaskData;
  val: TaskData;
  test: TaskData;
  /** Rows of `train` per worker. */
  shards: Int32Array[];
  /** Rows of `train` the reported training loss is measured on. */
  lossRows?: TaskData;
}

export interface SimOptions {
  /** Worker threads (≤ 1: the workers run in this thread). */
  threads?: number;
  onEval?: (r: RoundRecord) => void;
  shouldStop?: () => boolean;
}

const isOmniscient = (a: Attack) => a === 'ipm' || a === 'alie';

export async function simulate(c: SimConfig, data: SimData, opts: SimOptions = {}): Promise<SimResult> {
  checkTolerance(c);
  const d = paramCount(data.model), n = c.n, k = Math.max(1, Math.round(c.kFraction * d));
  const protocol: ProtocolConfig = { method: c.method, model: data.model, compressor: c.compressor, k, eta: c.eta, batch: c.batch, seed: c.seed };
  const omniscient = c.f > 0 && isOmniscient(c.attack);
  const hosted: HostedWorker[] = [];
  for (let i = 0; i < n; i++) {
    const byz = i < c.f && c.attack !== 'none';
    if (byz && omniscient) continue; // crafted here, not computed
    hosted.push({ id: i, role: byz ? (c.attack as 'signflip' | 'labelflip') : 'honest', shard: data.shards[i] });
  }
  const host = await createWorkerHost(opts.threads ?? 1, protocol, data.train, hosted, n, d);
  const t0 = performance.now();
  try {
    const x = initParams(data.model, new Rng(c.seed).fork('init'));
    const stateful = c.method === 'ef21sgdm' || c.method === 'ef21';
    const server = Array.from({ length: n }, () => new Float64Array(d)); // the server's copy of each g_i
    const attackRng = new Rng(c.seed).fork('rand-k-byzantine');
    const z = c.attack === 'alie' ? alieZ(n, c.f) : 0;
    const craft = (honest: Vec[]) => (c.attack === 'ipm' ? ipm(honest, c.ipmEpsilon) : alie(honest, z));
    let previous: Vec = new Float64Array(d);
    const curve: RoundRecord[] = [];
    let honestBytes = 0, honestMessages = 0, t = 0;
    const honestIds = new Set(hosted.filter((w) => w.role === 'honest').map((w) => w.id));
    let yielded = performance.now();
    for (t = 1; t <= c.rounds; t++) {
      // In-process rounds resolve as microtasks: give the event loop (a cancel message, a
      // timer) a turn every 50 ms.
      if (performance.now() - yielded > 50) { await new Promise((res) => setImmediate(res)); yielded = performance.now(); }
      if (opts.shouldStop?.()) break;
      const messages = await host.round(x);
      const received: (Vec | undefined)[] = messages.map((m) => (m ? decodeMessage(m) : undefined));
      for (const i of honestIds) { honestBytes += messages[i]!.length; honestMessages++; }
      // Omniscient attackers see the honest workers' decoded messages of this round.
      if (omniscient && !(stateful && c.attackMode === 'state')) {
        const a = craft([...honestIds].map((i) => received[i]!));
        const bytes = c.method === 'sgdm' ? encodeDense(a) : encodeSparse(c.method === 'brcsgd' || c.compressor === 'randk' ? randK(a, k, attackRng) : topK(a, k));
        const decoded = decodeMessage(bytes);
        for (let i = 0; i < c.f; i++) received[i] = decoded;
      }
      let inputs: Vec[];
      if (stateful) {
        received.forEach((r, i) => { if (r) for (let j = 0; j < d; j++) server[i][j] += r[j]; });
        if (omniscient && c.attackMode === 'state') {
          const a = craft(server.filter((_, i) => honestIds.has(i)));
          for (let i = 0; i < c.f; i++) server[i].set(a);
        }
        inputs = server;
      } else {
        inputs = received as Vec[];
      }
      const agg = aggregate(c, inputs, previous);
      for (let j = 0; j < d; j++) x[j] -= c.gamma * agg[j];
      previous = agg;
      if (t % c.evalEvery === 0 || t === c.rounds) {
        const rec: RoundRecord = {
          round: t, epoch: (t * n * c.batch) / data.train.count,
          valAcc: accuracy(data.model, x, data.val), testAcc: accuracy(data.model, x, data.test),
          trainLoss: loss(data.model, x, data.lossRows ?? data.train),
          bytesPerWorker: honestMessages ? (honestBytes / honestMessages) * t : 0,
          distances: inputs.map((u) => Math.sqrt(sqDist(u, agg))),
        };
        curve.push(rec);
        opts.onEval?.(rec);
      }
    }
    const last = curve.at(-1);
    return {
      curve, finalAcc: last?.testAcc ?? accuracy(data.model, x, data.test), finalValAcc: last?.valAcc ?? accuracy(data.model, x, data.val),
      bytesPerWorkerRound: honestMessages ? honestBytes / honestMessages : 0, rounds: t - 1, ms: performance.now() - t0, threads: host.threads, x,
    };
  } finally {
    await host.close();
  }
}
