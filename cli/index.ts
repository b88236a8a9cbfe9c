// `benchtop`: list, run, worker, report, export, import, web, serve-lm. Invalid params exit 2 with one line naming the field;
// a failed run exits 1. `run --json` prints exactly one JSON object on stdout.
import { resolve, basename, dirname } from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UsageError, checkOutFolder, parseArgs, parseCores, parsePort, parseSeed, type ParsedArgs } from './args';
import { QUEUE_ENV, QueueAddressError, checkQueueReachable, parseQueueAddress, type QueueAddress } from '../workers/queue/address';
import { startQueueWorker } from '../workers/queue/queue-worker';
import { queueTiming } from '../workers/queue/remote-job';
import { LAB_SPECS, findLabSpec } from '../common/labs';
import { PRESET_NAMES, ParamsError, describeParams, listFieldValue, resolveParams, type PresetName } from '../common/lab';
import { openServices, rendererDir, workerPath } from './services';
import { startWebHost } from './web-host';
import { createHandlers } from '../workers/jobs/api-handlers';
import { reportPath, writeReport } from '../workers/jobs/report';
import { ARCHIVE_SUFFIX, exportRun, importRun } from '../workers/jobs/run-archive';
import { parseJson, stringifyJson } from '../common/json';
import { RunStore } from '../workers/jobs/run-store';
import { benchtopHome, dbPath } from '../workers/runtime/paths';
import { UserInputError } from '../workers/runtime/failure';
import { openOnnxFolder } from '../workers/runtime/text-lm';
import { startLmServer } from '../workers/runtime/lm-server';

const VERSION = '0.1.0';
const RUN_ID = /^[a-z0-9-]{6,80}$/;
const USAGE = `benchtop ${VERSION}
  benchtop list [--json]
  benchtop run <lab> [--preset smoke|default|paper] [--seed N] [--set key=value ...] [--out DIR] [--json]
                     [--queue redis://HOST:PORT]      run it on a queue worker, recorded here
  benchtop worker --queue redis://[:PASSWORD@]HOST:PORT [--cores N]
                                              take runs from the queue (rediss:// for TLS; --queue-ca FILE
                                              or BENCHTOP_QUEUE_CA for a self-signed CA)
  benchtop report <runId | runDir> [--output FILE]
  benchtop export <runId> [--output FILE]     a finished run as one archive (${ARCHIVE_SUFFIX})
  benchtop import <archive>                   an exported run, as a new run in this store
  benchtop web [--port N] [--queue redis://HOST:PORT]   (with a queue — or BENCHTOP_QUEUE — sweeps run on its workers)
  benchtop serve-lm <folder | lm:stories:tiny | lm:stories:d128> [--port N] [--name NAME]
                                              an exported (or built-in) LM at /v1/completions and /v1/chat/completions on 127.0.0.1`;

/** A --set value: a number, a boolean, a JSON array or object (`models=["ec","tc"]`), else the
 *  string; the lab's schema judges it. List params also take comma-separated items (see cmdRun). */
function parseValue(raw: string): unknown {
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(raw)) return Number(raw);
  if (/^\s*[[{]/.test(raw)) {
    try { return JSON.parse(raw); } catch (err) { throw new UsageError(`--set value ${raw} is not valid JSON (${(err as Error).message})`); }
  }
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return raw;
}

function bar(done: number, total: number, width = 28): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  return `[${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

async function cmdRun(args: ParsedArgs): Promise<number> {
  const labId = args.positional[0];
  const spec = findLabSpec(labId);
  if (!spec) { process.stderr.write(`unknown lab "${labId}" (known: ${LAB_SPECS.map((s) => s.id).join(', ')})\n`); return 2; }
  const preset = (args.values.preset ?? 'default') as PresetName;
  let seed = args.values.seed === undefined ? undefined : parseSeed(args.values.seed);
  const overrides: Record<string, unknown> = {};
  const fields = describeParams(spec.params);
  for (const s of args.repeated.set ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) { process.stderr.write(`--set ${s}: expected key=value\n`); return 2; }
    const [key, raw] = [s.slice(0, eq), s.slice(eq + 1)];
    if (key === 'seed') {
      // The seed is the run's, not a lab field: one value, whichever way it is given.
      const fromSet = parseSeed(raw, '--set seed');
      if (seed !== undefined && seed !== fromSet) throw new UsageError(`--seed ${seed} and --set seed=${fromSet} disagree: give the seed once`);
      seed = fromSet;
      continue;
    }
    // `models=ec,tc` as the form takes it; a JSON array (`models=["ec","tc"]`) still works.
    const list = fields.find((f) => f.name === key && f.kind === 'list');
    overrides[key] = list && !raw.trim().startsWith('[') ? listFieldValue(list, raw) : parseValue(raw);
  }
  seed ??= 1;
  try {
    if (!PRESET_NAMES.includes(preset)) throw new ParamsError('preset', `invalid parameter "preset": "${preset}" is not smoke, default or paper`);
    resolveParams(spec, preset, overrides);
  } catch (err) {
    if (err instanceof ParamsError) { process.stderr.write(`${err.message}\n`); return 2; }
    throw err;
  }
  const out = args.values.out === undefined ? undefined : checkOutFolder(args.values.out);
  const json = args.switches.has('json');
  const queue = await queueOption(args);
  const { store, jobs } = openServices({ home: out, host: 'cli', queue });
  const t0 = Date.now();
  let lastDraw = 0, lastPhase = '';
  const tty = process.stderr.isTTY;
  // A terminal gets a redrawn bar; a log file a line per phase change or every 5 s.
  const drawEvery = tty ? 200 : 5000;
  jobs.onUpdate((u) => {
    if (outputClosed) return;
    for (const e of u.events) {
      if (e.type === 'progress' && (Date.now() - lastDraw > drawEvery || e.phase !== lastPhase)) {
        lastDraw = Date.now(); lastPhase = e.phase;
        const line = `${e.phase.padEnd(24).slice(0, 24)} ${bar(e.done, e.total)} ${e.done}/${e.total}`;
        process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      } else if (e.type === 'log' && !json) process.stderr.write(`${tty ? '\r\x1b[K' : ''}${e.level}: ${e.message}\n`);
    }
  });
  let run;
  try { run = jobs.start({ lab: labId, preset, seed, params: overrides }, undefined, queue ? 'queue' : 'local'); } catch (err) {
    await jobs.shutdown(); store.close();
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const onSigint = () => { process.stderr.write('\ncancelling…\n'); void jobs.cancel(run.id); };
  process.on('SIGINT', onSigint);
  // A reader that went away (`| head -1`) cancels the run: it is recorded as cancelled and
  // the CLI ends quietly, instead of dying on EPIPE with its run left "running".
  onOutputClosed(() => { void jobs.cancel(run.id); });
  const final = await jobs.waitFor(run.id);
  process.off('SIGINT', onSigint);
  await jobs.shutdown();
  store.close();
  if (outputClosed) return 1;
  if (tty) process.stderr.write('\r\x1b[K');
  const summary = final.summary;
  const result = {
    lab: labId, seed, preset, backend: final.backend?.name ?? null, params: final.params,
    metrics: summary?.metrics ?? {}, checks: summary?.checks ?? {},
    durationMs: summary?.durationMs ?? Date.now() - t0, peakRssMb: summary?.peakRssMb ?? null, phaseMs: summary?.phaseMs ?? null, phaseUnits: summary?.phaseUnits ?? null, runDir: final.runDir,
  };
  if (json) process.stdout.write(`${stringifyJson(result)}\n`);
  else {
    process.stdout.write(`${labId} ${final.status} in ${(result.durationMs / 1000).toFixed(1)} s on ${result.backend} (run ${final.id})\n`);
    for (const [k, v] of Object.entries(result.metrics)) process.stdout.write(`  ${k.padEnd(28)} ${Number(v).toPrecision(5)}\n`);
    for (const [k, v] of Object.entries(result.checks)) process.stdout.write(`  ${k.padEnd(28)} ${v ? 'pass' : 'FAIL'}\n`);
    for (const [k, ms] of Object.entries(result.phaseMs ?? {})) {
      const units = result.phaseUnits?.[k];
      process.stdout.write(`  phase ${k.padEnd(22)} ${(ms / 1000).toFixed(1)} s${units && units > 1 ? ` (${units} × ${(ms / units).toFixed(1)} ms)` : ''}\n`);
    }
    process.stdout.write(`  run folder: ${final.runDir}\n`);
  }
  if (final.status !== 'succeeded') {
    process.stderr.write(`run ${final.status}${final.error ? `: ${final.error.split('\n')[0]}` : ''}\n`);
    return 1;
  }
  return 0;
}

/** --queue (and --queue-ca) checked and reached before anything starts; undefined without --queue. */
async function queueOption(args: ParsedArgs, envQueue = false): Promise<QueueAddress | undefined> {
  if (args.values.queue === undefined && envQueue && process.env[QUEUE_ENV]) args.values.queue = process.env[QUEUE_ENV];
  if (args.values.queue === undefined) {
    if (args.values['queue-ca'] !== undefined) throw new UsageError('--queue-ca goes with --queue rediss://HOST:PORT');
    return undefined;
  }
  try {
    const address = parseQueueAddress(args.values.queue, args.values['queue-ca']);
    await checkQueueReachable(address);
    return address;
  } catch (err) {
    if (err instanceof QueueAddressError) throw new UsageError(err.message);
    throw err;
  }
}

async function cmdWorker(args: ParsedArgs): Promise<number> {
  if (args.values.queue === undefined) throw new UsageError('`benchtop worker` needs --queue redis://HOST:PORT');
  const cores = args.values.cores === undefined ? availableParallelism() : parseCores(args.values.cores, availableParallelism());
  const address = (await queueOption(args))!;
  const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const worker = await startQueueWorker({ address, cores, home: benchtopHome(), cacheHome: benchtopHome(), workerPath: workerPath(), log });
  const t = queueTiming();
  process.stdout.write(`worker ${worker.name} takes runs from ${address.shown} on ${cores} core${cores === 1 ? '' : 's'} (lock ${t.lockMs / 1000} s); Ctrl-C stops\n`);
  const stop = () => {
    // Runs in progress are not finished or failed here: their locks lapse and another worker takes them over.
    log(`stopping: runs in progress go back to the queue within ${Math.round((t.lockMs + 2 * t.stalledIntervalMs) / 1000)} s`);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise(() => {});
}

async function cmdWeb(args: ParsedArgs): Promise<number> {
  const port = args.values.port === undefined ? 0 : parsePort(args.values.port);
  const queue = await queueOption(args, true);
  const { store, jobs, home } = openServices({ host: 'web', queue });
  const handlers = createHandlers(jobs, store, { host: 'web', version: VERSION, home });
  // BENCHTOP_WEB_TOKEN pins the token (the e2e suite needs to know it); normally it is random per launch.
  const host = await startWebHost({ handlers, subscribe: (l) => jobs.onUpdate(l), rendererDir: rendererDir(), port, token: process.env.BENCHTOP_WEB_TOKEN || undefined });
  process.stdout.write(`Benchtop is served at ${host.url}\n(open it in a browser on this machine; Ctrl-C stops)${queue ? `\nsweeps run on the workers of ${queue.shown}` : ''}\n`);
  const stop = async () => { await jobs.shutdown(); await host.close(); store.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise(() => {}); // serve until signalled
}

async function cmdServeLm(args: ParsedArgs): Promise<number> {
  const port = args.values.port === undefined ? 8088 : parsePort(args.values.port);
  const target = args.positional[0];
  const { servedLmFolder } = await import('./serve-lm');
  let folder: string;
  try { folder = await servedLmFolder(target, (s) => process.stderr.write(`${s}\n`)); } catch (e) { if (e instanceof UserInputError) { process.stderr.write(`${e.message}\n`); return 2; } throw e; }
  let lm;
  try { lm = await openOnnxFolder(folder); } catch (e) { if (e instanceof UserInputError) { process.stderr.write(`${e.message}\n`); return 2; } throw e; }
  const name = args.values.name?.trim() || (target.startsWith('lm:') ? target : basename(folder));
  const server = await startLmServer(lm, name, port);
  process.stdout.write(`serving ${name} at ${server.url}/v1 (completions, chat/completions, models); Ctrl-C stops\n`);
  const stop = async () => { await server.close(); await lm.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise(() => {});
}

async function cmdReport(args: ParsedArgs): Promise<number> {
  const target = args.positional[0];
  if (args.values.output?.trim() === '') throw new UsageError('--output needs a file name');
  // A run id (as the app and `run --json` show it) is looked up in the store; a path is a run folder.
  const byId = !existsSync(target) && RUN_ID.test(target);
  const dir = resolve(target);
  const db = byId ? dbPath(benchtopHome()) : dbPath(dirname(dirname(dir)));
  if (!existsSync(db)) { process.stderr.write(`${target} is ${byId ? `not a run in ${db} (no store there)` : `not a run folder (no store at ${db})`}\n`); return 2; }
  const store = new RunStore(db);
  const detail = store.getDetail(byId ? target : basename(dir));
  store.close();
  if (!detail) { process.stderr.write(`no run ${byId ? target : basename(dir)} in ${db}\n`); return 2; }
  const output = args.values.output !== undefined ? resolve(args.values.output) : reportPath(detail);
  writeReport(detail, output);
  process.stdout.write(`${output}\n`);
  return 0;
}

/** The store of BENCHTOP_HOME, opened for one command, closed after it. */
function withStore<T>(fn: (store: RunStore, home: string) => T): T {
  const home = benchtopHome();
  const store = new RunStore(dbPath(home));
  try { return fn(store, home); } finally { store.close(); }
}

async function cmdExport(args: ParsedArgs): Promise<number> {
  const id = args.positional[0];
  if (!RUN_ID.test(id)) throw new UsageError(`"${id}" is not a run id (as \`benchtop run --json\` and the app show it)`);
  if (args.values.output?.trim() === '') throw new UsageError('--output needs a file name');
  const out = withStore((store) => exportRun(store, id, args.values.output !== undefined ? resolve(args.values.output) : undefined));
  process.stdout.write(`${out.path}\n`);
  return 0;
}

async function cmdImport(args: ParsedArgs): Promise<number> {
  const file = resolve(args.positional[0]);
  if (!existsSync(file)) { process.stderr.write(`no file ${file}\n`); return 2; }
  if (statSync(file).isDirectory()) { process.stderr.write(`${file} is a folder, not a run archive (${ARCHIVE_SUFFIX})\n`); return 2; }
  const run = withStore((store, home) => importRun(store, home, readFileSync(file), file));
  process.stdout.write(`${run.id}\n`);
  return 0;
}

let outputClosed = false;
const outputClosedListeners: (() => void)[] = [];
/** Runs `fn` once if stdout or stderr loses its reader (EPIPE). */
function onOutputClosed(fn: () => void): void { if (outputClosed) fn(); else outputClosedListeners.push(fn); }
function watchOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      if (outputClosed) return;
      outputClosed = true;
      for (const fn of outputClosedListeners.splice(0)) fn();
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  watchOutput();
  try {
    const args = parseArgs(argv);
    if (args.switches.has('help') || args.command === 'help') { process.stdout.write(`${USAGE}\n`); return 0; }
    switch (args.command) {
      case 'list':
        if (args.switches.has('json')) process.stdout.write(`${JSON.stringify(LAB_SPECS.map((s) => ({ id: s.id, title: s.title, arxiv: s.paper.arxiv, metrics: s.metrics, checks: s.checks })))}\n`);
        else for (const s of LAB_SPECS) process.stdout.write(`${s.id.padEnd(22)} ${s.title} (${s.paper.arxiv})\n`);
        return 0;
      case 'run': return await cmdRun(args);
      case 'web': return await cmdWeb(args);
      case 'worker': return await cmdWorker(args);
      case 'serve-lm': return await cmdServeLm(args);
      case 'report': return await cmdReport(args);
      case 'export': return await cmdExport(args);
      case 'import': return await cmdImport(args);
      default: throw new UsageError(`unknown command "${args.command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) { process.stderr.write(`${err.message} (see \`benchtop --help\`)\n`); return 2; }
    process.stderr.write(`benchtop: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { if (code !== undefined) process.exitCode = code; });
}

/** Each lab's RESULTS.md rows and ablation sweeps (used by scripts/reproduce.mjs). */
export function labReference(): Record<string, { metric: string; paper: string; note: string }[]> {
  return Object.fromEntries(LAB_SPECS.filter((s) => s.reproduce).map((s) => [s.id, s.reproduce!]));
}
export function labSweeps(): Record<string, NonNullable<(typeof LAB_SPECS)[number]['sweeps']>> {
  return Object.fromEntries(LAB_SPECS.filter((s) => s.sweeps).map((s) => [s.id, s.sweeps!]));
}
/** The JSON encoding of `--json` output (non-finite numbers as strings), for scripts/reproduce.mjs. */
export { parseJson, stringifyJson };
