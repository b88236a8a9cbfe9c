// `benchtop worker`: takes runs from the queue and runs them with the same JobService and lab
// code as the app, in a scratch store of its own. Per attempt it buffers the run's events (and
// artifact files) in Redis for the coordinator, and at the end the run folder as a tar. A job
// is checked before anything runs: its shape, its code identity, its params (the lab's own
// schema; no local files or URLs). A worker that loses a run's lock cancels that run.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import Redis from 'ioredis';
import { findLabSpec } from '../../common/labs';
import { resolveParams, type PresetName } from '../../common/lab';
import type { LabEvent } from '../../common/events';
import { stringifyJson } from '../../common/json';
import { JobService } from '../jobs/job-service';
import { RunStore } from '../jobs/run-store';
import { dbPath } from '../runtime/paths';
import { writeTar, type TarEntry } from '../runtime/tar';
import { bullConnection, type QueueAddress } from './address';
import { CANCEL_CHANNEL, CANCELLED_REASON, KEY_TTL_S, QUEUE_NAME, RUN_TAR, codeMismatch, localReference, queueKeys, queueTiming, remoteJobData } from './remote-job';

export interface QueueWorkerOptions {
  address: QueueAddress;
  /** Cores this worker offers: its runs share them as the app's runs do. */
  cores: number;
  /** The worker's own folder: its scratch run store lives in `<home>/queue-worker`. */
  home: string;
  /** Where shared parts and datasets are cached (trained once per worker machine). */
  cacheHome: string;
  workerPath: string;
  log: (line: string) => void;
}

const LOST_LOCK = 'lost its lock';

function filesOf(dir: string, root = dir): TarEntry[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesOf(p, root) : [{ name: relative(root, p).split('\\').join('/'), data: readFileSync(p) }];
  });
}

export async function startQueueWorker(o: QueueWorkerOptions): Promise<{ close(): Promise<void>; name: string }> {
  const scratch = join(o.home, 'queue-worker');
  const store = new RunStore(dbPath(scratch));
  // serveIdleMs 1: a finished run's thread ends at once (the coordinator serves its model from the run folder).
  const jobs = new JobService({ store, home: scratch, cacheHome: o.cacheHome, workerPath: o.workerPath, host: 'queue-worker', coreBudget: o.cores, serveIdleMs: 1 });
  const redis = new Redis(o.address.redis);
  const subscriber = new Redis(o.address.redis);
  const me = { host: hostname(), arch: process.arch, pid: String(process.pid), cores: String(o.cores) };
  const name = `${me.host}:${me.pid}`;
  let lastError = '';
  const report = (err: Error) => { if (err.message !== lastError) { lastError = err.message; o.log(`queue: ${err.message}`); } };
  redis.on('error', report);
  subscriber.on('error', report);

  async function runOne(job: Job, signal?: AbortSignal): Promise<unknown> {
    const parsed = remoteJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`refused job ${job.id}: it is not a Benchtop run (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
    const data = parsed.data;
    const refuse = (why: string) => { o.log(`refused ${data.lab} seed ${data.seed} (run ${data.runId}): ${why}`); return new UnrecoverableError(`${name} refused the run: ${why}`); };
    const mismatch = codeMismatch(data);
    if (mismatch) throw refuse(mismatch);
    const local = localReference(data.params);
    if (local) throw refuse(local);
    try { resolveParams(findLabSpec(data.lab)!, data.preset as PresetName, { ...data.params, seed: data.seed }); } catch (err) { throw refuse((err as Error).message); }
    if (await redis.exists(queueKeys.cancel(data.runId))) throw new UnrecoverableError(CANCELLED_REASON);

    const attempt = job.attemptsStarted;
    await redis.multi().hset(queueKeys.attempt(data.runId, attempt), me).expire(queueKeys.attempt(data.runId, attempt), KEY_TTL_S).exec();
    const run = jobs.start({ lab: data.lab, preset: data.preset, seed: data.seed, params: data.params });
    o.log(`${data.lab} ${data.preset} seed ${data.seed}: run ${data.runId}, attempt ${attempt}`);
    const eventsKey = queueKeys.events(data.runId, attempt), filesKey = queueKeys.files(data.runId, attempt);
    // Pushes happen in order, one batch after another; the first failure is kept and ends the attempt.
    let pushes: Promise<void> = Promise.resolve();
    let pushError: Error | undefined;
    const push = async (events: LabEvent[]) => {
      const tx = redis.multi();
      const lines = events.map((e) => {
        if (e.type !== 'artifact') return stringifyJson(e);
        const rel = relative(run.runDir, e.path).split('\\').join('/');
        tx.hset(filesKey, rel, readFileSync(e.path));
        return stringifyJson({ ...e, path: rel });
      });
      tx.rpush(eventsKey, ...lines).expire(eventsKey, KEY_TTL_S).expire(filesKey, KEY_TTL_S);
      await tx.exec();
    };
    const stop = jobs.onUpdate((u) => {
      if (u.runId !== run.id || !u.events.length) return;
      const events = u.events.map(({ seq: _seq, at: _at, ...e }) => e as LabEvent);
      pushes = pushes.then(() => push(events)).catch((err: Error) => { pushError ??= err; void jobs.cancel(run.id); });
    });
    const onAbort = () => { void jobs.cancel(run.id); };
    signal?.addEventListener('abort', onAbort);
    try {
      const final = await jobs.waitFor(run.id);
      await pushes;
      if (signal?.aborted) throw new UnrecoverableError(signal.reason === LOST_LOCK ? `${name} lost the run's lock` : CANCELLED_REASON);
      if (pushError) throw new Error(`${name} could not hand the run's events to the queue: ${pushError.message}`);
      if (final.status === 'cancelled') throw new UnrecoverableError(CANCELLED_REASON);
      if (final.status !== 'succeeded') throw new UnrecoverableError(`the run failed on ${me.host}: ${final.error ?? final.status}`);
      await redis.multi().hset(filesKey, RUN_TAR, Buffer.from(writeTar(filesOf(run.runDir)))).expire(filesKey, KEY_TTL_S).exec();
      o.log(`${data.lab} seed ${data.seed}: done in ${((final.summary?.durationMs ?? 0) / 1000).toFixed(1)} s`);
      return { summary: final.summary, backend: final.backend, provenance: final.provenance, worker: { attempt, host: me.host, arch: me.arch, cores: o.cores } };
    } finally {
      stop();
      signal?.removeEventListener('abort', onAbort);
      try { store.deleteRun(run.id); rmSync(run.runDir, { recursive: true, force: true }); } catch { /* scratch: left for the next start */ }
    }
  }

  const timing = queueTiming();
  const worker = new Worker(QUEUE_NAME, (job, _token, signal) => runOne(job, signal), {
    connection: bullConnection(o.address), concurrency: o.cores, name,
    lockDuration: timing.lockMs, stalledInterval: timing.stalledIntervalMs, maxStalledCount: timing.maxStalledCount,
    removeOnComplete: { age: KEY_TTL_S }, removeOnFail: { age: KEY_TTL_S },
  });
  worker.on('error', report);
  // Another worker now holds the run (this one was frozen or cut off): stop computing for nothing.
  worker.on('lockRenewalFailed', (ids: string[]) => { for (const id of ids) { o.log(`run ${id}: ${LOST_LOCK}; cancelling it here`); worker.cancelJob(id, LOST_LOCK); } });
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, runId: string) => { if (worker.cancelJob(runId, CANCELLED_REASON)) o.log(`run ${runId}: cancelled by the coordinator`); });
  await worker.waitUntilReady();
  return {
    name,
    async close() {
      await worker.close();
      await jobs.shutdown();
      subscriber.disconnect();
      redis.disconnect();
      store.close();
    },
  };
}
