import { z } from 'zod';
import type { LabSpec } from '../lab';

export const MM15_CATEGORY_IDS = ['general', 'textRich', 'knowledge', 'grounding', 'multiImage', 'textOnly'] as const;
export type Mm15CategoryId = (typeof MM15_CATEGORY_IDS)[number];
export const MM15_CATEGORY_LABEL: Record<Mm15CategoryId, string> = {
  general: 'general', textRich: 'text-rich', knowledge: 'knowledge', grounding: 'referring & grounding', multiImage: 'multi-image', textOnly: 'text-only',
};

/**
 * The SFT arms of the ablations, each against `base` (continual pre-training at high
 * resolution, the mixture's α for grounding, text-only data in): α_R&G = 0, continual
 * pre-training at low resolution or none, and no text-only data.
 */
export const MM15_ARMS = ['base', 'rg0', 'cptLow', 'cptNone', 'noText'] as const;
export type Mm15Arm = (typeof MM15_ARMS)[number];
export const MM15_ARM_LABEL: Record<Mm15Arm, string> = {
  base: 'base (CPT high, α_R&G as set, text-only in)', rg0: 'α_R&G = 0', cptLow: 'CPT at low resolution', cptNone: 'no CPT', noText: 'no text-only data',
};

/** What each arm changes against `base`. */
export const MM15_ARM_SETUP: Record<Mm15Arm, { cpt: 'high' | 'low' | 'none'; noGrounding?: true; noText?: true }> = {
  base: { cpt: 'high' }, rg0: { cpt: 'high', noGrounding: true }, cptLow: { cpt: 'low' }, cptNone: { cpt: 'none' }, noText: { cpt: 'high', noText: true },
};

/** An arm's SFT sample shares per category (sum 1): the single-image share split by α against the general set (α 1), then multi-image and text-only. */
export function mm15SftShares(p: Pick<Mm15MixtureParams, 'alphaTextRich' | 'alphaKnowledge' | 'alphaGrounding' | 'singleImageWeight' | 'multiImageWeight' | 'textOnlyWeight'>, arm: Mm15Arm = 'base'): Record<Mm15CategoryId, number> {
  const s = MM15_ARM_SETUP[arm];
  const alpha = { general: 1, textRich: p.alphaTextRich, knowledge: p.alphaKnowledge, grounding: s.noGrounding ? 0 : p.alphaGrounding };
  const alphaSum = alpha.general + alpha.textRich + alpha.knowledge + alpha.grounding;
  const w: Record<Mm15CategoryId, number> = {
    general: (p.singleImageWeight * alpha.general) / alphaSum, textRich: (p.singleImageWeight * alpha.textRich) / alphaSum,
    knowledge: (p.singleImageWeight * alpha.knowledge) / alphaSum, grounding: (p.singleImageWeight * alpha.grounding) / alphaSum,
    multiImage: p.multiImageWeight, textOnly: s.noText ? 0 : p.textOnlyWeight,
  };
  const total = Object.values(w).reduce((a, b) => a + b, 0);
  return Object.fromEntries(MM15_CATEGORY_IDS.map((c) => [c, total > 0 ? w[c] / total : 0])) as Record<Mm15CategoryId, number>;
}

const weight = (what: string, dflt: number, max = 10) => z.number().min(0).max(max).default(dflt).describe(what);

export const mm15MixtureParams = z.object({
  models: z.enum(['full', 'tiny']).default('full').describe('The cached pre-trained and continually pre-trained bases: full, or tiny ones for smoke runs'),
  arms: z.enum(['all', 'mixture']).default('all').describe('all: the five ablation arms and the checks; mixture: the base arm alone with the weights as set (a point of a sweep along one weight)'),
  ptCaption: weight('Pre-training mix: caption share (image → its caption)', 50, 100),
  ptInterleaved: weight('Pre-training mix: interleaved share (two captioned images in one sequence)', 10, 100),
  ptText: weight('Pre-training mix: text-only share (true arithmetic statements)', 40, 100),
  alphaTextRich: weight('SFT α of text-rich against the general set (sample ratio)', 1),
  alphaKnowledge: weight('SFT α of knowledge against the general set', 0.5),
  alphaGrounding: weight('SFT α of referring & grounding against the general set (MM1.5: 2.0); the rg0 arm sets it to 0', 2),
  singleImageWeight: weight('SFT share of the single-image categories together (MM1.5: 0.8)', 0.8),
  multiImageWeight: weight('SFT share of multi-image (MM1.5: 0.1)', 0.1),
  textOnlyWeight: weight('SFT share of text-only (MM1.5: 0.1); the noText arm sets it to 0', 0.1),
  sftSteps: z.number().int().min(1).max(20000).default(1000).describe('SFT steps of every arm (the same for all)'),
  batchSize: z.number().int().min(4).max(256).default(32).describe('Sequences per SFT step'),
  learningRate: z.number().min(1e-5).max(0.05).default(0.003).describe('Adam step of SFT (cosine decay)'),
  formatExamples: z.number().int().min(0).max(2000).default(200).describe('Examples of every category each arm gets whatever its mixture (so that α = 0 measures the skill, not the answer format)'),
  heldOut: z.number().int().min(20).max(5000).default(1000).describe('Held-out questions per category (test-split pictures)'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed for SFT data, order and initialisation of the projection'),
}).refine((p) => p.ptCaption + p.ptInterleaved + p.ptText > 0, { message: 'the pre-training mix needs a weight above 0', path: ['ptCaption'] })
  .refine((p) => p.singleImageWeight + p.multiImageWeight + p.textOnlyWeight > 0, { message: 'the SFT mixture needs a weight above 0', path: ['singleImageWeight'] });
export type Mm15MixtureParams = z.infer<typeof mm15MixtureParams>;

const categoryScores = z.record(z.string(), z.object({ acc: z.number().min(0).max(1), parseFail: z.number().min(0).max(1), n: z.number().int() }));

export const mm15MixtureSamples = {
  /** One arm's held-out scores per category, and its SFT sample counts per category. */
  arm: z.object({ arm: z.enum(MM15_ARMS), scores: categoryScores, counts: z.record(z.string(), z.number().int().min(0)), tokens: z.record(z.string(), z.number().int().min(0)) }),
  /** Held-out predictions per arm and category: the pictures (as 28-px rows), prompt, answer and key. */
  predictions: z.object({
    arm: z.enum(MM15_ARMS),
    items: z.array(z.object({
      category: z.string(), prompt: z.string(), answer: z.string(), key: z.string(),
      images: z.array(z.object({ width: z.number().int(), height: z.number().int(), pixels: z.array(z.number().int().min(0).max(255)) })),
    })),
  }),
  /** The bases: their pre-training and continual pre-training steps and first training time. */
  bases: z.array(z.object({ key: z.string(), steps: z.number().int(), trainSeconds: z.number(), finalLoss: z.number() })),
};

export const mm15MixtureSpec: LabSpec<typeof mm15MixtureParams> = {
  id: 'mm15-mixture',
  title: 'MLLM data mixtures and continual pre-training (MM1.5)',
  paper: { title: 'MM1.5: Methods, Analysis & Insights from Multimodal LLM Fine-tuning (Zhang et al.)', arxiv: '2409.20566' },
  summary: 'A tile-splitting multimodal LM on digit and clothing pictures: pre-trained on a caption : interleaved : text mix, continually pre-trained on digit strips '
    + 'at high or low resolution, then SFT arms that differ only in their data mixture.',
  params: mm15MixtureParams,
  samples: mm15MixtureSamples,
  presets: {
    smoke: { models: 'tiny', sftSteps: 20, batchSize: 16, formatExamples: 20, heldOut: 24 },
    default: {},
    paper: { sftSteps: 2000 },
  },
  metrics: [
    'rgAcc_alpha0', 'rgAcc_alpha2', 'othersAvg_alpha0', 'othersAvg_alpha2', 'textRichAcc_cptHigh', 'textRichAcc_cptLow', 'textRichAcc_cptNone',
    'textOnlyAcc_withText', 'textOnlyAcc_withoutText', 'stepsPerSec',
  ],
  checks: ['rgGainAtLeast10pts', 'othersDropAtMost2pts', 'cptHighBeatsNone'],
  keyMetrics: ['rgAcc_alpha2', 'rgAcc_alpha0', 'textRichAcc_cptHigh', 'textRichAcc_cptNone'],
  metricInfo: {
    rgAcc_alpha0: { unit: 'fraction', label: 'R&G accuracy, α = 0' }, rgAcc_alpha2: { unit: 'fraction', label: 'R&G accuracy, α as set' },
    othersAvg_alpha0: { unit: 'fraction' }, othersAvg_alpha2: { unit: 'fraction' },
    textRichAcc_cptHigh: { unit: 'fraction' }, textRichAcc_cptLow: { unit: 'fraction' }, textRichAcc_cptNone: { unit: 'fraction' },
    textOnlyAcc_withText: { unit: 'fraction' }, textOnlyAcc_withoutText: { unit: 'fraction' },
  },
  sweeps: [
    {
      title: 'α of referring & grounding: the base arm alone along the weight', param: 'alphaGrounding', values: [0, 0.5, 1, 2, 4], preset: 'default', seed: 1,
      overrides: { arms: 'mixture' },
      metrics: ['acc_base_grounding', 'acc_base_general', 'acc_base_textRich', 'acc_base_knowledge', 'acc_base_multiImage', 'acc_base_textOnly', 'meanAcc_base'],
      note: 'MM1.5 Fig. 5 sweeps α per category; here the R&G ratio of the base arm (CPT high, text-only in), the same 1,000 steps at every value.',
    },
  ],
  checkPresets: { rgGainAtLeast10pts: ['default', 'paper'], othersDropAtMost2pts: ['default', 'paper'], cptHighBeatsNone: ['default', 'paper'] },
  // The arms train side by side on 2 cores (workers/labs/mm15-mixture/sft-arm.ts).
  cores: 2,
  codeVersion: 2,
  defaultTime: '≈ 9 min with the bases cached (560 s: five SFT arms of 1,000 steps side by side on 2 cores); '
    + 'the first run also pre-trains the base (≈ 2.5 min) and continually pre-trains it at high and low resolution (≈ 4.5 and 1 min)',
  reproduce: [
    { metric: 'rgAcc_alpha2', paper: 'R&G data (α = 2.0) adds the skill', note: 'Held-out referring & grounding questions (2 × 2 boxes written as text coordinates), exact answers; base arm.' },
    { metric: 'rgAcc_alpha0', paper: '(no R&G data: the skill is absent)', note: 'The same arm with α_R&G = 0; every arm still gets 200 format examples of each category. Check: gain ≥ 10 points.' },
    { metric: 'othersAvg_alpha2', paper: '"at a small cost elsewhere"', note: 'Mean accuracy over the five other categories.' },
    { metric: 'othersAvg_alpha0', paper: '', note: 'Check: the other categories lose at most 2 points when R&G data is added.' },
    { metric: 'textRichAcc_cptHigh', paper: 'CPT at 1344 px best on text-rich', note: 'Continual pre-training on digit strips cut into 28-px tiles and an overview (the strip at its native resolution).' },
    { metric: 'textRichAcc_cptLow', paper: '756 > 378; 378 can be worse than none', note: 'The same strips squeezed into one 28-px overview (digits blur). SFT and evaluation use tiles in every arm.' },
    { metric: 'textRichAcc_cptNone', paper: '(no CPT)', note: 'The pre-trained base (captions at low resolution only).' },
    { metric: 'textOnlyAcc_withText', paper: 'text-only SFT data keeps text skills', note: 'Held-out "a + b =" / "a − b =" questions.' },
    { metric: 'textOnlyAcc_withoutText', paper: '', note: 'The base arm without text-only SFT data (200 format examples stay).' },
    { metric: 'stepsPerSec', paper: '—', note: 'SFT steps/s (batch 32, frozen encoder tokens) on tfjs-backend-wasm.' },
  ],
};
