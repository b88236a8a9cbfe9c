// Independent pieces of one run (ec-dit's three trainings, say) in worker threads when the
// job has the cores: every task in a fresh thread of its own (its own TF.js backend), up to
// twice the job's cores started at once and taking turns on its cores between steps
// (./core-turns), each reporting progress, metrics and logs back; its result comes back
// structured-cloned. Cancel reaches a thread through a shared flag it reads between steps.
// The thread entry is out/main/task-thread.js (workers/task-thread.ts), whose registry
// (workers/thread-tasks.ts) names what a task `kind` runs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, type RunContext } from './context';
import { CORE_TURNS_BYTES } from './core-turns';

/** What a task sees of its run: the same calls a lab makes on its context. */
export type TaskIo = Pick<RunContext, 'throwIfCancelled' | 'metric' | 'progress' | 'log'>;
export type TaskHandler = (input: unknown, io: TaskIo) => Promise<unknown>;

export interface ThreadTask { kind: string; input: unknown }
/** What a thread receives at start. */
export interface TaskThreadInit extends ThreadTask { backend: string; cancel: SharedArrayBuffer; turns: SharedArrayBuffer; cores: number }
export type TaskMessage =
  | { type: 'progress'; done: number }
  | { type: 'metric'; step: number; name: string; value: number }
  | { type: 'log'; message: string; level: 'debug' | 'info' | 'warn' | 'error' }
  | { type: 'done'; output: unknown }
  | { type: 'error'; message: string; cancelled: boolean };

export interface TaskHooks {
  signal: AbortSignal;
  backend: string;
  /** Task `index` has done `done` of its units (its own progress calls' `done`). */
  progress(index: number, done: number): void;
  metric: RunContext['metric'];
  log: RunContext['log'];
}

/** The bundled thread entry: next to this code once built (out/main), else in an out/main above it (tests and the bench run sources). */
export function taskThreadScript(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    for (const p of [join(dir, 'task-thread.js'), join(dir, 'out', 'main', 'task-thread.js')]) if (existsSync(p)) return p;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`the thread entry (task-thread.js) is not built next to ${__dirname} or in an out/main above it: run npm run build`);
}

/**
 * Runs every task in its own thread, at most `cores` of them computing at a time (turns
 * passed between steps); results in task order. The first failure stops the others.
 * Threads alive at once are capped at twice the cores: each holds its own wasm heap and
 * data (cond-perceptual's four arms peaked near 2 GB), and more than that gains nothing
 * over starting the next task when one ends.
 */
export function runInThreads<O>(tasks: readonly ThreadTask[], cores: number, hooks: TaskHooks): Promise<O[]> {
  const script = taskThreadScript();
  const cancel = new SharedArrayBuffer(4), flag = new Int32Array(cancel), turns = new SharedArrayBuffer(CORE_TURNS_BYTES);
  const results = new Array<O>(tasks.length);
  const running = new Set<Worker>();
  const live = Math.min(tasks.length, 2 * Math.max(1, cores));
  let next = 0, finished = 0, failed = false;
  return new Promise<O[]>((resolve, reject) => {
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      Atomics.store(flag, 0, 1);
      hooks.signal.removeEventListener('abort', onAbort);
      for (const w of running) void w.terminate();
      reject(e);
    };
    const onAbort = () => fail(new CancelledError());
    hooks.signal.addEventListener('abort', onAbort);
    if (hooks.signal.aborted) { onAbort(); return; }
    const start = () => {
      if (failed || next >= tasks.length) return;
      const index = next++;
      const init: TaskThreadInit = { ...tasks[index], backend: hooks.backend, cancel, turns, cores: Math.max(1, cores) };
      const w = new Worker(script, { workerData: init });
      running.add(w);
      let done = false;
      w.on('message', (m: TaskMessage) => {
        if (failed) return;
        if (m.type === 'progress') hooks.progress(index, m.done);
        else if (m.type === 'metric') hooks.metric(m.step, m.name, m.value);
        else if (m.type === 'log') hooks.log(m.message, m.level);
        else if (m.type === 'error') fail(m.cancelled ? new CancelledError() : new Error(`${tasks[index].kind} (thread): ${m.message}`));
        else {
          done = true;
          results[index] = m.output as O;
          running.delete(w);
          void w.terminate();
          if (++finished === tasks.length) { hooks.signal.removeEventListener('abort', onAbort); resolve(results); } else start();
        }
      });
      w.on('error', (e) => fail(new Error(`${tasks[index].kind} (thread): ${e.message}`)));
      w.on('exit', (code) => { if (!done) fail(new Error(`${tasks[index].kind} (thread) exited with code ${code} before finishing`)); });
    };
    for (let i = 0; i < live; i++) start();
  });
}

/** Cores a run's independent tasks compute on at once: the job's, at most one per task. */
export const taskThreadCount = (cores: number, tasks: number) => Math.min(cores, tasks);

/**
 * A run's independent tasks of one kind: one after another in the run's own thread when the
 * job has one core, else side by side in worker threads under one progress phase over all
 * their units (each task's progress calls report its own `done`).
 */
export async function runTasks<O>(ctx: RunContext, tasks: readonly ThreadTask[], handler: (input: never, io: TaskIo) => Promise<O>, o: { phase: string; units: number }): Promise<O[]> {
  const threads = taskThreadCount(ctx.cores, tasks.length);
  if (threads <= 1) {
    const out: O[] = [];
    for (const t of tasks) out.push(await handler(t.input as never, ctx));
    return out;
  }
  const done = tasks.map(() => 0);
  return runInThreads<O>(tasks, threads, {
    signal: ctx.signal, backend: ctx.backend.name, metric: ctx.metric, log: ctx.log,
    progress(i, n) { done[i] = n; ctx.progress(o.phase, done.reduce((a, b) => a + b, 0), o.units); },
  });
}

