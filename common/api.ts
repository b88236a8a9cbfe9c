// BenchtopApi: the one typed surface between the renderer and a host. The Electron
// preload implements it over IPC, the browser host over a WebSocket; both validate
// every payload with the zod schemas below.
import { z } from 'zod';
import type { RunStatus, StoredEvent } from './events';
import type { ParamField, PresetName, RunSummary } from './lab';
import type { MetricInfo } from './metrics';
import type { ApiMethod } from './api-methods';

export interface LabInfo {
  id: string;
  title: string;
  paper: { title: string; arxiv: string };
  summary: string;
  fields: ParamField[];
  presets: Record<PresetName, Record<string, unknown>>;
  metrics: readonly string[];
  checks: readonly string[];
  keyMetrics: readonly string[];
  metricInfo: Record<string, MetricInfo>;
  checkPresets: Record<string, readonly PresetName[]>;
  defaultTime: string;
}

export interface Provenance {
  gitCommit: string;
  packages: Record<string, string>;
  backend: string;
  kernelFixes: readonly string[];
  seed: number;
  node: string;
  platform: string;
  /** The lab's codeVersion when the run was made (absent on runs from before it was recorded: read as 1). */
  labCodeVersion?: number;
  /** A run taken from a queue: the worker that ran it, its attempt (2 and up: handed over) and the queue. */
  worker?: { host: string; arch: string; attempt: number; queue: string };
}

export interface RunRecord {
  id: string;
  lab: string;
  preset: PresetName;
  seed: number;
  status: RunStatus;
  params: Record<string, unknown>;
  backend: { name: string; kernelFixes: readonly string[] } | null;
  provenance: Provenance | null;
  summary: (RunSummary & { durationMs?: number; peakRssMb?: number }) | null;
  error: string | null;
  /** The latest progress; `step` of `steps` is the phase's place in the run's plan. */
  progress: { phase: string; done: number; total: number; step?: number; steps?: number } | null;
  host: string;
  runDir: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The researcher's own name for the run (null: shown by its id), its tags and its note. */
  name: string | null;
  tags: string[];
  note: string;
  /** The sweep the run belongs to: its id, the param it varies, its values and seeds (the run's own value is in params). */
  sweep: { id: string; param: string; values: unknown[]; seeds: number[] } | null;
}

export interface MetricPoint { step: number; value: number }

export interface RunDetail {
  run: RunRecord;
  metrics: Record<string, MetricPoint[]>;
  samples: { seq: number; kind: string; data: unknown }[];
  artifacts: { name: string; mime: string; path: string }[];
  logs: { seq: number; level: string; message: string; at: number }[];
  /** Highest event sequence number included, so live updates can be merged without repeats. */
  lastSeq: number;
}

/** What a host pushes to the renderer: a run's new events and/or its new status. */
export interface RunUpdate {
  runId: string;
  events: StoredEvent[];
  run?: RunRecord;
  /** The run belongs to another process (a CLI run): its events are in the store, not in this update. */
  external?: boolean;
}

export const startRunRequest = z.object({
  lab: z.string().min(1).max(64),
  preset: z.enum(['smoke', 'default', 'paper']),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type StartRunRequest = z.input<typeof startRunRequest>;

export const runIdArg = z.string().regex(/^[a-z0-9-]{6,80}$/, 'not a run id');

/** What a researcher may change on a finished or running run: name, tags, note. */
export const runAnnotation = z.object({
  name: z.string().trim().max(120).nullable().optional(),
  tags: z.array(z.string().trim().min(1, 'a tag is empty').max(40, 'a tag is over 40 characters').regex(/^[^,]+$/, 'a tag holds a comma')).max(20, 'at most 20 tags').optional(),
  note: z.string().max(4000, 'the note is over 4,000 characters').optional(),
}).strict();
export type RunAnnotation = z.input<typeof runAnnotation>;

/** Seeds × one param's values, on one preset with shared overrides. */
export const startSweepRequest = z.object({
  lab: z.string().min(1).max(64),
  preset: z.enum(['smoke', 'default', 'paper']),
  params: z.record(z.string(), z.unknown()).default({}),
  param: z.string().min(1).max(64),
  values: z.array(z.unknown()).min(1, 'give at least one value').max(12, 'at most 12 values'),
  seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1, 'give at least one seed').max(10, 'at most 10 seeds'),
}).strict();
export type StartSweepRequest = z.input<typeof startSweepRequest>;

/** One piece of a run archive sent for import (base64, at most 4 MiB of bytes each, in order). */
export const importChunk = z.object({
  upload: z.string().regex(/^[a-z0-9]{8,40}$/, 'not an upload id'),
  index: z.number().int().min(0).max(200),
  base64: z.string().max(6 * 2 ** 20, 'a chunk is over 4 MiB').regex(/^[A-Za-z0-9+/]*={0,2}$/, 'a chunk is not base64'),
  last: z.boolean(),
  fileName: z.string().max(260),
}).strict();
export type ImportChunk = z.input<typeof importChunk>;
/** Bytes of an archive per import chunk. */
export const IMPORT_CHUNK_BYTES = 4 * 2 ** 20;
export const queryRequest = z.object({ runId: runIdArg, name: z.string().min(1).max(64), args: z.unknown() });
export const artifactRequest = z.object({ runId: runIdArg, name: z.string().min(1).max(200) });

export interface BenchtopApi {
  listLabs(): Promise<LabInfo[]>;
  startRun(req: StartRunRequest): Promise<RunRecord>;
  cancelRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(lab?: string): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunDetail | undefined>;
  deleteRun(runId: string): Promise<void>;
  /** Renames, tags or annotates a run; returns it as stored. */
  annotateRun(runId: string, change: RunAnnotation): Promise<RunRecord>;
  /** Validates every run of the sweep, then queues them all (they run within the core budget). */
  startSweep(req: StartSweepRequest): Promise<RunRecord[]>;
  /** Opens the run's folder in the system's file manager (the desktop window only; the browser host shows the path). */
  openRunFolder(runId: string): Promise<{ path: string }>;
  /** Writes a finished run's archive (record, events, files, checkpoint) beside the runs folder; returns its path. */
  exportRun(runId: string): Promise<{ path: string; bytes: number }>;
  /** Sends an archive in order; the last chunk imports it as a new run and returns it. */
  importRunChunk(chunk: ImportChunk): Promise<{ received: number } | { run: RunRecord }>;
  /** Calls a lab query on the run's live model (reloading its checkpoint if needed). */
  query(runId: string, name: string, args: unknown): Promise<unknown>;
  /** An artifact's bytes as base64, with its mime type. */
  readArtifact(runId: string, name: string): Promise<{ mime: string; base64: string }>;
  /** Writes the run's self-contained HTML report into its folder; returns the file's path. */
  writeReport(runId: string): Promise<{ path: string }>;
  /** `queue`: the address (password masked) the host's sweeps go to, when it has one. */
  hostInfo(): Promise<{ host: 'electron' | 'web'; version: string; home: string; queue?: string }>;
  /** Live updates for all runs; returns an unsubscribe function. */
  onRunUpdate(listener: (u: RunUpdate) => void): () => void;
}

/** Each method's payload validator, under the names of the one method table (api-methods.ts). */
export const API_METHODS = {
  listLabs: z.tuple([]),
  startRun: z.tuple([startRunRequest]),
  cancelRun: z.tuple([runIdArg]),
  listRuns: z.tuple([z.string().max(64).optional()]),
  getRun: z.tuple([runIdArg]),
  deleteRun: z.tuple([runIdArg]),
  annotateRun: z.tuple([runIdArg, runAnnotation]),
  startSweep: z.tuple([startSweepRequest]),
  exportRun: z.tuple([runIdArg]),
  openRunFolder: z.tuple([runIdArg]),
  importRunChunk: z.tuple([importChunk]),
  query: z.tuple([runIdArg, z.string().min(1).max(64), z.unknown()]),
  readArtifact: z.tuple([runIdArg, z.string().min(1).max(200)]),
  writeReport: z.tuple([runIdArg]),
  hostInfo: z.tuple([]),
} as const satisfies Record<ApiMethod, z.ZodType>;
export type { ApiMethod };
