// The host side of BenchtopApi, shared by the Electron main process and the browser host:
// every call's payload is validated here (zod) before it reaches the JobService or store.
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { API_METHODS, type ApiMethod, type BenchtopApi, type LabInfo } from '../../common/api';
import { describeParams } from '../../common/lab';
import { LAB_SPECS } from '../../common/labs';
import type { JobService } from './job-service';
import type { RunStore } from './run-store';
import { reportPath, writeReport } from './report';
import { ARCHIVE_LIMITS, exportRun, importRun } from './run-archive';

/** Archives being received chunk by chunk (import), dropped after 10 idle minutes. */
interface Upload { next: number; chunks: Buffer[]; bytes: number; touched: number }
const UPLOAD_IDLE_MS = 10 * 60_000;

export function labInfos(): LabInfo[] {
  return LAB_SPECS.map((s) => ({
    id: s.id, title: s.title, paper: s.paper, summary: s.summary, fields: describeParams(s.params),
    presets: s.presets as LabInfo['presets'], metrics: s.metrics, checks: s.checks, defaultTime: s.defaultTime,
    keyMetrics: s.keyMetrics, metricInfo: s.metricInfo ?? {}, checkPresets: s.checkPresets ?? {},
  }));
}

export type Handlers = Omit<BenchtopApi, 'onRunUpdate'>;

/** What a host can do beyond the common API: the desktop window opens folders. */
export interface HostAbilities { openFolder?: (path: string) => Promise<string> }

export function createHandlers(jobs: JobService, store: RunStore, meta: { host: 'electron' | 'web'; version: string; home: string }, abilities: HostAbilities = {}): Handlers {
  const uploads = new Map<string, Upload>();
  return {
    listLabs: async () => labInfos(),
    startRun: async (req) => jobs.start(req),
    cancelRun: async (id) => jobs.cancel(id),
    listRuns: async (lab) => store.listRuns({ lab }),
    getRun: async (id) => store.getDetail(id),
    deleteRun: async (id) => {
      jobs.sweepSilent(); // a run whose process died is interrupted now, so it can go
      const run = store.getRun(id);
      if (!run) throw new Error(`no run ${id}`);
      if (run.status === 'running' || run.status === 'queued') throw new Error(`run ${id} is ${run.status}: cancel it before deleting it`);
      store.deleteRun(id);
      if (existsSync(run.runDir)) rmSync(run.runDir, { recursive: true, force: true });
    },
    annotateRun: async (id, change) => {
      if (!store.getRun(id)) throw new Error(`no run ${id}`);
      store.annotate(id, change);
      return jobs.announce(id)!;
    },
    startSweep: async (req) => jobs.startSweep(req),
    exportRun: async (id) => exportRun(store, id),
    openRunFolder: async (id) => {
      const run = store.getRun(id);
      if (!run) throw new Error(`no run ${id}`);
      if (!existsSync(run.runDir)) throw new Error(`run ${id}'s folder ${run.runDir} does not exist (moved or deleted)`);
      if (!abilities.openFolder) throw new Error(`the browser host cannot open folders on this machine: the folder is ${run.runDir}`);
      const failure = await abilities.openFolder(run.runDir);
      if (failure) throw new Error(`could not open ${run.runDir}: ${failure}`);
      return { path: run.runDir };
    },
    importRunChunk: async ({ upload, index, base64, last, fileName }) => {
      const now = Date.now();
      for (const [k, u] of uploads) if (now - u.touched > UPLOAD_IDLE_MS) uploads.delete(k);
      const u = uploads.get(upload) ?? (index === 0 ? { next: 0, chunks: [], bytes: 0, touched: now } : undefined);
      if (!u) throw new Error(`import: chunk ${index} of an upload this host does not know (it starts at chunk 0, and is dropped after 10 idle minutes)`);
      if (index !== u.next) { uploads.delete(upload); throw new Error(`import: chunk ${index} arrived where chunk ${u.next} was expected; start again`); }
      const chunk = Buffer.from(base64, 'base64');
      u.bytes += chunk.length; u.chunks.push(chunk); u.next++; u.touched = now;
      if (u.bytes > ARCHIVE_LIMITS.compressedBytes) { uploads.delete(upload); throw new Error(`import: the archive is over ${ARCHIVE_LIMITS.compressedBytes / 2 ** 20} MiB`); }
      uploads.set(upload, u);
      if (!last) return { received: u.bytes };
      uploads.delete(upload);
      const run = importRun(store, meta.home, Buffer.concat(u.chunks), fileName || 'an uploaded archive');
      jobs.announce(run.id);
      return { run };
    },
    query: async (id, name, args) => jobs.query(id, name, args),
    readArtifact: async (id, name) => {
      const detail = store.getDetail(id);
      const art = detail?.artifacts.find((a) => a.name === name);
      if (!detail || !art) throw new Error(`run ${id} has no artifact "${name}"`);
      // Only files inside the run's own folder are served.
      const full = resolve(art.path);
      if (!full.startsWith(resolve(detail.run.runDir) + sep)) throw new Error(`artifact "${name}" is outside its run folder`);
      return { mime: art.mime, base64: readFileSync(full).toString('base64') };
    },
    writeReport: async (id) => {
      const detail = store.getDetail(id);
      if (!detail) throw new Error(`no run ${id}`);
      const path = reportPath(detail);
      writeReport(detail, path);
      return { path };
    },
    hostInfo: async () => (jobs.queueWhere ? { ...meta, queue: jobs.queueWhere } : meta),
  };
}

/** Validates a transport call and runs it; throws with a message naming what is wrong. */
export async function dispatch(handlers: Handlers, method: string, args: unknown): Promise<unknown> {
  if (!Object.hasOwn(API_METHODS, method)) throw new Error(`unknown method "${method}"`);
  if (!Array.isArray(args)) throw new Error(`bad arguments to ${method}: args must be a list`);
  const schema = API_METHODS[method as ApiMethod];
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`bad arguments to ${method}: ${issue.path.join('.') || 'args'}: ${issue.message}`);
  }
  const fn = handlers[method as ApiMethod] as (...a: unknown[]) => Promise<unknown>;
  return fn(...(parsed.data as unknown[]));
}
