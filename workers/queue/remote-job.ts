// What travels through the queue between a coordinator (the app, `benchtop run --queue`,
// `npm run reproduce -- --queue`) and a `benchtop worker`: a job's data, the Redis keys its
// events and files are buffered in per (run, attempt), and the lock timing. Data only: no
// code, and nothing a worker could not check against its own schemas.
import { z } from 'zod';
import { findLabSpec } from '../../common/labs';
import { gitCommit } from '../jobs/provenance';

export const QUEUE_NAME = 'benchtop-runs';
/** Where a coordinator publishes the ids of runs to cancel (a BullMQ job cannot be cancelled from another process). */
export const CANCEL_CHANNEL = 'benchtop:cancel';
/** How long buffered events, files and cancel marks stay in Redis if no coordinator collects them. */
export const KEY_TTL_S = 7 * 24 * 3600;

/** The failure reason a worker gives a cancelled run; the coordinator reads it as "cancelled", not "failed". */
export const CANCELLED_REASON = 'cancelled by the coordinator';

export const remoteJobData = z.object({
  runId: z.string().regex(/^[a-z0-9-]{6,80}$/),
  lab: z.string().min(1).max(80),
  preset: z.enum(['smoke', 'default', 'paper']),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  params: z.record(z.string(), z.unknown()),
  /** The coordinator's commit and the lab's code version: a worker on other code refuses the run. */
  build: z.string().min(1).max(80),
  labCodeVersion: z.number().int(),
  coordinator: z.string().max(200),
});
export type RemoteJobData = z.infer<typeof remoteJobData>;

/** A worker's account of one attempt, written when it starts it. */
export interface AttemptInfo { host: string; arch: string; pid: string; cores: string }

/** Each key holds one run's data; the attempt is BullMQ's `attemptsStarted` (1 for the first pickup, +1 per hand-over). */
export const queueKeys = {
  events: (runId: string, attempt: number) => `benchtop:run:${runId}:${attempt}:events`,
  files: (runId: string, attempt: number) => `benchtop:run:${runId}:${attempt}:files`,
  attempt: (runId: string, attempt: number) => `benchtop:run:${runId}:${attempt}:worker`,
  cancel: (runId: string) => `benchtop:run:${runId}:cancel`,
};
/** The field of the files hash that holds the finished run's folder (checkpoints and all) as a tar. */
export const RUN_TAR = 'run.tar';

/**
 * Lock timing. A worker renews its runs' locks every lockMs / 2 from its main thread, which
 * never computes (labs run in worker threads), so a busy worker keeps its lock; only a dead,
 * frozen or cut-off process misses renewals. 60 s rides out swapping and long GC pauses; the
 * stalled check runs every 30 s, so a dead worker's run moves on within about 1.5 min. A run
 * is handed over at most twice: one that takes its worker down every time fails instead of
 * looping. BENCHTOP_QUEUE_LOCK_MS shortens the lock for tests.
 */
export function queueTiming(): { lockMs: number; stalledIntervalMs: number; maxStalledCount: number } {
  const fromEnv = Number(process.env.BENCHTOP_QUEUE_LOCK_MS);
  const lockMs = Number.isInteger(fromEnv) && fromEnv >= 500 ? fromEnv : 60_000;
  return { lockMs, stalledIntervalMs: Math.max(250, Math.round(lockMs / 2)), maxStalledCount: 2 };
}

/** This process's code identity for a lab: what a job carries and what a worker compares. */
export function codeIdentity(lab: string): { build: string; labCodeVersion: number } {
  return { build: gitCommit(), labCodeVersion: findLabSpec(lab)?.codeVersion ?? 1 };
}

/** Why a worker on this code cannot run a job made elsewhere, or undefined if it can. */
export function codeMismatch(data: Pick<RemoteJobData, 'lab' | 'build' | 'labCodeVersion'>): string | undefined {
  if (!findLabSpec(data.lab)) return `this worker has no lab "${data.lab}": it runs other code than the coordinator (update it to commit ${data.build})`;
  const mine = codeIdentity(data.lab);
  if (mine.build !== data.build) return `this worker runs commit ${mine.build} but the run was made by commit ${data.build}: check out the coordinator's commit on the worker`;
  if (mine.labCodeVersion !== data.labCodeVersion) return `this worker has ${data.lab} code version ${mine.labCodeVersion}, the coordinator ${data.labCodeVersion}`;
  return undefined;
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\/|^file:/i;
const PATH_LIKE = /^(\/|~|\.{1,2}[\\/]|[A-Za-z]:[\\/]|\\\\)/;

/** A param that names a file, folder or URL (a worker cannot see the coordinator's machine), as a message; else undefined. */
export function localReference(params: Record<string, unknown>): string | undefined {
  const walk = (value: unknown, path: string): string | undefined => {
    if (typeof value === 'string') {
      const v = value.trim();
      if (URL_LIKE.test(v)) return `param "${path}" names a URL (${v.slice(0, 80)}): remote runs take no URLs (the worker would reach its own network, not yours)`;
      if (PATH_LIKE.test(v)) return `param "${path}" names a file or folder (${v.slice(0, 80)}): a remote worker cannot see this machine's files`;
      return undefined;
    }
    if (Array.isArray(value)) { for (let i = 0; i < value.length; i++) { const m = walk(value[i], `${path}[${i}]`); if (m) return m; } return undefined; }
    if (value && typeof value === 'object') { for (const [k, v] of Object.entries(value)) { const m = walk(v, `${path}.${k}`); if (m) return m; } }
    return undefined;
  };
  for (const [k, v] of Object.entries(params)) { const m = walk(v, k); if (m) return m; }
  return undefined;
}
