import { z } from 'zod';
import type { LabSpec } from '../lab';

export const AFM_VARIANTS = ['fp32', '4bit', 'mixed', 'mixedLora'] as const;
export type AfmVariant = (typeof AFM_VARIANTS)[number];
export const AFM_VARIANT_LABELS: Record<AfmVariant, string> = { fp32: 'student, fp32', '4bit': '4-bit palettes', mixed: 'mixed 2/4-bit', mixedLora: 'mixed + recovery LoRA' };
export const AFM_PROJECTIONS = ['wq', 'wk', 'wv', 'wo', 'w1', 'w3', 'w2'] as const;

export const afmOndeviceParams = z.object({
  textFile: z.string().max(4096).default('').describe('A UTF-8 text file on this machine to use instead of the stories (its tokenizer and teacher are then trained in the run; no entropy floor)'),
  teacher: z.enum(['d128', 'tiny']).default('d128').describe('The cached teacher: d128 (d = 128, 4 layers, FFN 384) or tiny (smoke runs)'),
  seqLen: z.number().int().min(16).max(128).default(64).describe('Tokens per training row'),
  batch: z.number().int().min(2).max(64).default(16).describe('Rows per step'),
  studentSteps: z.number().int().min(1).max(20000).default(500).describe('Steps of the distilled student, and of the scratch student beside it'),
  learningRate: z.number().min(1e-5).max(0.05).default(0.002).describe('Adam learning rate of the students (warm-up, then cosine decay)'),
  distillTarget: z.enum(['top1', 'soft']).default('top1').describe('top1: 0.9 · teacher top-1 + 0.1 · label (the report); soft: 0.9 · teacher softmax + 0.1 · label'),
  pruneRatio: z.number().min(0.1).max(0.9).default(0.5).describe('Share of the FFN hidden units pruned (by weight magnitude) before distillation'),
  targetBpw: z.number().min(2.2).max(4).default(3.6).describe('Bits per weight the mixed plan moves groups to 2 bits until it reaches (lookup tables counted)'),
  calibrationBatches: z.number().int().min(1).max(64).default(8).describe('Batches whose squared gradients weigh each group\'s quantization error (Fisher diagonal)'),
  randomDraws: z.number().int().min(1).max(10).default(3).describe('Random placements of the 2-bit groups at the same bits per weight (the plan\'s control)'),
  loraRank: z.number().int().min(1).max(32).default(2).describe('Rank of the recovery adapters (2 keeps the report\'s ≈ 1 % share of weights at this size; 16 is the report\'s rank)'),
  loraTokensPct: z.number().min(0.01).max(1).default(1).describe('Recovery training tokens, in percent of the teacher\'s training tokens (≤ 1 %)'),
  loraLearningRate: z.number().min(1e-5).max(0.1).default(0.01).describe('Adam learning rate of the recovery adapters'),
  valStories: z.number().int().min(10).max(2000).default(300).describe('Validation stories (NLL, top-1 agreement and the floor are measured on them)'),
  promptTokens: z.number().int().min(4).max(64).default(32).describe('Prompt length for the speed measurement'),
  genTokens: z.number().int().min(4).max(128).default(48).describe('Tokens generated per speed measurement'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed of the students, the plans\' control draws, the batches and the validation stories'),
});
export type AfmOndeviceParams = z.infer<typeof afmOndeviceParams>;

const variant = z.enum(AFM_VARIANTS);
export const afmOndeviceSamples = {
  /** Every variant: NLL, bits per weight, top-1 agreement, file bytes and speed in both engines. */
  variants: z.array(z.object({
    variant, nll: z.number(), bpw: z.number(), top1: z.number().nullable(), /** KL(fp32 student ‖ variant) per token. */ kl: z.number(), onnxBytes: z.number().int().positive(), sessionMb: z.number(),
    ort: z.object({ ttftMsPerPromptToken: z.number(), tokensPerSec: z.number() }), tfjs: z.object({ ttftMsPerPromptToken: z.number(), tokensPerSec: z.number() }),
  })),
  /** The other points of the NLL-vs-bits chart: teacher, students, random plans; and the floor. */
  reference: z.object({
    entropyFloor: z.number().nullable(), teacher: z.object({ nll: z.number(), top1: z.number().nullable() }),
    distilled: z.object({ nll: z.number(), top1: z.number().nullable() }), scratch: z.object({ nll: z.number(), top1: z.number().nullable() }),
    randomPlans: z.array(z.object({ nll: z.number(), bpw: z.number(), kl: z.number() })),
  }),
  /** Share of each projection's weights at 2 bits, by layer: the mixed plan and the first random draw. */
  allocation: z.object({ projections: z.array(z.string()), plan: z.array(z.array(z.number())), random: z.array(z.array(z.number())) }),
  /** Weights of single groups with their palettes (a 4-bit and a 2-bit group). */
  groups: z.array(z.object({ matrix: z.string(), group: z.number().int(), bits: z.number().int(), values: z.array(z.number()), table: z.array(z.number()) })),
  /** Greedy continuations of validation prompts by each variant. */
  generations: z.array(z.object({ prompt: z.string(), outputs: z.record(z.string(), z.string()) })),
};

export const afmOndeviceQueries = {
  /** Starts generating from a prompt on one variant and engine; tokens are read with `generated`. */
  generate: {
    args: z.object({
      variant, engine: z.enum(['ort', 'tfjs']).default('ort'),
      prompt: z.string().min(1, { error: 'type a prompt first' }).max(2000, { error: 'the prompt is over 2,000 characters' }),
      maxNewTokens: z.number().int().min(1).max(256).default(64), temperature: z.number().min(0).max(2).default(0),
      topK: z.number().int().min(0).max(1000).default(0), topP: z.number().gt(0).max(1).default(1),
    }),
    result: z.object({ id: z.number().int() }),
  },
  /** What a generation has produced so far. */
  generated: {
    args: z.object({ id: z.number().int().min(0) }),
    result: z.object({ text: z.string(), promptTokens: z.number().int(), tokens: z.number().int(), done: z.boolean(), ttftMs: z.number().nullable(), tokensPerSec: z.number().nullable(), error: z.string().nullable() }),
  },
  /** Writes a variant's Hugging Face folder (ONNX, config, tokenizer; adapters as safetensors) into an empty folder. */
  exportVariant: {
    args: z.object({ variant, folder: z.string().min(1, { error: 'choose a folder' }).max(4096) }),
    result: z.object({ path: z.string(), files: z.array(z.string()), bytes: z.number().int() }),
  },
};

export const afmOndeviceSpec: LabSpec<typeof afmOndeviceParams> = {
  id: 'afm-ondevice',
  title: 'On-device LM recipe (Apple Foundation Models)',
  paper: { title: 'Apple Intelligence Foundation Language Models (Apple, 2024)', arxiv: '2407.21075' },
  summary: 'A teacher on seeded stories with an exact entropy floor; an FFN-pruned student distilled on 0.9 · top-1 + 0.1 · label; '
    + '2/4-bit palettes with a Fisher-guided mixed plan; a recovery LoRA; ONNX export run in onnxruntime beside TensorFlow.js.',
  params: afmOndeviceParams,
  samples: afmOndeviceSamples,
  queries: afmOndeviceQueries,
  presets: {
    smoke: { teacher: 'tiny', seqLen: 32, batch: 4, studentSteps: 6, calibrationBatches: 1, randomDraws: 1, valStories: 12, promptTokens: 8, genTokens: 6 },
    default: {},
    paper: { studentSteps: 1500, valStories: 1000, randomDraws: 5 },
  },
  metrics: [
    'nll_fp32', 'nll_4bit', 'nll_mixed', 'nll_mixedLora', 'nll_randomPlan', 'entropyFloor', 'bpw_mixed', 'bpw_mixedLora', 'loraGapClosedPct',
    'nll_distilled', 'nll_scratch', 'top1_distilled', 'top1_scratch', 'onnxMaxAbsDiff', 'ttftMsPerPromptToken', 'tokensPerSec_ort', 'tokensPerSec_tfjs',
  ],
  checks: ['bpwInRange', 'planBeatsRandom', 'loraClosesHalf', 'onnxMatches', 'distilledBeatsScratch'],
  keyMetrics: ['nll_mixed', 'nll_mixedLora', 'bpw_mixed', 'loraGapClosedPct'],
  metricInfo: {
    nll_fp32: { label: 'NLL, student fp32 (nats)' }, nll_4bit: { label: 'NLL, 4-bit (nats)' }, nll_mixed: { label: 'NLL, mixed 2/4-bit (nats)' },
    nll_mixedLora: { label: 'NLL, mixed + LoRA (nats)' }, nll_randomPlan: { label: 'NLL, random 2-bit placement (nats)' }, entropyFloor: { label: 'Entropy floor of the text (nats)' },
    nll_distilled: { label: 'NLL, distilled student (nats)' }, nll_scratch: { label: 'NLL, scratch student (nats)' },
    bpw_mixed: { label: 'Bits per weight, mixed', unit: 'bits' }, bpw_mixedLora: { label: 'Bits per weight, mixed + LoRA (fp16)', unit: 'bits' },
    loraGapClosedPct: { label: 'Palettization gap closed by LoRA', unit: 'percent' },
    kl_4bit: { label: 'KL from the fp32 student, 4-bit (nats)' }, kl_mixed: { label: 'KL from the fp32 student, mixed (nats)' },
    kl_mixedLora: { label: 'KL from the fp32 student, mixed + LoRA (nats)' }, kl_randomPlan: { label: 'KL from the fp32 student, random placement (nats)' },
    top1_distilled: { label: 'Top-1 agreement, distilled', unit: 'fraction' }, top1_scratch: { label: 'Top-1 agreement, scratch', unit: 'fraction' },
    onnxMaxAbsDiff: { label: 'Max |logit| difference, onnxruntime vs TF.js' },
    ttftMsPerPromptToken: { label: 'Time to first token per prompt token (onnxruntime, mixed + LoRA)', unit: 'ms' },
    tokensPerSec_ort: { label: 'Tokens/s, onnxruntime (mixed + LoRA)', unit: 'perSecond' }, tokensPerSec_tfjs: { label: 'Tokens/s, TensorFlow.js (mixed + LoRA)', unit: 'perSecond' },
  },
  checkPresets: { bpwInRange: ['smoke', 'default', 'paper'], planBeatsRandom: ['default', 'paper'], loraClosesHalf: ['default', 'paper'], onnxMatches: ['smoke', 'default', 'paper'], distilledBeatsScratch: ['default', 'paper'] },
  codeVersion: 1,
  defaultTime: '≈ 9.5 min on 2 cores with the teacher cached (lm:stories:d128 trains once first: ≈ 25 min)',
  reproduce: [
    { metric: 'entropyFloor', paper: '—', note: 'The grammar\'s own NLL per token on the validation rows (exact).' },
    { metric: 'nll_teacher', paper: '—', note: 'The cached teacher (d 128, FFN 384).' },
    { metric: 'nll_fp32', paper: '—', note: 'The pruned (FFN 192) student distilled on 0.9 · top-1 + 0.1 · label: a near-one-hot target costs NLL.' },
    { metric: 'nll_scratch', paper: '—', note: 'The same student trained alone on labels.' },
    { metric: 'top1_distilled', paper: 'distilled on-device model beats one trained alone (no number given)', note: 'Agreement with the grammar\'s most likely token where more than one was possible.' },
    { metric: 'top1_scratch', paper: '—', note: '' },
    { metric: 'bpw_mixed', paper: '3.5 (report) / 3.7 (blog) bits per weight', note: 'Indices plus fp16 tables over the attention and FFN projections; embeddings and norms stay fp16 (bpw_mixedAll counts them).' },
    { metric: 'nll_4bit', paper: '—', note: '' },
    { metric: 'nll_mixed', paper: '—', note: 'The Fisher-guided plan.' },
    { metric: 'nll_randomPlan', paper: '—', note: 'The 2-bit groups placed at random, same bits per weight (mean of the draws).' },
    { metric: 'kl_mixed', paper: '—', note: 'KL from the fp32 student: damage that noise cannot improve.' },
    { metric: 'kl_randomPlan', paper: '—', note: '' },
    { metric: 'nll_mixedLora', paper: 'recovery adapters restore quality (no number given)', note: 'Rank 2, 1 % of the teacher\'s tokens, KL to the fp32 student, fp16.' },
    { metric: 'loraGapClosedPct', paper: '—', note: 'Our check: ≥ 50 % of the NLL gap palettization opened.' },
    { metric: 'kl_mixedLora', paper: '—', note: '' },
    { metric: 'ttftMsPerPromptToken', paper: '0.6 ms per prompt token (iPhone 15 Pro)', note: 'onnxruntime on one laptop core, a model ~10⁴× smaller.' },
    { metric: 'tokensPerSec_ort', paper: '30 tokens/s (iPhone 15 Pro)', note: '' },
    { metric: 'tokensPerSec_tfjs', paper: '—', note: 'The same variant in TensorFlow.js (wasm).' },
  ],
};
