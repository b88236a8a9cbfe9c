// Runtime: a node worker thread (bundled as out/main/task-thread.js) running one task of a
// run (workers/runtime/task-threads.ts): it waits for a turn on the job's cores, starts the
// run's backend, runs the handler its kind names (passing the turn on at each step's
// cancel check), and posts progress, metrics and logs, then the result or the error.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './runtime/backend';
import { CancelledError } from './runtime/context';
import { CoreTurns } from './runtime/core-turns';
import type { TaskIo, TaskMessage, TaskThreadInit } from './runtime/task-threads';
import { THREAD_TASKS } from './thread-tasks';

const init = workerData as TaskThreadInit;
const cancelled = new Int32Array(init.cancel);
const post = (m: TaskMessage) => parentPort!.postMessage(m);
const turns = new CoreTurns(init.turns, init.cores, () => Atomics.load(cancelled, 0) !== 0);

const io: TaskIo = {
  throwIfCancelled() { if (Atomics.load(cancelled, 0) || !turns.pass()) throw new CancelledError(); },
  metric(step, name, value) { post({ type: 'metric', step, name, value }); },
  progress(_phase, done) { post({ type: 'progress', done }); },
  log(message, level = 'info') { post({ type: 'log', message, level }); },
};

(async () => {
  try {
    const handler = THREAD_TASKS[init.kind];
    if (!handler) throw new Error(`no thread task "${init.kind}" (known: ${Object.keys(THREAD_TASKS).join(', ')})`);
    if (!turns.acquire()) throw new CancelledError();
    await initBackend(init.backend);
    const output = await handler(init.input, io);
    turns.release();
    post({ type: 'done', output });
  } catch (e) {
    turns.release();
    post({ type: 'error', message: e instanceof Error ? e.message : String(e), cancelled: e instanceof CancelledError });
  }
})();
