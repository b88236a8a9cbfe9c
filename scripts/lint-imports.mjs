// The layering rule: common <- workers <- hosts (electron/main, cli); common <- renderer.
// Labs never import Electron, React or the DOM; the renderer never imports workers code
// or Node built-ins. Tests may import any layer (never the electron package: they use a
// stand-in); e2e specs drive the UI and may set up state through common and workers, never
// import the renderer; the bench measures common, workers and the CLI; scripts run on plain
// Node against out/ and import no source layer. Run by `npm run lint` and by `npm test`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layer of a repo-relative path, or undefined for files outside the layered tree. */
function layerOf(rel) {
  if (rel.startsWith('common/')) return 'common';
  if (rel.startsWith('workers/')) return 'workers';
  if (rel.startsWith('electron/main/')) return 'electron-main';
  if (rel.startsWith('electron/preload/')) return 'electron-preload';
  if (rel.startsWith('cli/')) return 'cli';
  if (rel.startsWith('renderer/')) return 'renderer';
  if (rel.startsWith('tests/')) return 'tests';
  if (rel.startsWith('e2e/')) return 'e2e';
  if (rel.startsWith('bench/')) return 'bench';
  if (rel.startsWith('scripts/')) return 'scripts';
  return undefined;
}

const MAY_IMPORT = {
  common: ['common'],
  workers: ['common', 'workers'],
  'electron-main': ['common', 'workers', 'electron-main'],
  'electron-preload': ['common', 'electron-preload'],
  cli: ['common', 'workers', 'cli'],
  renderer: ['common', 'renderer'],
  tests: ['common', 'workers', 'electron-main', 'cli', 'renderer', 'tests', 'scripts'],
  e2e: ['common', 'workers', 'e2e', 'scripts'],
  bench: ['common', 'workers', 'cli', 'bench'],
  scripts: ['scripts'],
};
const PACKAGE_RULES = [
  { test: (s) => s === 'electron' || s.startsWith('electron/'), allowed: ['electron-main', 'electron-preload'], why: 'Electron belongs to the Electron host' },
  { test: (s) => /^(react|react-dom|recharts)(\/|$)/.test(s), allowed: ['renderer', 'tests'], why: 'React belongs to the renderer' },
  { test: (s) => /^(@tensorflow\/|onnxruntime-node|node-sqlite3-wasm)/.test(s), allowed: ['workers', 'cli', 'electron-main', 'tests', 'e2e', 'bench'], why: 'compute and storage stay out of the renderer and the contract' },
  { test: (s) => s.startsWith('node:') || ['fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http'].includes(s), allowed: ['workers', 'cli', 'electron-main', 'tests', 'e2e', 'bench', 'scripts'], why: 'Node built-ins do not exist in the renderer, and the contract must stay portable' },
];

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'out' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(name)) out.push(p);
  }
  return out;
}

export function checkImports(root) {
  const violations = [];
  for (const file of walk(root)) {
    const rel = relative(root, file).split(sep).join('/');
    const layer = layerOf(rel);
    if (!layer) continue;
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const line = src.slice(0, m.index).split('\n').length + (src[m.index] === '\n' ? 1 : 0);
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec)).split(sep).join('/');
        const tl = layerOf(target + '/') ?? layerOf(target);
        if (tl && !MAY_IMPORT[layer].includes(tl)) violations.push(`${rel}:${line}: ${layer} may not import ${tl} ("${spec}")`);
      } else {
        for (const rule of PACKAGE_RULES) if (rule.test(spec) && !rule.allowed.includes(layer)) violations.push(`${rel}:${line}: ${layer} may not import "${spec}" (${rule.why})`);
      }
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const v = checkImports(root);
  for (const line of v) console.error(line);
  console.log(v.length ? `import direction: ${v.length} violation(s)` : 'import direction: ok');
  process.exit(v.length ? 1 : 0);
}
