// `npm run dev`: electron-vite's dev server (renderer hot reload, main and preload rebuilt on
// change) where the Electron binary exists. Where it does not (it cannot be downloaded
// offline), say so and how to work instead, rather than electron-vite's "Electron uninstall".
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { electronBinary } = require('./electron-binary.cjs');

const binary = electronBinary();
if (!binary) {
  console.error('npm run dev needs the Electron binary, which is not installed here (it cannot be downloaded offline).\n' +
    'Use `npm start` (the same app in your browser) and `npm run build` after a change; set ELECTRON_EXEC_PATH to an Electron binary to use dev.');
  process.exit(1);
}
const child = spawn(join(root, 'node_modules', '.bin', 'electron-vite'), ['dev', '--config', join(root, 'electron.vite.config.ts')],
  { stdio: 'inherit', cwd: root, env: { ...process.env, ELECTRON_EXEC_PATH: binary } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
