// The worker_threads entry: one lab run (or one model server) per thread. No Electron,
// no DOM. Events go to the JobService as they happen; it batches them for the UI.
import { parentPort } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './runtime/backend';
import { Rng } from './runtime/rng';
import { CancelledError, plannedProgress, type LabDefinition, type RunContext } from './runtime/context';
import { obtainPart, partCached } from './runtime/shared-parts';
import { writeFileAtomic } from './runtime/paths';
import { describeFailure, isOutOfMemory } from './runtime/failure';
import { answerQuery } from './runtime/query';
import { LABS } from './labs';
import { sharedPart, SHARED_PART_KEYS } from './shared-parts';
import type { FromWorker, JobSpec, ToWorker } from './jobs/protocol';

if (!parentPort) throw new Error('lab-worker must run in a worker thread');
const port = parentPort;
const post = (m: FromWorker) => port.postMessage(m);

const controller = new AbortController();
let liveModel: unknown;
let lab: LabDefinition | undefined;
let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
rssTimer.unref();

function loadLab(job: JobSpec): LabDefinition {
  if (job.labModule) return (require(job.labModule) as { lab: LabDefinition }).lab;
  const found = LABS[job.labId];
  if (!found) throw new Error(`unknown lab "${job.labId}"`);
  return found;
}

function makeContext(job: JobSpec, backend: Awaited<ReturnType<typeof initBackend>>): RunContext {
  const emit: RunContext['emit'] = (event) => post({ type: 'event', event });
  const ctx: RunContext = {
    tf, backend, seed: job.seed, rng: new Rng(job.seed), signal: controller.signal, runDir: job.runDir, cores: job.cores, partsHome: job.home,
    emit,
    metric: (step, name, value) => emit({ type: 'metric', step, name, value }),
    ...plannedProgress(emit),
    log: (message, level = 'info') => emit({ type: 'log', level, message }),
    artifacts: {
      write(name, mime, data) {
        if (!/^[\w.-]+$/.test(name)) throw new Error(`artifact name "${name}" must be a plain file name`);
        const path = join(job.runDir, 'artifacts', name);
        writeFileAtomic(path, data);
        emit({ type: 'artifact', name, mime, path });
        return path;
      },
    },
    checkpointPath: (name) => join(job.runDir, 'checkpoints', `${name}.ckpt`),
    async require(key) {
      const part = sharedPart(key);
      if (!part) throw new Error(`unknown shared part "${key}" (known: ${SHARED_PART_KEYS.join(', ')})`);
      return obtainPart(part, ctx, job.home);
    },
    isCached(key) { const part = sharedPart(key); return !!part && partCached(part, job.home); },
    throwIfCancelled() { if (controller.signal.aborted) throw new CancelledError(); },
    setLiveModel(model) { liveModel = model; },
  };
  return ctx;
}

async function start(job: JobSpec): Promise<void> {
  mkdirSync(job.runDir, { recursive: true });
  lab = loadLab(job);
  const backend = await initBackend();
  post({ type: 'backend', info: backend });
  const ctx = makeContext(job, backend);
  if (job.mode === 'serve') {
    if (!lab.loadModel) throw new Error(`lab ${lab.spec.id} cannot reload a finished run`);
    liveModel = await lab.loadModel(job.runDir, ctx);
    post({ type: 'ready' });
    return;
  }
  const before = tf.memory().numTensors;
  const summary = await lab.run(job.params as never, ctx);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  // Tensors still alive beyond the live model's variables are a leak the lab test catches.
  const liveVars = tf.memory().numTensors - before;
  post({ type: 'done', summary, numTensors: liveVars, peakRssMb: peakRss / 2 ** 20 });
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'start') {
    start(msg.job).catch((err: Error) => {
      if (err instanceof CancelledError || controller.signal.aborted) post({ type: 'cancelled' });
      else post({ type: 'failed', error: describeFailure(err) });
    });
  } else if (msg.type === 'cancel') {
    controller.abort();
  } else if (msg.type === 'query') {
    void (async () => {
      try {
        if (!lab || liveModel === undefined) throw new Error('the model is not ready yet (the run is still starting or training)');
        post({ type: 'query-result', id: msg.id, ok: true, result: await answerQuery(lab, msg.name, msg.args, liveModel) });
      } catch (err) {
        // The message alone ("clip 9 is not in the test set"), not the error's class name; an out-of-memory says what to do.
        post({ type: 'query-result', id: msg.id, ok: false, error: isOutOfMemory(err) || !(err instanceof Error) ? describeFailure(err).split('\n')[0] : err.message });
      }
    })();
  }
});
