// JobService: each lab run in its own worker thread, under a core budget shared by all
// jobs (further jobs queue); cancel within 1 s (abort signal, then terminate); a worker
// that throws or dies fails only its own run. Every event is stored as it arrives; the
// UI gets them batched, at most ~20 messages/s per run.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { LabEvent, StoredEvent } from '../../common/events';
import { FINISHED } from '../../common/events';
import { resolveParams, type PresetName } from '../../common/lab';
import { findLabSpec } from '../../common/labs';
import type { RunRecord, RunUpdate, StartRunRequest, StartSweepRequest } from '../../common/api';
import { startRunRequest, startSweepRequest } from '../../common/api';
import { newRunId, type RunStore } from './run-store';
import type { FromWorker, JobSpec, ToWorker } from './protocol';
import { provenance } from './provenance';
import { runsDir } from '../runtime/paths';
import type { RemoteLauncher } from './remote';

export interface JobServiceOptions {
  store: RunStore;
  home: string;
  /** The built worker entry (out/main/lab-worker.js). */
  workerPath: string;
  host: string;
  coreBudget?: number;
  relayIntervalMs?: number;
  cancelGraceMs?: number;
  /** Idle time after which a finished run's model worker is let go. */
  serveIdleMs?: number;
  /** Where shared caches (datasets, trained parts) live; defaults to home. */
  cacheHome?: string;
  /** Test-only labs: id -> module path. */
  extraLabs?: Record<string, { module: string; cores?: number }>;
  /** How often this process writes its runs' heartbeat, takes cancel requests and interrupts silent runs (default 2 s). */
  heartbeatMs?: number;
  /** How long another process's run may be silent before it is taken as dead. */
  silentRunMs?: number;
  /** A queue that takes this host's sweeps (and runs started with `where: 'queue'`) instead of local threads. */
  remote?: RemoteLauncher;
}

interface Job {
  spec: JobSpec;
  need: number;
  /** Runs on a queue worker: no local thread or cores; its events come through the launcher. */
  remote: boolean;
  preset: string;
  worker?: Worker;
  finished: boolean;
  cancelRequested: boolean;
  killTimer?: NodeJS.Timeout;
  pending: StoredEvent[];
  relayTimer?: NodeJS.Timeout;
  lastRelay: number;
  waiters: ((r: RunRecord) => void)[];
  queries: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  startedAt: number;
  peakRssMb?: number;
  /** Wall-clock ms per progress phase so far, and the phase running now (the run's profile). */
  phaseMs: Record<string, number>;
  /** The units (steps, images, questions) each phase counted: its progress events' largest total. */
  phaseUnits: Record<string, number>;
  phase?: { name: string; since: number };
}


export class JobService {
  private jobs = new Map<string, Job>();
  private queue: string[] = [];
  private used = 0;
  private listeners = new Set<(u: RunUpdate) => void>();
  private servers = new Map<string, { worker: Worker; ready: Promise<void>; idle?: NodeJS.Timeout; queries: Job['queries'] }>();
  private querySeq = 0;
  private heartbeatTimer: NodeJS.Timeout;
  private watchTimer: NodeJS.Timeout;
  readonly coreBudget: number;

  constructor(private readonly opts: JobServiceOptions) {
    this.coreBudget = opts.coreBudget ?? availableParallelism();
    this.heartbeatTimer = setInterval(() => this.tick(), opts.heartbeatMs ?? 2000);
    this.heartbeatTimer.unref();
    this.watchTimer = setInterval(() => this.watchOthers(), 1000);
    this.watchTimer.unref();
  }

  /** What this process last saw of each run another process owns. */
  private othersSeen = new Map<string, string>();

  /**
   * Runs of other processes (a CLI run beside the app) as they start, move and end: their
   * records reach this host's listeners within a second, marked external.
   */
  private watchOthers(): void {
    if (!this.listeners.size) return;
    let runs: RunRecord[];
    try { runs = this.opts.store.recentRuns(Date.now() - 10_000); } catch { return; /* busy: next second */ }
    const current = new Set(runs.map((r) => r.id));
    for (const id of this.othersSeen.keys()) if (!current.has(id)) this.othersSeen.delete(id);
    for (const run of runs) {
      if (this.jobs.has(run.id)) continue;
      const seen = `${run.status} ${run.finishedAt} ${JSON.stringify(run.progress)}`;
      if (this.othersSeen.get(run.id) === seen) continue;
      this.othersSeen.set(run.id, seen);
      this.broadcast({ runId: run.id, events: [], run, external: true });
    }
  }

  /** This process's runs that are not finished. */
  private liveIds(): string[] { return [...this.jobs.values()].filter((j) => !j.finished).map((j) => j.spec.runId); }

  /**
   * Every few seconds: the heartbeat of this process's runs, cancel requests other processes
   * left in the store for them, and runs of other processes that went silent (killed, hung)
   * turned `interrupted`. A store that stays locked only delays this to the next tick.
   */
  private tick(): void {
    try {
      for (const id of this.opts.store.heartbeat(this.liveIds())) void this.cancel(id);
      this.sweepSilent();
    } catch { /* the store is busy: try again at the next tick */ }
  }

  /** Marks other processes' silent runs interrupted, and tells the UI. */
  sweepSilent(): string[] {
    const ids = this.opts.store.interruptSilent(new Set(this.liveIds()), this.opts.silentRunMs);
    for (const id of ids) this.statusChanged(id);
    return ids;
  }

  onUpdate(listener: (u: RunUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private broadcast(u: RunUpdate) { for (const l of this.listeners) l(u); }

  /** A request's full params (preset plus overrides), validated; throws ParamsError / Error with a clear message. */
  private resolve(req: ReturnType<typeof startRunRequest.parse>): Record<string, unknown> {
    const extra = this.opts.extraLabs?.[req.lab];
    const spec = findLabSpec(req.lab);
    if (!spec && !extra) throw new Error(`unknown lab "${req.lab}"`);
    return spec ? resolveParams(spec, req.preset as PresetName, { ...req.params, ...('seed' in spec.params.shape ? { seed: req.seed } : {}) }) : req.params;
  }

  /** Validates, records and queues a run (here, or on the queue). Throws ParamsError / Error with a clear message. */
  start(request: StartRunRequest, sweep?: RunRecord['sweep'], where: 'local' | 'queue' = 'local'): RunRecord {
    const req = startRunRequest.parse(request);
    const params = this.resolve(req);
    const remote = where === 'queue';
    if (remote && !this.opts.remote) throw new Error('no queue is configured for this host (benchtop … --queue redis://HOST:PORT)');
    const refused = remote ? this.opts.remote!.refuse(params) : undefined;
    if (refused) throw new Error(`cannot run on the queue: ${refused}`);
    const extra = this.opts.extraLabs?.[req.lab];
    const spec = findLabSpec(req.lab);
    const id = newRunId();
    const runDir = join(runsDir(this.opts.home), id);
    const need = Math.max(1, Math.min(this.coreBudget, extra?.cores ?? spec?.cores ?? 1));
    this.opts.store.createRun({ id, lab: req.lab, preset: req.preset, seed: req.seed, params, host: remote ? `${this.opts.host} → ${this.opts.remote!.where}` : this.opts.host, runDir, sweep });
    const job: Job = {
      spec: { runId: id, labId: req.lab, params, seed: req.seed, runDir, home: this.opts.cacheHome ?? this.opts.home, cores: need, mode: 'run', labModule: extra?.module },
      need, remote, preset: req.preset, finished: false, cancelRequested: false, pending: [], lastRelay: 0, waiters: [], queries: new Map(), startedAt: 0, phaseMs: {}, phaseUnits: {},
    };
    this.jobs.set(id, job);
    this.statusChanged(id);
    if (remote) this.launchRemote(job);
    else { this.queue.push(id); this.pump(); }
    return this.opts.store.getRun(id)!;
  }

  /**
   * Seeds × one param's values: every run is validated before any is queued (a bad value is
   * named), then all are queued as one sweep and run within the core budget like any run —
   * or, when this host has a queue, on the queue's workers.
   */
  startSweep(request: StartSweepRequest): RunRecord[] {
    const req = startSweepRequest.parse(request);
    const spec = findLabSpec(req.lab);
    if (!spec && !this.opts.extraLabs?.[req.lab]) throw new Error(`unknown lab "${req.lab}"`);
    if (req.param === 'seed') throw new Error('sweep: seeds are given as the seeds list, not as the swept param');
    if (spec && !(req.param in spec.params.shape)) throw new Error(`sweep: ${req.lab} has no param "${req.param}"`);
    const runs = req.values.flatMap((value) => req.seeds.map((seed) => ({ value, request: startRunRequest.parse({ lab: req.lab, preset: req.preset, seed, params: { ...req.params, [req.param]: value } }) })));
    for (const r of runs) {
      try { this.resolve(r.request); } catch (e) { throw new Error(`sweep: ${req.param} = ${JSON.stringify(r.value)}: ${(e as Error).message}`); }
    }
    const where = this.opts.remote ? 'queue' : 'local';
    const refused = this.opts.remote && runs.map((r) => this.opts.remote!.refuse(this.resolve(r.request))).find(Boolean);
    if (refused) throw new Error(`sweep: cannot run on the queue: ${refused}`);
    const sweep = { id: `sweep-${newRunId()}`, param: req.param, values: req.values, seeds: req.seeds };
    return runs.map((r) => this.start(r.request, sweep, where));
  }

  private pump(): void {
    while (this.queue.length) {
      const id = this.queue[0];
      const job = this.jobs.get(id)!;
      if (this.used + job.need > this.coreBudget && this.used > 0) return;
      this.queue.shift();
      this.launch(job);
    }
  }

  private launch(job: Job): void {
    const id = job.spec.runId;
    this.used += job.need;
    job.startedAt = Date.now();
    this.opts.store.setStatus(id, 'running');
    this.statusChanged(id);
    const worker = new Worker(this.opts.workerPath, { env: { ...process.env }, stdout: false, stderr: false });
    job.worker = worker;
    worker.on('message', (m: FromWorker) => this.onWorkerMessage(job, m));
    worker.on('error', (err) => this.finish(job, 'failed', { error: `worker crashed: ${err.stack ?? err.message}` }));
    worker.on('exit', (code) => {
      if (!job.finished) {
        if (job.cancelRequested) this.finish(job, 'cancelled');
        else this.finish(job, 'failed', { error: `worker exited with code ${code} before the run finished` });
      }
    });
    worker.postMessage({ type: 'start', job: job.spec } satisfies ToWorker);
  }

  /** Hands a run to the queue; its events, hand-overs and end come back through the sink. */
  private launchRemote(job: Job): void {
    const id = job.spec.runId;
    const where = this.opts.remote!.where;
    job.startedAt = Date.now();
    this.opts.remote!.launch({ runId: id, lab: job.spec.labId, preset: job.preset, seed: job.spec.seed, params: job.spec.params, runDir: job.spec.runDir }, {
      started: (w, previous) => {
        if (job.finished) return;
        this.opts.store.setStatus(id, 'running');
        const message = previous
          ? `attempt ${w.attempt} on ${w.host} (${w.arch}) starts the run over: attempt ${previous.attempt} on ${previous.host} stopped renewing its lock (its worker died or was cut off); the events above are that attempt's`
          : `running on ${w.host} (${w.arch}, ${w.cores} core${w.cores === 1 ? '' : 's'}) from ${where}`;
        this.record(job, [{ type: 'log', level: previous ? 'warn' : 'info', message }]);
        this.statusChanged(id);
      },
      events: (events) => {
        if (job.finished) return;
        try { this.record(job, events); } catch (err) { this.finish(job, 'failed', { error: `could not record an event: ${(err as Error).message}` }); }
      },
      succeeded: ({ summary, backend, provenance, worker }) => {
        this.opts.store.setStatus(id, 'running', { backend, provenance: provenance ? { ...provenance, worker: { host: worker.host, arch: worker.arch, attempt: worker.attempt, queue: where } } : undefined });
        this.finish(job, 'succeeded', { summary });
      },
      failed: (error) => this.finish(job, 'failed', { error }),
      cancelled: () => this.finish(job, 'cancelled'),
    });
  }

  private onWorkerMessage(job: Job, m: FromWorker): void {
    const id = job.spec.runId;
    switch (m.type) {
      case 'backend':
        this.opts.store.setStatus(id, 'running', { backend: { name: m.info.name, kernelFixes: m.info.kernelFixes, skipped: m.info.skipped }, provenance: provenance(job.spec.seed, m.info, findLabSpec(job.spec.labId)?.codeVersion) });
        this.statusChanged(id);
        break;
      case 'event':
        try { this.record(job, [m.event]); } catch (err) {
          // An event the store cannot take (or a store that stays locked) fails this run only.
          this.finish(job, 'failed', { error: `could not record an event: ${(err as Error).message}` });
        }
        break;
      case 'done':
        job.peakRssMb = m.peakRssMb;
        this.enterPhase(job, undefined);
        this.finish(job, 'succeeded', { summary: { ...m.summary, durationMs: Date.now() - job.startedAt, peakRssMb: m.peakRssMb, phaseMs: job.phaseMs, phaseUnits: job.phaseUnits } });
        break;
      case 'cancelled':
        this.finish(job, 'cancelled');
        break;
      case 'failed':
        this.finish(job, 'failed', { error: m.error });
        break;
      case 'query-result': {
        const q = job.queries.get(m.id);
        job.queries.delete(m.id);
        if (q) m.ok ? q.resolve(m.result) : q.reject(new Error(m.error));
        break;
      }
      case 'ready': break;
    }
  }

  private record(job: Job, events: LabEvent[]): void {
    for (const e of events) {
      if (e.type !== 'progress') continue;
      if (e.phase !== job.phase?.name) this.enterPhase(job, e.phase);
      if (e.total > (job.phaseUnits[e.phase] ?? 0)) job.phaseUnits[e.phase] = e.total;
    }
    const stored = this.opts.store.appendEvents(job.spec.runId, events);
    job.pending.push(...stored);
    this.scheduleRelay(job);
  }

  /** Closes the running phase's clock (a phase entered twice adds up) and starts the next one's. */
  private enterPhase(job: Job, name: string | undefined): void {
    const now = Date.now();
    if (job.phase) job.phaseMs[job.phase.name] = (job.phaseMs[job.phase.name] ?? 0) + now - job.phase.since;
    job.phase = name === undefined ? undefined : { name, since: now };
  }

  private scheduleRelay(job: Job): void {
    if (job.relayTimer) return;
    const interval = this.opts.relayIntervalMs ?? 50;
    const wait = Math.max(0, job.lastRelay + interval - Date.now());
    job.relayTimer = setTimeout(() => this.flush(job), wait);
  }

  private flush(job: Job, run?: RunRecord): void {
    if (job.relayTimer) { clearTimeout(job.relayTimer); job.relayTimer = undefined; }
    if (!job.pending.length && !run) return;
    const events = job.pending;
    job.pending = [];
    job.lastRelay = Date.now();
    this.broadcast({ runId: job.spec.runId, events, run });
  }

  /** Tells every listener a run's record changed (a rename, tags, a note); returns the record. */
  announce(id: string): RunRecord | undefined {
    this.statusChanged(id);
    return this.opts.store.getRun(id);
  }

  private statusChanged(id: string): void {
    const run = this.opts.store.getRun(id);
    const job = this.jobs.get(id);
    if (!run) return;
    if (job) this.flush(job, run);
    else this.broadcast({ runId: id, events: [], run });
  }

  private finish(job: Job, status: 'succeeded' | 'failed' | 'cancelled', extra: { summary?: unknown; error?: string } = {}): void {
    if (job.finished) return;
    job.finished = true;
    const id = job.spec.runId;
    if (job.killTimer) clearTimeout(job.killTimer);
    this.opts.store.setStatus(id, status, extra);
    if (job.worker) {
      this.used -= job.need;
      for (const q of job.queries.values()) q.reject(new Error(`run ${status} before the query was answered`));
      job.queries.clear();
      if (status === 'succeeded') this.keepAsServer(job);
      else void job.worker.terminate();
    } else {
      this.queue = this.queue.filter((q) => q !== id);
    }
    this.statusChanged(id);
    const run = this.opts.store.getRun(id)!;
    for (const w of job.waiters) w(run);
    job.waiters = [];
    this.pump();
  }

  /** A finished run's worker stays up (idle, no core held) so its model answers queries. */
  private keepAsServer(job: Job): void {
    const worker = job.worker!;
    const server = { worker, ready: Promise.resolve(), queries: job.queries, idle: undefined as NodeJS.Timeout | undefined };
    worker.removeAllListeners('exit');
    worker.on('exit', () => this.servers.delete(job.spec.runId));
    this.servers.set(job.spec.runId, server);
    this.touchServer(job.spec.runId);
  }

  private touchServer(runId: string): void {
    const s = this.servers.get(runId);
    if (!s) return;
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => { void s.worker.terminate(); this.servers.delete(runId); }, this.opts.serveIdleMs ?? 120_000);
    s.idle.unref();
  }

  /**
   * Cancels a run: this process's own at once; another process's (a CLI run) through a
   * request in the store, which its owner takes within its heartbeat interval. Resolves with
   * the run once it has finished, or as it stands after `waitMs` if the owner has not answered.
   */
  async cancel(runId: string, waitMs = 6000): Promise<RunRecord | undefined> {
    const job = this.jobs.get(runId);
    if (!job) return this.cancelElsewhere(runId, waitMs);
    if (job.finished) return this.opts.store.getRun(runId);
    job.cancelRequested = true;
    if (job.remote) {
      const done = new Promise<RunRecord>((resolve) => job.waiters.push(resolve));
      this.opts.remote!.cancel(runId).catch((err: Error) => this.finish(job, 'failed', { error: `could not cancel on the queue: ${err.message}` }));
      return done;
    }
    if (!job.worker) { this.finish(job, 'cancelled'); return this.opts.store.getRun(runId); }
    job.worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    // A lab inside a long synchronous op cannot see the signal: terminate after the grace.
    job.killTimer = setTimeout(() => { void job.worker?.terminate(); }, this.opts.cancelGraceMs ?? 800);
    return new Promise((resolve) => job.waiters.push(resolve));
  }

  private async cancelElsewhere(runId: string, waitMs: number): Promise<RunRecord | undefined> {
    const run = this.opts.store.getRun(runId);
    if (!run || FINISHED.includes(run.status)) return run;
    this.opts.store.requestCancel(runId);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      this.sweepSilent();
      const now = this.opts.store.getRun(runId);
      if (!now || FINISHED.includes(now.status)) { this.statusChanged(runId); return now; }
    }
    return this.opts.store.getRun(runId);
  }

  waitFor(runId: string): Promise<RunRecord> {
    const job = this.jobs.get(runId);
    const run = this.opts.store.getRun(runId);
    if (!run) return Promise.reject(new Error(`no run ${runId}`));
    if (!job || job.finished || FINISHED.includes(run.status)) return Promise.resolve(run);
    return new Promise((resolve) => job.waiters.push(resolve));
  }

  /** Asks a run's model: the live worker if it is up, else a fresh worker that reloads its checkpoint. */
  async query(runId: string, name: string, args: unknown): Promise<unknown> {
    const job = this.jobs.get(runId);
    let target: { worker: Worker; queries: Job['queries'] };
    if (job && !job.finished && job.worker) target = { worker: job.worker, queries: job.queries };
    else {
      let server = this.servers.get(runId);
      if (!server) server = this.spawnServer(runId);
      await server.ready;
      this.touchServer(runId);
      target = server;
    }
    const id = ++this.querySeq;
    return new Promise((resolve, reject) => {
      target.queries.set(id, { resolve, reject });
      target.worker.postMessage({ type: 'query', id, name, args } satisfies ToWorker);
    });
  }

  private spawnServer(runId: string) {
    const run = this.opts.store.getRun(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (run.status !== 'succeeded') throw new Error(`run ${runId} is ${run.status}: only a finished run's model can be queried`);
    const extra = this.opts.extraLabs?.[run.lab];
    const spec: JobSpec = { runId, labId: run.lab, params: run.params, seed: run.seed, runDir: run.runDir, home: this.opts.cacheHome ?? this.opts.home, cores: 1, mode: 'serve', labModule: extra?.module };
    const worker = new Worker(this.opts.workerPath, { env: { ...process.env } });
    const queries: Job['queries'] = new Map();
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed') { reject(new Error(m.error.split('\n')[0])); void worker.terminate(); }
        else if (m.type === 'query-result') {
          const q = queries.get(m.id);
          queries.delete(m.id);
          if (q) m.ok ? q.resolve(m.result) : q.reject(new Error(m.error));
        }
      });
      worker.on('error', reject);
    });
    const server = { worker, ready, queries, idle: undefined as NodeJS.Timeout | undefined };
    worker.on('exit', () => this.servers.delete(runId));
    this.servers.set(runId, server);
    worker.postMessage({ type: 'start', job: spec } satisfies ToWorker);
    ready.catch(() => this.servers.delete(runId));
    return server;
  }

  /** The queue this host's sweeps go to (password masked), if it has one. */
  get queueWhere(): string | undefined { return this.opts.remote?.where; }

  get runningCount(): number { return [...this.jobs.values()].filter((j) => j.worker && !j.finished).length; }
  get queuedCount(): number { return this.queue.length; }

  async shutdown(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.watchTimer);
    const running = [...this.jobs.values()].filter((j) => !j.finished).map((j) => this.cancel(j.spec.runId));
    await Promise.all(running);
    await Promise.all([...this.servers.values()].map((s) => s.worker.terminate()));
    this.servers.clear();
    await this.opts.remote?.close();
  }
}
