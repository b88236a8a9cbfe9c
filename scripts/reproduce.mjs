// `npm run reproduce`: every lab's `paper` preset over seeds 1-3 through the CLI, then
// docs/RESULTS.md (our mean ± std beside the paper's figure) and docs/results.json (raw).
// `--lab ID` limits it to one lab; `--preset P` overrides the preset (for a quick look).
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const preset = arg('--preset') ?? 'paper';
const only = arg('--lab');
const seeds = [1, 2, 3];
const cli = join(root, 'bin', 'benchtop.js');

spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const specs = JSON.parse(spawnSync(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'list', '--json'], { encoding: 'utf8' }).stdout);
const rawPath = join(root, 'docs', 'results.json');
const raw = existsSync(rawPath) ? JSON.parse(readFileSync(rawPath, 'utf8')) : {};

for (const lab of specs) {
  if (only && lab.id !== only) continue;
  raw[lab.id] = { preset, at: new Date().toISOString(), runs: [] };
  for (const seed of seeds) {
    process.stderr.write(`${lab.id} ${preset} seed ${seed}…\n`);
    const r = spawnSync(process.execPath, [cli, 'run', lab.id, '--preset', preset, '--seed', String(seed), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20 });
    raw[lab.id].runs.push(r.status === 0 || r.status === 1 ? JSON.parse(r.stdout || '{}') : { seed, error: `exit ${r.status}` });
  }
}
writeFileSync(rawPath, JSON.stringify(raw, null, 2) + '\n');

// RESULTS.md from everything in results.json, with the specs' reference rows.
const { LAB_REFERENCE } = await import(join(root, 'out', 'main', 'cli.js')).then((m) => ({ LAB_REFERENCE: m.labReference?.() ?? {} }));
const fmt = (xs) => {
  if (!xs.length) return '—';
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  const digits = Math.abs(mean) >= 100 ? 1 : 4;
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
};
let md = `# Results\n\nWritten by \`npm run reproduce\` (each lab's \`paper\` preset, seeds ${seeds.join(', ')}; mean ± sample std).\nRaw numbers: \`docs/results.json\`. Machine: 2 cores, no GPU, tfjs-backend-wasm.\n`;
for (const lab of specs) {
  const entry = raw[lab.id];
  md += `\n## ${lab.id}\n\n${lab.title} (arXiv ${lab.arxiv}).`;
  if (!entry) { md += ' Not run yet.\n'; continue; }
  const ok = entry.runs.filter((r) => r.metrics);
  md += ` Preset \`${entry.preset}\`, ${ok.length}/${entry.runs.length} runs succeeded, run on ${entry.at.slice(0, 10)}.\n\n`;
  md += '| metric | ours | paper | note |\n|---|---|---|---|\n';
  for (const row of LAB_REFERENCE[lab.id] ?? lab.metrics.map((m) => ({ metric: m, paper: '—', note: '' }))) {
    md += `| ${row.metric} | ${fmt(ok.map((r) => r.metrics[row.metric]).filter((v) => typeof v === 'number'))} | ${row.paper} | ${row.note} |\n`;
  }
  const checks = Object.keys(ok[0]?.checks ?? {});
  if (checks.length) md += `\nChecks (runs passing / runs): ${checks.map((c) => `\`${c}\` ${ok.filter((r) => r.checks[c]).length}/${ok.length}`).join(', ')}.\n`;
  const durations = ok.map((r) => r.durationMs / 1000);
  if (durations.length) md += `Time per run: ${fmt(durations)} s; peak RSS ${Math.max(...ok.map((r) => r.peakRssMb)).toFixed(0)} MB.\n`;
}
writeFileSync(join(root, 'docs', 'RESULTS.md'), md);
process.stderr.write('wrote docs/RESULTS.md and docs/results.json\n');
