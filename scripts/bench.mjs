// Bundles bench/*.ts (they import the TypeScript sources) and runs the bench.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const opts = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', logLevel: 'warning' };
await build({ ...opts, entryPoints: [join(root, 'bench', 'bench.ts')], outfile: join(root, 'bench', 'bench.cjs') });
await build({ ...opts, entryPoints: [join(root, 'bench', 'kernels.ts')], outfile: join(root, 'bench', 'kernels.cjs') });
const r = spawnSync(process.execPath, [join(root, 'bench', 'bench.cjs'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
