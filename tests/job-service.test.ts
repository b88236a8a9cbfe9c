// JobService against the built worker entry (out/main/lab-worker.js), with fixture labs.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobService } from '../workers/jobs/job-service';
import { RunStore } from '../workers/jobs/run-store';
import type { RunUpdate } from '../common/api';

const workerPath = join(__dirname, '..', 'out', 'main', 'lab-worker.js');
const fixtures = Object.fromEntries(['slow', 'busy', 'throw', 'crash', 'burst', 'model'].map((k) => [`fixture-${k}`, { module: join(__dirname, 'fixtures', `lab-${k}.cjs`) }]));
const services: JobService[] = [];

function setup(opts: { coreBudget?: number; home?: string } = {}) {
  if (!existsSync(workerPath)) throw new Error('build first: npm run build');
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'bt-jobs-'));
  const store = new RunStore(join(home, 'benchtop.sqlite'));
  const jobs = new JobService({ store, home, workerPath, host: 'test', coreBudget: opts.coreBudget ?? 2, extraLabs: fixtures, serveIdleMs: 5000 });
  services.push(jobs);
  return { jobs, store, home };
}

afterEach(async () => { await Promise.all(services.splice(0).map((s) => s.shutdown())); });

describe('JobService', () => {
  it('runs a lab in a worker, stores its events and summary, reports the backend', async () => {
    const { jobs, store } = setup();
    const run = jobs.start({ lab: 'fixture-slow', preset: 'smoke', seed: 1, params: { steps: 20, sleepMs: 1 } });
    const done = await jobs.waitFor(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.summary?.metrics.final).toBe(40);
    expect(done.backend?.name).toBe('wasm');
    expect(done.provenance?.seed).toBe(1);
    expect(done.provenance?.kernelFixes.length).toBeGreaterThan(0);
    expect(store.getDetail(run.id)!.metrics.value.map((p) => p.value)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 2));
  });

  it('times each progress phase of a run (its profile) in the summary', async () => {
    const { jobs } = setup();
    const run = jobs.start({ lab: 'fixture-slow', preset: 'smoke', seed: 1, params: { steps: 10, sleepMs: 20, warmMs: 300 } });
    const done = await jobs.waitFor(run.id);
    const phases = done.summary!.phaseMs!;
    expect(Object.keys(phases)).toEqual(['warm-up', 'loop']);
    expect(phases['warm-up']).toBeGreaterThanOrEqual(290); // timers never fire early; no upper bound on a busy machine
    expect(phases.loop).toBeGreaterThanOrEqual(9 * 20 - 10);
    expect(phases['warm-up'] + phases.loop).toBeLessThanOrEqual(done.summary!.durationMs!);
    expect(done.summary!.phaseUnits).toEqual({ 'warm-up': 1, loop: 10 });
  });

  it('cancel stops a cooperative job promptly', async () => {
    const { jobs } = setup();
    const run = jobs.start({ lab: 'fixture-slow', preset: 'smoke', seed: 1, params: { steps: 100000 } });
    await new Promise((r) => setTimeout(r, 800));
    const t0 = Date.now();
    const after = await jobs.cancel(run.id);
    expect(after?.status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(3000); // generous here; the bench reports the real latency (target 1 s)
  });

  it('cancel terminates a job stuck in synchronous work', async () => {
    const { jobs } = setup();
    const run = jobs.start({ lab: 'fixture-busy', preset: 'smoke', seed: 1, params: {} });
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    expect((await jobs.cancel(run.id))?.status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a throwing lab and a crashing worker fail only their own run', async () => {
    const { jobs } = setup({ coreBudget: 3 });
    const good = jobs.start({ lab: 'fixture-slow', preset: 'smoke', seed: 1, params: { steps: 50 } });
    const bad = jobs.start({ lab: 'fixture-throw', preset: 'smoke', seed: 1, params: {} });
    const crash = jobs.start({ lab: 'fixture-crash', preset: 'smoke', seed: 1, params: {} });
    const [g, b, c] = await Promise.all([jobs.waitFor(good.id), jobs.waitFor(bad.id), jobs.waitFor(crash.id)]);
    expect(b.status).toBe('failed');
    expect(b.error).toMatch(/fixture lab failed on purpose/);
    expect(c.status).toBe('failed');
    expect(c.error).toMatch(/uncaught in a timer/);
    expect(g.status).toBe('succeeded');
  });

  it('queues jobs beyond the core budget and starts them as cores free up', async () => {
    const { jobs } = setup({ coreBudget: 1 });
    const a = jobs.start({ lab: 'fixture-slow', preset: 'smoke', seed: 1, params: { steps: 30 } });
    const b = jobs.start({ lab: 'fixture-slow', preset: 'smoke', seed: 2, params: { steps: 30 } });
    expect(jobs.runningCount).toBe(1);
    expect(jobs.queuedCount).toBe(1);
    const ra = await jobs.waitFor(a.id), rb = await jobs.waitFor(b.id);
    expect(rb.startedAt!).toBeGreaterThanOrEqual(ra.finishedAt!);
    expect(rb.status).toBe('succeeded');
  });

  it('a sweep queues seeds × values as one group within the core budget; a bad value is named and nothing is queued', async () => {
    const { jobs, store } = setup({ coreBudget: 1 });
    const before = store.listRuns().length;
    expect(() => jobs.startSweep({ lab: 'reference-classifier', preset: 'smoke', param: 'epochs', values: [2, 0, 3], seeds: [1, 2] }))
      .toThrow(/sweep: epochs = 0: .*epochs/);
    expect(() => jobs.startSweep({ lab: 'reference-classifier', preset: 'smoke', param: 'epoch', values: [2], seeds: [1] })).toThrow(/has no param "epoch"/);
    expect(() => jobs.startSweep({ lab: 'reference-classifier', preset: 'smoke', param: 'seed', values: [2], seeds: [1] })).toThrow(/seeds list/);
    expect(store.listRuns().length).toBe(before);
    const runs = jobs.startSweep({ lab: 'fixture-slow', preset: 'smoke', param: 'steps', values: [5, 10], seeds: [3, 4], params: {} });
    expect(runs.map((r) => [r.params.steps, r.seed])).toEqual([[5, 3], [5, 4], [10, 3], [10, 4]]);
    expect(new Set(runs.map((r) => r.sweep?.id)).size).toBe(1);
    expect(runs[0].sweep).toMatchObject({ param: 'steps', id: expect.stringMatching(/^sweep-/), values: [5, 10], seeds: [3, 4] });
    expect(jobs.runningCount).toBe(1); // the budget holds one at a time
    expect(jobs.queuedCount).toBe(3);
    const done = await Promise.all(runs.map((r) => jobs.waitFor(r.id)));
    expect(done.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(store.getRun(runs[3].id)!.sweep).toEqual(runs[0].sweep);
  });

  it('relays events to the UI in batches of at most ~20 messages/s per run, losing none', async () => {
    const { jobs } = setup();
    const updates: RunUpdate[] = [];
    jobs.onUpdate((u) => updates.push(u));
    const run = jobs.start({ lab: 'fixture-burst', preset: 'smoke', seed: 1, params: { events: 2000 } });
    const t0 = Date.now();
    await jobs.waitFor(run.id);
    const seconds = (Date.now() - t0) / 1000;
    const mine = updates.filter((u) => u.runId === run.id);
    const withEvents = mine.filter((u) => u.events.length > 0 && !u.run);
    expect(mine.flatMap((u) => u.events).filter((e) => e.type === 'metric')).toHaveLength(2000);
    expect(withEvents.length / Math.max(seconds, 1)).toBeLessThanOrEqual(25);
  });

  it('queries reach the live model, and a finished run is reloaded into a fresh worker after a restart', async () => {
    const { jobs, home } = setup();
    const run = jobs.start({ lab: 'fixture-model', preset: 'smoke', seed: 1, params: { factor: 7, holdMs: 3000 } });
    // Until the worker has its model, a query is refused as not ready; a panel retries.
    let answer: unknown;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      try { answer = await jobs.query(run.id, 'times', { x: 2 }); break; } catch (e) {
        expect((e as Error).message).toMatch(/not ready yet/);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(answer).toEqual({ value: 14, loaded: true });
    await jobs.waitFor(run.id);
    await jobs.shutdown();
    // "Restart": a new service over the same store.
    const { jobs: again } = setup({ home });
    expect(await again.query(run.id, 'times', { x: 3 })).toEqual({ value: 21, loaded: true });
    await expect(again.query(run.id, 'nope', {})).rejects.toThrow(/no query "nope"/);
  });

  it('refuses unknown labs and invalid params with a message naming the field', () => {
    const { jobs } = setup();
    expect(() => jobs.start({ lab: 'no-such-lab', preset: 'smoke', seed: 1, params: {} })).toThrow(/unknown lab/);
    expect(() => jobs.start({ lab: 'reference-classifier', preset: 'smoke', seed: 1, params: { epochs: 0 } })).toThrow(/"epochs"/);
  });
});
