// Runs never go stale: a live host sees another process's run go silent (kill -9) and marks
// it interrupted; cancel from the app reaches a run the CLI owns; a silent run can be
// deleted. The other process is the real built CLI running a real lab.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../common/api';
import { createHandlers } from '../workers/jobs/api-handlers';
import { JobService } from '../workers/jobs/job-service';
import { RunStore, SILENT_RUN_MS } from '../workers/jobs/run-store';
import { dbPath } from '../workers/runtime/paths';

const root = join(__dirname, '..');
const workerPath = join(root, 'out', 'main', 'lab-worker.js');
const services: { jobs?: JobService; store: RunStore }[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of services) { await s.jobs?.shutdown(); s.store.close(); }
});

function liveHost(home: string, opts: { silentRunMs?: number } = {}) {
  const store = new RunStore(dbPath(home));
  const jobs = new JobService({ store, home, workerPath, host: 'test-app', silentRunMs: opts.silentRunMs });
  services.push({ jobs, store });
  return { store, jobs, handlers: createHandlers(jobs, store, { host: 'web', version: 't', home }) };
}

/** A real CLI run of a lab long enough to be caught mid-run (the reference classifier's default preset). */
function cliRun(home: string) {
  const child = spawn(process.execPath, [join(root, 'bin', 'benchtop.js'), 'run', 'reference-classifier', '--preset', 'default', '--seed', '5', '--json'],
    { cwd: root, env: { ...process.env, BENCHTOP_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (b) => { stderr += b; });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((r) => child.on('close', (code, signal) => r({ code, signal, stderr })));
  return { child, exited };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const runningRun = (store: RunStore) => until('the CLI run to start', () => store.listRuns().find((r) => r.status === 'running' && r.progress), 90_000);

describe('runs owned by another process', () => {
  it('cancel from the app reaches a CLI-owned run; the CLI records it cancelled and exits 1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-stale-'));
    const app = liveHost(home);
    const cli = cliRun(home);
    const run = await runningRun(app.store);
    const after = await app.handlers.cancelRun(run.id);
    expect(after?.status).toBe('cancelled');
    const { code, stderr } = await cli.exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(/run cancelled/);
    expect(app.store.getRun(run.id)?.status).toBe('cancelled');
  }, 180_000);

  it('a CLI run killed with -9 turns interrupted in a live host after 10 s of silence, and can then be deleted', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-stale-'));
    const app = liveHost(home);
    const updates: RunRecord[] = [];
    app.jobs.onUpdate((u) => { if (u.run) updates.push(u.run); });
    const cli = cliRun(home);
    const run = await runningRun(app.store);
    await expect(app.handlers.deleteRun(run.id)).rejects.toThrow(/is running: cancel it before deleting it/);
    cli.child.kill('SIGKILL');
    const killedAt = Date.now();
    await cli.exited;
    const interrupted = await until('the run to turn interrupted', () => updates.find((r) => r.id === run.id && r.status === 'interrupted'), 60_000);
    const silentFor = Date.now() - killedAt;
    console.log(`killed CLI run seen as interrupted after ${(silentFor / 1000).toFixed(1)} s (target ≤ 15 s)`);
    expect(silentFor).toBeGreaterThanOrEqual(SILENT_RUN_MS - 2500); // not before its owner could have missed heartbeats
    expect(interrupted.error).toMatch(/no heartbeat for 10 s/);
    await app.handlers.deleteRun(run.id);
    expect(app.store.getRun(run.id)).toBeUndefined();
  }, 180_000);

  it('deleting a run whose owner went silent interrupts it first; a run with a fresh heartbeat is kept', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-stale-'));
    const app = liveHost(home, { silentRunMs: 300 });
    const other = new RunStore(dbPath(home)); // another process's store handle
    services.push({ store: other });
    for (const id of ['silent-run-1', 'fresh-run-1']) {
      other.createRun({ id, lab: 'reference-classifier', preset: 'smoke', seed: 1, params: {}, host: 'cli', runDir: join(home, 'runs', id) });
      other.setStatus(id, 'running');
    }
    await new Promise((r) => setTimeout(r, 500));
    other.heartbeat(['fresh-run-1']);
    await app.handlers.deleteRun('silent-run-1');
    expect(app.store.getRun('silent-run-1')).toBeUndefined();
    await expect(app.handlers.deleteRun('fresh-run-1')).rejects.toThrow(/fresh-run-1 is running/);
  });
});
