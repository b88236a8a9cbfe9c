// `npm run bench`: writes bench/results.json. Speed and memory are measured here, never
// asserted in tests. Sections: every lab's smoke and default runs (steps/s, peak RSS,
// backend), wasm kernel fixes before/after, ec-dit and byz-momentum speeds, JobService relay and cancel latency, and the
// renderer's frame time while a job runs (Chromium through the browser host).
// `npm run bench -- --only dit,labs [--labs a,b]` re-measures some sections; each section's last
// figures stay under `previous` (before / after).
import { parseJson, stringifyJson } from '../common/json';
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SPECS } from '../common/labs';
import { JobService } from '../workers/jobs/job-service';
import { RunStore } from '../workers/jobs/run-store';
import { coderBench } from './coders';
import { codecBench } from './codec';
import { decoderBench } from './decoder';
import { ditBench } from './dit';
import { byzBench } from './byz';
import { idempotentBench } from './idempotent';
import { egoBench } from './ego';
import { ondeviceBench } from './ondevice';
import { longpiBench } from './longpi';
import { condBench } from './cond';
import { queueBench } from './queue';
import { mm15Bench } from './mm15';

const root = join(__dirname, '..');
const cli = join(root, 'bin', 'benchtop.js');
const home = mkdtempSync(join(tmpdir(), 'bt-bench-'));
const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);

function runLab(lab: string, preset: string) {
  // Runs go to a scratch store (--out); trained shared parts come from the user's cache.
  const r = spawnSync(process.execPath, [cli, 'run', lab, '--preset', preset, '--seed', '1', '--json', '--out', join(home, 'runs-store')], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) return { preset, error: r.stderr.split('\n').slice(-3).join(' ') };
  const out = parseJson(r.stdout) as { backend: string; durationMs: number; phaseMs?: Record<string, number>; phaseUnits?: Record<string, number>; peakRssMb: number; metrics: Record<string, number> };
  return { preset, backend: out.backend, durationMs: out.durationMs, phaseMs: out.phaseMs, phaseUnits: out.phaseUnits, peakRssMb: out.peakRssMb, stepsPerSec: out.metrics.stepsPerSec ?? null, metrics: out.metrics };
}

function kernels(fixes: boolean) {
  const r = spawnSync(process.execPath, [join(__dirname, 'kernels.cjs')], { env: { ...process.env, BENCHTOP_BACKEND: 'wasm', BENCHTOP_WASM_FIXES: fixes ? 'on' : 'off' }, encoding: 'utf8' });
  return r.status === 0 ? parseJson(r.stdout) : { error: r.stderr.slice(-500) };
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

async function jobLatencies() {
  const store = new RunStore(join(home, 'jobs.sqlite'));
  const extraLabs = { 'bench-stamp': { module: join(__dirname, 'lab-stamp.cjs') }, 'bench-loop': { module: join(__dirname, 'lab-loop.cjs') } };
  const jobs = new JobService({ store, home, workerPath: join(root, 'out', 'main', 'lab-worker.js'), host: 'bench', extraLabs });
  const delays: number[] = [];
  let messages = 0;
  jobs.onUpdate((u) => { const now = Date.now(); if (u.events.length) messages++; for (const e of u.events) if (e.type === 'metric' && e.name === 'sentAt') delays.push(now - e.value); });
  const t0 = Date.now();
  const stamp = jobs.start({ lab: 'bench-stamp', preset: 'smoke', seed: 1, params: {} });
  await jobs.waitFor(stamp.id);
  const relay = { events: delays.length, p50Ms: pct(delays, 0.5), p95Ms: pct(delays, 0.95), maxMs: Math.max(...delays), uiMessagesPerSec: messages / ((Date.now() - t0) / 1000) };
  const cancels: number[] = [];
  for (let i = 0; i < 3; i++) {
    const run = jobs.start({ lab: 'bench-loop', preset: 'smoke', seed: 1, params: {} });
    await new Promise((r) => setTimeout(r, 1500));
    const c0 = Date.now();
    await jobs.cancel(run.id);
    cancels.push(Date.now() - c0);
  }
  await jobs.shutdown();
  store.close();
  return { relay, cancel: { samplesMs: cancels, maxMs: Math.max(...cancels), targetMs: 1000 } };
}

async function uiFrameTime() {
  // Chromium through the browser host while a default reference-classifier run trains.
  const { chromium } = await import('@playwright/test');
  const port = 4799, token = 'bench-token';
  const server = spawn(process.execPath, [cli, 'web', '--port', String(port)], { env: { ...process.env, BENCHTOP_HOME: home, BENCHTOP_WEB_TOKEN: token }, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
    await page.getByTestId('lab-reference-classifier').click();
    await page.getByTestId('run').click();
    await page.waitForSelector('[data-testid="chart-trainLoss"]', { timeout: 60_000 });
    const frames = await page.evaluate(() => new Promise<number[]>((resolve) => {
      const ts: number[] = []; const start = performance.now();
      const tick = (t: number) => { ts.push(t); if (t - start < 5000) requestAnimationFrame(tick); else resolve(ts.slice(1).map((v, i) => v - ts[i])); };
      requestAnimationFrame(tick);
    }));
    await page.getByTestId('cancel').click();
    await browser.close();
    return { frames: frames.length, p50Ms: pct(frames, 0.5), p95Ms: pct(frames, 0.95), maxMs: Math.max(...frames), note: 'headless Chromium, 5 s while a default reference-classifier run trains' };
  } finally { server.kill(); }
}

const file = join(root, 'bench', 'results.json');
const before = existsSync(file) ? (parseJson(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
const labsArg = process.argv.indexOf('--labs');
const labIds = labsArg > 0 ? (process.argv[labsArg + 1] ?? '').split(',').filter(Boolean) : LAB_SPECS.map((s) => s.id);

/** The bench's sections in order; `--only a,b` runs some of them and keeps the rest of bench/results.json. */
const SECTIONS: Record<string, { what: string; run: () => unknown }> = {
  wasmKernels: { what: 'kernels: wasm with and without our fixes', run: () => ({ withFixes: kernels(true), stock: kernels(false) }) },
  coders: { what: 'coders vs zlib', run: () => coderBench() },
  codec: { what: 'learned codec encode/decode', run: () => codecBench() },
  decoder: { what: 'decoder: sampled tokens/s with and without the KV cache, and on onnxruntime from embeddings', run: () => decoderBench() },
  dit: { what: 'ec-dit: training steps/s and by op, sampling images/s on TF.js and onnxruntime, routing overhead, training threads', run: () => ditBench() },
  byz: { what: 'byz-momentum: rounds/s on 1 and 2 threads, aggregator cost vs n and d', run: () => byzBench() },
  idempotent: { what: 'idempotent-codec: decode s/image vs steps, anchors images/s', run: () => idempotentBench() },
  cond: { what: 'cond-perceptual: G1, critic (WGAN-GP) and G2 steps/s, decodes/s on TF.js and onnxruntime', run: () => condBench() },
  mm15: { what: 'mm15-mixture: steps/s per stage (pre-training, continual pre-training, SFT), digit strips/s with and without image splitting', run: () => mm15Bench() },
  ego: { what: 'mm-ego: questions/s, pointer (glimpse + fallback) vs all frames, by clip length', run: () => egoBench() },
  ondevice: { what: 'afm-ondevice: bytes, session memory and tokens/s per variant, onnxruntime vs TF.js', run: () => ondeviceBench() },
  longpi: { what: 'longpibench: instances/s of the built-in decoder (TF.js batched and single, onnxruntime), prompt tokens/s', run: () => longpiBench() },
  jobs: { what: 'job service: relay and cancel latency', run: () => jobLatencies() },
  queue: { what: 'BullMQ queue: overhead per run, a 6-run sweep\'s wall time on one and two workers', run: () => queueBench() },
  labs: {
    what: 'every lab\'s smoke and default run (CLI; `--labs a,b` for some of them, the others kept)',
    run: () => ({
      ...(before.labs as Record<string, unknown> | undefined),
      ...Object.fromEntries(labIds.map((id) => { log(`lab ${id}`); return [id, quick ? [runLab(id, 'smoke')] : [runLab(id, 'smoke'), runLab(id, 'default')]]; })),
    }),
  },
  uiFrameTime: { what: 'ui frame time while a job runs', run: () => uiFrameTime().catch((e: Error) => ({ error: e.message })) },
};

async function main() {
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? (process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean) : Object.keys(SECTIONS);
  const unknown = only.filter((k) => !SECTIONS[k]);
  if (unknown.length || !only.length) { console.error(`--only wants sections among ${Object.keys(SECTIONS).join(', ')}; not ${unknown.join(', ') || '(none)'}`); process.exit(2); }
  const badLabs = labIds.filter((id) => !LAB_SPECS.some((s) => s.id === id));
  if (badLabs.length || !labIds.length) { console.error(`--labs wants lab ids among ${LAB_SPECS.map((s) => s.id).join(', ')}; not ${badLabs.join(', ') || '(none)'}`); process.exit(2); }
  const results: Record<string, unknown> = { ...before, at: new Date().toISOString(), node: process.version, cores: require('node:os').availableParallelism() };
  // What each section measured last time stays beside the new figures (before / after).
  const previous = { ...((before.previous as Record<string, unknown>) ?? {}) };
  for (const key of only) {
    log(SECTIONS[key].what);
    if (before[key] !== undefined) previous[key] = { at: (before.sectionAt as Record<string, string> | undefined)?.[key] ?? before.at, value: before[key] };
    results[key] = await SECTIONS[key].run();
  }
  results.sectionAt = { ...((before.sectionAt as Record<string, string>) ?? {}), ...Object.fromEntries(only.map((k) => [k, results.at as string])) };
  results.previous = previous;
  mkdirSync(join(root, 'bench'), { recursive: true });
  writeFileSync(file, stringifyJson(results, 2) + '\n');
  log(`wrote bench/results.json (${only.join(', ')})`);
}

main().catch((e) => { console.error(e); process.exit(1); });
