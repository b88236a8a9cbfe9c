// The Electron build (`electron-vite build`, and `npm run dev` where the Electron binary
// exists): the main process with the Node-side entries beside it, the sandboxed preload,
// the renderer. scripts/build.mjs runs it into a scratch folder and swaps it in as out/,
// after adding the report bundle, the wasm binaries and the build info.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const root = __dirname;
/** scripts/build.mjs points this at out.building-<pid>; `electron-vite dev` uses out/. */
const outRoot = process.env.BENCHTOP_BUILD_DIR ?? resolve(root, 'out');

export default defineConfig({
  main: {
    build: {
      outDir: resolve(outRoot, 'main'),
      // The CLI, the browser host and the lab workers run on the system's Node 20 as well as
      // inside Electron, so every main-side entry targets Node 20.
      target: 'node20',
      sourcemap: true,
      rolldownOptions: {
        input: {
          index: resolve(root, 'electron/main/index.ts'),
          'lab-worker': resolve(root, 'workers/lab-worker.ts'),
          cli: resolve(root, 'cli/index.ts'),
          'byz-worker': resolve(root, 'workers/labs/byz-momentum/worker-thread.ts'),
          'task-thread': resolve(root, 'workers/task-thread.ts'),
        },
        output: { format: 'cjs', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    // A sandboxed preload may require only 'electron': bundle every other import into it.
    build: {
      outDir: resolve(outRoot, 'preload'),
      externalizeDeps: false,
      rolldownOptions: { input: { index: resolve(root, 'electron/preload/index.ts') }, external: ['electron'], output: { format: 'cjs', entryFileNames: '[name].js' } },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    base: './',
    plugins: [react()],
    build: { outDir: resolve(outRoot, 'renderer'), emptyOutDir: true, chunkSizeWarningLimit: 2000, rolldownOptions: { input: { index: resolve(root, 'renderer/index.html') } } },
  },
});
