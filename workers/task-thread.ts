// Runtime: a node worker thread (bundled as out/main/task-thread.js) running one task of a
// run (workers/runtime/task-threads.ts): it starts the run's backend, runs the handler its
// kind names, and posts progress, metrics and logs, then the result or the error.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from './runtime/backend';
import { CancelledError } from './runtime/context';
import type { TaskIo, TaskMessage, TaskThreadInit } from './runtime/task-threads';
import { THREAD_TASKS } from './thread-tasks';

const init = workerData as TaskThreadInit;
const cancelled = new Int32Array(init.cancel);
const post = (m: TaskMessage) => parentPort!.postMessage(m);

const io: TaskIo = {
  throwIfCancelled() { if (Atomics.load(cancelled, 0)) throw new CancelledError(); },
  metric(step, name, value) { post({ type: 'metric', step, name, value }); },
  progress(_phase, done) { post({ type: 'progress', done }); },
  log(message, level = 'info') { post({ type: 'log', message, level }); },
};

(async () => {
  try {
    const handler = THREAD_TASKS[init.kind];
    if (!handler) throw new Error(`no thread task "${init.kind}" (known: ${Object.keys(THREAD_TASKS).join(', ')})`);
    await initBackend(init.backend);
    post({ type: 'done', output: await handler(init.input, io) });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e), cancelled: e instanceof CancelledError });
  }
})();
