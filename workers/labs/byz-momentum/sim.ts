// One Byzantine-robust training run: n workers (the first f Byzantine), a server, real byte
// messages. Methods (the paper's Algorithm and its baselines):
// - ef21sgdm: v_i ← (1−η)v_i + η∇f_i(x; ξ_i); c_i = C(v_i − g_i); g_i ← g_i + c_i; send c_i.
//   The server keeps every g_i (adding each c_i) and steps x ← x − γ·Agg(NNM(g_1..g_n)).
// - ef21: the same with η = 1 (no momentum).
// - brcsgd: send C(∇f_i) with unbiased rand-k; the server aggregates the messages.
// - sgdm: send the momentum v_i uncompressed (float32); the server aggregates them.
// v_i and g_i start at 0, so the first round aggregates g_i = c_i (as the paper's code).
// Attacks: signflip (a Byzantine runs the protocol on −∇), labelflip (on flipped labels),
// ipm and alie (omniscient: computed from the honest workers' vectors of the round). In
// `increment` mode (the paper's code) they are computed on the honest increments c_i and
// sent compressed, the server adding them to the Byzantine worker's state; in `state`
// mode the Byzantine worker's server-side g_i is set to the attack on the honest g_i.
import type { Rng } from '../../runtime/rng';
import { centeredClipping, coordinateMedian, geometricMedian, krum, mean, nearestNeighbourMixing, sqDist, trimmedMean, WEISZFELD_DEFAULT, WEISZFELD_OFFICIAL, type Vec } from './aggregators';
import { alie, alieZ, ipm } from './attacks';
import { decodeMessage, densify, encodeDense, encodeSparse, randK, topK, type Sparse } from './compressors';
import { accuracy, logisticGradient, logisticLoss, type BinaryTask } from './task';

export const METHODS = ['ef21sgdm', 'ef21', 'brcsgd', 'sgdm'] as const;
export type Method = (typeof METHODS)[number];
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
}

/** Refuses a configuration an aggregator cannot tolerate, naming it (UI and CLI show this). */
export function checkTolerance(c: Pick<SimConfig, 'n' | 'f' | 'declaredF' | 'aggregator' | 'nnm'>): void {
  if (c.f > c.n || c.f < 0) throw new RangeError(`f = ${c.f} Byzantine workers of n = ${c.n}`);
  if (c.declaredF < 0 || c.declaredF >= c.n) throw new RangeError(`declared f = ${c.declaredF} must be in 0..${c.n - 1}`);
  if (c.aggregator === 'krum' && !(c.n >= 2 * c.declaredF + 3)) throw new RangeError(`Krum tolerates f only when n ≥ 2f + 3: n = ${c.n}, f = ${c.declaredF} needs n ≥ ${2 * c.declaredF + 3}`);
  if (c.aggregator === 'cwtm' && !(c.n > 2 * c.declaredF)) throw new RangeError(`the trimmed mean trims f at each end and needs n > 2f: n = ${c.n}, f = ${c.declaredF}`);
}

export interface RoundRecord { round: number; testAcc: number; trainLoss: number; bytesUplink: number }
export interface SimResult {
  curve: RoundRecord[];
  finalAcc: number;
  /** Mean uplink bytes per honest worker per round. */
  bytesPerWorkerRound: number;
  /** Per worker, the last round's distance of its server-side vector to the aggregate. */
  lastDistances: number[];
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

export interface SimData { train: BinaryTask; test: BinaryTask; shards: Int32Array[] }

export function simulate(c: SimConfig, data: SimData, rng: Rng, onEval?: (r: RoundRecord) => void, shouldStop?: () => boolean): SimResult {
  checkTolerance(c);
  const d = data.train.d, n = c.n, k = Math.max(1, Math.round(c.kFraction * d));
  const eta = c.method === 'ef21' ? 1 : c.eta;
  const x = new Float64Array(d);
  const v = Array.from({ length: n }, () => new Float64Array(d)); // workers' momentum
  const g = Array.from({ length: n }, () => new Float64Array(d)); // workers' compressed state
  const server = Array.from({ length: n }, () => new Float64Array(d)); // the server's copy of each g_i
  const workerRng = Array.from({ length: n }, (_, i) => rng.fork(`worker-${i}`));
  const compressRng = rng.fork('rand-k');
  const grad = new Float64Array(d);
  const z = c.attack === 'alie' ? alieZ(n, c.f) : 0;
  let aggregate_: Vec = new Float64Array(d);
  const curve: RoundRecord[] = [];
  let honestBytes = 0, honestMessages = 0, lastDistances: number[] = [];
  const compress = (u: Vec): Sparse => (c.compressor === 'topk' ? topK(u, k) : randK(u, k, compressRng));

  for (let t = 1; t <= c.rounds; t++) {
    if (shouldStop?.()) break;
    const messages: Uint8Array[] = new Array(n);
    const honestVectors: Vec[] = []; // what the omniscient attacks see: increments c_i, or messages
    // 1. Every worker runs the protocol (Byzantine sign/label flippers on their altered gradient).
    for (let i = 0; i < n; i++) {
      const byz = i < c.f;
      if (byz && (c.attack === 'ipm' || c.attack === 'alie')) continue;
      const sh = data.shards[i];
      const rows = Array.from({ length: c.batch }, () => sh[workerRng[i].int(sh.length)]);
      logisticGradient(data.train, x, rows, byz && c.attack === 'labelflip', grad);
      if (byz && c.attack === 'signflip') for (let j = 0; j < d; j++) grad[j] = -grad[j];
      let msg: Uint8Array;
      if (c.method === 'ef21sgdm' || c.method === 'ef21') {
        for (let j = 0; j < d; j++) { v[i][j] = (1 - eta) * v[i][j] + eta * grad[j]; grad[j] = v[i][j] - g[i][j]; }
        const ci = compress(grad);
        msg = encodeSparse(ci);
        const dense = densify(ci);
        for (let j = 0; j < d; j++) g[i][j] += dense[j];
        if (!byz) honestVectors.push(dense);
      } else if (c.method === 'brcsgd') {
        const ci = randK(grad, k, compressRng);
        msg = encodeSparse(ci);
        if (!byz) honestVectors.push(densify(ci));
      } else {
        for (let j = 0; j < d; j++) v[i][j] = (1 - eta) * v[i][j] + eta * grad[j];
        msg = encodeDense(v[i]);
        if (!byz) honestVectors.push(Float64Array.from(v[i]));
      }
      messages[i] = msg;
      if (!byz) { honestBytes += msg.length; honestMessages++; }
    }
    // 2. Omniscient attackers, from the honest vectors of this round.
    const omniscient = c.f > 0 && (c.attack === 'ipm' || c.attack === 'alie');
    const stateful = c.method === 'ef21sgdm' || c.method === 'ef21';
    if (omniscient && !(stateful && c.attackMode === 'state')) {
      const a = c.attack === 'ipm' ? ipm(honestVectors, c.ipmEpsilon) : alie(honestVectors, z);
      const msg = c.method === 'sgdm' ? encodeDense(a) : encodeSparse(compress(a));
      for (let i = 0; i < c.f; i++) messages[i] = msg;
    }
    // 3. The server: decode, update its per-worker state, aggregate, step.
    const received = messages.map((m) => (m ? decodeMessage(m) : null));
    let inputs: Vec[];
    if (stateful) {
      received.forEach((r, i) => { if (r) for (let j = 0; j < d; j++) server[i][j] += r[j]; });
      if (omniscient && c.attackMode === 'state') {
        const honestState = server.slice(c.f);
        const a = c.attack === 'ipm' ? ipm(honestState, c.ipmEpsilon) : alie(honestState, z);
        for (let i = 0; i < c.f; i++) server[i].set(a);
      }
      inputs = server;
    } else {
      inputs = received as Vec[];
    }
    const agg = aggregate(c, inputs, aggregate_);
    for (let j = 0; j < d; j++) x[j] -= c.gamma * agg[j];
    aggregate_ = agg;
    if (t % c.evalEvery === 0 || t === c.rounds) {
      lastDistances = inputs.map((u) => Math.sqrt(sqDist(u, agg)));
      const rec = { round: t, testAcc: accuracy(data.test, x), trainLoss: logisticLoss(data.train, x), bytesUplink: honestMessages ? honestBytes / honestMessages : 0 };
      curve.push(rec);
      onEval?.(rec);
    }
  }
  return { curve, finalAcc: curve.at(-1)?.testAcc ?? accuracy(data.test, x), bytesPerWorkerRound: honestMessages ? honestBytes / honestMessages : 0, lastDistances, x };
}
