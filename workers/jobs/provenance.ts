// Where a run's numbers came from: commit, package versions, backend, kernel fixes, seed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Provenance } from '../../common/api';
import { builtOutDir } from '../runtime/paths';

const requireHere = createRequire(__filename);
let commit: string | undefined;

export function gitCommit(): string {
  if (commit) return commit;
  // A built app carries the commit it was built from; a source checkout asks git.
  const out = builtOutDir();
  for (const f of out ? [join(out, 'build-info.json')] : []) {
    if (existsSync(f)) { try { commit = JSON.parse(readFileSync(f, 'utf8')).gitCommit; if (commit) return commit; } catch { /* fall through */ } }
  }
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (dirty) commit += '+dirty';
  } catch { commit = 'unknown'; }
  return commit;
}

function version(pkg: string): string {
  try { return (requireHere(`${pkg}/package.json`) as { version: string }).version; } catch { return 'absent'; }
}

export function provenance(seed: number, backend: { name: string; kernelFixes: readonly string[] }, labCodeVersion?: number): Provenance {
  return {
    gitCommit: gitCommit(),
    packages: Object.fromEntries(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-node', 'zod'].map((p) => [p, version(p)])),
    backend: backend.name,
    kernelFixes: backend.kernelFixes,
    seed,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    ...(labCodeVersion !== undefined ? { labCodeVersion } : {}),
  };
}
