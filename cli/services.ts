// Wires a store and a JobService for a host process (CLI run, browser host).
import { join } from 'node:path';
import { RunStore } from '../workers/jobs/run-store';
import { JobService } from '../workers/jobs/job-service';
import { QueueCoordinator } from '../workers/queue/queue-coordinator';
import type { QueueAddress } from '../workers/queue/address';
import { benchtopHome, builtFile, builtOutDir, dbPath } from '../workers/runtime/paths';

/** The built worker entry (out/main/lab-worker.js). */
export function workerPath(): string { return builtFile('main/lab-worker.js'); }

export function rendererDir(): string { return join(builtOutDir() ?? join(process.cwd(), 'out'), 'renderer'); }

/** A store and a JobService; with a queue, the host's sweeps (and `run --queue`) go to its workers. */
export function openServices(opts: { home?: string; host: string; queue?: QueueAddress }) {
  const cacheHome = benchtopHome();
  const home = opts.home ?? cacheHome;
  const store = new RunStore(dbPath(home));
  const remote = opts.queue ? new QueueCoordinator(opts.queue, { coordinator: `${opts.host} pid ${process.pid}` }) : undefined;
  const jobs = new JobService({ store, home, cacheHome, workerPath: workerPath(), host: opts.host, remote });
  return { store, jobs, home };
}
