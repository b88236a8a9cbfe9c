// An in-process RunContext for lab tests: records every event, writes under a temp dir.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabEvent } from '../../common/events';
import { initBackend } from '../../workers/runtime/backend';
import { CancelledError, plannedProgress, type RunContext } from '../../workers/runtime/context';
import { Rng } from '../../workers/runtime/rng';
import { obtainPart, partCached } from '../../workers/runtime/shared-parts';
import { writeFileAtomic } from '../../workers/runtime/paths';
import { sharedPart } from '../../workers/shared-parts';

export async function testContext(seed: number, opts: { home?: string; cores?: number } = {}) {
  const backend = await initBackend(process.env.BENCHTOP_BACKEND ?? 'wasm');
  const home = opts.home ?? process.env.BENCHTOP_HOME ?? mkdtempSync(join(tmpdir(), 'bt-test-'));
  mkdirSync(home, { recursive: true });
  const runDir = mkdtempSync(join(home, 'run-'));
  const events: LabEvent[] = [];
  const controller = new AbortController();
  let live: unknown;
  const ctx: RunContext = {
    tf, backend, seed, rng: new Rng(seed), signal: controller.signal, runDir, cores: opts.cores ?? 1, partsHome: home,
    emit: (e) => events.push(e),
    metric: (step, name, value) => events.push({ type: 'metric', step, name, value }),
    ...plannedProgress((e) => events.push(e)),
    log: (message, level = 'info') => events.push({ type: 'log', level, message }),
    artifacts: { write(name, mime, data) { const p = join(runDir, 'artifacts', name); writeFileAtomic(p, data); events.push({ type: 'artifact', name, mime, path: p }); return p; } },
    checkpointPath: (name) => join(runDir, 'checkpoints', `${name}.ckpt`),
    require: (key) => obtainPart(sharedPart(key)!, ctx, home),
    isCached: (key) => partCached(sharedPart(key)!, home),
    throwIfCancelled() { if (controller.signal.aborted) throw new CancelledError(); },
    setLiveModel(m) { live = m; },
  };
  return { ctx, events, controller, home, live: () => live };
}
