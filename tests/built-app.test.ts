// The build output works on its own: the bundled worker entry and the wasm binaries load
// from out/, not from the source tree.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(__dirname, '..', 'out');

describe('built app', () => {
  it('has every entry, the renderer, the report bundle and the wasm binaries', () => {
    for (const f of ['main/index.js', 'main/lab-worker.js', 'main/cli.js', 'preload/index.js', 'renderer/index.html', 'report/report.js', 'wasm/tfjs-backend-wasm-simd.wasm', 'build-info.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    // The sandboxed preload may only require electron.
    const preload = readFileSync(join(out, 'preload/index.js'), 'utf8');
    expect([...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1])).toEqual(['electron']);
  });

  it('the bundled worker runs a lab on wasm loaded from out/wasm', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-built-'));
    const worker = new Worker(join(out, 'main', 'lab-worker.js'));
    const messages: { type: string; info?: { name: string; wasmPath?: string } }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => { messages.push(m); if (m.type === 'done') resolve(); if (m.type === 'failed') reject(new Error(m.error)); });
      worker.on('error', reject);
    });
    const params = { dataset: 'mnist', epochs: 1, trainLimit: 128, testLimit: 64, batchSize: 32, learningRate: 0.002, augmentShift: 0, channels: 4, featureDim: 16, seed: 1 };
    worker.postMessage({ type: 'start', job: { runId: 'built-test-1', labId: 'reference-classifier', params, seed: 1, runDir: join(home, 'run'), home, cores: 1, mode: 'run' } });
    await done;
    await worker.terminate();
    const backend = messages.find((m) => m.type === 'backend')!.info!;
    expect(backend.name).toBe('wasm');
    expect(backend.wasmPath).toBe(join(out, 'wasm') + '/');
  });
});
