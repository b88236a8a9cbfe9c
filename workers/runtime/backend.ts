// The compute backend ladder, chosen once per worker thread:
// tfjs-node-gpu (CUDA) -> tfjs-node -> wasm (with our kernel fixes) -> cpu.
// The native packages are optional dependencies that do not install offline, so each
// rung is tried and its failure recorded, never fatal. BENCHTOP_BACKEND forces a rung.
import { builtOutDir } from './paths';
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { installWasmKernelFixes } from './wasm-kernels';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_LADDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  kernelFixes: readonly string[];
  /** Why each higher rung was skipped. */
  skipped: { name: BackendName; reason: string }[];
  tfjsVersion: string;
  /** Where the wasm binaries were loaded from (wasm only). */
  wasmPath?: string;
}

const requireHere = createRequire(__filename);

/**
 * Where the tfjs wasm binaries are. A built app ships them in out/wasm next to the bundle
 * (so the packaged app needs no node_modules); from the source tree, the package's dist.
 */
export function wasmDir(): string {
  const out = builtOutDir();
  const candidates = [...(out ? [join(out, 'wasm')] : []), join(process.cwd(), 'out', 'wasm')];
  for (const dir of candidates) if (existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm'))) return dir + '/';
  return dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')) + '/';
}

let chosen: BackendInfo | undefined;

async function tryRung(name: BackendName): Promise<void> {
  if (name === 'tensorflow-gpu') requireHere('@tensorflow/tfjs-node-gpu');
  else if (name === 'tensorflow') requireHere('@tensorflow/tfjs-node');
  else if (name === 'wasm') {
    const wasm = requireHere('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmDir());
    // BENCHTOP_WASM_FIXES=off runs the stock kernels (for the bench's before/after only).
    if (process.env.BENCHTOP_WASM_FIXES !== 'off') installWasmKernelFixes();
  }
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/** Picks the first backend that works (or `forced`, else $BENCHTOP_BACKEND). */
export async function initBackend(forced?: string): Promise<BackendInfo> {
  if (chosen) return chosen;
  const want = forced ?? process.env.BENCHTOP_BACKEND;
  if (want && !BACKEND_LADDER.includes(want as BackendName)) {
    throw new Error(`unknown backend "${want}" (one of ${BACKEND_LADDER.join(', ')})`);
  }
  const ladder = want ? [want as BackendName] : BACKEND_LADDER;
  const skipped: BackendInfo['skipped'] = [];
  for (const name of ladder) {
    try {
      await tryRung(name);
      chosen = { name, kernelFixes: name === 'wasm' && process.env.BENCHTOP_WASM_FIXES !== 'off' ? installWasmKernelFixes() : [], skipped, tfjsVersion: tf.version.tfjs, wasmPath: name === 'wasm' ? wasmDir() : undefined };
      return chosen;
    } catch (err) {
      skipped.push({ name, reason: (err as Error).message.split('\n')[0] });
    }
  }
  throw new Error(`no compute backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
