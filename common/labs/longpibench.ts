import { z } from 'zod';
import type { LabSpec } from '../lab';

export const LONGPI_MODELS = ['full/levels', 'sliding/levels', 'full/random', 'sliding/random'] as const;
export type LongpiModelName = (typeof LONGPI_MODELS)[number];
export const LONGPI_PLACEMENTS = ['head', 'tail', 'both'] as const;

export const longpibenchParams = z.object({
  models: z.array(z.enum(LONGPI_MODELS)).min(1).default([...LONGPI_MODELS]).describe('Built-in decoders to evaluate: attention (full or sliding window) / training distribution (levels, or the random-position control)'),
  tinyModels: z.boolean().default(false).describe('Use the tiny built-in decoders (smoke runs: they train in seconds and do not learn the task)'),
  perLevel: z.number().int().min(1).max(500).default(40).describe('Instances per level of each kind (16 absolute + 16 relative levels, query at both ends)'),
  perPlacement: z.number().int().min(1).max(2000).default(160).describe('Instances per query placement (head, tail, both), at random levels of both kinds'),
  bootstrap: z.number().int().min(50).max(10000).default(1000).describe('Bootstrap resamples for the 95 % intervals'),
  batch: z.number().int().min(1).max(256).default(32).describe('Instances decoded together (greedy, KV cache)'),
  noRepeat: z.boolean().default(true).describe('Built-in models: never write an answer row twice (greedy with no_repeat_ngram_size 1); off = plain greedy, where the small models repeat the rows they rank highest'),
  onnxFolder: z.string().max(4096).default('').describe('Your own ONNX causal LM: an absolute path to a Hugging Face–style folder (onnx/model.onnx, config.json, byte-level BPE tokenizer.json), run offline on onnxruntime; empty = none'),
  endpointUrl: z.string().max(2048).default('').describe('An OpenAI-compatible endpoint on this machine (llama.cpp server, Ollama, vLLM, benchtop serve-lm), e.g. http://127.0.0.1:8088; empty = none'),
  endpointModel: z.string().max(256).default('').describe('The endpoint\'s model name (as its /v1/models lists it)'),
  endpointApi: z.enum(['completions', 'chat']).default('completions').describe('Route the endpoint is asked on: /v1/completions or /v1/chat/completions'),
  userL: z.number().int().min(10).max(2000).default(160).describe('Rows in the context for your model and the endpoint (the text prompt is about 9 characters a row)'),
  userPerLevel: z.number().int().min(1).max(100).default(2).describe('Instances per level and per placement for your model and the endpoint (a request each)'),
  userTasks: z.array(z.enum(['table', 'timeline'])).min(1).default(['table', 'timeline']).describe('Tasks your model and the endpoint are asked: table retrieval (recall) and timeline reordering (positions right, 0 if malformed)'),
  userMaxTokens: z.number().int().min(8).max(2048).default(160).describe('Most tokens your model or the endpoint may write per answer'),
  inference: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime').describe('Where the built-in decoders answer: exported to ONNX and run natively (fast), or the TF.js models they were trained as (tested equal)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed of the evaluation instances and the bootstrap'),
}).refine((p) => new Set(p.models).size === p.models.length, { error: 'models repeat', path: ['models'] })
  .refine((p) => !p.endpointUrl || p.endpointModel.trim(), { error: 'an endpoint needs its model name', path: ['endpointModel'] });
export type LongpibenchParams = z.infer<typeof longpibenchParams>;

const rate = z.number().min(0).max(1);
const count = z.number().int().nonnegative();
/** Mean recall with its bootstrap 95 % interval, precision and F1 at one level or placement. */
const point = z.object({ recall: rate.nullable(), lo: rate.nullable(), hi: rate.nullable(), precision: rate.nullable(), f1: rate.nullable(), malformed: rate.nullable(), instances: count });
/** A built-in model, `onnx:<folder>` or `endpoint:<model>@<url>`. */
const modelName = z.string().min(1);

export const longpibenchSamples = {
  /** One model's sweep: 16 absolute levels, 16 relative levels (query at both ends), and the three placements; instances that failed (a request, a prompt too long) are not scored. */
  curves: z.object({
    model: modelName, task: z.enum(['table', 'timeline']), L: count, failed: count, firstError: z.string().nullable(), absolute: z.array(point), relative: z.array(point),
    placement: z.object({ head: point, tail: point, both: point }), instancesPerSec: z.number().nonnegative(), trainSeconds: z.number().nonnegative(),
  }),
  /** One instance as the models saw it, and each model's answer (values of the queried key; null = a wrong row or token). */
  instance: z.object({
    kind: z.enum(['absolute', 'relative', 'random']), level: count, placement: z.enum(LONGPI_PLACEMENTS), key: count,
    rows: z.array(z.object({ key: count, value: count })), positions: z.array(count), answer: z.array(count),
    answers: z.array(z.object({ model: modelName, values: z.array(count.nullable()), recall: rate, precision: rate, malformed: z.boolean(), error: z.string().optional() })),
  }),
};

const LEVEL_ERROR = { error: 'must be a level in 1..16' };
export const longpibenchQueries = {
  /** A new instance of any level and placement, answered by every built-in model of the run. */
  instance: {
    args: z.object({
      kind: z.enum(['absolute', 'relative'], { error: 'must be "absolute" or "relative"' }).default('relative'),
      level: z.number(LEVEL_ERROR).int(LEVEL_ERROR).min(1, LEVEL_ERROR).max(16, LEVEL_ERROR).default(1),
      placement: z.enum(LONGPI_PLACEMENTS, { error: 'must be head, tail or both' }).default('both'),
      seed: z.number().int().min(0).max(2 ** 31 - 1, { error: 'must be an integer in 0..2^31-1' }).default(0),
    }),
    result: longpibenchSamples.instance,
  },
};

export const longpibenchSpec: LabSpec<typeof longpibenchParams> = {
  id: 'longpibench',
  title: 'Positional bias with several relevant pieces',
  paper: { title: 'Distance between Relevant Information Pieces Causes Bias in Long-Context LLMs (Tian et al., ACL 2025 Findings)', arxiv: '2410.14641' },
  summary: 'LongPiBench\'s exact generator (10 relevant rows placed by absolute or relative level) and recall curves of small decoders with full or sliding-window attention.',
  params: longpibenchParams,
  samples: longpibenchSamples,
  queries: longpibenchQueries,
  presets: {
    smoke: { tinyModels: true, models: ['full/levels', 'sliding/levels'], perLevel: 1, perPlacement: 2, bootstrap: 50, batch: 8 },
    default: {},
    paper: { perLevel: 100, perPlacement: 400, bootstrap: 2000 },
  },
  metrics: [
    'recallAbsMin', 'recallAbsMax', 'recallRel1', 'recallRelMean2to16', 'precisionRelMean', 'recallHeadTailDelta', 'recallFull_rel16', 'recallSliding_rel16',
    'recallRel1_control', 'recallRelMean2to16_control', 'instancesPerSec',
  ],
  checks: ['generatorExact', 'spacingHurts'],
  keyMetrics: ['recallRel1', 'recallRelMean2to16', 'recallHeadTailDelta'],
  metricInfo: { instancesPerSec: { label: 'instances/s (built-in, TF.js)' } },
  checkPresets: { spacingHurts: ['default', 'paper'] },
  codeVersion: 1,
  cores: 2,
  defaultTime: 'evaluation ≈ 40 s on 2 cores on onnxruntime (88 s on TF.js) once the four built-in decoders are cached; their first training ≈ 27 min each (3,000 steps), two at a time on a 2-core job (≈ 55 min in all)',
  reproduce: [
    { metric: 'recallAbsMin', paper: 'absolute position mostly flat (Qwen2.5-7B 85.5 → 45.0)', note: 'Lowest recall over the 16 absolute levels (query at both ends).' },
    { metric: 'recallAbsMax', paper: '—', note: 'Highest recall over the 16 absolute levels.' },
    { metric: 'recallRel1', paper: 'GPT-4o-mini 100, Qwen2.5-7B 95', note: 'Recall with the pieces adjacent (relative level 1).' },
    { metric: 'recallRelMean2to16', paper: 'GPT-4o-mini ≈ 78–84.5, Qwen2.5-7B → 39', note: 'Mean recall over relative levels 2–16.' },
    { metric: 'precisionRelMean', paper: '—', note: 'Mean precision over the relative levels (an answer longer than 1.5× the key scores 0).' },
    { metric: 'recallHeadTailDelta', paper: 'tail-only hurts (GPT-4o-mini 36 vs 100)', note: 'Recall with the query at the head minus at the tail only.' },
    { metric: 'recallFull_rel16', paper: '—', note: 'Full attention, pieces spread evenly.' },
    { metric: 'recallSliding_rel16', paper: 'sliding windows should amplify the spacing drop (analogue)', note: 'Sliding-window attention (32 tokens), pieces spread evenly.' },
    { metric: 'recallRel1_control', paper: '—', note: 'Control trained on random positions, relative level 1.' },
    { metric: 'recallRelMean2to16_control', paper: '—', note: 'Control, relative levels 2–16.' },
  ],
};
