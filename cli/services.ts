// Wires a store and a JobService for a host process (CLI run, browser host).
import { join } from 'node:path';
import { RunStore } from '../workers/jobs/run-store';
import { JobService } from '../workers/jobs/job-service';
import { benchtopHome, builtFile, builtOutDir, dbPath } from '../workers/runtime/paths';

/** The built worker entry (out/main/lab-worker.js). */
export function workerPath(): string { return builtFile('main/lab-worker.js'); }

export function rendererDir(): string { return join(builtOutDir() ?? join(process.cwd(), 'out'), 'renderer'); }

export function openServices(opts: { home?: string; host: string }) {
  const cacheHome = benchtopHome();
  const home = opts.home ?? cacheHome;
  const store = new RunStore(dbPath(home));
  const jobs = new JobService({ store, home, cacheHome, workerPath: workerPath(), host: opts.host });
  return { store, jobs, home };
}
