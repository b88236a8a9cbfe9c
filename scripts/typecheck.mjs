// `npm run typecheck`: one tsc per runtime, each with only the globals that runtime has
// (Node: tsconfig.json; renderer: DOM only; the preload; tests, e2e and bench: both).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let failed = 0;
for (const project of ['tsconfig.json', 'renderer/tsconfig.json', 'electron/preload/tsconfig.json', 'tests/tsconfig.json']) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(root, project)], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.error(`typecheck failed: ${project}`); }
}
process.exit(failed ? 1 : 0);
