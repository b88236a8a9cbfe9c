// `npm run typecheck`: one tsc per runtime, each with only the globals that runtime has
// (Node: tsconfig.json; renderer: DOM only; the Electron main process and the preload; tests,
// e2e and bench: both). Electron's types come from the desktop toolchain's own install
// (desktop/): without it the two Electron projects are skipped, and the skip is said.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let failed = 0;
const electronTypes = existsSync(join(root, 'desktop', 'node_modules', 'electron', 'electron.d.ts'));
const electronProjects = ['electron/main/tsconfig.json', 'electron/preload/tsconfig.json'];
if (!electronTypes) console.log(`skipped ${electronProjects.join(' and ')}: Electron's types are not installed (npm run desktop:install, or npm --prefix desktop ci --ignore-scripts)`);
for (const project of ['tsconfig.json', 'renderer/tsconfig.json', ...(electronTypes ? electronProjects : []), 'tests/tsconfig.json']) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(root, project)], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.error(`typecheck failed: ${project}`); }
}
process.exit(failed ? 1 : 0);
