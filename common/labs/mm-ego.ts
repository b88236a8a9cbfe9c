import { z } from 'zod';
import type { LabSpec } from '../lab';

export const EGO_BINS = ['short', 'medium', 'long'] as const;
export const EGO_QA_KINDS = ['what-put', 'where-left', 'count-open', 'held-before', 'picked-from'] as const;
/** Kinds a user can ask about a shown clip, and what each one names. */
export const EGO_ASK_KINDS = { 'what-put': 'place', 'where-left': 'object', 'count-open': 'place', 'held-before': 'object', 'picked-from': 'object' } as const;

const frames = (def: number, max: number, what: string) => z.number().int().min(8).max(max).default(def).describe(`Frames of a ${what} clip (one a second)`);

export const mmEgoParams = z.object({
  frameSize: z.number().int().min(32).max(48).refine((v) => v === 32 || v === 48, 'frames are 32 or 48 pixels wide').default(32).describe('Frame side in pixels (32 or 48)'),
  shortFrames: frames(16, 64, 'short'),
  mediumFrames: frames(32, 128, 'medium'),
  longFrames: frames(64, 256, 'long'),
  trainClips: z.number().int().min(4).max(4000).default(400).describe('Training clips per length bin (their questions are the training set)'),
  testClips: z.number().int().min(2).max(1000).default(150).describe('Test clips per length bin'),
  encoderFrames: z.number().int().min(256).max(50000).default(12000).describe('Labelled frames the frame encoder is pre-trained on (from clips of their own)'),
  encoderSteps: z.number().int().min(1).max(5000).default(300).describe('Pre-training steps of the frame encoder (batch 64), then frozen'),
  dModel: z.number().int().min(16).max(256).multipleOf(8).default(64).describe('Decoder width'),
  layers: z.number().int().min(1).max(8).default(3).describe('Decoder layers'),
  answerFormat: z.enum(['letter', 'option']).default('option').describe('letter: options read after the question, A–D written (MM-Ego); option: the answer word written, the likeliest option chosen'),
  steps: z.number().int().min(1).max(20000).default(800).describe('Training steps of the pointer model (glimpse BCE + fallback answer loss)'),
  baselineSteps: z.number().int().min(1).max(20000).default(600).describe('Training steps of the all-frames model'),
  blindSteps: z.number().int().min(1).max(20000).default(300).describe('Training steps of the blind model'),
  batch: z.number().int().min(2).max(256).default(32).describe('Questions per step'),
  learningRate: z.number().min(1e-5).max(0.1).default(0.002).describe('Adam learning rate (50 warm-up steps, cosine decay)'),
  maxTrainFrames: z.number().int().min(1).max(16).default(8).describe('Most frames the fallback sees in training (the key frames, then others)'),
  glimpseLoss: z.enum(['balanced', 'mean']).default('balanced').describe('Glimpse BCE over frames — balanced: key frames\' and other frames\' terms averaged apart; '
    + 'mean: every frame weighs 1/N, so a key frame\'s pull shrinks as clips grow (no pointing at 256 frames)'),
  k: z.number().int().min(1).max(16).default(4).describe('Frames the glimpse keeps for the answer (the token budget is 4 per frame)'),
  alpha: z.number().min(0).max(1).default(0.1).describe('α, the uniform prior added at round(linspace(0, N−1, k))'),
  kSweep: z.array(z.number().int().min(1).max(16)).max(4).default([2, 8]).describe('Other k to evaluate the pointer and uniform selection at (MDA drop from the largest to the smallest)'),
  bootstrap: z.number().int().min(20).max(5000).default(200).describe('Bootstrap resamples of the test questions for the MDA difference\'s standard error'),
  clipsShown: z.number().int().min(1).max(12).default(6).describe('Test clips the panel can play'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1).describe('Seed of the worlds, the questions, the initial weights and the batches'),
}).refine((p) => p.shortFrames < p.mediumFrames && p.mediumFrames < p.longFrames, { error: 'the bins must grow: shortFrames < mediumFrames < longFrames', path: ['mediumFrames'] })
  .refine((p) => p.k < p.shortFrames, { error: 'k must be below the short clips\' frame count', path: ['k'] });
export type MmEgoParams = z.infer<typeof mmEgoParams>;

const rate = z.number().min(0).max(1);
const acc = z.record(z.string(), z.number());

const narration = z.object({ text: z.string(), timestampSec: z.number().nonnegative(), frame: z.number().int().nonnegative(), frames: z.number().int().positive() });
const question = z.object({
  kind: z.enum(EGO_QA_KINDS), question: z.string(), options: z.array(z.string()).length(4), answerIndex: z.number().int().min(0).max(3),
  cited: z.array(z.number().int().nonnegative()), keyFrames: z.array(z.number().int().nonnegative()),
});
const answered = question.extend({
  scores: z.array(z.number()), selected: z.array(z.number().int().nonnegative()), uniform: z.array(z.number().int().nonnegative()),
  pointer: z.number().int().min(0).max(3), uniformAnswer: z.number().int().min(0).max(3), allFrames: z.number().int().min(0).max(3), blind: z.number().int().min(0).max(3),
});

export const mmEgoSamples = {
  /** Raw accuracy and de-biased accuracy (MDA) per model and length bin, and the pointer's key-frame recall@k beside uniform selection's. */
  bins: z.array(z.object({
    bin: z.enum([...EGO_BINS, 'all']), questions: z.number().int().positive(), frames: z.number().nullable(),
    rawAcc: acc, mda: acc, recallAtK: rate, recallUniform: rate,
  })),
  /** The data engine at work: question counts per kind and bin, and how often each letter is right. */
  dataset: z.object({
    train: z.record(z.string(), z.number().int().nonnegative()), test: z.record(z.string(), z.number().int().nonnegative()),
    letters: z.array(z.number().int().nonnegative()).length(4), trainQuestions: z.number().int().nonnegative(), testQuestions: z.number().int().nonnegative(),
  }),
  /** Test clips the panel plays (frames come from the `frames` query): narrations and every question with each model's answer. */
  clips: z.array(z.object({ index: z.number().int().nonnegative(), bin: z.enum(EGO_BINS), length: z.number().int().positive(), narrations: z.array(narration), questions: z.array(answered) })),
};

const SUBJECT_ERROR = 'a place (counter, desk, shelf, drawer, fridge, sink) or an object (bag, sneaker, trouser, dress, coat, sandal, cup, key)';

export const mmEgoQueries = {
  /** A shown clip's frames as bytes (S × S each). */
  frames: {
    args: z.object({ clip: z.number().int().min(0) }),
    result: z.object({ size: z.number().int().positive(), frames: z.array(z.array(z.number().int().min(0).max(255))) }),
  },
  /** A question of the user's own about a shown clip, answered live by the trained models. */
  ask: {
    args: z.object({ clip: z.number().int().min(0), kind: z.enum(EGO_QA_KINDS), subject: z.string().min(1, { error: SUBJECT_ERROR }).max(40, { error: SUBJECT_ERROR }) }),
    result: z.object({
      question: z.string(), options: z.array(z.string()).length(4), answerIndex: z.number().int().min(-1).max(3), answerNote: z.string(),
      keyFrames: z.array(z.number().int()), scores: z.array(z.number()), selected: z.array(z.number().int()),
      pointer: z.number().int().min(0).max(3), blind: z.number().int().min(0).max(3),
    }),
  },
  /** The data engine on the user's narrations (Ego4D's JSON layout): the questions it writes for each video. */
  writeQa: {
    args: z.object({ text: z.string().max(4 * 1024 * 1024, { error: 'the narration file is over 4 MB' }), sampleFps: z.number().positive().max(30).default(1) }),
    result: z.object({ videos: z.array(z.object({ uid: z.string(), narrations: z.number().int().nonnegative(), understood: z.number().int().nonnegative(), questions: z.array(question) })) }),
  },
};

export const mmEgoSpec: LabSpec<typeof mmEgoParams> = {
  id: 'mm-ego',
  title: 'Egocentric video QA (MM-Ego)',
  paper: { title: 'MM-Ego: Towards Building Egocentric Multimodal LLMs (Ye et al., ICLR 2025)', arxiv: '2410.07177' },
  summary: 'Simulated first-person clips with Ego4D-style narrations, a narration→QA engine, Memory Pointer Prompting (glimpse, then top-k frames) and de-biased accuracy against uniform-k, all-frames and blind models.',
  params: mmEgoParams,
  samples: mmEgoSamples,
  queries: mmEgoQueries,
  presets: {
    smoke: { trainClips: 12, testClips: 4, encoderFrames: 512, encoderSteps: 20, dModel: 32, layers: 1, steps: 12, baselineSteps: 6, blindSteps: 4, batch: 8, bootstrap: 20, clipsShown: 2 },
    default: {},
    paper: { mediumFrames: 64, longFrames: 256, testClips: 200, steps: 1200, baselineSteps: 800 },
  },
  metrics: ['rawAcc_pointer', 'mda_pointer', 'mda_uniform', 'mda_allFrames', 'mdaDropK8toK2_pointer', 'mdaDropK8toK2_uniform', 'keyFrameRecallAtK', 'blindAcc', 'mda_alpha0', 'tokensPerAnswer_pointer', 'clipsPerSec'],
  checks: ['blindNearChance', 'recallAboveChance', 'pointerBeatsUniform'],
  keyMetrics: ['mda_pointer', 'mda_uniform', 'keyFrameRecallAtK', 'blindAcc'],
  metricInfo: {
    mda_pointer: { label: 'MDA, pointer (top-k)' }, mda_uniform: { label: 'MDA, uniform k frames' }, mda_allFrames: { label: 'MDA, all frames (1 token each)' }, mda_alpha0: { label: 'MDA, pointer with α = 0' },
    mdaDropK8toK2_pointer: { label: 'MDA drop k = 8 → 2, pointer', unit: 'fraction' }, mdaDropK8toK2_uniform: { label: 'MDA drop k = 8 → 2, uniform', unit: 'fraction' },
    keyFrameRecallAtK: { label: 'Key-frame recall@k (±1 frame)' },
    tokensPerAnswer_pointer: { label: 'Visual tokens per answer', unit: 'count' }, clipsPerSec: { label: 'Questions answered per second (glimpse + fallback)', unit: 'perSecond' },
  },
  checkPresets: { blindNearChance: ['default', 'paper'], recallAboveChance: ['default', 'paper'], pointerBeatsUniform: ['default', 'paper'] },
  codeVersion: 2,
  cores: 3,
  defaultTime: '≈ 9.5 min on 2 cores (seed 15: 566 s beside another run): the pointer model trains beside the all-frames and blind models',
  reproduce: [
    { metric: 'mda_pointer', paper: 'MM-Ego MDA 61.27 (raw 79.56), EgoMemoria', note: 'De-biased accuracy over M = {pointer, uniform-k, all-frames, blind}, test questions of all bins.' },
    { metric: 'mda_uniform', paper: '— (Ego-SFT without the pointer: 55.97)', note: 'The same fallback weights on k uniformly spaced frames.' },
    { metric: 'mda_allFrames', paper: '—', note: 'A model trained on every frame\'s mean token (more tokens than k × 4 on long clips).' },
    { metric: 'mdaDropK8toK2_pointer', paper: '4.59 points (32 → 4 frames)', note: 'Ours from k = 8 to k = 2.' },
    { metric: 'mdaDropK8toK2_uniform', paper: '≈ 7.1 points for models without the pointer', note: '' },
    { metric: 'keyFrameRecallAtK', paper: '—', note: 'Share of ground-truth key frames with a selected frame within ±1.' },
    { metric: 'blindAcc', paper: '—', note: 'The blind model (the question only); chance is 0.25.' },
    { metric: 'mda_alpha0', paper: 'α = 0.1 best (Fig. 7)', note: 'The pointer with no uniform prior.' },
  ],
};
