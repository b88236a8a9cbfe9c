// The seam between the JobService and a place that runs labs elsewhere (workers/queue's
// BullMQ coordinator). The JobService records and relays; the launcher moves runs and their
// events, and writes a run's files into its local run folder before it reports them.
import type { LabEvent } from '../../common/events';
import type { Provenance, RunRecord } from '../../common/api';

export interface RemoteRun {
  runId: string;
  lab: string;
  preset: string;
  seed: number;
  params: Record<string, unknown>;
  /** The run's folder on this machine: artifacts and checkpoints land here. */
  runDir: string;
}

/** Where a remote attempt runs: the worker's host and CPU architecture. */
export interface RemoteWorkerInfo { attempt: number; host: string; arch: string; cores: number }

export interface RemoteRunSink {
  /** A worker took the run (again, after a hand-over, with a higher attempt). */
  started(worker: RemoteWorkerInfo, previous?: RemoteWorkerInfo): void;
  /** Events of the attempt that holds the run's lock, each exactly once, in order; artifact paths are local. */
  events(events: LabEvent[]): void;
  succeeded(result: { summary: NonNullable<RunRecord['summary']>; backend: RunRecord['backend']; provenance: Provenance | null; worker: RemoteWorkerInfo }): void;
  failed(error: string): void;
  cancelled(): void;
}

export interface RemoteLauncher {
  /** The queue's address, password masked. */
  readonly where: string;
  /** Why these params cannot run remotely (they name local files or URLs), or undefined. */
  refuse(params: Record<string, unknown>): string | undefined;
  launch(run: RemoteRun, sink: RemoteRunSink): void;
  /** Asks for a run's cancel; the sink hears `cancelled` when it took effect. */
  cancel(runId: string): Promise<void>;
  close(): Promise<void>;
}
