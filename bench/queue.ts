// The BullMQ queue: overhead per run (enqueue → a worker reports the run, and the rest of the
// wall time beyond the worker's own run time: events, files, ingest) and a 6-run sweep's wall
// time with one and with two `benchtop worker`s (1 core each). Redis is Debian's redis-server
// on a free port; workers are the built CLI, as a user starts them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobService } from '../workers/jobs/job-service';
import { RunStore } from '../workers/jobs/run-store';
import { QueueCoordinator } from '../workers/queue/queue-coordinator';
import { Queue } from 'bullmq';
import { bullConnection, checkQueueReachable, parseQueueAddress } from '../workers/queue/address';
import { QUEUE_NAME } from '../workers/queue/remote-job';

const root = join(__dirname, '..');
const freePort = () => new Promise<number>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export async function queueBench() {
  if (spawnSync('which', ['redis-server']).status !== 0) return { error: 'redis-server is not installed (apt-get install redis-server)' };
  const tmp = mkdtempSync(join(tmpdir(), 'bt-bench-queue-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const procs: ChildProcess[] = [spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })];
  try {
    for (let i = 0; ; i++) { try { await checkQueueReachable(parseQueueAddress(url)); break; } catch (e) { if (i > 100) throw e; await sleep(100); } }
    const sweep = async (workers: number) => {
      const started = Array.from({ length: workers }, (_, i) => {
        const child = spawn(process.execPath, [join(root, 'bin', 'benchtop.js'), 'worker', '--queue', url, '--cores', '1'], { env: { ...process.env, BENCHTOP_HOME: join(tmp, `w${i}`) }, stdio: ['ignore', 'pipe', 'ignore'] });
        procs.push(child);
        return new Promise<ChildProcess>((resolve) => child.stdout!.once('data', () => resolve(child)));
      });
      const children = await Promise.all(started);
      const home = join(tmp, `coord-${workers}`);
      const store = new RunStore(join(home, 'benchtop.sqlite'));
      const jobs = new JobService({ store, home, workerPath: join(root, 'out', 'main', 'lab-worker.js'), host: 'bench', remote: new QueueCoordinator(parseQueueAddress(url), { pollMs: 100 }) });
      const t0 = Date.now();
      const runs = jobs.startSweep({ lab: 'reference-classifier', preset: 'smoke', param: 'learningRate', values: [0.003, 0.002], seeds: [1, 2, 3], params: {} });
      const finals = await Promise.all(runs.map((r) => jobs.waitFor(r.id)));
      const wallMs = Date.now() - t0;
      // When each job was completed in Redis (by its worker), to time the coordinator's ingest after it.
      const probe = new Queue(QUEUE_NAME, { connection: bullConnection(parseQueueAddress(url)) });
      const completedOn = new Map<string, number>();
      for (const r of finals) { const j = await probe.getJob(r.id); if (j?.finishedOn) completedOn.set(r.id, j.finishedOn); }
      await probe.close();
      await jobs.shutdown();
      store.close();
      for (const c of children) c.kill('SIGTERM');
      const ok = finals.filter((r) => r.status === 'succeeded');
      return {
        wallMs, succeeded: ok.length,
        // Enqueue → a worker's first word about the run stored here; the job completed in Redis → the run stored here as finished.
        pickupMsFirst: Math.min(...ok.map((r) => (r.startedAt ?? r.createdAt) - r.createdAt)),
        ingestMsMedian: median(ok.map((r) => (r.finishedAt ?? 0) - (completedOn.get(r.id) ?? 0))),
        runMsMedian: median(ok.map((r) => r.summary?.durationMs ?? 0)),
      };
    };
    const one = await sweep(1);
    const two = await sweep(2);
    return {
      what: '6 reference-classifier smoke runs (2 learning rates × seeds 1–3), coordinator in this process, workers on this machine with 1 core each',
      oneWorker: one, twoWorkers: two, speedup: one.wallMs / two.wallMs,
      note: 'pickupMsFirst: enqueue to the first run\'s worker reporting it here (later runs wait for a free worker); '
        + 'ingestMsMedian: the worker completing the job in Redis to the run stored here as finished (poll 100 ms, run folder and last events); '
        + 'runMs: the worker\'s own run time; two workers share this machine\'s 2 cores with the coordinator',
    };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}
