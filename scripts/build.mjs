// Builds everything into out/:
//   out/main/{index,lab-worker,cli,byz-worker,task-thread}.js   electron-vite's main build (CJS, Node 20 target;
//                                                    shared modules in out/main/chunks/)
//   out/preload/index.js                 the sandboxed preload (bundled, electron external)
//   out/renderer/                        the React app
//     (these three: electron.vite.config.ts, the same config `npm run dev` uses)
//   out/report/report.js                 the chart bundle inlined into `benchtop report` files
//   out/wasm/*.wasm                      tfjs wasm binaries, loaded from here by the worker
//   out/build-info.json                  commit and time, for run provenance (and how the
//                                        bundles find out/: workers/runtime/paths.ts)
import { build as electronViteBuild } from 'electron-vite';
import { build as viteBuild } from 'vite';
import react from '@vitejs/plugin-react';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

process.env.BENCHTOP_BUILD_DIR = out;
// The Electron toolchain is an install of its own (desktop/package.json) that a Node 20 machine
// may not have: tell electron-vite the major version we target instead of letting it look.
const desktop = JSON.parse(readFileSync(join(root, 'desktop', 'package.json'), 'utf8'));
process.env.ELECTRON_MAJOR_VER ||= /\d+/.exec(desktop.devDependencies.electron)[0];
await electronViteBuild({ root, configFile: join(root, 'electron.vite.config.ts'), logLevel: 'warn' });

const quiet = { logLevel: 'warn', configFile: false };
await viteBuild({
  ...quiet, root: join(root, 'renderer'), plugins: [react()], define: { 'process.env.NODE_ENV': '"production"' },
  build: { outDir: join(out, 'report'), emptyOutDir: true, lib: { entry: join(root, 'renderer/src/report.tsx'), name: 'BenchtopReport', formats: ['iife'], fileName: () => 'report.js' }, chunkSizeWarningLimit: 2000 },
});

const wasmSrc = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
mkdirSync(join(out, 'wasm'), { recursive: true });
for (const f of readdirSync(wasmSrc).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmSrc, f), join(out, 'wasm', f));

let gitCommit = 'unknown';
try {
  gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  // As workers/jobs/provenance.ts marks a source checkout: a built queue worker and a coordinator from the same tree must agree.
  if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()) gitCommit += '+dirty';
} catch { /* not a checkout */ }
writeFileSync(join(out, 'build-info.json'), JSON.stringify({ gitCommit, builtAt: new Date().toISOString() }, null, 2));
const old = `${finalOut}.old-${process.pid}`;
if (existsSync(finalOut)) renameSync(finalOut, old);
renameSync(out, finalOut);
rmSync(old, { recursive: true, force: true });
console.log(`built out/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
