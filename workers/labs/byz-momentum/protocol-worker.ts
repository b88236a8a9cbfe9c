// One worker's side of the protocol: it samples its shard, runs its method's update and
// returns the bytes it sends uplink. Honest workers and the non-omniscient Byzantine ones
// (sign flip, label flip: they run the protocol on an altered gradient) are this class;
// the omniscient attacks (IPM, ALIE) are crafted by the server loop, which sees the round.
// Each worker owns its randomness (forked from the run seed by worker id), so the bytes do
// not depend on how workers are spread over threads.
import { Rng } from '../../runtime/rng';
import type { Vec } from './aggregators';
import { encodeDense, encodeSparse, randK, topK, type Sparse } from './compressors';
import { gradient, paramCount, type ModelSpec, type TaskData } from './task';

export const METHODS = ['ef21sgdm', 'ef21', 'brcsgd', 'sgdm'] as const;
export type Method = (typeof METHODS)[number];
export type Role = 'honest' | 'signflip' | 'labelflip';

/** What every worker of a run shares; plain data, so it crosses into a thread as is. */
export interface ProtocolConfig {
  method: Method;
  model: ModelSpec;
  compressor: 'topk' | 'randk';
  /** Coordinates each message keeps (≥ 1). */
  k: number;
  eta: number;
  batch: number;
  seed: number;
}

export const workerRng = (seed: number, id: number, what: 'samples' | 'rand-k') => new Rng(seed).fork(`worker-${id}-${what}`);

export class ProtocolWorker {
  private readonly v: Vec;
  private readonly g: Vec;
  private readonly grad: Vec;
  private readonly samples: Rng;
  private readonly compressRng: Rng;
  private readonly rows: Int32Array;

  constructor(readonly id: number, readonly role: Role, private readonly c: ProtocolConfig, private readonly data: TaskData, private readonly shard: Int32Array) {
    if (!shard.length) throw new RangeError(`worker ${id} has no training rows to sample (an empty shard)`);
    const d = paramCount(c.model);
    this.v = new Float64Array(d); // momentum, starts at 0
    this.g = new Float64Array(d); // the compressed state the server mirrors, starts at 0
    this.grad = new Float64Array(d);
    this.samples = workerRng(c.seed, id, 'samples');
    this.compressRng = workerRng(c.seed, id, 'rand-k');
    this.rows = new Int32Array(c.batch);
  }

  private compress(u: Vec): Sparse {
    return this.c.compressor === 'topk' ? topK(u, this.c.k) : randK(u, this.c.k, this.compressRng);
  }

  /** One round at the server's x: the message's bytes. */
  step(x: Vec): Uint8Array {
    const { c, v, g, grad } = this;
    for (let b = 0; b < c.batch; b++) this.rows[b] = this.shard[this.samples.int(this.shard.length)];
    gradient(c.model, x, this.data, this.rows, this.role === 'labelflip', grad);
    if (this.role === 'signflip') for (let j = 0; j < grad.length; j++) grad[j] = -grad[j];
    const d = grad.length;
    switch (c.method) {
      case 'ef21sgdm':
      case 'ef21': {
        const eta = c.method === 'ef21' ? 1 : c.eta;
        for (let j = 0; j < d; j++) { v[j] = (1 - eta) * v[j] + eta * grad[j]; grad[j] = v[j] - g[j]; }
        const ci = this.compress(grad);
        // g advances by exactly what the server decodes (float32 values), so the two never drift.
        ci.indices.forEach((i, j) => { g[i] += ci.values[j]; });
        return encodeSparse(ci);
      }
      case 'brcsgd':
        return encodeSparse(randK(grad, c.k, this.compressRng));
      case 'sgdm':
        for (let j = 0; j < d; j++) v[j] = (1 - c.eta) * v[j] + c.eta * grad[j];
        return encodeDense(v);
    }
  }
}
