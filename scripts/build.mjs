// Builds everything into out/:
//   out/main/{index,lab-worker,cli}.js   node-side bundles (CJS; dependencies stay external)
//   out/main/byz-worker.js               the byz-momentum lab's worker-thread entry
//   out/preload/index.js                 the sandboxed preload (bundled, electron external)
//   out/renderer/                        the React app (vite)
//   out/report/report.js                 the chart bundle inlined into `benchtop report` files
//   out/wasm/*.wasm                      tfjs wasm binaries, loaded from here by the worker
//   out/build-info.json                  commit and time, for run provenance
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import react from '@vitejs/plugin-react';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const finalOut = join(root, 'out');
// Build beside out/ and swap it in at the end, so a process running from out/ (a CLI run,
// the browser host) never sees it half-written or missing for more than two renames.
const out = join(root, `out.building-${process.pid}`);
const require = createRequire(import.meta.url);
const t0 = Date.now();
rmSync(out, { recursive: true, force: true });

const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', packages: 'external', logLevel: 'warning' };
await Promise.all([
  esbuild({ ...node, entryPoints: { index: join(root, 'electron/main/index.ts'), 'lab-worker': join(root, 'workers/lab-worker.ts'), cli: join(root, 'cli/index.ts'), 'byz-worker': join(root, 'workers/labs/byz-momentum/worker-thread.ts') }, outdir: join(out, 'main'), external: ['electron'] }),
  // A sandboxed preload may require only 'electron': bundle everything else into it.
  esbuild({ ...node, packages: undefined, entryPoints: { index: join(root, 'electron/preload/index.ts') }, outdir: join(out, 'preload'), external: ['electron'] }),
]);

const quiet = { logLevel: 'warn', configFile: false };
await viteBuild({ ...quiet, root: join(root, 'renderer'), base: './', plugins: [react()], build: { outDir: join(out, 'renderer'), emptyOutDir: true, chunkSizeWarningLimit: 2000 } });
await viteBuild({
  ...quiet, root: join(root, 'renderer'), plugins: [react()], define: { 'process.env.NODE_ENV': '"production"' },
  build: { outDir: join(out, 'report'), emptyOutDir: true, lib: { entry: join(root, 'renderer/src/report.tsx'), name: 'BenchtopReport', formats: ['iife'], fileName: () => 'report.js' }, chunkSizeWarningLimit: 2000 },
});

const wasmSrc = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
mkdirSync(join(out, 'wasm'), { recursive: true });
for (const f of readdirSync(wasmSrc).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmSrc, f), join(out, 'wasm', f));

let gitCommit = 'unknown';
try { gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
writeFileSync(join(out, 'build-info.json'), JSON.stringify({ gitCommit, builtAt: new Date().toISOString() }, null, 2));
const old = `${finalOut}.old-${process.pid}`;
if (existsSync(finalOut)) renameSync(finalOut, old);
renameSync(out, finalOut);
rmSync(old, { recursive: true, force: true });
console.log(`built out/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
