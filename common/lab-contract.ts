// A lab's contract beyond its params, declared once in its spec: the payload of each sample
// kind it emits and the arguments and result of each query it answers, as zod schemas. The
// worker emits and answers through helpers typed by them, the host checks query arguments
// with them, the panel reads data typed from them, and the lab's test checks every payload
// against them (tests/helpers/contract.ts).
import { z } from 'zod';

export type SampleSchemas = Record<string, z.ZodType>;
export type QuerySchemas = Record<string, { args: z.ZodType; result: z.ZodType }>;

/** Every sample of one kind, in order, typed from its schema (the panel's side). */
export function samplesOf<K extends SampleSchemas, N extends keyof K & string>(_kinds: K, samples: readonly { kind: string; data: unknown }[], kind: N): z.output<K[N]>[] {
  return samples.filter((s) => s.kind === kind).map((s) => s.data as z.output<K[N]>);
}

/** The latest sample of one kind, or undefined before the lab has emitted it. */
export function lastSampleOf<K extends SampleSchemas, N extends keyof K & string>(kinds: K, samples: readonly { kind: string; data: unknown }[], kind: N): z.output<K[N]> | undefined {
  return samplesOf(kinds, samples, kind).at(-1);
}

/** Typed emitters for a lab's sample kinds (the worker's side). */
export function sampleEmitter<K extends SampleSchemas>(_kinds: K, emit: (e: { type: 'sample'; kind: string; data: unknown }) => void) {
  return <N extends keyof K & string>(kind: N, data: z.input<K[N]>) => emit({ type: 'sample', kind, data });
}

/** A query's arguments checked against its schema; the error names the query and the field. */
export function parseQueryArgs(queries: QuerySchemas | undefined, name: string, args: unknown): unknown {
  const schema = queries && Object.hasOwn(queries, name) ? queries[name].args : undefined;
  if (!schema) return args;
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`bad arguments to query "${name}": ${issue.path.join('.') || 'args'}: ${issue.message}`);
}

/** A number that may be ±∞ (a PSNR of an identical image); zod's number() refuses infinities. */
export const extendedNumber = z.custom<number>((v) => typeof v === 'number' && !Number.isNaN(v), { error: 'must be a number (±∞ allowed)' });

/** Any JS number, NaN and ±∞ included: a measured value of a run that may diverge (a loss under attack). */
export const anyNumber = z.custom<number>((v) => typeof v === 'number', { error: 'must be a number' });

/** A 28×28 grey image as 784 bytes 0–255, row-major (what sample images carry). */
export const bytes784 = z.array(z.number().int().min(0).max(255)).length(784);

/** A 28×28 grey image, row-major, values in [0, 1]: what the draw pad and image uploads send. */
export const pixels784 = z.array(z.unknown(), { error: 'must be a list of 784 numbers in [0, 1] (a 28x28 grey image, row-major)' })
  .length(784, { error: 'must hold 784 numbers in [0, 1] (a 28x28 grey image, row-major)' })
  .pipe(z.array(z.number().min(0).max(1)));
