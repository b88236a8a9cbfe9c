// Messages between the JobService (main thread) and a lab worker thread.
import type { LabEvent } from '../../common/events';
import type { RunSummary } from '../../common/lab';
import type { BackendInfo } from '../runtime/backend';

export interface JobSpec {
  runId: string;
  labId: string;
  params: Record<string, unknown>;
  seed: number;
  runDir: string;
  home: string;
  cores: number;
  /** 'run' trains; 'serve' reloads a finished run's model to answer queries. */
  mode: 'run' | 'serve';
  /** Test-only: a module path exporting `lab` (a LabDefinition) not in the registry. */
  labModule?: string;
}

export type ToWorker =
  | { type: 'start'; job: JobSpec }
  | { type: 'cancel' }
  | { type: 'query'; id: number; name: string; args: unknown };

export type FromWorker =
  | { type: 'backend'; info: BackendInfo }
  | { type: 'event'; event: LabEvent }
  | { type: 'done'; summary: RunSummary; numTensors: number; peakRssMb: number }
  | { type: 'cancelled' }
  | { type: 'failed'; error: string }
  | { type: 'ready' }
  | { type: 'query-result'; id: number; ok: boolean; result?: unknown; error?: string };
