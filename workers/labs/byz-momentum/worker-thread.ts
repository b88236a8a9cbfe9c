// Runtime: a node worker thread (bundled as out/main/byz-worker.js). Hosts a block of
// byz-momentum protocol workers; on each 'round' it reads x from shared memory and replies
// with every hosted worker's message bytes.
import { parentPort, workerData } from 'node:worker_threads';
import { ProtocolWorker } from './protocol-worker';
import type { ThreadInit, ThreadReply } from './worker-host';

const init = workerData as ThreadInit;
const data = { features: init.features, count: init.count, x: new Float32Array(init.x), y: new Uint8Array(init.y) };
const x = new Float64Array(init.params);
const workers = init.workers.map((w) => new ProtocolWorker(w.id, w.role, init.config, data, w.shard));
const ids = workers.map((w) => w.id);

parentPort!.on('message', () => {
  let reply: ThreadReply;
  try {
    reply = { ids, messages: workers.map((w) => w.step(x)) };
  } catch (e) {
    reply = { error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply);
});
