// The coordinator's side of the queue: enqueues runs as BullMQ jobs, follows each one's
// current attempt (BullMQ's attemptsStarted: it rises when a stalled job is handed over),
// takes that attempt's buffered events exactly once and in order, and ingests the end: the
// worker's summary and the run folder. Events of an attempt that lost its lock are never read.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { LabEvent } from '../../common/events';
import { parseJson } from '../../common/json';
import type { RemoteLauncher, RemoteRun, RemoteRunSink, RemoteWorkerInfo } from '../jobs/remote';
import { readTar } from '../runtime/tar';
import { writeFileAtomic } from '../runtime/paths';
import { bullConnection, type QueueAddress } from './address';
import { CANCEL_CHANNEL, CANCELLED_REASON, KEY_TTL_S, QUEUE_NAME, RUN_TAR, codeIdentity, localReference, queueKeys, queueTiming, type RemoteJobData } from './remote-job';

interface Followed {
  run: RemoteRun;
  sink: RemoteRunSink;
  /** The attempt whose events are being read (0: no worker has taken the run yet). */
  attempt: number;
  cursor: number;
  worker?: RemoteWorkerInfo;
  enqueued: boolean;
  cancelRequested: boolean;
}

export class QueueCoordinator implements RemoteLauncher {
  readonly where: string;
  private readonly queue: Queue;
  private readonly redis: Redis;
  private readonly followed = new Map<string, Followed>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(address: QueueAddress, private readonly opts: { pollMs?: number; coordinator?: string } = {}) {
    this.where = address.shown;
    this.queue = new Queue(QUEUE_NAME, { connection: bullConnection(address) });
    this.redis = new Redis(address.redis);
    // Connection trouble is retried by ioredis; a poll that fails waits for the next tick.
    this.queue.on('error', () => {});
    this.redis.on('error', () => {});
  }

  refuse(params: Record<string, unknown>): string | undefined { return localReference(params); }

  launch(run: RemoteRun, sink: RemoteRunSink): void {
    const f: Followed = { run, sink, attempt: 0, cursor: 0, enqueued: false, cancelRequested: false };
    this.followed.set(run.runId, f);
    const data: RemoteJobData = {
      runId: run.runId, lab: run.lab, preset: run.preset as RemoteJobData['preset'], seed: run.seed, params: run.params,
      ...codeIdentity(run.lab), coordinator: this.opts.coordinator ?? `${hostname()}:${process.pid}`,
    };
    // attempts: 1: a lab that fails fails the same way again; hand-overs after a stall are BullMQ's own and do not count.
    this.queue.add('run', data, { jobId: run.runId, attempts: 1, removeOnComplete: { age: KEY_TTL_S }, removeOnFail: { age: KEY_TTL_S } })
      .then(() => { f.enqueued = true; })
      .catch((err: Error) => { this.followed.delete(run.runId); sink.failed(`could not put the run on the queue ${this.where}: ${err.message}`); });
    this.timer ??= setInterval(() => void this.poll(), this.opts.pollMs ?? 250);
  }

  async cancel(runId: string): Promise<void> {
    const f = this.followed.get(runId);
    if (!f) return;
    f.cancelRequested = true;
    // The mark covers a worker that takes the run later (a hand-over, or a pickup racing this call).
    await this.redis.set(queueKeys.cancel(runId), '1', 'EX', KEY_TTL_S);
    await this.redis.publish(CANCEL_CHANNEL, runId);
    await this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const f of [...this.followed.values()]) {
        if (!f.enqueued) continue;
        try { await this.follow(f); } catch { /* Redis unreachable for now: the next tick tries again */ }
      }
    } finally { this.polling = false; }
    if (!this.followed.size && this.timer) { clearInterval(this.timer); this.timer = undefined; }
  }

  private async follow(f: Followed): Promise<void> {
    const id = f.run.runId;
    const job = await this.queue.getJob(id);
    if (!job) { this.end(f); f.sink.failed(`the run's job is gone from the queue ${this.where} (removed by hand?)`); return; }
    // A run cancelled while it waits for a worker leaves the queue here.
    if (f.cancelRequested && !job.finishedOn && (await job.getState()) === 'waiting') {
      try { await job.remove(); this.end(f); f.sink.cancelled(); return; } catch { /* a worker took it meanwhile: it sees the cancel mark */ }
    }
    const attempt = job.attemptsStarted ?? 0;
    if (attempt > f.attempt) { f.attempt = attempt; f.cursor = 0; f.worker = undefined; }
    if (f.attempt > 0 && !f.worker) {
      const info = await this.redis.hgetall(queueKeys.attempt(id, f.attempt));
      if (info.host) {
        const previous = attempt > 1 ? await this.previousWorker(id, attempt - 1) : undefined;
        f.worker = { attempt: f.attempt, host: info.host, arch: info.arch, cores: Number(info.cores) };
        f.sink.started(f.worker, previous);
      }
    }
    if (f.worker) await this.readEvents(f);
    if (!job.finishedOn) return;
    this.end(f);
    if (job.failedReason) {
      if (job.failedReason === CANCELLED_REASON || f.cancelRequested) f.sink.cancelled();
      else f.sink.failed(/stalled more than allowable limit/.test(job.failedReason)
        ? `its workers stopped ${queueTiming().maxStalledCount + 1} times during the run (killed, out of memory, or cut off): not handed over again`
        : job.failedReason);
    } else {
      const result = job.returnvalue as { summary: never; backend: never; provenance: never; worker: RemoteWorkerInfo };
      const tar = await this.redis.hgetBuffer(queueKeys.files(id, f.attempt), RUN_TAR);
      if (tar) for (const entry of readTar(tar, { maxEntries: 100_000 })) writeFileAtomic(join(f.run.runDir, entry.name), entry.data);
      f.sink.succeeded({ summary: result.summary, backend: result.backend, provenance: result.provenance, worker: result.worker });
    }
    await this.forget(id, f.attempt);
  }

  private async previousWorker(id: string, attempt: number): Promise<RemoteWorkerInfo | undefined> {
    const info = await this.redis.hgetall(queueKeys.attempt(id, attempt));
    return info.host ? { attempt, host: info.host, arch: info.arch, cores: Number(info.cores) } : { attempt, host: 'a worker that never reported', arch: '?', cores: 0 };
  }

  /** The current attempt's new events, in order; an artifact's file is fetched and written here before its event is passed on. */
  private async readEvents(f: Followed): Promise<void> {
    const id = f.run.runId;
    const raw = await this.redis.lrange(queueKeys.events(id, f.attempt), f.cursor, -1);
    if (!raw.length) return;
    const events: LabEvent[] = [];
    for (const line of raw) {
      const e = parseJson(line) as LabEvent;
      if (e.type === 'artifact') {
        const bytes = await this.redis.hgetBuffer(queueKeys.files(id, f.attempt), e.path);
        const local = join(f.run.runDir, e.path);
        if (bytes) { mkdirSync(dirname(local), { recursive: true }); writeFileSync(local, bytes); }
        events.push({ ...e, path: local });
      } else events.push(e);
    }
    f.cursor += raw.length;
    f.sink.events(events);
  }

  private end(f: Followed): void { this.followed.delete(f.run.runId); }

  /** Drops a finished run's buffers (every attempt's) from Redis. */
  private async forget(id: string, attempts: number): Promise<void> {
    const keys = [queueKeys.cancel(id)];
    for (let a = 1; a <= attempts; a++) keys.push(queueKeys.events(id, a), queueKeys.files(id, a), queueKeys.attempt(id, a));
    await this.redis.del(...keys).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue.close().catch(() => {});
    this.redis.disconnect();
  }
}
