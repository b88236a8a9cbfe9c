// Events a lab emits while it runs. They cross thread and process boundaries as JSON,
// so every field is plain data.

export interface MetricEvent { type: 'metric'; step: number; name: string; value: number }
/** `step` of `steps`: the phase's place in the run's plan (RunContext.plan), when it has one. */
export interface ProgressEvent { type: 'progress'; phase: string; done: number; total: number; step?: number; steps?: number }
/** A sample for a panel: a chain, a QA item, a confusion matrix, an image reference. */
export interface SampleEvent { type: 'sample'; kind: string; data: unknown }
export interface ArtifactEvent { type: 'artifact'; name: string; mime: string; path: string }
export interface LogEvent { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }

export type LabEvent = MetricEvent | ProgressEvent | SampleEvent | ArtifactEvent | LogEvent;

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const FINISHED: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

/** A stored event carries its run-local sequence number and wall time. */
export type StoredEvent = LabEvent & { seq: number; at: number };
