// `npm start`: build, then open the Electron window if its binary is installed; otherwise
// say so in one line and serve the same app through the browser host.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { electronBinary } = require('./electron-binary.cjs');

await new Promise((resolve, reject) => {
  spawn(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root }).on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`build failed (${c})`))));
});
const binary = electronBinary();
const args = binary ? [join(root, 'out', 'main', 'index.js')] : [join(root, 'bin', 'benchtop.js'), 'web', ...process.argv.slice(2)];
if (!binary) console.log('Electron binary not installed here (it cannot be downloaded offline): serving the same app in your browser instead.');
const child = spawn(binary ?? process.execPath, args, { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
