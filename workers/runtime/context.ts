// What a lab receives while it runs, and what a lab module exports.
import type { QuerySchemas } from '../../common/lab-contract';
import type { SharedPartKey, SharedPartOf } from '../shared-parts';
import type * as tfType from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { LabEvent } from '../../common/events';
import type { LabSpec, RunSummary } from '../../common/lab';
import type { BackendInfo } from './backend';
import type { Rng } from './rng';

export class CancelledError extends Error {
  constructor() { super('run cancelled'); this.name = 'CancelledError'; }
}

export interface ArtifactWriter {
  /** Writes runDir/artifacts/<name> atomically, emits an artifact event, returns the path. */
  write(name: string, mime: string, data: string | Uint8Array): string;
}

export interface RunContext {
  tf: typeof tfType;
  backend: BackendInfo;
  seed: number;
  rng: Rng;
  signal: AbortSignal;
  runDir: string;
  /** Threads this lab may run beside its own (granted by the JobService's core budget). */
  cores: number;
  /** The home whose cache holds shared parts (the job's; unset = the default home), for a task thread that builds one. */
  partsHome?: string;
  emit(e: LabEvent): void;
  metric(step: number, name: string, value: number): void;
  progress(phase: string, done: number, total: number): void;
  /** The run's phases in order, as `progress` will name them: the UI then shows "phase k of n". */
  plan(phases: readonly string[]): void;
  log(message: string, level?: 'debug' | 'info' | 'warn' | 'error'): void;
  artifacts: ArtifactWriter;
  checkpointPath(name: string): string;
  /** A shared trained part ('judge:mnist', …) from the cache, trained here on a miss; typed by its key's family. */
  require<K extends SharedPartKey>(key: K): Promise<SharedPartOf<K>>;
  /** Whether a shared part is already trained and cached (require() would not train). */
  isCached(key: SharedPartKey): boolean;
  /** Throws CancelledError once the run is cancelled; call between steps. */
  throwIfCancelled(): void;
  /** Lets queries reach the live model while (and after) the run trains. */
  setLiveModel(model: unknown): void;
}

/** `plan` and `progress` over one emitter: a phase in the plan carries its place in it. */
export function plannedProgress(emit: (e: LabEvent) => void): Pick<RunContext, 'plan' | 'progress'> {
  let plan: readonly string[] = [];
  return {
    plan(phases) { plan = phases; },
    progress(phase, done, total) {
      const k = plan.indexOf(phase);
      emit(k >= 0 ? { type: 'progress', phase, done, total, step: k + 1, steps: plan.length } : { type: 'progress', phase, done, total });
    },
  };
}

export type QueryHandler = (args: unknown, model: unknown) => Promise<unknown> | unknown;

/** Handlers typed by a lab's query schemas: args arrive parsed by their schema (lab-worker.ts). */
export type TypedQueries<Q extends QuerySchemas> = {
  [N in keyof Q]: (args: z.output<Q[N]['args']>, model: unknown) => z.input<Q[N]['result']> | Promise<z.input<Q[N]['result']>>;
};

/** A lab's query handlers, checked against its schemas at compile time. */
export function queryHandlers<Q extends QuerySchemas>(_schemas: Q, handlers: TypedQueries<Q>): Record<string, QueryHandler> {
  return handlers as unknown as Record<string, QueryHandler>;
}

export interface LabDefinition<S extends z.ZodObject = z.ZodObject> {
  spec: LabSpec<S>;
  run(params: z.infer<S>, ctx: RunContext): Promise<RunSummary>;
  /** Interactive calls on a trained model (the live one, or one loaded from a run folder). */
  queries?: Record<string, QueryHandler>;
  /** Rebuilds the queryable model from a finished run's folder (after a restart). */
  loadModel?(runDir: string, ctx: RunContext): Promise<unknown>;
}
