import { z } from 'zod';
import type { LabSpec } from '../lab';
import { anyNumber, pixels784 } from '../lab-contract';

/** The questions' operations on the digits read from the picture. */
export const TWO_DIGIT_OPS = ['sum', 'diff', 'max', 'prod', 'larger'] as const;
/** Three digits, two chained additions: the harder split (also ~1 in 6 training items). */
export const THREE_DIGIT_OPS = ['sum3'] as const;
export const OPS = [...TWO_DIGIT_OPS, ...THREE_DIGIT_OPS] as const;
export type Op = (typeof OPS)[number];

export const SFT_VARIANTS = ['directSft', 'cotSft', 'mixSft'] as const;
export type SftVariant = (typeof SFT_VARIANTS)[number];

export const cotDpoParams = z.object({
  judge: z.enum(['full', 'tiny']).default('full').describe('Visual features: the full judge (0.98 test accuracy) or the tiny one (smoke runs)'),
  dModel: z.number().int().min(16).max(256).default(64).describe('Decoder width d'),
  layers: z.number().int().min(1).max(6).default(2).describe('Decoder layers'),
  heads: z.number().int().min(1).max(16).default(4).describe('Query heads'),
  kvHeads: z.number().int().min(1).max(16).default(2).describe('Key/value heads (GQA)'),
  trainQuestions: z.number().int().min(64).max(50000).default(4000).describe('Training questions (digits from the train split)'),
  formatAlign: z.number().int().min(0).max(5000).default(450).describe('Format-alignment questions every SFT variant also sees, in both formats (the paper: 450)'),
  sftEpochs: z.number().min(0.1).max(50).default(3).describe('SFT epochs over each variant\'s examples (equal epochs: direct + CoT takes twice the steps)'),
  batchSize: z.number().int().min(4).max(512).default(64).describe('Sequences per SFT step'),
  learningRate: z.number().min(1e-5).max(0.1).default(3e-3).describe('SFT Adam step size (cosine decay)'),
  samplesPerQuestion: z.number().int().min(2).max(64).default(16).describe('K: chains sampled per training question for DPO pairs'),
  sampleTemperature: z.number().min(0.1).max(2).default(1).describe('T of the chains sampled for pairs and reranking'),
  pairQuestions: z.number().int().min(8).max(20000).default(1500).describe('Questions sampled for pairs (per round)'),
  pairPool: z.enum(['sftQuestions', 'fresh']).default('sftQuestions').describe('Where pair questions come from: the SFT training questions (the paper; the same ones every round), or fresh '
    + 'training-split questions the SFT model never saw, new ones each round'),
  dpoRounds: z.number().int().min(1).max(6).default(1).describe('Rounds of DPO; each samples its pairs from the current policy, which is also that round\'s frozen reference (on-policy, iterative DPO; '
    + '1 = the paper\'s single offline round; no greedy gain over 4 seeds either, see RESULTS.md). Each extra round samples pairs for the DPO and the control model again: about 4 min at the default '
    + 'sizes'),
  accuracyRange: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.25, 0.85]).describe('Keep questions whose sampled accuracy lies in this range'),
  rejectedChains: z.enum(['random', 'likely']).default('random').describe('Incorrect chains of a pair: drawn at random (the paper), or the SFT model\'s most likely distinct mistakes first'),
  pairCut: z.enum(['words', 'firstDifference']).default('words').describe('Where a pair\'s chains end: at the word limit (the paper), or both just after the first token where they differ (step-level pairs, not the paper)'),
  pairsPerQuestion: z.number().int().min(1).max(16).default(3).describe('At most this many (correct, incorrect) pairs per question'),
  truncateWords: z.number().int().min(1).max(500).default(90).describe('Chains cut to their first n space-separated words (the paper: 90)'),
  dpoBeta: z.number().min(0.001).max(10).default(0.1).describe('β of the DPO loss'),
  dpoNllWeight: z.number().min(0).max(10).default(0).describe('Weight of an NLL term on the chosen chain (per token) added to DPO; 0 is the paper\'s plain DPO (see RESULTS.md)'),
  dpoSteps: z.number().int().min(0).max(20000).default(60).describe('DPO steps (60 x 32 pairs ≈ one epoch of the default ~1,900 pairs, as the paper\'s one epoch)'),
  dpoOptimizer: z.enum(['adam', 'sgd']).default('adam').describe('DPO optimizer: Adam (as the paper) or plain SGD (moves each weight in proportion to its gradient)'),
  dpoLoraRank: z.number().int().min(0).max(32).default(0).describe('DPO trains only LoRA adapters of this rank (α = 2·rank) on every decoder projection, folded into the weights after each round; 0 = all language weights, as the paper'),
  dpoBatch: z.number().int().min(1).max(256).default(32).describe('Pairs per DPO step'),
  dpoLearningRate: z.number().min(1e-7).max(10).default(1e-5).describe('DPO step size (larger rates lowered held-out CoT accuracy for DPO and control alike; see RESULTS.md)'),
  heldOut: z.number().int().min(16).max(20000).default(3000).describe('Held-out questions (digits from the test split)'),
  hardQuestions: z.number().int().min(0).max(5000).default(600).describe('Harder split: three digits, two chained additions'),
  rerankN: z.number().int().min(1).max(64).default(8).describe('N chains per held-out question for best-of-N and weighted voting'),
  inference: z.enum(['onnxruntime', 'tfjs']).default('onnxruntime').describe('Where chains are sampled: the decoder exported to ONNX and run natively (fast), or the TF.js model it was trained as (tested equal)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for data, init and sampling'),
}).superRefine((p, ctx) => {
  if (p.dModel % p.heads !== 0 || (p.dModel / p.heads) % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['heads'], message: `dModel ${p.dModel} must split into ${p.heads} heads of even size (RoPE rotates pairs)` });
  if (p.heads % p.kvHeads !== 0) ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `heads ${p.heads} must be a multiple of kvHeads ${p.kvHeads}` });
  if (p.accuracyRange[0] > p.accuracyRange[1]) ctx.addIssue({ code: 'custom', path: ['accuracyRange'], message: `[${p.accuracyRange.join(', ')}] is empty: give [low, high] with low ≤ high` });
});
export type CotDpoParams = z.infer<typeof cotDpoParams>;

const fraction = z.number().min(0).max(1);
const count = z.number().int().min(0);
/** An accuracy with its standard error, parse-failure rate and number of questions. */
const accuracyRow = z.object({ acc: fraction, se: z.number().min(0), parseFail: fraction, n: count });
const digit = z.number().int().min(0).max(9);
const K_ERROR = { error: 'must be an integer in 1..32 (chains to sample)' };
const DIGITS_ERROR = { error: '2 or 3 images of 784 numbers in [0, 1]' };

export const cotDpoSamples = {
  /** The operations' questions and the first held-out items with their pictures (28 × 84 bytes). */
  questions: z.object({
    ops: z.array(z.object({ op: z.enum(OPS), question: z.string() })),
    heldOut: z.array(z.object({ index: count, op: z.enum(OPS), digits: z.array(digit), answer: z.string(), rationale: z.string(), image: z.array(z.number().int().min(0).max(255)).length(784 * 3) })),
  }),
  /** One row of the variants table: greedy accuracies by prompt format, and of single sampled chains. */
  variant: z.object({ name: z.string(), direct: accuracyRow.optional(), cot: accuracyRow, hard: accuracyRow.optional(), sampled: accuracyRow.omit({ parseFail: true }).optional() }),
  /** One DPO round's pair building: questions sampled, kept by accuracy, pairs, and the histogram of correct chains per question.
   *  (Runs saved before DPO had rounds carry neither tag nor round.) */
  'pair-stats': z.object({ tag: z.enum(['dpo', 'control']).optional(), round: z.number().int().min(1).optional(), rounds: z.number().int().min(1).optional(), questions: count, kept: count, pairs: count, accuracyHistogram: z.array(count) }),
  /** The last round's pairs, with the trained model's reward margin on each. */
  pairs: z.array(z.object({ op: z.enum(OPS), digits: z.array(digit), answer: z.string(), chosen: z.string(), rejected: z.string(), margin: anyNumber })),
};

export const cotDpoQueries = {
  /** K chains for a held-out question (`index`) or for digits the user drew, with SFT and DPO log-probs and the DPO score. */
  inspect: {
    args: z.object({
      index: z.number().int().min(0).optional(),
      digits: z.array(pixels784, DIGITS_ERROR).min(2, DIGITS_ERROR).max(3, DIGITS_ERROR).optional(),
      op: z.enum(OPS).optional(),
      k: z.number(K_ERROR).int(K_ERROR).min(1, K_ERROR).max(32, K_ERROR).default(8),
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    }).refine((a) => a.index !== undefined || a.digits !== undefined, { error: 'inspect wants "index" (a held-out question) or "digits": 2 or 3 images of 784 numbers in [0, 1]' }),
    result: z.object({
      op: z.enum(OPS), question: z.string(), digits: z.array(digit).nullable(), answer: z.string().nullable(), teacher: z.string().nullable(), answerNote: z.string(),
      greedy: z.object({ sftDirect: z.string(), sftCot: z.string(), dpoCot: z.string() }),
      chains: z.array(z.object({ text: z.string(), parsed: z.string().nullable(), correct: z.boolean(), logProbSft: anyNumber, logProbDpo: anyNumber, score: anyNumber })),
    }),
  },
};

export const cotDpoSpec: LabSpec<typeof cotDpoParams> = {
  id: 'cot-dpo',
  title: 'Chain-of-thought SFT and DPO',
  paper: { title: 'Improve Vision Language Model Chain-of-thought Reasoning (Zhang et al.)', arxiv: '2410.16198' },
  summary: 'A small VLM reads digits and answers arithmetic questions directly or with a rationale; SFT variants, then DPO on its own correct/incorrect chains, a random-label control, and DPO as a verifier.',
  params: cotDpoParams,
  samples: cotDpoSamples,
  queries: cotDpoQueries,
  presets: {
    smoke: {
      judge: 'tiny', dModel: 32, trainQuestions: 256, formatAlign: 32, sftEpochs: 2, batchSize: 32, samplesPerQuestion: 4,
      pairQuestions: 16, pairPool: 'fresh', dpoRounds: 2, dpoSteps: 4, dpoBatch: 8, heldOut: 64, hardQuestions: 16, rerankN: 2,
    },
    default: {},
    paper: {},
  },
  metrics: [
    'directAcc_directSft', 'cotAcc_directSft', 'directAcc_cotSft', 'cotAcc_cotSft', 'directAcc_mixSft', 'cotAcc_mixSft', 'cotAcc_dpo', 'cotAcc_dpoControl',
    'cotAcc_rerank', 'cotAcc_vote', 'parseFail_directSft', 'pairs', 'heldOut', 'dpoRewardMargin', 'stepsPerSec',
  ],
  checks: ['cotSftBeatsDirectSftOnCot', 'dpoGainPositive', 'controlGainBelowDpoGain'],
  keyMetrics: ['cotAcc_mixSft', 'cotAcc_dpo', 'cotAcc_dpoControl', 'dpoRewardMargin'],
  metricInfo: { pairs: { unit: 'count' }, heldOut: { unit: 'count' }, parseFail_directSft: { unit: 'fraction' }, dpoRewardMargin: { label: 'DPO reward margin' } },
  checkPresets: { cotSftBeatsDirectSftOnCot: ['default', 'paper'], dpoGainPositive: ['default', 'paper'], controlGainBelowDpoGain: ['default', 'paper'] },
  // The three SFT variants train side by side on 2 cores (workers/labs/cot-dpo/sft-task.ts); the rest runs in the run's thread.
  cores: 2,
  codeVersion: 2,
  defaultTime: '≈ 6 min on 2 cores (375 s measured, seed 1: the three SFT variants side by side ≈ 3 min; then on onnxruntime 24,000 sampled chains for pairs, 3,000 held-out questions per evaluation, 24,000 chains for '
    + 'best-of-8 scored under two models and 2 × 24,000 for the DPO and control models\' sampled accuracy); the first run also trains the judge (+1.5 min)',
  reproduce: [
    { metric: 'cotAcc_directSft', paper: 'direct-only SFT: CoT 65.6 (direct 71.1), avg of 8 benchmarks', note: 'Held-out (3,000 questions), greedy. ± is across seeds; one run\'s standard error is cotAccSe.' },
    { metric: 'cotAcc_cotSft', paper: 'CoT-only SFT: CoT 73.2', note: '' },
    { metric: 'cotAcc_mixSft', paper: 'direct + CoT SFT: CoT 74.4', note: '' },
    { metric: 'cotAcc_dpo', paper: '+ DPO: CoT 75.3 (+0.9)', note: 'DPO from the direct + CoT SFT model, visual encoder frozen.' },
    { metric: 'dpoGain', paper: '+0.009', note: 'cotAcc_dpo − cotAcc_mixSft. `dpoGainPositive` asks for more than 2 × dpoGainSe.' },
    { metric: 'dpoGainSe', paper: '—', note: 'Paired standard error of dpoGain (same 3,000 questions).' },
    { metric: 'dpoControlGain', paper: '≈ 0 (a control ignoring correctness)', note: 'cotAcc_dpoControl − cotAcc_mixSft.' },
    { metric: 'cotAccSe', paper: '—', note: 'Standard error of one held-out CoT accuracy.' },
    { metric: 'cotAcc_dpoControl', paper: '— (ours: random chosen/rejected labels)', note: 'Same pairs, labels assigned at random.' },
    { metric: 'cotAcc_rerank', paper: 'best-of-N with the DPO reward beats majority vote', note: 'N = 8 chains (T = 1) from the SFT model, the one with the highest β·log π_dpo/π_sft. Below even the '
      + 'single-sample accuracy (cotAccSampled_mixSft): the argmax of a near-zero, noisy score favours unusual low-probability chains, whose log-probs move most under any weight change (seed 1: 4.1 % '
      + 'of the picked chains lack the answer marker, 0 % of greedy answers).' },
    { metric: 'cotAcc_majority', paper: '—', note: 'Plain majority vote over the same 8 chains.' },
    { metric: 'cotAcc_vote', paper: '—', note: 'Each chain votes for its answer with weight softmax(score).' },
    { metric: 'cotAccSampled_mixSft', paper: '— (the paper reports greedy answers)', note: 'Single chains sampled at T = 1, 8 per held-out question: what the DPO objective acts on.' },
    { metric: 'dpoSampledGain', paper: '—', note: 'cotAccSampled_dpo − cotAccSampled_mixSft.' },
    { metric: 'dpoSampledGainSe', paper: '—', note: 'Paired standard error over questions.' },
    { metric: 'dpoControlSampledGain', paper: '—', note: 'The random-label control, sampled the same way.' },
  ],
};
