// `npm run typecheck`: one tsc per runtime, each with only the globals that runtime has
// (Node: tsconfig.json; renderer: DOM only; the Electron main process and the preload; tests,
// e2e and bench: both). Electron's types come from the desktop toolchain's own install
// (desktop/): without it the two Electron projects are skipped, and the skip is said.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let failed = 0;
const electronTypes = existsSync(join(root, 'desktop', 'node_modules', 'electron', 'electron.d.ts'));
const electronProjects = ['electron/main/tsconfig.json', 'electron/preload/tsconfig.json'];
if (!electronTypes) console.log(`skipped ${electronProjects.join(' and ')}: Electron's types are not installed (npm run desktop:install, or npm --prefix desktop ci --ignore-scripts)`);
const projects = ['tests/tsconfig.json', 'tsconfig.json', 'renderer/tsconfig.json', ...(electronTypes ? electronProjects : [])];

/** One project's tsc, its output kept and printed whole when it ends (two run at once on two cores). */
const check = (project) => new Promise((resolve) => {
  const child = spawn(process.execPath, [tsc, '--noEmit', '-p', join(root, project)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  child.on('close', (code) => {
    if (out) process.stdout.write(out);
    if (code !== 0) { failed++; console.error(`typecheck failed: ${project}`); }
    resolve();
  });
});
const queue = [...projects];
const lane = async () => { while (queue.length) await check(queue.shift()); };
await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, lane));
process.exit(failed ? 1 : 0);
