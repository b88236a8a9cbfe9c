// `npm run reproduce`: every lab's `paper` preset over seeds 1-3 through the CLI, then
// docs/RESULTS.md (our mean ± std beside the paper's figure) and docs/results.json (raw).
// `--lab ID` limits it to one lab; `--preset P` overrides the preset (for a quick look);
// `--jobs N` runs up to N seeds of a lab at once (one core each is what a lab needs).
// `--queue redis://HOST:PORT` (and `--queue-ca FILE` for rediss://) runs every run on the queue's
// `benchtop worker`s, all at once; each run is still recorded in this machine's store.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const preset = arg('--preset') ?? 'paper';
const only = arg('--lab');
const skipMain = process.argv.includes('--sweeps-only');
// `--set k=v` (repeatable) overrides a param in every main run, and is recorded in RESULTS.md.
const mainSets = process.argv.flatMap((a, i) => (a === '--set' ? [process.argv[i + 1]] : []));
const skipSweeps = process.argv.includes('--no-sweeps');
// `--seeds 1,2` runs fewer seeds (a slow lab); each lab's section names the seeds it used.
const seeds = (arg('--seeds') ?? '1,2,3').split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
if (!seeds.length || seeds.some((n) => !Number.isInteger(n))) { process.stderr.write(`--seeds wants comma-separated non-negative integers, not "${arg('--seeds')}"\n`); process.exit(2); }
const cli = join(root, 'bin', 'benchtop.js');
const queueArgs = arg('--queue') ? ['--queue', arg('--queue'), ...(arg('--queue-ca') ? ['--queue-ca', arg('--queue-ca')] : [])] : [];
const jobs = Number(arg('--jobs') ?? (queueArgs.length ? 1000 : 1));
if (!Number.isInteger(jobs) || jobs < 1) { process.stderr.write(`--jobs wants a positive integer, not "${arg('--jobs')}"\n`); process.exit(2); }

if (!process.argv.includes('--no-build')) spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
const specs = JSON.parse(spawnSync(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'list', '--json'], { encoding: 'utf8' }).stdout);
// --json output carries non-finite numbers as strings ("Infinity"): read and write it with the CLI's codec.
const cliModule = await import(join(root, 'out', 'main', 'cli.js'));
const { parseJson, stringifyJson } = cliModule;
const rawPath = join(root, 'docs', 'results.json');
const raw = existsSync(rawPath) ? parseJson(readFileSync(rawPath, 'utf8')) : {};

const touched = new Set();
const sweepsOf = cliModule.labSweeps?.() ?? {};
/** One `benchtop run --json` (on the queue with --queue), without blocking, so several can run side by side. */
const runJsonAsync = (args) => new Promise((resolve) => {
  const child = spawn(process.execPath, [cli, 'run', ...args, '--json', ...queueArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.on('close', (code) => {
    try { resolve(code === 0 || code === 1 ? parseJson(out || '{}') : { error: `exit ${code}` }); } catch { resolve({ error: `exit ${code}: unreadable output` }); }
  });
});
async function runSeeds(labId) {
  const results = new Array(seeds.length);
  let next = 0;
  const lane = async () => {
    while (next < seeds.length) {
      const i = next++;
      process.stderr.write(`${labId} ${preset} seed ${seeds[i]}…\n`);
      results[i] = { seed: seeds[i], ...(await runJsonAsync([labId, '--preset', preset, '--seed', String(seeds[i]), ...mainSets.flatMap((kv) => ['--set', kv])])) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, seeds.length) }, lane));
  return results;
}
/** One lab's sweeps and main runs into `raw`. */
async function reproduceLab(lab) {
  if (!skipSweeps && sweepsOf[lab.id]) {
    touched.add(lab.id);
    raw[lab.id] = skipMain ? {} : { ...raw[lab.id] };
    // Locally one value at a time; on a queue all values at once.
    const sweepValue = async (sw, v) => {
      process.stderr.write(`${lab.id} sweep ${sw.param}=${v}…\n`);
      const sets = Object.entries({ ...(sw.overrides ?? {}), [sw.param]: v }).flatMap(([k, val]) => ['--set', `${k}=${val}`]);
      return { value: v, ...(await runJsonAsync([lab.id, '--preset', sw.preset, '--seed', String(sw.seed), ...sets])) };
    };
    raw[lab.id].sweeps = [];
    for (const sw of sweepsOf[lab.id]) {
      const at = new Date().toISOString();
      const runs = [];
      if (queueArgs.length) runs.push(...(await Promise.all(sw.values.map((v) => sweepValue(sw, v)))));
      else for (const v of sw.values) runs.push(await sweepValue(sw, v));
      raw[lab.id].sweeps.push({ ...sw, at, runs });
    }
  }
  if (skipMain) return;
  raw[lab.id] = { ...(skipSweeps ? {} : raw[lab.id]), preset, overrides: mainSets, at: new Date().toISOString(), runs: [] };
  touched.add(lab.id);
  raw[lab.id].runs = await runSeeds(lab.id);
}
const chosen = specs.filter((lab) => !only || lab.id === only);
// On a queue every lab's runs are enqueued together; here, one lab after another.
if (queueArgs.length) await Promise.all(chosen.map(reproduceLab));
else for (const lab of chosen) await reproduceLab(lab);
// Another reproduce process may have written meanwhile (main runs and sweeps can run in
// parallel): merge our labs' fields into what is on disk now.
const onDisk = existsSync(rawPath) ? parseJson(readFileSync(rawPath, 'utf8')) : {};
for (const id of touched) onDisk[id] = { ...onDisk[id], ...raw[id] };
Object.assign(raw, onDisk);
writeFileSync(rawPath, stringifyJson(raw, 2) + '\n');

// RESULTS.md from everything in results.json, with the specs' reference rows.
const LAB_REFERENCE = cliModule.labReference?.() ?? {};
const benchPath = join(root, 'bench', 'results.json');
const benchJson = existsSync(benchPath) ? parseJson(readFileSync(benchPath, 'utf8')) : {};
const benchLabs = benchJson.labs ?? {};
const benchAt = (benchJson.sectionAt?.labs ?? benchJson.at ?? '').slice(0, 10);
/** A lab's research notes (docs/notes/<id>.md): paragraphs separated by blank lines, after its table. */
const labNotes = (id) => {
  const file = join(root, 'docs', 'notes', `${id}.md`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').replace(/<!--[\s\S]*?-->/g, '').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
};
const fmt = (xs) => {
  if (!xs.length) return '—';
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  // Small quantities (KL in thousandths of a nat) keep three significant digits.
  if (mean !== 0 && Math.abs(mean) < 0.001) return `${mean.toPrecision(3)} ± ${std.toPrecision(2)}`;
  const digits = Math.abs(mean) >= 100 ? 1 : 4;
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
};
let md = `# Results\n\nWritten by \`npm run reproduce\` (each lab's \`paper\` preset over the seeds its section names, normally 1, 2, 3; mean ± sample std).\nRaw numbers: \`docs/results.json\`. Machine: 2 cores, no GPU, tfjs-backend-wasm.\n`;
for (const lab of specs) {
  const entry = raw[lab.id];
  md += `\n## ${lab.id}\n\n${lab.title} (arXiv ${lab.arxiv}).`;
  if (!entry || !entry.at) { md += ' Not run yet.\n'; continue; }
  const ok = entry.runs.filter((r) => r.metrics);
  md += ` Preset \`${entry.preset}\`${entry.overrides?.length ? ` with ${entry.overrides.map((o) => `\`${o}\``).join(', ')}` : ''}, seeds ${entry.runs.map((r) => r.seed).join(', ')}, ${ok.length}/${entry.runs.length} runs succeeded, run on ${entry.at.slice(0, 10)}.\n\n`;
  md += '| metric | ours | paper | note |\n|---|---|---|---|\n';
  for (const row of LAB_REFERENCE[lab.id] ?? lab.metrics.map((m) => ({ metric: m, paper: '—', note: '' }))) {
    md += `| ${row.metric} | ${fmt(ok.map((r) => r.metrics[row.metric]).filter((v) => typeof v === 'number'))} | ${row.paper} | ${row.note} |\n`;
  }
  const checks = Object.keys(ok[0]?.checks ?? {});
  if (checks.length) md += `\nChecks (runs passing / runs): ${checks.map((c) => `\`${c}\` ${ok.filter((r) => r.checks[c]).length}/${ok.length}`).join(', ')}.\n`;
  const durations = ok.map((r) => r.durationMs / 1000);
  if (durations.length) md += `Time per run: ${fmt(durations)} s; peak RSS ${Math.max(...ok.map((r) => r.peakRssMb)).toFixed(0)} MB.\n`;
  // The profile: each phase's share of the run (mean over seeds), as the host timed it.
  const profiled = ok.filter((r) => r.phaseMs);
  if (profiled.length) {
    // A phase some runs skipped (a shared part trained by the first run only) is averaged over the runs that had it.
    const phases = [...new Set(profiled.flatMap((r) => Object.keys(r.phaseMs)))];
    const phaseLine = (ph) => {
      const had = profiled.filter((r) => r.phaseMs[ph] !== undefined);
      const ms = had.reduce((a, r) => a + r.phaseMs[ph], 0) / had.length;
      const units = had[0].phaseUnits?.[ph];
      if (had.length < profiled.length) return `${ph} ${(ms / 1000).toFixed(0)} s in ${had.length} of ${profiled.length} runs${units > 1 ? ` (${units} × ${ms / units >= 100 ? (ms / units).toFixed(0) : (ms / units).toFixed(1)} ms)` : ''}`;
      return `${ph} ${(ms / 1000).toFixed(0)} s${units > 1 ? ` (${units} × ${ms / units >= 100 ? (ms / units).toFixed(0) : (ms / units).toFixed(1)} ms)` : ''}`;
    };
    md += `Profile (mean over ${profiled.length} run${profiled.length > 1 ? 's' : ''}; units are the phase's own: steps, images, questions): ${phases.map(phaseLine).join(' · ')}.\n`;
  }
  // The default preset's run as `npm run bench` last timed it (seed 1, shared parts cached): what a researcher waits for.
  const benchDefault = benchLabs[lab.id]?.find((r) => r.preset === 'default' && r.durationMs);
  if (benchDefault) {
    const phases = Object.entries(benchDefault.phaseMs ?? {}).map(([ph, ms]) => {
      const units = benchDefault.phaseUnits?.[ph];
      return `${ph} ${(ms / 1000).toFixed(0)} s${units > 1 ? ` (${units} × ${ms / units >= 100 ? (ms / units).toFixed(0) : (ms / units).toFixed(1)} ms)` : ''}`;
    });
    md += `Default preset (\`npm run bench\`, ${benchAt}): ${(benchDefault.durationMs / 1000).toFixed(0)} s${phases.length ? `; ${phases.join(' · ')}` : ''}.\n`;
  }
  for (const sw of entry.sweeps ?? []) {
    md += `\n### ${sw.title}\n\nPreset \`${sw.preset}\`${sw.overrides ? ` with ${Object.entries(sw.overrides).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}, seed ${sw.seed}, one run per value (${sw.at.slice(0, 10)}). ${sw.note}\n\n`;
    md += `| ${sw.param} | ${sw.metrics.join(' | ')} |\n|${'---|'.repeat(sw.metrics.length + 1)}\n`;
    for (const r of sw.runs) md += `| ${r.value} | ${sw.metrics.map((m) => (typeof r.metrics?.[m] === 'number' ? r.metrics[m].toFixed(3) : typeof r.checks?.[m] === 'boolean' ? (r.checks[m] ? 'pass' : 'fail') : '—')).join(' | ')} |\n`;
  }
  for (const note of labNotes(lab.id)) md += `\n${note}\n`;
}
writeFileSync(join(root, 'docs', 'RESULTS.md'), md);
process.stderr.write('wrote docs/RESULTS.md and docs/results.json\n');
