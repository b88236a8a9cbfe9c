// Wires a store and a JobService for a host process (CLI run, browser host).
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { RunStore } from '../workers/jobs/run-store';
import { JobService } from '../workers/jobs/job-service';
import { benchtopHome, dbPath } from '../workers/runtime/paths';

/** The bundle directory (out/main): the worker entry sits beside this file once built. */
export function workerPath(): string {
  const p = join(__dirname, 'lab-worker.js');
  if (!existsSync(p)) throw new Error(`worker entry missing at ${p}: run \`npm run build\``);
  return p;
}

export function rendererDir(): string { return join(__dirname, '..', 'renderer'); }

export function openServices(opts: { home?: string; host: string }) {
  const cacheHome = benchtopHome();
  const home = opts.home ?? cacheHome;
  const store = new RunStore(dbPath(home));
  const jobs = new JobService({ store, home, cacheHome, workerPath: workerPath(), host: opts.host });
  return { store, jobs, home };
}
