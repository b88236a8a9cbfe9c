// Where the protocol workers run: in this thread (threads ≤ 1, and in unit tests), or spread
// over worker threads, each hosting a contiguous block of workers. Either way a round is
// "here is x, give me every hosted worker's message bytes", the path a networked
// deployment would take. Threads read the training rows and x from shared memory (x is
// written before the round is posted, which orders the write before their reads) and
// answer with the bytes each worker sends.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Vec } from './aggregators';
import { ProtocolWorker, type ProtocolConfig, type Role } from './protocol-worker';
import type { TaskData } from './task';

export interface HostedWorker { id: number; role: Role; shard: Int32Array }

export interface WorkerHost {
  readonly threads: number;
  /** One round at x: message bytes by worker id (undefined for workers not hosted). */
  round(x: Vec): Promise<(Uint8Array | undefined)[]>;
  close(): Promise<void>;
}

/** What a thread receives at start (structured-cloned; the buffers are shared, not copied). */
export interface ThreadInit {
  config: ProtocolConfig;
  features: number;
  count: number;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  params: SharedArrayBuffer;
  workers: HostedWorker[];
}
export type ThreadReply = { ids: number[]; messages: Uint8Array[] } | { error: string };

export function inProcessHost(config: ProtocolConfig, data: TaskData, workers: HostedWorker[], n: number): WorkerHost {
  const hosted = workers.map((w) => new ProtocolWorker(w.id, w.role, config, data, w.shard));
  return {
    threads: 1,
    async round(x) {
      const out: (Uint8Array | undefined)[] = new Array(n);
      for (const w of hosted) out[w.id] = w.step(x);
      return out;
    },
    async close() { /* nothing to release */ },
  };
}

/**
 * The bundled thread entry: next to this code once built (out/main), else in the repo's
 * out/main, found walking up from here (tests and the bench run other bundles or sources).
 */
export function threadScript(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    for (const p of [join(dir, 'byz-worker.js'), join(dir, 'out', 'main', 'byz-worker.js')]) if (existsSync(p)) return p;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`the byz-momentum thread entry (byz-worker.js) is not built next to ${__dirname} or in an out/main above it: run npm run build`);
}

function shareFloat32(a: Float32Array): SharedArrayBuffer { const b = new SharedArrayBuffer(a.byteLength); new Float32Array(b).set(a); return b; }
function shareUint8(a: Uint8Array): SharedArrayBuffer { const b = new SharedArrayBuffer(a.byteLength); new Uint8Array(b).set(a); return b; }

export async function threadHost(threads: number, config: ProtocolConfig, data: TaskData, workers: HostedWorker[], n: number, d: number): Promise<WorkerHost> {
  const params = new SharedArrayBuffer(8 * d), paramsView = new Float64Array(params);
  const x = shareFloat32(data.x), y = shareUint8(data.y);
  const per = Math.ceil(workers.length / threads);
  const groups = Array.from({ length: threads }, (_, t) => workers.slice(t * per, (t + 1) * per)).filter((g) => g.length > 0);
  const script = threadScript();
  const pool = groups.map((group) => new Worker(script, { workerData: { config, features: data.features, count: data.count, x, y, params, workers: group } satisfies ThreadInit }));
  let failure: Error | undefined;
  const pending = new Set<(e: Error) => void>();
  // A thread that throws outside a round (e.g. building its workers) ends; every round asked of it fails with its message.
  for (const w of pool) w.on('error', (e) => { failure = new Error(`byz-momentum worker thread: ${e.message}`); for (const reject of pending) reject(failure); });
  const ask = (w: Worker) => new Promise<{ ids: number[]; messages: Uint8Array[] }>((resolve, reject) => {
    if (failure) { reject(failure); return; }
    const fail = (e: Error) => { pending.delete(fail); reject(e); };
    pending.add(fail);
    w.once('message', (r: ThreadReply) => {
      pending.delete(fail);
      if ('error' in r) reject(new Error(`byz-momentum worker thread: ${r.error}`)); else resolve(r);
    });
    w.postMessage('round');
  });
  return {
    threads: pool.length,
    async round(xs) {
      paramsView.set(xs);
      const replies = await Promise.all(pool.map(ask));
      const out: (Uint8Array | undefined)[] = new Array(n);
      for (const r of replies) r.ids.forEach((id, j) => { out[id] = r.messages[j]; });
      return out;
    },
    async close() { await Promise.all(pool.map((w) => w.terminate())); },
  };
}

/** Threads when asked for more than one and there is something to spread, else in process. */
export async function createWorkerHost(threads: number, config: ProtocolConfig, data: TaskData, workers: HostedWorker[], n: number, d: number): Promise<WorkerHost> {
  return threads > 1 && workers.length > 1 ? threadHost(Math.min(threads, workers.length), config, data, workers, n, d) : inProcessHost(config, data, workers, n);
}
