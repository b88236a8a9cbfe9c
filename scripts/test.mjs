// `npm test`: build, typecheck, the import-direction lint, vitest, then Playwright e2e
// against the browser host in Debian's Chromium. Ends with one line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const step = (label, cmd, args, env = {}) => {
  const t0 = Date.now();
  console.log(`\n=== ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`=== ${label}: ${r.status === 0 ? 'ok' : `exit ${r.status}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r.status === 0;
};

rmSync(join(root, 'test-results'), { recursive: true, force: true });
let passed = 0, failed = 0;
const gate = (ok, what) => { if (ok) passed++; else { failed++; console.error(`FAILED: ${what}`); } };

gate(step('build', process.execPath, [join(root, 'scripts', 'build.mjs')]), 'build');
gate(step('typecheck (one tsc per runtime)', process.execPath, [join(root, 'scripts', 'typecheck.mjs')]), 'typecheck');
gate(step('lint: import direction', process.execPath, [join(root, 'scripts', 'lint-imports.mjs')]), 'lint');

// Tests get their own state folder, never the user's.
const home = join(root, 'test-results', 'home');
step('unit and lab tests (vitest)', bin('vitest'), ['run'], { BENCHTOP_HOME: home });
const vitest = join(root, 'test-results', 'vitest.json');
if (existsSync(vitest)) {
  const r = JSON.parse(readFileSync(vitest, 'utf8'));
  passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTests ?? 0);
  if (r.numTotalTestSuites > 0 && r.testResults.some((f) => f.status === 'failed' && f.assertionResults.length === 0)) failed++; // a file that failed to load
} else failed++;

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`\nChromium not found at ${chromium}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. E2E counted as failed.`);
  failed++;
} else {
  step('e2e (Playwright + Debian Chromium via the browser host)', bin('playwright'), ['test']);
  const pw = join(root, 'test-results', 'playwright.json');
  if (existsSync(pw)) {
    const s = JSON.parse(readFileSync(pw, 'utf8')).stats;
    passed += s.expected; failed += s.unexpected + (s.flaky ?? 0);
    if (s.skipped) console.log(`(${s.skipped} e2e skipped: the Electron spec runs only where the Electron binary exists)`);
  } else failed++;
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
