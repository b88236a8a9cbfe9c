import { z } from 'zod';
import type { LabSpec } from '../lab';

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
  pairQuestions: z.number().int().min(8).max(20000).default(1500).describe('Training questions sampled for pairs'),
  accuracyRange: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.25, 0.85]).describe('Keep questions whose sampled accuracy lies in this range'),
  pairsPerQuestion: z.number().int().min(1).max(16).default(3).describe('At most this many (correct, incorrect) pairs per question'),
  truncateWords: z.number().int().min(1).max(500).default(90).describe('Chains cut to their first n space-separated words (the paper: 90)'),
  dpoBeta: z.number().min(0.001).max(10).default(0.1).describe('β of the DPO loss'),
  dpoSteps: z.number().int().min(0).max(20000).default(300).describe('DPO steps'),
  dpoBatch: z.number().int().min(1).max(256).default(32).describe('Pairs per DPO step'),
  dpoLearningRate: z.number().min(1e-6).max(0.01).default(3e-4).describe('DPO Adam step size'),
  heldOut: z.number().int().min(16).max(20000).default(3000).describe('Held-out questions (digits from the test split)'),
  hardQuestions: z.number().int().min(0).max(5000).default(600).describe('Harder split: three digits, two chained additions'),
  rerankN: z.number().int().min(1).max(64).default(8).describe('N chains per held-out question for best-of-N and weighted voting'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for data, init and sampling'),
}).superRefine((p, ctx) => {
  if (p.dModel % p.heads !== 0 || (p.dModel / p.heads) % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['heads'], message: `dModel ${p.dModel} must split into ${p.heads} heads of even size (RoPE rotates pairs)` });
  if (p.heads % p.kvHeads !== 0) ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `heads ${p.heads} must be a multiple of kvHeads ${p.kvHeads}` });
  if (p.accuracyRange[0] > p.accuracyRange[1]) ctx.addIssue({ code: 'custom', path: ['accuracyRange'], message: `[${p.accuracyRange.join(', ')}] is empty: give [low, high] with low ≤ high` });
});
export type CotDpoParams = z.infer<typeof cotDpoParams>;

export const cotDpoSpec: LabSpec<typeof cotDpoParams> = {
  id: 'cot-dpo',
  title: 'Chain-of-thought SFT and DPO',
  paper: { title: 'Improve Vision Language Model Chain-of-thought Reasoning (Zhang et al.)', arxiv: '2410.16198' },
  summary: 'A small VLM reads digits and answers arithmetic questions directly or with a rationale; SFT variants, then DPO on its own correct/incorrect chains, a random-label control, and DPO as a verifier.',
  params: cotDpoParams,
  presets: {
    smoke: { judge: 'tiny', dModel: 32, trainQuestions: 256, formatAlign: 32, sftEpochs: 2, batchSize: 32, samplesPerQuestion: 4, pairQuestions: 16, dpoSteps: 4, dpoBatch: 8, heldOut: 64, hardQuestions: 16, rerankN: 2 },
    default: {},
    paper: {},
  },
  metrics: ['directAcc_directSft', 'cotAcc_directSft', 'directAcc_cotSft', 'cotAcc_cotSft', 'directAcc_mixSft', 'cotAcc_mixSft', 'cotAcc_dpo', 'cotAcc_dpoControl', 'cotAcc_rerank', 'cotAcc_vote', 'parseFail_directSft', 'pairs', 'heldOut', 'dpoRewardMargin', 'stepsPerSec'],
  checks: ['cotSftBeatsDirectSftOnCot', 'dpoGainPositive', 'controlGainBelowDpoGain'],
  defaultTime: 'measured in RESULTS.md (bench/results.json has steps/s)',
  reproduce: [
    { metric: 'cotAcc_directSft', paper: 'LLaVA-Next-8B direct-only SFT, CoT prompt: below its direct accuracy', note: 'Held-out, greedy; ± is the standard error.' },
    { metric: 'cotAcc_cotSft', paper: 'CoT SFT: CoT beats direct-only SFT by several points on reasoning tasks', note: '' },
    { metric: 'cotAcc_mixSft', paper: 'direct + CoT SFT: best CoT accuracy of the SFT variants', note: '' },
    { metric: 'cotAcc_dpo', paper: '+ under 1 point average at 8B', note: 'DPO from the direct + CoT SFT model, visual encoder frozen.' },
    { metric: 'cotAcc_dpoControl', paper: '— (ours: random chosen/rejected labels)', note: 'Same pairs, labels assigned at random.' },
    { metric: 'cotAcc_rerank', paper: 'best-of-N with the DPO reward beats majority vote', note: 'N chains from the SFT model, scored by log π_dpo/π_sft.' },
    { metric: 'cotAcc_vote', paper: '—', note: 'Each chain votes for its answer with weight softmax(score).' },
  ],
};
